/* A container's stdio at cshimctl's end on Windows: where Linux has FIFOs, containerd's Windows contract
 * has named pipes that the client serves and the shim dials (task_io_windows.c). The steps of cli_stdio.h
 * are the same: cli_fifos_create picks the names, cli_stdio_open serves them before Create (the shim dials
 * while it creates or starts the process), and output is copied to our stdout/stderr until the shim closes
 * its end (the process exited and its output was sent).
 *
 * One client per pipe: the server handle is closed once the shim is connected. Our own stdout/stderr are
 * written synchronously from the loop: a slow reader of ours slows the container's output, which then
 * waits in the pipe, rather than growing our memory.
 * stdin (-i): our fd may be a console, a pipe or a file, which no one call reads asynchronously; a thread of
 * its own reads it and hands each chunk to the loop (uv_async_t), which writes it to the shim's connection.
 * Our end of file shuts the connection down (after what was queued is written) and is reported, so the
 * caller sends CloseIO. The thread may stay blocked in a read of a console when we are done: it is never
 * joined (the process exits under it) and shares only a reference-counted feed with the loop.
 * Not yet: a console for the container (-t; cli_stdio_open says so). */
#include "cli_stdio.h"

#include <uv.h> /* before windows.h */
#include <errno.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

#include "cli_os.h"

#define PIPE_PREFIX "\\\\.\\pipe\\"

int cli_fifos_create(cli_fifos *f, const char *dir, const char *prefix, bool with_stdin, bool terminal, cs_err *err) {
  (void)dir; /* pipes live in their own namespace: a random part keeps two cshimctl's names apart */
  memset(f, 0, sizeof *f);
  uint8_t b[8];
  if (cli_os_random(b, sizeof b, err) < 0) return -1;
  char tag[32];
  snprintf(tag, sizeof tag, "%02x%02x%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
  snprintf(f->out, sizeof f->out, PIPE_PREFIX "cshimctl-%s-%sstdout", tag, prefix);
  if (with_stdin) snprintf(f->in, sizeof f->in, PIPE_PREFIX "cshimctl-%s-%sstdin", tag, prefix);
  if (!terminal) snprintf(f->err, sizeof f->err, PIPE_PREFIX "cshimctl-%s-%sstderr", tag, prefix);
  return 0;
}

void cli_fifos_remove(const cli_fifos *f) { (void)f; /* a pipe's name goes with its last handle */ }

void cli_stdio_detached_output(const char *bundle, char *out, size_t len) {
  (void)bundle;
  /* The shim takes only named pipes, and after `run -d` nobody would serve one: the output is dropped. */
  if (len) out[0] = '\0';
}

typedef struct out_srv {
  struct cli_stdio *s;
  uv_pipe_t server, conn;
  bool used, server_open, conn_open, eof;
  int fd;
} out_srv;

typedef struct in_chunk {
  struct in_chunk *next;
  bool eof;
  size_t len;
  char data[];
} in_chunk;

/* Between the stdin thread and the loop. */
typedef struct in_feed {
  uv_mutex_t mu;
  in_chunk *head, *tail;
  uv_async_t *async; /* NULL once the loop side is gone */
  int refs;
  int fd;
} in_feed;

typedef struct in_write {
  uv_write_t req;
  in_chunk *chunk;
} in_write;

struct cli_stdio {
  cli_stdio_cfg cfg;
  out_srv out[2];
  out_srv in;       /* its server and connection; fd = our stdin */
  in_feed *feed;
  uv_async_t async;
  bool async_open, thread_started, in_eof_queued, in_done;
  uv_shutdown_t shutdown;
  int handles;
  bool closing;
};

static void maybe_free(cli_stdio *s) {
  if (s->closing && s->handles == 0) free(s);
}

static void on_closed(uv_handle_t *h) {
  out_srv *o = h->data;
  cli_stdio *s = o->s;
  s->handles--;
  maybe_free(s);
}

static void close_handle(uv_pipe_t *p, bool *open) {
  if (!*open) return;
  *open = false;
  uv_close((uv_handle_t *)p, on_closed);
}

bool cli_stdio_output_done(const cli_stdio *s) {
  for (int i = 0; i < 2; i++)
    if (s->out[i].used && !s->out[i].eof) return false;
  return true;
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  (void)h;
  (void)hint;
  static char chunk[65536]; /* one read at a time on this loop, written out before the next */
  *buf = uv_buf_init(chunk, sizeof chunk);
}

static void write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    int w = _write(fd, p, n > 65536 ? 65536 : (unsigned)n);
    if (w <= 0) return; /* our reader is gone: what the container prints is dropped */
    p += w;
    n -= (size_t)w;
  }
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  out_srv *o = st->data;
  if (nread > 0) {
    write_all(o->fd, buf->base, (size_t)nread);
    return;
  }
  if (nread == 0) return;
  /* EOF or a broken pipe: the shim closed its end. */
  o->eof = true;
  close_handle(&o->conn, &o->conn_open);
  cli_stdio *s = o->s;
  if (!s->closing && cli_stdio_output_done(s) && s->cfg.on_output_done) s->cfg.on_output_done(s->cfg.data);
}

/* ---------------------------------------------------------------- stdin */

static void feed_unref(in_feed *f) {
  uv_mutex_lock(&f->mu);
  bool last = --f->refs == 0;
  uv_mutex_unlock(&f->mu);
  if (!last) return;
  while (f->head) {
    in_chunk *c = f->head;
    f->head = c->next;
    free(c);
  }
  uv_mutex_destroy(&f->mu);
  free(f);
}

static void in_thread(void *arg) {
  in_feed *f = arg;
  for (bool eof = false; !eof;) {
    in_chunk *c = malloc(sizeof *c + 65536);
    if (!c) break;
    int n = _read(f->fd, c->data, 65536);
    c->next = NULL;
    c->eof = eof = n <= 0;
    c->len = n > 0 ? (size_t)n : 0;
    uv_mutex_lock(&f->mu);
    if (f->tail) f->tail->next = c;
    else f->head = c;
    f->tail = c;
    if (f->async) uv_async_send(f->async);
    else eof = true; /* nobody listens any more */
    uv_mutex_unlock(&f->mu);
  }
  feed_unref(f);
}

static void on_in_shutdown(uv_shutdown_t *req, int status) {
  (void)status;
  cli_stdio *s = req->data;
  close_handle(&s->in.conn, &s->in.conn_open);
  s->in_done = true;
  if (!s->closing && s->cfg.on_stdin_eof) s->cfg.on_stdin_eof(s->cfg.data);
}

static void on_in_written(uv_write_t *req, int status) {
  (void)status; /* a shim that went away: the rest is dropped with the connection */
  in_write *w = (in_write *)req;
  free(w->chunk);
  free(w);
}

/* What the thread read, written out once the shim is connected; end of file shuts the connection down. */
static void in_flush(cli_stdio *s) {
  if (!s->feed || !s->in.conn_open || s->in_eof_queued) return;
  uv_mutex_lock(&s->feed->mu);
  in_chunk *c = s->feed->head;
  s->feed->head = s->feed->tail = NULL;
  uv_mutex_unlock(&s->feed->mu);
  while (c) {
    in_chunk *next = c->next;
    if (c->eof || s->in_eof_queued) {
      s->in_eof_queued = true;
      free(c);
    } else {
      in_write *w = malloc(sizeof *w);
      uv_buf_t b = uv_buf_init(c->data, (unsigned)c->len);
      if (!w || uv_write(&w->req, (uv_stream_t *)&s->in.conn, &b, 1, on_in_written) < 0) {
        free(w);
        free(c);
      } else {
        w->chunk = c;
      }
    }
    c = next;
  }
  if (s->in_eof_queued) {
    s->shutdown.data = s;
    if (uv_shutdown(&s->shutdown, (uv_stream_t *)&s->in.conn, on_in_shutdown) < 0) on_in_shutdown(&s->shutdown, -1);
  }
}

static void on_in_async(uv_async_t *a) { in_flush(a->data); }

static void on_async_closed(uv_handle_t *h) {
  cli_stdio *s = h->data;
  s->handles--;
  maybe_free(s);
}

static void on_connection(uv_stream_t *server, int status) {
  out_srv *o = server->data;
  if (status < 0 || o->conn_open || o->s->closing) return;
  uv_pipe_init(o->s->cfg.loop, &o->conn, 0);
  o->conn.data = o;
  o->conn_open = true;
  o->s->handles++;
  if (o == &o->s->in) {
    if (uv_accept(server, (uv_stream_t *)&o->conn) < 0) close_handle(&o->conn, &o->conn_open);
    else in_flush(o->s);
  } else if (uv_accept(server, (uv_stream_t *)&o->conn) < 0 ||
             uv_read_start((uv_stream_t *)&o->conn, on_alloc, on_read) < 0) {
    o->eof = true;
    close_handle(&o->conn, &o->conn_open);
  }
  /* One client: the shim. Nobody else may attach to the container's output. */
  close_handle(&o->server, &o->server_open);
}

cli_stdio *cli_stdio_open(const cli_stdio_cfg *cfg, cs_err *err) {
  if (cfg->fifos->in[0] && !cfg->fifos->err[0]) {
    cs_err_set(err, CS_UNIMPLEMENTED, "a terminal (-t) is not supported by cshimctl on Windows yet");
    return NULL;
  }
  cli_stdio *s = calloc(1, sizeof *s);
  if (!s) {
    cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
    return NULL;
  }
  s->cfg = *cfg;
  const char *names[3] = {cfg->fifos->out, cfg->fifos->err, cfg->fifos->in};
  int fds[3] = {cfg->out_fd, cfg->err_fd, cfg->in_fd};
  for (int i = 0; i < 3; i++) {
    out_srv *o = i < 2 ? &s->out[i] : &s->in;
    o->s = s;
    o->fd = fds[i];
    if (!names[i][0]) continue;
    o->used = true;
    uv_pipe_init(cfg->loop, &o->server, 0);
    o->server.data = o;
    o->server_open = true;
    s->handles++;
    int r = uv_pipe_bind(&o->server, names[i]);
    if (r == 0) r = uv_listen((uv_stream_t *)&o->server, 1, on_connection);
    if (r < 0) {
      cs_err_set(err, CS_INTERNAL, "serve %s: %s", names[i], uv_strerror(r));
      cli_stdio_close(s);
      return NULL;
    }
  }
  return s;
}

/* Serving began at open (the shim dials as soon as it has the names); our stdin is read from now on. */
int cli_stdio_start(cli_stdio *s, cs_err *err) {
  if (!s->in.used || s->thread_started) return 0;
  in_feed *f = calloc(1, sizeof *f);
  if (!f || uv_mutex_init(&f->mu) != 0) {
    free(f);
    return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "stdin: out of memory");
  }
  f->fd = s->in.fd;
  f->refs = 2; /* the loop's and the thread's */
  uv_async_init(s->cfg.loop, &s->async, on_in_async);
  s->async.data = s;
  s->async_open = true;
  s->handles++;
  f->async = &s->async;
  s->feed = f;
  uv_thread_t t;
  if (uv_thread_create(&t, in_thread, f) != 0) {
    f->refs = 1;
    return cs_err_set(err, CS_INTERNAL, "stdin: cannot start its reader thread");
  }
  s->thread_started = true;
  return 0;
}

void cli_stdio_close(cli_stdio *s) {
  if (!s || s->closing) return;
  s->closing = true;
  for (int i = 0; i < 2; i++) {
    close_handle(&s->out[i].server, &s->out[i].server_open);
    close_handle(&s->out[i].conn, &s->out[i].conn_open);
  }
  close_handle(&s->in.server, &s->in.server_open);
  close_handle(&s->in.conn, &s->in.conn_open);
  if (s->feed) {
    uv_mutex_lock(&s->feed->mu);
    s->feed->async = NULL;
    uv_mutex_unlock(&s->feed->mu);
    feed_unref(s->feed);
    s->feed = NULL;
  }
  if (s->async_open) {
    s->async_open = false;
    uv_close((uv_handle_t *)&s->async, on_async_closed);
  }
  maybe_free(s);
}

/* ---------------------------------------------------------------- terminal */

int cli_term_raw(cli_term *t, int fd, cs_err *err) {
  (void)err;
  memset(t, 0, sizeof *t);
  t->fd = fd; /* no console mode is changed: -t is refused before this on Windows (see cli_stdio_open) */
  return 0;
}

void cli_term_restore(cli_term *t) { t->raw = false; }

void cli_term_size(int fd, unsigned *width, unsigned *height) {
  CONSOLE_SCREEN_BUFFER_INFO info;
  HANDLE h = (HANDLE)_get_osfhandle(fd);
  if (h != INVALID_HANDLE_VALUE && GetConsoleScreenBufferInfo(h, &info)) {
    *width = (unsigned)(info.srWindow.Right - info.srWindow.Left + 1);
    *height = (unsigned)(info.srWindow.Bottom - info.srWindow.Top + 1);
  } else {
    *width = *height = 0;
  }
}
