#include "rt_linux_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

extern char **environ;

typedef struct rt_linux_capture {
  uv_pipe_t pipe;
  bool open;
  char *buf;
  size_t len, cap, max;
} rt_linux_capture;

struct rt_linux_cmd {
  uv_loop_t *loop;
  rt_reaper *reaper;
  int pid;
  rt_linux_cmd_cb cb;
  void *data;
  rt_linux_capture cap[2]; /* stdout, stderr */
  int open_handles;
  bool done;
};

int rt_linux_cmd_pid(const rt_linux_cmd *c) {
  return c->pid;
}

int rt_linux_cmd_resolve(const char *name, char *out, size_t outlen, cs_err *err) {
  if (!name || !*name) return cs_err_set(err, CS_INVALID_ARGUMENT, "empty binary name");
  if (strchr(name, '/')) {
    if (access(name, X_OK) != 0) return cs_err_sys(err, errno, "runtime binary %s", name);
    if ((size_t)snprintf(out, outlen, "%s", name) >= outlen)
      return cs_err_set(err, CS_INVALID_ARGUMENT, "path too long: %s", name);
    return 0;
  }
  const char *path = getenv("PATH");
  if (!path || !*path) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const char *p = path; *p;) {
    const char *e = strchr(p, ':');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (n > 0 && (size_t)snprintf(out, outlen, "%.*s/%s", (int)n, p, name) < outlen) {
      struct stat st;
      if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0) return 0;
    }
    p += n;
    if (*p == ':') p++;
  }
  return cs_err_set(err, CS_NOT_FOUND, "runtime binary \"%s\" not found in $PATH", name);
}

static void maybe_free(rt_linux_cmd *c) {
  if (!c->done || c->open_handles > 0) return;
  for (int i = 0; i < 2; i++) free(c->cap[i].buf);
  free(c);
}

static void on_pipe_closed(uv_handle_t *h) {
  rt_linux_cmd *c = h->data;
  c->open_handles--;
  maybe_free(c);
}

static void close_captures(rt_linux_cmd *c) {
  for (int i = 0; i < 2; i++) {
    if (!c->cap[i].open) continue;
    c->cap[i].open = false;
    uv_close((uv_handle_t *)&c->cap[i].pipe, on_pipe_closed);
  }
}

static int grow(rt_linux_capture *k, size_t want) {
  if (k->cap - k->len >= want) return 0;
  size_t cap = k->cap ? k->cap : 4096;
  while (cap - k->len < want) cap *= 2;
  char *b = realloc(k->buf, cap);
  if (!b) return -1;
  k->buf = b;
  k->cap = cap;
  return 0;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)suggested;
  rt_linux_capture *k = (rt_linux_capture *)((char *)h - offsetof(rt_linux_capture, pipe));
  /* Past the cap, read into a scratch tail that is discarded, so the child never blocks on a full pipe. */
  if (grow(k, 4097) != 0) {
    buf->base = NULL;
    buf->len = 0;
    return;
  }
  buf->base = k->buf + k->len;
  buf->len = k->cap - k->len - 1;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  (void)buf;
  rt_linux_capture *k = (rt_linux_capture *)((char *)s - offsetof(rt_linux_capture, pipe));
  if (n > 0) {
    k->len += (size_t)n;
    if (k->len > k->max) k->len = k->max;
  } else if (n < 0) {
    uv_read_stop(s); /* EOF or error; the handle is closed when the child's exit arrives */
  }
}

/* After the exit: whatever the child wrote is in the pipe now; take it without waiting for an EOF that a
 * grandchild holding the write end could delay forever. */
static void drain_capture(rt_linux_capture *k) {
  if (!k->open) return;
  uv_os_fd_t fd;
  if (uv_fileno((uv_handle_t *)&k->pipe, &fd) != 0) return;
  for (;;) {
    if (grow(k, 4097) != 0) break;
    ssize_t n = read(fd, k->buf + k->len, k->cap - k->len - 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    k->len += (size_t)n;
    if (k->len > k->max) k->len = k->max;
  }
}

static void cmd_exited(void *data, int pid, int status, int64_t at) {
  rt_linux_cmd *c = data;
  for (int i = 0; i < 2; i++) {
    drain_capture(&c->cap[i]);
    if (grow(&c->cap[i], 1) == 0) c->cap[i].buf[c->cap[i].len] = '\0';
  }
  rt_linux_cmd_result res = {
      .pid = pid,
      .status = status,
      .exited_at_ns = at,
      .out = c->cap[0].buf ? c->cap[0].buf : "",
      .out_len = c->cap[0].buf ? c->cap[0].len : 0,
      .err = c->cap[1].buf ? c->cap[1].buf : "",
      .err_len = c->cap[1].buf ? c->cap[1].len : 0,
  };
  c->done = true;
  close_captures(c);
  c->open_handles++; /* hold the buffers across the callback */
  c->cb(c->data, &res);
  c->open_handles--;
  maybe_free(c);
}

void rt_linux_cmd_cancel(rt_linux_cmd *c) {
  if (!c || c->done) return;
  rt_reaper_unwatch(c->reaper, c->pid);
  c->done = true;
  close_captures(c);
  maybe_free(c);
}

/* Only async-signal-safe calls from here to execve: the parent may have other threads (libuv's pool). */
static void child(const rt_linux_cmd_spec *spec, int src[3], int errfd, pid_t parent) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; s++) sigaction(s, &sa, NULL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  /* As runc-v2 does for runc: if the shim dies, the runtime invocation dies with it. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);
  for (int i = 0; i < 3; i++) /* move sources out of 0..2 so the dup2 calls below cannot clobber them */
    if (src[i] >= 0 && src[i] < 3 && (src[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 3)) < 0) goto fail;
  for (int i = 0; i < 3; i++)
    if (dup2(src[i], i) < 0) goto fail;
  /* Nothing else leaks into runc (and from there into the container): every other fd closes on exec. */
  if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    for (int fd = 3; fd < 65536; fd++)
      if (fd != errfd) fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  execve(spec->path, spec->argv, environ);
fail:;
  int e = errno;
  ssize_t w = write(errfd, &e, sizeof e);
  (void)w;
  _exit(127);
}

static int make_input(const rt_linux_cmd_spec *spec, cs_err *err) {
  int fd = memfd_create("rt-input", MFD_CLOEXEC);
  if (fd < 0) return cs_err_sys(err, errno, "memfd_create");
  for (size_t off = 0; off < spec->input_len;) {
    ssize_t n = write(fd, spec->input + off, spec->input_len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      cs_err_sys(err, errno, "writing command input");
      close(fd);
      return -1;
    }
    off += (size_t)n;
  }
  lseek(fd, 0, SEEK_SET);
  return fd;
}

rt_linux_cmd *rt_linux_cmd_start(uv_loop_t *loop, rt_reaper *r, const rt_linux_cmd_spec *spec,
                                 rt_linux_cmd_cb cb, void *data, cs_err *err) {
  int src[3] = {-1, -1, -1}, own[3] = {-1, -1, -1}, rd[2] = {-1, -1}, ep[2] = {-1, -1};
  int devnull = -1;
  rt_linux_cmd *c = calloc(1, sizeof *c);
  if (!c) {
    cs_err_sys(err, ENOMEM, "spawn %s", spec->path);
    return NULL;
  }
  c->loop = loop;
  c->reaper = r;
  c->cb = cb;
  c->data = data;
  for (int i = 0; i < 2; i++) c->cap[i].max = spec->capture_max ? spec->capture_max : 64 * 1024;

  for (int i = 0; i < 3; i++) {
    int want = spec->fd[i];
    if (i == 0 && spec->input) {
      if ((own[0] = make_input(spec, err)) < 0) goto fail;
      src[0] = own[0];
    } else if (want == RT_LINUX_CMD_CAPTURE && i > 0) {
      int p[2];
      if (pipe2(p, O_CLOEXEC) != 0) {
        cs_err_sys(err, errno, "pipe");
        goto fail;
      }
      rd[i - 1] = p[0];
      own[i] = p[1];
      src[i] = p[1];
    } else if (want >= 0) {
      src[i] = want;
    } else {
      if (devnull < 0 && (devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
        cs_err_sys(err, errno, "open /dev/null");
        goto fail;
      }
      src[i] = devnull;
    }
  }
  if (pipe2(ep, O_CLOEXEC) != 0) {
    cs_err_sys(err, errno, "pipe");
    goto fail;
  }

  /* All signals blocked across fork: a signal landing in the child before it resets its handlers would run
   * libuv's handler there and write into the parent's signal pipe. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) child(spec, src, ep[1], parent);
  int fork_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (pid < 0) {
    cs_err_sys(err, fork_errno, "fork %s", spec->path);
    goto fail;
  }
  c->pid = pid;
  /* Watched before this function returns to the loop: the reaper cannot have seen it yet. */
  cs_err werr;
  if (rt_reaper_watch(r, pid, cmd_exited, c, &werr) != 0) {
    /* Cannot route the exit: do not leave a command we cannot complete. */
    kill(pid, SIGKILL);
    *err = werr;
    goto fail;
  }
  close(ep[1]);
  ep[1] = -1;
  int child_errno = 0;
  for (;;) { /* returns at execve (EOF via CLOEXEC) or with the child's errno: microseconds */
    ssize_t n = read(ep[0], &child_errno, sizeof child_errno);
    if (n < 0 && errno == EINTR) continue;
    if (n != (ssize_t)sizeof child_errno) child_errno = 0;
    break;
  }
  if (child_errno != 0) {
    rt_reaper_unwatch(r, pid); /* it _exits(127); drop that exit */
    cs_err_sys(err, child_errno, "exec %s", spec->path);
    goto fail;
  }
  for (int i = 0; i < 3; i++)
    if (own[i] >= 0) close(own[i]);
  if (devnull >= 0) close(devnull);
  close(ep[0]);
  for (int i = 0; i < 2; i++) {
    if (rd[i] < 0) continue;
    rt_linux_capture *k = &c->cap[i];
    uv_pipe_init(loop, &k->pipe, 0);
    k->pipe.data = c;
    if (uv_pipe_open(&k->pipe, rd[i]) != 0) {
      close(rd[i]);
      rd[i] = -1;
      c->open_handles++;
      uv_close((uv_handle_t *)&k->pipe, on_pipe_closed);
      continue;
    }
    rd[i] = -1;
    k->open = true;
    c->open_handles++;
    uv_read_start((uv_stream_t *)&k->pipe, on_alloc, on_read);
  }
  return c;

fail:
  for (int i = 0; i < 3; i++)
    if (own[i] >= 0) close(own[i]);
  for (int i = 0; i < 2; i++) {
    if (rd[i] >= 0) close(rd[i]);
    if (ep[i] >= 0) close(ep[i]);
  }
  if (devnull >= 0) close(devnull);
  free(c);
  return NULL;
}
