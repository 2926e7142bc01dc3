/* Running the shim binary once (start, delete) and capturing what it prints, on POSIX: pipes, fork, exec,
 * poll with a deadline. */
#include "cli_shim_run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int capture_read(int fd, cli_capture *c) {
  if (c->len + 4096 + 1 > c->cap) {
    size_t ncap = c->cap ? c->cap * 2 : 8192;
    if (ncap > (1u << 20)) ncap = c->cap; /* a shim that chatters more than 1 MiB is cut off */
    char *nb = ncap > c->cap ? realloc(c->buf, ncap) : NULL;
    if (nb) {
      c->buf = nb;
      c->cap = ncap;
    }
  }
  char sink[4096];
  bool room = c->cap > c->len + 1;
  ssize_t n = read(fd, room ? c->buf + c->len : sink, room ? c->cap - c->len - 1 : sizeof sink);
  if (n > 0 && room) {
    c->len += (size_t)n;
    c->buf[c->len] = '\0';
  }
  return (int)(n > 0 ? 1 : (n == 0 || errno != EINTR ? 0 : 1));
}

int cli_shim_run(char *const argv[], const char *cwd, const uint8_t *data, size_t dlen, const char *ns,
                    const char *address, cli_capture *out, cli_capture *errout, int timeout_ms, cs_err *err) {
  int in[2] = {-1, -1}, po[2] = {-1, -1}, pe[2] = {-1, -1};
  if (pipe2(in, O_CLOEXEC) < 0 || pipe2(po, O_CLOEXEC) < 0 || (errout && pipe2(pe, O_CLOEXEC) < 0)) {
    int e = errno;
    for (int i = 0; i < 2; i++) {
      if (in[i] >= 0) close(in[i]);
      if (po[i] >= 0) close(po[i]);
      if (pe[i] >= 0) close(pe[i]);
    }
    return cs_err_sys(err, e, "pipe");
  }
  /* The options are small (well under the pipe buffer): write them before the fork so neither side can
   * wait on the other. */
  if (data && dlen && write(in[1], data, dlen) != (ssize_t)dlen) {
    int e = errno;
    close(in[0]), close(in[1]), close(po[0]), close(po[1]);
    if (errout) close(pe[0]), close(pe[1]);
    return cs_err_sys(err, e, "write shim options");
  }
  close(in[1]);
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(in[0]), close(po[0]), close(po[1]);
    if (errout) close(pe[0]), close(pe[1]);
    return cs_err_sys(err, e, "fork");
  }
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(po[1], 1);
    dup2(errout ? pe[1] : po[1], 2);
    if (chdir(cwd) < 0) {
      dprintf(2, "chdir %s: %s", cwd, strerror(errno));
      _exit(127);
    }
    /* No containerd to publish to: empty TTRPC_ADDRESS. NAMESPACE/GRPC_ADDRESS as containerd 1.7 sets. */
    setenv("TTRPC_ADDRESS", "", 1);
    setenv("GRPC_ADDRESS", address, 1);
    setenv("NAMESPACE", ns, 1);
    /* The shim gets a clean slate: no signal we hold back during setup stays blocked in it. */
    signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execv(argv[0], argv);
    dprintf(2, "exec %s: %s", argv[0], strerror(errno));
    _exit(127);
  }
  close(in[0]);
  close(po[1]);
  if (errout) close(pe[1]);
  int64_t deadline = now_ms() + timeout_ms;
  bool timed_out = false;
  struct pollfd pf[2] = {{.fd = po[0], .events = POLLIN}, {.fd = errout ? pe[0] : -1, .events = POLLIN}};
  while (pf[0].fd >= 0 || pf[1].fd >= 0) {
    int64_t left = deadline - now_ms();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    int r = poll(pf, 2, (int)left);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) break;
    for (int i = 0; i < 2; i++) {
      if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      if (capture_read(pf[i].fd, i == 0 ? out : errout) == 0) {
        close(pf[i].fd);
        pf[i].fd = -1;
      }
    }
  }
  for (int i = 0; i < 2; i++)
    if (pf[i].fd >= 0) close(pf[i].fd);
  if (timed_out) kill(pid, SIGKILL);
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) return cs_err_set(err, CS_DEADLINE_EXCEEDED, "%s: no answer within %d ms", argv[0], timeout_ms);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
