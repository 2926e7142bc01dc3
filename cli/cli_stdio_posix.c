/* The FIFOs and our own stdio at cshimctl's end, on POSIX (see cli_stdio.h). */
#include "cli_stdio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#define COPY_BUF 65536
#define CLI_STDIN_OPEN_RETRY_MS 10
#define CLI_STDIN_OPEN_TRIES 1000 /* 10 s */

/* ---------------------------------------------------------------- FIFOs */

int cli_fifos_create(cli_fifos *f, const char *dir, const char *prefix, bool with_stdin, bool terminal, cs_err *err) {
  memset(f, 0, sizeof *f);
  snprintf(f->out, sizeof f->out, "%s/%sstdout", dir, prefix);
  if (with_stdin) snprintf(f->in, sizeof f->in, "%s/%sstdin", dir, prefix);
  if (!terminal) snprintf(f->err, sizeof f->err, "%s/%sstderr", dir, prefix);
  const char *paths[] = {f->in, f->out, f->err};
  for (size_t i = 0; i < 3; i++) {
    if (!paths[i][0]) continue;
    if (mkfifo(paths[i], 0600) < 0) {
      int e = errno;
      cli_fifos_remove(f);
      return cs_err_sys(err, e, "mkfifo %s", paths[i]);
    }
  }
  return 0;
}

void cli_fifos_remove(const cli_fifos *f) {
  if (f->in[0]) unlink(f->in);
  if (f->out[0]) unlink(f->out);
  if (f->err[0]) unlink(f->err);
}

void cli_stdio_detached_output(const char *bundle, char *out, size_t len) {
  snprintf(out, len, "file://%s/io/output", bundle);
}

/* ---------------------------------------------------------------- copying */

/* One output FIFO → one of our fds. One read or one write in flight at a time: reading stops while the
 * thread pool writes, so a slow consumer of our stdout slows the container instead of growing memory. */
typedef struct out_copy {
  struct cli_stdio *s;
  uv_pipe_t pipe;
  bool used, open, eof, writing, dst_broken;
  int dst;
  uv_fs_t wreq;
  size_t len, off;
  char buf[COPY_BUF];
} out_copy;

/* Our stdin → the stdin FIFO. A terminal, pipe or FIFO is reopened through /proc/self/fd/N as a new
 * non-blocking file description and read on the loop: the description we share with the shell keeps its
 * flags, and no thread is ever parked in a read that only a keystroke would end (libuv joins its pool at
 * exit). Regular files and /dev/null never block, so they are read through the thread pool. */
typedef struct in_copy {
  bool stream;     /* src is used (else uv_fs_read on cfg.in_fd) */
  bool src_open;
  uv_pipe_t src;
  uv_fs_t rreq;
  char buf[COPY_BUF];
} in_copy;

struct cli_stdio {
  cli_stdio_cfg cfg;
  out_copy out[2];
  in_copy in;
  bool in_used;
  uv_timer_t in_timer; /* retries the stdin FIFO open */
  bool in_timer_used;
  int in_tries;
  uv_pipe_t in_pipe;   /* our write side of the stdin FIFO */
  bool in_open;
  uv_write_t in_wreq;
  int pending;         /* open handles + writes in flight; freed at 0 once closing */
  bool closing, done_reported, in_ended;
};

static void maybe_free(cli_stdio *s) {
  if (s->closing && s->pending == 0) free(s);
}

static void handle_closed(uv_handle_t *h) {
  cli_stdio *s = h->data;
  s->pending--;
  maybe_free(s);
}

static void check_output_done(cli_stdio *s) {
  if (s->done_reported || s->closing || !cli_stdio_output_done(s)) return;
  s->done_reported = true;
  if (s->cfg.on_output_done) s->cfg.on_output_done(s->cfg.data);
}

bool cli_stdio_output_done(const cli_stdio *s) {
  for (int i = 0; i < 2; i++) {
    const out_copy *o = &s->out[i];
    if (o->used && (!o->eof || o->writing)) return false;
  }
  return true;
}

static void out_close(out_copy *o) {
  if (!o->open) return;
  o->open = false;
  uv_close((uv_handle_t *)&o->pipe, handle_closed);
}

static void out_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  (void)hint;
  out_copy *o = (out_copy *)((char *)h - offsetof(out_copy, pipe));
  *buf = uv_buf_init(o->buf, sizeof o->buf);
}

static void out_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf);

static void out_write_next(out_copy *o);

static void out_written(uv_fs_t *req) {
  out_copy *o = req->data;
  cli_stdio *s = o->s;
  ssize_t r = req->result;
  uv_fs_req_cleanup(req);
  s->pending--;
  if (r == UV_EINTR || r == UV_EAGAIN) r = 0;
  if (r < 0) {
    /* Our reader went away (`| head`): keep draining the FIFO so the container never blocks on us. */
    o->dst_broken = true;
    o->off = o->len;
  } else {
    o->off += (size_t)r;
  }
  if (s->closing) {
    o->writing = false;
    maybe_free(s);
    return;
  }
  out_write_next(o);
}

static void out_write_next(out_copy *o) {
  cli_stdio *s = o->s;
  if (o->off < o->len && !o->dst_broken) {
    uv_buf_t b = uv_buf_init(o->buf + o->off, (unsigned)(o->len - o->off));
    o->wreq.data = o;
    if (uv_fs_write(s->cfg.loop, &o->wreq, o->dst, &b, 1, -1, out_written) == 0) {
      o->writing = true;
      s->pending++;
      return;
    }
    o->dst_broken = true;
  }
  o->writing = false;
  o->len = o->off = 0;
  if (o->open && !o->eof) uv_read_start((uv_stream_t *)&o->pipe, out_alloc, out_read);
  check_output_done(s);
}

static void out_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf) {
  (void)buf;
  out_copy *o = (out_copy *)((char *)st - offsetof(out_copy, pipe));
  if (n == 0) return;
  if (n < 0) {
    /* EOF: every writer is gone. Any other error ends the stream the same way. */
    o->eof = true;
    out_close(o);
    check_output_done(o->s);
    return;
  }
  uv_read_stop(st);
  o->len = (size_t)n;
  o->off = 0;
  out_write_next(o);
}

static void in_read_next(cli_stdio *s);
static void in_forward(cli_stdio *s, ssize_t n);

static void in_eof(cli_stdio *s) {
  if (s->in_ended) return;
  s->in_ended = true;
  if (s->in.src_open) {
    s->in.src_open = false;
    uv_close((uv_handle_t *)&s->in.src, handle_closed);
  }
  if (s->in_open) {
    s->in_open = false;
    uv_close((uv_handle_t *)&s->in_pipe, handle_closed);
  }
  if (s->cfg.on_stdin_eof) s->cfg.on_stdin_eof(s->cfg.data);
}

static void in_written(uv_write_t *req, int status) {
  cli_stdio *s = req->data;
  s->pending--;
  if (s->closing) {
    maybe_free(s);
    return;
  }
  /* The container closed its stdin (or exited): nothing more to forward. */
  if (status < 0) {
    in_eof(s);
    return;
  }
  in_read_next(s);
}

static void in_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  (void)hint;
  cli_stdio *s = h->data;
  *buf = uv_buf_init(s->in.buf, sizeof s->in.buf);
}

static void in_stream_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf) {
  (void)buf;
  cli_stdio *s = st->data;
  if (n == 0) return;
  uv_read_stop(st);
  in_forward(s, n);
}

static void in_fs_read(uv_fs_t *req) {
  cli_stdio *s = req->data;
  ssize_t n = req->result;
  uv_fs_req_cleanup(req);
  s->pending--;
  if (s->closing) {
    maybe_free(s);
    return;
  }
  if (n == UV_EINTR || n == UV_EAGAIN) {
    in_read_next(s);
    return;
  }
  in_forward(s, n == 0 ? UV_EOF : n);
}

/* n bytes of s->in.buf read (or an error / UV_EOF): pass them on, then read more once written. */
static void in_forward(cli_stdio *s, ssize_t n) {
  if (n < 0 || !s->in_open) {
    in_eof(s);
    return;
  }
  uv_buf_t b = uv_buf_init(s->in.buf, (unsigned)n);
  s->in_wreq.data = s;
  if (uv_write(&s->in_wreq, (uv_stream_t *)&s->in_pipe, &b, 1, in_written) < 0) {
    in_eof(s);
    return;
  }
  s->pending++;
}

static void in_read_next(cli_stdio *s) {
  if (s->in.stream) {
    if (uv_read_start((uv_stream_t *)&s->in.src, in_alloc, in_stream_read) < 0) in_eof(s);
    return;
  }
  uv_buf_t b = uv_buf_init(s->in.buf, sizeof s->in.buf);
  s->in.rreq.data = s;
  if (uv_fs_read(s->cfg.loop, &s->in.rreq, s->cfg.in_fd, &b, 1, -1, in_fs_read) < 0) {
    in_eof(s);
    return;
  }
  s->pending++;
}

static int open_pipe(cli_stdio *s, uv_pipe_t *p, int fd, cs_err *err) {
  uv_pipe_init(s->cfg.loop, p, 0);
  p->data = s;
  s->pending++;
  int rc = uv_pipe_open(p, fd);
  if (rc < 0) {
    close(fd);
    uv_close((uv_handle_t *)p, handle_closed);
    return cs_err_set(err, CS_INTERNAL, "stdio: %s", uv_strerror(rc));
  }
  return 0;
}

cli_stdio *cli_stdio_open(const cli_stdio_cfg *cfg, cs_err *err) {
  cli_stdio *s = calloc(1, sizeof *s);
  if (!s) {
    cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
    return NULL;
  }
  s->cfg = *cfg;
  const char *paths[2] = {cfg->fifos->out, cfg->fifos->err};
  int dst[2] = {cfg->out_fd, cfg->err_fd};
  for (int i = 0; i < 2; i++) {
    out_copy *o = &s->out[i];
    o->s = s;
    o->dst = dst[i];
    if (!paths[i][0]) continue;
    /* Non-blocking: succeeds with no writer yet (the shim opens its side during Create). */
    int fd = open(paths[i], O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      cs_err_sys(err, errno, "open %s", paths[i]);
      cli_stdio_close(s);
      return NULL;
    }
    o->used = true;
    if (open_pipe(s, &o->pipe, fd, err) < 0) {
      o->eof = true;
      cli_stdio_close(s);
      return NULL;
    }
    o->open = true;
  }
  return s;
}

/* Our end of the stdin FIFO, write-only, once the shim holds the read side: were we its only opener when
 * we close it at EOF, the kernel would throw away what is still in it. runc-v2 opens the read side in a
 * goroutine during Start, so it may not be there yet: retry (our stdin is not read meanwhile, nothing is
 * lost). Returns 1 when open, 0 to retry, -1 on error. */
static int in_open_fifo(cli_stdio *s, cs_err *err) {
  int fd = open(s->cfg.fifos->in, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0 && errno == ENXIO) return 0;
  if (fd < 0) return cs_err_sys(err, errno, "open %s", s->cfg.fifos->in);
  if (open_pipe(s, &s->in_pipe, fd, err) < 0) return -1;
  s->in_open = true;
  uv_handle_type t = uv_guess_handle(s->cfg.in_fd);
  if (t == UV_TTY || t == UV_NAMED_PIPE) {
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", s->cfg.in_fd);
    int rfd = open(self, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    /* A socket cannot be reopened: it is read through the pool like a file. */
    if (rfd >= 0) {
      if (open_pipe(s, &s->in.src, rfd, err) < 0) return -1;
      s->in.stream = s->in.src_open = true;
    }
  }
  in_read_next(s);
  return 1;
}

static void in_retry(uv_timer_t *t) {
  cli_stdio *s = t->data;
  cs_err err;
  int rc = in_open_fifo(s, &err);
  if (rc == 0 && ++s->in_tries < CLI_STDIN_OPEN_TRIES) return;
  uv_timer_stop(t);
  if (rc < 0) fprintf(stderr, "cshimctl: stdin: %s\r\n", err.msg);
  else if (rc == 0) fprintf(stderr, "cshimctl: stdin: the shim never opened %s\r\n", s->cfg.fifos->in);
  if (rc <= 0) in_eof(s);
}

int cli_stdio_start(cli_stdio *s, cs_err *err) {
  if (s->cfg.fifos->in[0]) {
    s->in_used = true;
    int rc = in_open_fifo(s, err);
    if (rc < 0) return -1;
    if (rc == 0) {
      uv_timer_init(s->cfg.loop, &s->in_timer);
      s->in_timer.data = s;
      s->in_timer_used = true;
      s->pending++;
      uv_timer_start(&s->in_timer, in_retry, CLI_STDIN_OPEN_RETRY_MS, CLI_STDIN_OPEN_RETRY_MS);
    }
  }
  for (int i = 0; i < 2; i++) {
    out_copy *o = &s->out[i];
    if (o->open) uv_read_start((uv_stream_t *)&o->pipe, out_alloc, out_read);
  }
  check_output_done(s);
  return 0;
}

void cli_stdio_close(cli_stdio *s) {
  if (!s) return;
  s->closing = true;
  if (s->in_timer_used) {
    s->in_timer_used = false;
    uv_close((uv_handle_t *)&s->in_timer, handle_closed);
  }
  for (int i = 0; i < 2; i++) out_close(&s->out[i]);
  if (s->in_open) {
    s->in_open = false;
    uv_close((uv_handle_t *)&s->in_pipe, handle_closed);
  }
  if (s->in.src_open) {
    s->in.src_open = false;
    uv_close((uv_handle_t *)&s->in.src, handle_closed);
  }
  maybe_free(s);
}

/* ---------------------------------------------------------------- terminal */

_Static_assert(sizeof(struct termios) <= sizeof(((cli_term *)0)->saved), "cli_term.saved holds a struct termios");

int cli_term_raw(cli_term *t, int fd, cs_err *err) {
  memset(t, 0, sizeof *t);
  t->fd = fd;
  if (!isatty(fd)) return 0;
  struct termios saved;
  if (tcgetattr(fd, &saved) < 0) return cs_err_sys(err, errno, "tcgetattr");
  memcpy(t->saved, &saved, sizeof saved);
  struct termios raw = saved;
  cfmakeraw(&raw);
  /* Keep output post-processing off as well: the container's tty already turns \n into \r\n. */
  if (tcsetattr(fd, TCSANOW, &raw) < 0) return cs_err_sys(err, errno, "tcsetattr");
  t->raw = true;
  return 0;
}

void cli_term_restore(cli_term *t) {
  if (!t->raw) return;
  struct termios saved;
  memcpy(&saved, t->saved, sizeof saved);
  tcsetattr(t->fd, TCSANOW, &saved);
  t->raw = false;
}

void cli_term_size(int fd, unsigned *width, unsigned *height) {
  struct winsize ws;
  if (ioctl(fd, TIOCGWINSZ, &ws) == 0) {
    *width = ws.ws_col;
    *height = ws.ws_row;
  } else {
    *width = *height = 0;
  }
}
