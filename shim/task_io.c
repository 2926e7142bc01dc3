#include "task_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "cs_log.h"

#define PUMP_BUF 32768
/* Stop reading while this much is queued towards a slow reader: bounded memory per stream. */
#define PUMP_HIGH_WATER (256 * 1024)

struct task_pump {
  uv_pipe_t src, dst;
  bool close_dst_on_eof;  /* stdin pipe: EOF on the FIFO becomes EOF for the process */
  bool src_open, dst_open;
  size_t queued;
  int handles;            /* open handles */
  bool released;          /* the owner let go: free once no handle is open */
};

typedef struct pump_write {
  uv_write_t req;
  task_pump *pump;
  size_t len;
  char data[];
} pump_write;

static void pump_handle_closed(uv_handle_t *h) {
  task_pump *p = h->data;
  if (--p->handles == 0 && p->released) free(p);
}

static void pump_close_src(task_pump *p) {
  if (!p->src_open) return;
  p->src_open = false;
  uv_close((uv_handle_t *)&p->src, pump_handle_closed);
}

static void pump_close_dst(task_pump *p) {
  if (!p->dst_open) return;
  p->dst_open = false;
  uv_close((uv_handle_t *)&p->dst, pump_handle_closed);
}

static void pump_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  (void)h;
  (void)hint;
  pump_write *w = malloc(sizeof *w + PUMP_BUF);
  buf->base = w ? w->data : NULL;
  buf->len = w ? PUMP_BUF : 0;
}

static void pump_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

static void pump_written(uv_write_t *req, int status) {
  pump_write *w = (pump_write *)req;
  task_pump *p = w->pump;
  p->queued -= w->len;
  free(w);
  if (status < 0) {
    /* The reader went away (EPIPE): keep draining the source so the process never blocks on us. */
    CS_DEBUG("stdio pump write: %s", uv_strerror(status));
    pump_close_dst(p);
  }
  /* The source ended while writes were queued: the last one done, the process may see EOF. */
  if (!p->src_open && p->close_dst_on_eof && p->queued == 0) pump_close_dst(p);
  if (p->src_open && p->queued < PUMP_HIGH_WATER / 2) uv_read_start((uv_stream_t *)&p->src, pump_alloc, pump_read);
}

static void pump_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  task_pump *p = s->data;
  pump_write *w = buf->base ? (pump_write *)(buf->base - offsetof(pump_write, data)) : NULL;
  if (n <= 0) {
    free(w);
    if (n == 0) return;
    /* UV_EOF on a FIFO, UV_EIO on a pty master whose slave closed: both mean the stream ended. */
    pump_close_src(p);
    /* Closing dst now would cancel the writes still queued (up to PUMP_HIGH_WATER of stdin, lost): the
     * process gets EOF once the last of them is done (pump_written). */
    if (p->close_dst_on_eof && p->queued == 0) pump_close_dst(p);
    return;
  }
  if (!p->dst_open) {
    free(w);
    return;
  }
  w->pump = p;
  w->len = (size_t)n;
  uv_buf_t out = uv_buf_init(w->data, (unsigned)n);
  if (uv_write(&w->req, (uv_stream_t *)&p->dst, &out, 1, pump_written) < 0) {
    free(w);
    pump_close_dst(p);
    return;
  }
  p->queued += (size_t)n;
  if (p->queued >= PUMP_HIGH_WATER) uv_read_stop(s);
}

/* Takes ownership of both fds (closed on failure too). */
static task_pump *pump_start(uv_loop_t *loop, int src, int dst, bool close_dst_on_eof, cs_err *err) {
  task_pump *p = calloc(1, sizeof *p);
  if (!p) {
    close(src);
    close(dst);
    cs_err_set(err, CS_RESOURCE_EXHAUSTED, "stdio: out of memory");
    return NULL;
  }
  p->close_dst_on_eof = close_dst_on_eof;
  uv_pipe_init(loop, &p->src, 0);
  uv_pipe_init(loop, &p->dst, 0);
  p->src.data = p->dst.data = p;
  p->src_open = p->dst_open = true;
  p->handles = 2;
  int rc = uv_pipe_open(&p->src, src);
  if (rc == 0) rc = uv_pipe_open(&p->dst, dst);
  if (rc == 0) rc = uv_read_start((uv_stream_t *)&p->src, pump_alloc, pump_read);
  if (rc < 0) {
    cs_err_set(err, CS_INTERNAL, "stdio pump: %s", uv_strerror(rc));
    p->released = true;
    pump_close_src(p);
    pump_close_dst(p);
    return NULL;
  }
  return p;
}

static void pump_stop(task_pump *p) {
  if (!p) return;
  p->released = true;
  if (p->handles == 0) {
    free(p);
    return;
  }
  pump_close_src(p);
  pump_close_dst(p);
}

void task_io_init(task_io *io, uv_loop_t *loop) {
  memset(io, 0, sizeof *io);
  io->loop = loop;
  io->child_fd[0] = io->child_fd[1] = io->child_fd[2] = -1;
  io->stdin_fifo = io->stdin_keep = io->stdin_pipe_w = io->stdout_fd = io->console_fd = -1;
}

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

static int set_blocking(int fd) {
  int fl = fcntl(fd, F_GETFL);
  return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

/* Open an output destination: a FIFO (without blocking on a missing reader) or a file:// URI. */
static int open_output(const char *path, cs_err *err) {
  if (strncmp(path, "binary://", 9) == 0)
    return cs_err_set(err, CS_UNIMPLEMENTED, "stdio %s: binary:// logging is not supported", path), -1;
  if (strncmp(path, "file://", 7) == 0) {
    int fd = open(path + 7, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) return cs_err_sys(err, errno, "open %s", path), -1;
    return fd;
  }
  if (strncmp(path, "fifo://", 7) == 0) path += 7;
  int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  /* No reader yet: hold it read-write so the open succeeds; output waits in the FIFO for the reader. */
  if (fd < 0 && errno == ENXIO) fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return cs_err_sys(err, errno, "open stdio fifo %s", path), -1;
  return fd;
}

int task_io_open(task_io *io, const char *in, const char *out, const char *errp, bool terminal, cs_err *err) {
  io->terminal = terminal;
  if (in && *in) {
    const char *p = strncmp(in, "fifo://", 7) == 0 ? in + 7 : in;
    io->stdin_fifo = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (io->stdin_fifo < 0) return cs_err_sys(err, errno, "open stdin fifo %s", in);
    io->stdin_keep = open(p, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (io->stdin_keep < 0) return cs_err_sys(err, errno, "open stdin fifo %s for writing", in);
    if (!terminal) {
      int pfd[2];
      if (pipe2(pfd, O_CLOEXEC) < 0) return cs_err_sys(err, errno, "stdin pipe");
      io->child_fd[0] = pfd[0];
      io->stdin_pipe_w = pfd[1];
    }
  }
  if (out && *out) {
    int fd = open_output(out, err);
    if (fd < 0) return -1;
    if (terminal) io->stdout_fd = fd;
    else {
      set_blocking(fd);
      io->child_fd[1] = fd;
    }
  }
  if (!terminal && errp && *errp) {
    int fd = open_output(errp, err);
    if (fd < 0) return -1;
    set_blocking(fd);
    io->child_fd[2] = fd;
  }
  return 0;
}

int task_io_started(task_io *io, cs_err *err) {
  for (int i = 0; i < 3; i++) close_fd(&io->child_fd[i]);
  if (!io->terminal && io->stdin_fifo >= 0 && io->stdin_pipe_w >= 0) {
    io->in_pump = pump_start(io->loop, io->stdin_fifo, io->stdin_pipe_w, true, err);
    io->stdin_fifo = io->stdin_pipe_w = -1;
    if (!io->in_pump) return -1;
  }
  return 0;
}

int task_io_attach_console(task_io *io, int master_fd, cs_err *err) {
  io->console_fd = master_fd;
  if (io->stdout_fd >= 0) {
    int dup_fd = fcntl(master_fd, F_DUPFD_CLOEXEC, 0);
    if (dup_fd < 0) return cs_err_sys(err, errno, "dup console");
    /* close-on-EOF: once the pty's last slave closes, stdout's reader sees EOF (as runc-v2's copy ends); CRI
     * and containerd's clients wait for it before deleting an exec whose stdin is still open. */
    io->out_pump = pump_start(io->loop, dup_fd, io->stdout_fd, true, err);
    io->stdout_fd = -1;
    if (!io->out_pump) return -1;
  }
  if (io->stdin_fifo >= 0) {
    int dup_fd = fcntl(master_fd, F_DUPFD_CLOEXEC, 0);
    if (dup_fd < 0) return cs_err_sys(err, errno, "dup console");
    io->in_pump = pump_start(io->loop, io->stdin_fifo, dup_fd, false, err);
    io->stdin_fifo = -1;
    if (!io->in_pump) return -1;
  }
  return 0;
}

void task_io_close_stdin(task_io *io) {
  close_fd(&io->stdin_keep);
  if (io->in_pump == NULL) {
    /* never started pumping: the process must still see EOF */
    close_fd(&io->stdin_pipe_w);
  }
}

int task_io_resize(task_io *io, uint32_t width, uint32_t height, cs_err *err) {
  if (io->console_fd < 0) return cs_err_set(err, CS_FAILED_PRECONDITION, "process has no terminal");
  struct winsize ws = {.ws_row = (unsigned short)height, .ws_col = (unsigned short)width};
  if (ioctl(io->console_fd, TIOCSWINSZ, &ws) < 0) return cs_err_sys(err, errno, "resize terminal");
  return 0;
}

void task_io_close(task_io *io) {
  for (int i = 0; i < 3; i++) close_fd(&io->child_fd[i]);
  close_fd(&io->stdin_fifo);
  close_fd(&io->stdin_keep);
  close_fd(&io->stdin_pipe_w);
  close_fd(&io->stdout_fd);
  close_fd(&io->console_fd);
  pump_stop(io->in_pump);
  pump_stop(io->out_pump);
  io->in_pump = io->out_pump = NULL;
}
