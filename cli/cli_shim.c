#include "cli_shim.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "containerd/task/v2/shim.pb-c.h"

const char *cli_socket_path(const char *addr) {
  return strncmp(addr, "unix://", 7) == 0 ? addr + 7 : addr;
}

static bool executable(const char *p) { return access(p, X_OK) == 0; }

int cli_shim_find(const char *self_exe, const char *override, char *out, size_t len, cs_err *err) {
  if (override && *override) {
    /* Absolute: the shim runs with the bundle as its cwd, and `delete` may run from anywhere later. */
    char abs[PATH_MAX];
    if (!executable(override) || !realpath(override, abs)) return cs_err_sys(err, errno, "shim %s", override);
    if (snprintf(out, len, "%s", abs) >= (int)len) return cs_err_set(err, CS_INVALID_ARGUMENT, "shim path too long");
    return 0;
  }
  if (self_exe) {
    const char *slash = strrchr(self_exe, '/');
    if (slash) {
      snprintf(out, len, "%.*s/%s", (int)(slash - self_exe), self_exe, CLI_SHIM_NAME);
      if (executable(out)) return 0;
      /* In the build tree cshimctl lives in cli/ and the shim in shim/. */
      snprintf(out, len, "%.*s/../shim/%s", (int)(slash - self_exe), self_exe, CLI_SHIM_NAME);
      if (executable(out)) return 0;
    }
  }
  const char *path = getenv("PATH");
  if (!path) path = "/usr/local/bin:/usr/bin:/bin";
  while (*path) {
    size_t n = strcspn(path, ":");
    snprintf(out, len, "%.*s/%s", (int)n, path, CLI_SHIM_NAME);
    if (n && executable(out)) return 0;
    path += n + (path[n] == ':');
  }
  return cs_err_set(err, CS_NOT_FOUND, "%s not found next to cshimctl or on PATH (use --shim)", CLI_SHIM_NAME);
}

static void trim(char *s) {
  size_t n = strlen(s);
  while (n && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
  size_t k = 0;
  while (s[k] && isspace((unsigned char)s[k])) k++;
  if (k) memmove(s, s + k, n - k + 1);
}

int cli_shim_parse_address(const char *output, char *out, size_t len, cs_err *err) {
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", output ? output : "");
  trim(buf);
  if (!buf[0]) return cs_err_set(err, CS_INTERNAL, "shim start printed no address");
  const char *addr = buf;
  json_t *j = NULL;
  if (buf[0] == '{') {
    /* containerd 1.7 bootstrap params: {"version":2,"address":"unix://...","protocol":"ttrpc"} */
    j = json_loads(buf, 0, NULL);
    addr = json_string_value(json_object_get(j, "address"));
    const char *proto = json_string_value(json_object_get(j, "protocol"));
    if (!addr || (proto && strcmp(proto, "ttrpc") != 0)) {
      json_decref(j);
      return cs_err_set(err, CS_INTERNAL, "shim start printed unusable bootstrap params: %s", buf);
    }
  }
  int rc = 0;
  if (strchr(addr, '\n') || (strncmp(addr, "unix://", 7) != 0 && addr[0] != '/')) {
    /* Anything else is an error message the shim printed instead of an address. */
    rc = cs_err_set(err, CS_INTERNAL, "shim start: %s", addr);
  } else if (snprintf(out, len, "%s", addr) >= (int)len) {
    rc = cs_err_set(err, CS_INTERNAL, "shim address too long");
  }
  json_decref(j);
  return rc;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct capture {
  char *buf;
  size_t len, cap;
} capture;

static int capture_read(int fd, capture *c) {
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

/* Run the shim with argv in cwd, stdin from data, stdout (and stderr, combined if err_cap is NULL)
 * captured. Returns the exit status (0..255, 128+sig) or -1 with err. */
static int run_shim(char *const argv[], const char *cwd, const uint8_t *data, size_t dlen, const char *ns,
                    const char *address, capture *out, capture *errout, int timeout_ms, cs_err *err) {
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

static int build_argv(const cli_shim_cmd *c, const char *action, char *argv[16]) {
  int i = 0;
  argv[i++] = (char *)c->shim;
  argv[i++] = "-namespace";
  argv[i++] = (char *)c->ns;
  argv[i++] = "-address";
  argv[i++] = (char *)c->address;
  argv[i++] = "-publish-binary";
  argv[i++] = (char *)c->publish_binary;
  argv[i++] = "-id";
  argv[i++] = (char *)c->id;
  if (strcmp(action, "delete") == 0) {
    argv[i++] = "-bundle";
    argv[i++] = (char *)c->bundle;
  }
  if (c->debug) argv[i++] = "-debug";
  argv[i++] = (char *)action;
  argv[i] = NULL;
  return i;
}

/* The shim's last words as one line for an error message. */
static const char *one_line(capture *c) {
  if (!c->buf) return "";
  for (char *p = c->buf; *p; p++)
    if (*p == '\n' || *p == '\r') *p = ' ';
  trim(c->buf);
  return c->buf;
}

int cli_shim_start(const cli_shim_cmd *c, char *out, size_t len, cs_err *err) {
  char *argv[16];
  build_argv(c, "start", argv);
  capture cap = {0};
  int st = run_shim(argv, c->bundle, c->stdin_data, c->stdin_len, c->ns, c->address, &cap, NULL,
                    CLI_SHIM_START_TIMEOUT_MS, err);
  int rc = 0;
  if (st < 0) rc = cs_err_wrap(err, "start shim");
  else if (st != 0) rc = cs_err_set(err, CS_INTERNAL, "start shim %s: exit status %d: %s", c->shim, st, one_line(&cap));
  else rc = cli_shim_parse_address(cap.buf, out, len, err);
  free(cap.buf);
  return rc;
}

int cli_shim_delete(const cli_shim_cmd *c, uint32_t *exit_status, cs_err *err) {
  char *argv[16];
  build_argv(c, "delete", argv);
  capture out = {0}, errout = {0};
  int st = run_shim(argv, c->bundle, NULL, 0, c->ns, c->address, &out, &errout, CLI_SHIM_START_TIMEOUT_MS, err);
  int rc = 0;
  if (st < 0) {
    rc = cs_err_wrap(err, "shim delete");
  } else if (st != 0) {
    rc = cs_err_set(err, CS_INTERNAL, "shim delete: exit status %d: %s", st, one_line(&errout));
  } else if (exit_status) {
    Containerd__Task__V2__DeleteResponse *r =
        containerd__task__v2__delete_response__unpack(NULL, out.len, (const uint8_t *)(out.buf ? out.buf : ""));
    *exit_status = r ? r->exit_status : 0;
    if (r) containerd__task__v2__delete_response__free_unpacked(r, NULL);
  }
  free(out.buf);
  free(errout.buf);
  return rc;
}
