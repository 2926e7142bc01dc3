/* The default plugin runner: fork + execve + waitpid of that one pid. CLI-side only: in a process with a
 * SIGCHLD reaper calling waitpid(-1) (the shim) the reaper could take this child's exit first. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "net_cni.h"

#define OUT_MAX (4u << 20) /* a result is a few hundred bytes; a runaway plugin must not eat the CLI */

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Between fork and execve: only async-signal-safe calls. */
static void child(const net_cni_exec_req *req, int in, int out, int errfd) {
  int fds[3] = {in, out, errfd};
  for (int i = 0; i < 3; i++) /* move off 0..2 first, or dup2 below could clobber a source */
    if (fds[i] < 3) fds[i] = fcntl(fds[i], F_DUPFD, 3);
  for (int i = 0; i < 3; i++)
    if (fds[i] < 0 || dup2(fds[i], i) < 0) _exit(127);
  /* Ignored signals and the mask survive execve; a plugin must start with defaults (SIGPIPE kills). */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; s++) sigaction(s, &sa, NULL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  close_range(3, ~0u, 0); /* the CLI's sockets and files are not the plugin's business */
  char *argv[] = {(char *)req->plugin, NULL};
  execve(req->plugin, argv, (char *const *)req->env);
  static const char msg[] = "cshim: execve of the CNI plugin failed\n";
  ssize_t w = write(2, msg, sizeof msg - 1);
  (void)w;
  _exit(127);
}

typedef struct io {
  int in, out, err;
  size_t in_off, out_cap, err_len;
} io;

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

/* One poll round. -1 with err on a failure of ours (not the plugin's). */
static int pump(io *s, const net_cni_exec_req *req, net_cni_exec_out *o, int wait_ms, cs_err *err) {
  struct pollfd p[3] = {{.fd = s->in, .events = POLLOUT}, {.fd = s->out, .events = POLLIN},
                        {.fd = s->err, .events = POLLIN}};
  int n = poll(p, 3, wait_ms);
  if (n < 0 && errno != EINTR) return cs_err_sys(err, errno, "poll");
  if (n <= 0) return 0;
  if (p[0].revents) {
    /* A socket, not a pipe, for stdin: MSG_NOSIGNAL means a plugin that exits without reading cannot
     * SIGPIPE the CLI. Closing our end is the plugin's EOF. */
    ssize_t w = send(s->in, req->input + s->in_off, req->input_len - s->in_off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w > 0) s->in_off += (size_t)w;
    if ((w < 0 && errno != EAGAIN && errno != EINTR) || s->in_off == req->input_len) close_fd(&s->in);
  }
  if (p[1].revents) {
    if (o->out_len + 1 >= s->out_cap) {
      if (s->out_cap >= OUT_MAX) return cs_err_set(err, CS_OUT_OF_RANGE, "plugin printed more than 4 MiB");
      char *nb = realloc(o->out, s->out_cap * 2);
      if (!nb) return cs_err_sys(err, ENOMEM, "plugin output");
      o->out = nb;
      s->out_cap *= 2;
    }
    ssize_t r = read(s->out, o->out + o->out_len, s->out_cap - 1 - o->out_len);
    if (r > 0) o->out_len += (size_t)r;
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) close_fd(&s->out);
    o->out[o->out_len] = '\0';
  }
  if (p[2].revents) {
    char scratch[512];
    size_t room = sizeof o->errtxt - 1 - s->err_len;
    ssize_t r = room ? read(s->err, o->errtxt + s->err_len, room) : read(s->err, scratch, sizeof scratch);
    if (r > 0 && room) s->err_len += (size_t)r;
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) close_fd(&s->err);
    o->errtxt[s->err_len] = '\0';
  }
  return 0;
}

static int finish(pid_t pid, int64_t deadline, const net_cni_exec_req *req, net_cni_exec_out *o, bool killed,
                  cs_err *err) {
  int st = 0;
  for (;;) {
    pid_t r = waitpid(pid, &st, killed ? 0 : WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return cs_err_sys(err, errno, "waitpid %s", req->plugin);
    if (now_ms() >= deadline) { /* stdout closed but the plugin lingers */
      kill(pid, SIGKILL);
      killed = true;
      continue;
    }
    struct timespec ts = {0, 2 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  if (killed) return cs_err_set(err, CS_DEADLINE_EXCEEDED, "timed out after %d ms", req->timeout_ms);
  if (WIFSIGNALED(st)) return cs_err_set(err, CS_UNKNOWN, "killed by signal %d", WTERMSIG(st));
  o->status = WEXITSTATUS(st);
  return 0;
}

int net_cni_exec_fork(void *ctx, const net_cni_exec_req *req, net_cni_exec_out *o, cs_err *err) {
  (void)ctx;
  memset(o, 0, sizeof *o);
  int in[2] = {-1, -1}, out[2] = {-1, -1}, er[2] = {-1, -1};
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0 || pipe2(out, O_CLOEXEC) != 0 ||
      pipe2(er, O_CLOEXEC) != 0) {
    int e = errno;
    for (int i = 0; i < 2; i++) close_fd(&in[i]), close_fd(&out[i]), close_fd(&er[i]);
    return cs_err_sys(err, e, "pipes for %s", req->plugin);
  }
  o->out = malloc(4096);
  pid_t pid = o->out ? fork() : -1;
  if (pid == 0) child(req, in[1], out[1], er[1]);
  int e = errno;
  close_fd(&in[1]), close_fd(&out[1]), close_fd(&er[1]);
  io s = {.in = in[0], .out = out[0], .err = er[0], .out_cap = 4096};
  if (pid < 0) {
    if (!o->out) e = ENOMEM;
    close_fd(&s.in), close_fd(&s.out), close_fd(&s.err);
    free(o->out);
    o->out = NULL;
    return cs_err_sys(err, e, "fork %s", req->plugin);
  }
  o->out[0] = '\0';
  for (int i = 0; i < 3; i++) {
    int fd = i == 0 ? s.in : i == 1 ? s.out : s.err;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  if (req->input_len == 0) close_fd(&s.in);
  int64_t deadline = now_ms() + req->timeout_ms;
  int rc = 0;
  bool killed = false;
  while (rc == 0 && (s.out >= 0 || s.err >= 0)) {
    int64_t left = deadline - now_ms();
    if (left <= 0) {
      kill(pid, SIGKILL);
      killed = true;
      break;
    }
    rc = pump(&s, req, o, (int)left, err);
  }
  close_fd(&s.in), close_fd(&s.out), close_fd(&s.err);
  if (rc != 0 && !killed) { /* our own failure: do not leave the plugin running unwatched */
    kill(pid, SIGKILL);
    killed = true;
  }
  cs_err tmp;
  if (finish(pid, deadline, req, o, killed, rc != 0 ? &tmp : err) != 0 || rc != 0) {
    free(o->out);
    o->out = NULL;
    o->out_len = 0;
    return -1;
  }
  return 0;
}
