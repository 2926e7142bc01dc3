/* stdio on POSIX: FIFOs, files and the pty master (see task_io.h). */
#include "task_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "task_pump.h"

struct task_io {
  uv_loop_t *loop;
  bool terminal;
  int child_fd[3];   /* the process's 0/1/2 until the runtime has it (-1: /dev/null) */
  int stdin_fifo;    /* FIFO read side (pumped) */
  int stdin_keep;    /* our writer on the stdin FIFO; closed by CloseIO */
  int stdin_pipe_w;  /* write end of the process's stdin pipe */
  int stdout_fd;     /* terminal: where the pty output goes */
  int console_fd;    /* terminal: pty master */
  task_pump *in_pump, *out_pump;
};

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

/* Takes ownership of both fds (closed on failure too). */
static task_pump *pump_fds(uv_loop_t *loop, int src, int dst, bool close_dst_on_eof, cs_err *err) {
  task_pump *p = task_pump_new(loop, close_dst_on_eof);
  if (!p) {
    close(src);
    close(dst);
    cs_err_set(err, CS_RESOURCE_EXHAUSTED, "stdio: out of memory");
    return NULL;
  }
  int rc = uv_pipe_open(&p->src, src);
  if (rc < 0) close(src);
  if (rc == 0) {
    rc = uv_pipe_open(&p->dst, dst);
    if (rc < 0) close(dst);
  } else {
    close(dst);
  }
  if (rc == 0) rc = task_pump_start(p);
  if (rc < 0) {
    cs_err_set(err, CS_INTERNAL, "stdio pump: %s", uv_strerror(rc));
    task_pump_stop(p);
    return NULL;
  }
  return p;
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

int task_io_open(task_io **iop, uv_loop_t *loop, const char *in, const char *out, const char *errp, bool terminal,
                 cs_err *err) {
  task_io *io = *iop = calloc(1, sizeof *io);
  if (!io) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "stdio: out of memory");
  io->loop = loop;
  io->child_fd[0] = io->child_fd[1] = io->child_fd[2] = -1;
  io->stdin_fifo = io->stdin_keep = io->stdin_pipe_w = io->stdout_fd = io->console_fd = -1;
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

void task_io_child_stdio(const task_io *io, rt_stdio *out) {
  memset(out, 0, sizeof *out);
  out->terminal = io && io->terminal;
  for (int i = 0; i < 3; i++) out->fd[i] = io ? io->child_fd[i] : -1;
}

int task_io_started(task_io *io, cs_err *err) {
  if (!io) return 0;
  for (int i = 0; i < 3; i++) close_fd(&io->child_fd[i]);
  if (!io->terminal && io->stdin_fifo >= 0 && io->stdin_pipe_w >= 0) {
    io->in_pump = pump_fds(io->loop, io->stdin_fifo, io->stdin_pipe_w, true, err);
    io->stdin_fifo = io->stdin_pipe_w = -1;
    if (!io->in_pump) return -1;
  }
  return 0;
}

/* terminal: take ownership of the pty master and start both pumps. */
int task_io_attach(task_io *io, const rt_result *res, cs_err *err) {
  if (res->console_fd < 0) return 0;
  if (!io) {
    close(res->console_fd);
    return 0;
  }
  close_fd(&io->console_fd);
  int master_fd = io->console_fd = res->console_fd;
  if (io->stdout_fd >= 0) {
    int dup_fd = fcntl(master_fd, F_DUPFD_CLOEXEC, 0);
    if (dup_fd < 0) return cs_err_sys(err, errno, "dup console");
    /* close-on-EOF: once the pty's last slave closes, stdout's reader sees EOF (as runc-v2's copy ends); CRI
     * and containerd's clients wait for it before deleting an exec whose stdin is still open. */
    io->out_pump = pump_fds(io->loop, dup_fd, io->stdout_fd, true, err);
    io->stdout_fd = -1;
    if (!io->out_pump) return -1;
  }
  if (io->stdin_fifo >= 0) {
    int dup_fd = fcntl(master_fd, F_DUPFD_CLOEXEC, 0);
    if (dup_fd < 0) return cs_err_sys(err, errno, "dup console");
    io->in_pump = pump_fds(io->loop, io->stdin_fifo, dup_fd, false, err);
    io->stdin_fifo = -1;
    if (!io->in_pump) return -1;
  }
  return 0;
}

void task_io_close_stdin(task_io *io) {
  if (!io) return;
  close_fd(&io->stdin_keep);
  if (io->in_pump == NULL) {
    /* never started pumping: the process must still see EOF */
    close_fd(&io->stdin_pipe_w);
  }
}

bool task_io_has_console(const task_io *io) { return io && io->console_fd >= 0; }

int task_io_resize(task_io *io, uint32_t width, uint32_t height, cs_err *err) {
  if (!task_io_has_console(io)) return cs_err_set(err, CS_FAILED_PRECONDITION, "process has no terminal");
  struct winsize ws = {.ws_row = (unsigned short)height, .ws_col = (unsigned short)width};
  if (ioctl(io->console_fd, TIOCSWINSZ, &ws) < 0) return cs_err_sys(err, errno, "resize terminal");
  return 0;
}

void task_io_close(task_io **iop) {
  task_io *io = *iop;
  if (!io) return;
  *iop = NULL;
  for (int i = 0; i < 3; i++) close_fd(&io->child_fd[i]);
  close_fd(&io->stdin_fifo);
  close_fd(&io->stdin_keep);
  close_fd(&io->stdin_pipe_w);
  close_fd(&io->stdout_fd);
  close_fd(&io->console_fd);
  task_pump_stop(io->in_pump);
  task_pump_stop(io->out_pump);
  free(io);
}

int task_io_set_owner(task_io *io, uint32_t uid, uint32_t gid, cs_err *err) {
  if (uid == 0 && gid == 0) return 0;
  static const char *const names[] = {"stdin", "stdout", "stderr"};
  for (int i = 0; i < 3; i++) {
    struct stat st;
    /* FIFOs and the stdin pipe (runc-v2 chowns the pipes it hands over); a file:// log stays the user's. */
    if (io->child_fd[i] < 0 || fstat(io->child_fd[i], &st) != 0 || !S_ISFIFO(st.st_mode)) continue;
    if (fchown(io->child_fd[i], (uid_t)uid, (gid_t)gid) != 0)
      return cs_err_sys(err, errno, "chown %s to %u:%u", names[i], (unsigned)uid, (unsigned)gid);
  }
  return 0;
}
