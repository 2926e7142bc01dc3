/* stdio on Windows (see task_io.h): containerd serves a named pipe per stream (\\.\pipe\...) and passes
 * the names; HCS creates the process with std handles of its own and the backend hands them up with
 * start's result. Each stream is a task_pump on this loop between the dialed client pipe and HCS's handle.
 *
 * Why here and not in the backend (runtime/hcs): CloseIO, the client's pipe names and the lifetime of
 * the streams are the service's, and the backend never learns about the client (data flows one way:
 * service -> backend; what the backend produces comes back up in rt_result, as the pty master does on
 * Linux). No thread per stream and no polling: libuv does overlapped I/O on the dialed pipes; an HCS
 * handle that is not overlapped (an anonymous pipe end) is read by libuv's own helper, which blocks in
 * ReadFile rather than spinning. */
#include "task_io.h"

#include <uv.h> /* before windows.h */
#include <fcntl.h>
#include <io.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

#include "cs_log.h"
#include "task_pump.h"

struct task_io {
  uv_loop_t *loop;
  bool terminal;
  char *path[3];
  task_pump *pump[3];  /* 0: client -> process stdin; 1, 2: process stdout/stderr -> client */
  bool stdin_closed;   /* CloseIO came before the process existed */
};

typedef struct io_dial {
  uv_connect_t req;
  task_pump *pump;
  int stream;
  char path[];
} io_dial;

static const char *const stream_names[3] = {"stdin", "stdout", "stderr"};

static void on_dialed(uv_connect_t *req, int status) {
  io_dial *d = (io_dial *)req;
  task_pump *p = d->pump;
  if (!p->released) {
    if (status < 0) {
      CS_WARN("%s: dial %s: %s", stream_names[d->stream], d->path, uv_strerror(status));
      /* stdin: the process gets EOF; output: drained and dropped, so the process never blocks. */
      if (d->stream == 0) task_pump_finish(p);
      else task_pump_drop_dst(p);
    } else if (task_pump_start(p) < 0) {
      task_pump_finish(p);
    }
  }
  free(d);
}

int task_io_open(task_io **iop, uv_loop_t *loop, const char *in, const char *out, const char *errp, bool terminal,
                 cs_err *err) {
  task_io *io = *iop = calloc(1, sizeof *io);
  if (!io) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "stdio: out of memory");
  io->loop = loop;
  io->terminal = terminal;
  const char *paths[3] = {in, out, terminal ? NULL : errp};
  for (int i = 0; i < 3; i++) {
    if (!paths[i] || !*paths[i]) continue;
    if (strncmp(paths[i], "\\\\.\\pipe\\", 9) != 0 && strncmp(paths[i], "//./pipe/", 9) != 0)
      return cs_err_set(err, CS_INVALID_ARGUMENT, "%s %s: only named pipes (\\\\.\\pipe\\...) are supported",
                        stream_names[i], paths[i]);
    if (!(io->path[i] = strdup(paths[i]))) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "stdio: out of memory");
  }
  return 0;
}

void task_io_child_stdio(const task_io *io, rt_stdio *out) {
  memset(out, 0, sizeof *out);
  out->terminal = io && io->terminal;
  for (int i = 0; i < 3; i++) {
    out->fd[i] = -1;
    out->path[i] = io ? io->path[i] : NULL;
  }
}

/* One stream: HCS's handle on one side (taken over: closed on failure too), the client's pipe dialed on
 * the other. */
static int io_stream(task_io *io, int i, HANDLE h, cs_err *err) {
  int fd = _open_osfhandle((intptr_t)h, _O_BINARY);
  if (fd < 0) {
    CloseHandle(h);
    return cs_err_set(err, CS_INTERNAL, "%s: cannot use the process's handle", stream_names[i]);
  }
  /* Every stream ends for the other side when its source ends: stdin EOF from the client closes the
   * process's stdin; the process's exit closes the client's stdout/stderr pipe (containerd waits for it). */
  task_pump *p = task_pump_new(io->loop, true);
  size_t plen = strlen(io->path[i]) + 1;
  io_dial *d = p ? malloc(sizeof *d + plen) : NULL;
  if (!d) {
    _close(fd);
    task_pump_stop(p);
    return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "stdio: out of memory");
  }
  int rc = uv_pipe_open(i == 0 ? &p->dst : &p->src, fd);
  if (rc < 0) {
    _close(fd);
    free(d);
    task_pump_stop(p);
    return cs_err_set(err, CS_INTERNAL, "%s: %s", stream_names[i], uv_strerror(rc));
  }
  io->pump[i] = p;
  d->pump = p;
  d->stream = i;
  memcpy(d->path, io->path[i], plen);
  /* containerd listens; the shim connects as the client (as runhcs does). Copying starts once dialed. */
  uv_pipe_connect(&d->req, i == 0 ? &p->src : &p->dst, d->path, on_dialed);
  return 0;
}

int task_io_attach(task_io *io, const rt_result *res, cs_err *err) {
  int rc = 0;
  for (int i = 0; i < 3; i++) {
    HANDLE h = (HANDLE)res->stdio_handle[i];
    if (!h) continue;
    if (!io || !io->path[i] || io->pump[i] || (i == 0 && io->stdin_closed)) {
      CloseHandle(h); /* nobody to connect it to (or CloseIO already came): the process sees EOF */
      continue;
    }
    if (io_stream(io, i, h, err) < 0) rc = -1;
  }
  return rc;
}

int task_io_started(task_io *io, cs_err *err) {
  (void)io;
  (void)err;
  return 0;
}

void task_io_close_stdin(task_io *io) {
  if (!io) return;
  io->stdin_closed = true;
  /* What the client wrote is still delivered; then the process's stdin closes. */
  task_pump_finish(io->pump[0]);
}

bool task_io_has_console(const task_io *io) {
  (void)io;
  return false; /* the console is HCS's: the backend resizes it */
}

int task_io_resize(task_io *io, uint32_t width, uint32_t height, cs_err *err) {
  (void)io, (void)width, (void)height;
  return cs_err_set(err, CS_FAILED_PRECONDITION, "process has no terminal of the shim's");
}

void task_io_close(task_io **iop) {
  task_io *io = *iop;
  if (!io) return;
  *iop = NULL;
  for (int i = 0; i < 3; i++) {
    task_pump_stop(io->pump[i]);
    free(io->path[i]);
  }
  free(io);
}

/* io_uid/io_gid are Linux runtime options; a named pipe's access is its DACL, set by whoever serves it. */
int task_io_set_owner(task_io *io, uint32_t uid, uint32_t gid, cs_err *err) {
  (void)io;
  (void)uid;
  (void)gid;
  (void)err;
  return 0;
}
