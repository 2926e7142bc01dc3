/* The shim binary on POSIX: a unix socket under /run/containerd/s, a forked serving process that inherits
 * the listener as fd 3, SO_PEERCRED, logs to the bundle's `log` FIFO (see shim_os.h). */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cs_log.h"
#include "cs_sha256.h"
#include "shim_cgroup.h"
#include "shim_os.h"

#define SHIM_SOCKET_DIR "/run/containerd/s"

/* ------------------------------------------------------------------ start */

/* "unix:///run/containerd/s/<sha256(address/ns/group)>" */
int shim_os_address(const shim_args *a, const char *group, char *out, size_t len, cs_err *err) {
  char joined[4096];
  /* Go's filepath.Join: elements joined with '/', the address path cleaned of a trailing slash */
  size_t alen = strlen(a->address);
  while (alen > 1 && a->address[alen - 1] == '/') alen--;
  int n = snprintf(joined, sizeof joined, "%.*s/%s/%s", (int)alen, a->address, a->ns, group);
  if (n < 0 || (size_t)n >= sizeof joined) return cs_err_set(err, CS_INVALID_ARGUMENT, "address too long");
  char hex[65];
  cs_sha256_hex(joined, (size_t)n, hex);
  n = snprintf(out, len, "unix://%s/%s", SHIM_SOCKET_DIR, hex);
  if (n < 0 || (size_t)n >= len) return cs_err_set(err, CS_INVALID_ARGUMENT, "socket address too long");
  return 0;
}

static int listen_unix(const char *path, cs_err *err) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof sa.sun_path) return cs_err_set(err, CS_INVALID_ARGUMENT, "socket path %s too long", path);
  strcpy(sa.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return cs_err_sys(err, errno, "socket");
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  if (chmod(path, 0600) < 0 || listen(fd, 128) < 0) {
    int e = errno;
    close(fd);
    unlink(path);
    return cs_err_sys(err, e, "listen on %s", path);
  }
  return fd;
}

static bool can_connect(const char *path) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof sa.sun_path) return false;
  memcpy(sa.sun_path, path, strlen(path) + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
  close(fd);
  return ok;
}

int shim_os_claim(const char *address, shim_claim *c, cs_err *err) {
  memset(c, 0, sizeof *c);
  c->handle = -1;
  const char *path = address + strlen("unix://");
  if (mkdir("/run/containerd", 0711) < 0 && errno != EEXIST) return cs_err_sys(err, errno, "mkdir /run/containerd");
  if (mkdir(SHIM_SOCKET_DIR, 0700) < 0 && errno != EEXIST) return cs_err_sys(err, errno, "mkdir %s", SHIM_SOCKET_DIR);
  int lfd = listen_unix(path, err);
  if (lfd < 0 && errno == EADDRINUSE) {
    /* A shim already serves this socket (the pod's shim): this task joins it. */
    if (can_connect(path)) return 1;
    unlink(path); /* left by a shim that died */
    lfd = listen_unix(path, err);
  }
  if (lfd < 0) {
    if (err && err->code == CS_OK) cs_err_sys(err, errno, "create shim socket %s", path);
    return -1;
  }
  c->handle = lfd;
  snprintf(c->path, sizeof c->path, "%s", path);
  return 0;
}

void shim_os_unclaim(shim_claim *c) {
  if (c->handle >= 0) close((int)c->handle);
  if (c->path[0]) unlink(c->path);
  c->handle = -1;
  c->path[0] = '\0';
}

int shim_os_write_address(const char *address, cs_err *err) {
  int fd = open(".address", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return cs_err_sys(err, errno, "write address file");
  size_t len = strlen(address);
  if (write(fd, address, len) != (ssize_t)len || fsync(fd) < 0) {
    int e = errno;
    close(fd);
    return cs_err_sys(err, e, "write address file");
  }
  close(fd);
  if (rename(".address", "address") < 0) return cs_err_sys(err, errno, "rename address file");
  return 0;
}

/* OOM score: one above containerd's, so the kernel picks the shim before containerd (runc-v2 does this). */
static void adjust_oom_score(pid_t child) {
  char buf[32] = {0};
  int fd = open("/proc/self/oom_score_adj", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return;
  int score = atoi(buf) + 1;
  if (score > 1000) score = 1000;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/oom_score_adj", (int)child);
  fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  int len = snprintf(buf, sizeof buf, "%d", score);
  if (write(fd, buf, (size_t)len) < 0) { /* best effort, as runc-v2 */ }
  close(fd);
}

size_t shim_os_read_stdin(uint8_t *keep, size_t cap) {
  char buf[4096];
  size_t kept = 0;
  int fl = fcntl(0, F_GETFL);
  if (fl < 0 || isatty(0)) return 0;
  ssize_t n;
  while ((n = read(0, buf, sizeof buf)) > 0) {
    size_t take = cap - kept < (size_t)n ? cap - kept : (size_t)n;
    if (take) memcpy(keep + kept, buf, take);
    kept += take;
  }
  return kept;
}

/* The listener is already listening, so the address is served from here on: no readiness wait needed. */
int shim_os_spawn(const shim_args *a, const char *self_exe, const char *address, shim_claim *c,
                  const uint8_t *opts, size_t opts_len, cs_err *err) {
  (void)address;
  int lfd = (int)c->handle;
  pid_t pid = fork();
  if (pid < 0) return cs_err_sys(err, errno, "fork");
  if (pid == 0) {
    /* The serving process: own session, listener on fd 3, no tie to containerd's pipes (containerd reads
     * start's output until EOF, so the daemon must not keep stdout/stderr open). */
    setsid();
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      dup2(devnull, 0);
      dup2(devnull, 1);
      dup2(devnull, 2);
      if (devnull > 2) close(devnull);
    }
    if (lfd != 3) {
      dup2(lfd, 3);
      close(lfd);
    } else {
      fcntl(3, F_SETFD, 0);
    }
    char *argv[10];
    int i = 0;
    argv[i++] = (char *)self_exe;
    argv[i++] = "-namespace";
    argv[i++] = (char *)a->ns;
    argv[i++] = "-id";
    argv[i++] = (char *)a->id;
    argv[i++] = "-address";
    argv[i++] = (char *)a->address;
    if (a->debug) argv[i++] = "-debug";
    argv[i] = NULL;
    execv(self_exe, argv);
    _exit(127);
  }
  close(lfd);
  c->handle = -1;
  /* The runtime options (Create carries them again) may name a ShimCgroup: runc-v2's start moves the
   * serving shim there before it answers. */
  if (shim_cgroup_apply_options(opts, opts_len, pid, err) < 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
  }
  adjust_oom_score(pid);
  return 0;
}

/* ------------------------------------------------------------------ serve */

struct shim_os_serve {
  char socket_path[108];
  uv_signal_t sigterm;
  void (*stop_cb)(void *data);
  void *stop_data;
};

/* containerd creates the bundle's `log` FIFO and reads it; stderr goes there too (runtime diagnostics). */
static void open_log(bool debug) {
  int fd = open("log", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0 && errno == ENXIO) fd = open("log", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    cs_log_setup(-1, CS_LOG_INFO);
    return;
  }
  dup2(fd, 2);
  close(fd);
  cs_log_setup(2, debug ? CS_LOG_DEBUG : CS_LOG_INFO);
}

/* Every shim is one per container: its dirty pages are the per-container cost. Large transient buffers
 * (runtime output, JSON documents, frames) get their own mappings and go back to the kernel when freed,
 * and the heap top is given back instead of kept as a 128 KiB pad. */
static void tune_malloc(void) {
  mallopt(M_MMAP_THRESHOLD, 16 * 1024);
  mallopt(M_TRIM_THRESHOLD, 32 * 1024);
  mallopt(M_TOP_PAD, 0);
}

static void on_sigterm(uv_signal_t *sig, int signum) {
  shim_os_serve *s = sig->data;
  CS_INFO("signal %d: exiting", signum);
  if (s->stop_cb) s->stop_cb(s->stop_data);
}

shim_os_serve *shim_os_serve_new(const shim_args *a, uv_loop_t *loop, cs_err *err) {
  signal(SIGPIPE, SIG_IGN);
  tune_malloc();
  /* Orphans of the container (its init once `runc create` exits) must be reparented to us to be reaped. */
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) return cs_err_sys(err, errno, "set child subreaper"), NULL;
  open_log(a->debug);
  shim_os_serve *s = calloc(1, sizeof *s);
  if (!s) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory"), NULL;
  uv_signal_init(loop, &s->sigterm);
  s->sigterm.data = s;
  uv_signal_start(&s->sigterm, on_sigterm, SIGTERM);
  uv_unref((uv_handle_t *)&s->sigterm);
  return s;
}

void shim_os_on_stop(shim_os_serve *s, void (*cb)(void *data), void *data) {
  s->stop_cb = cb;
  s->stop_data = data;
}

static int peer_check(int fd, void *data) {
  (void)data;
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) return 0; /* not a unix socket peer */
  if (cred.uid == 0 || cred.uid == getuid()) return 0;
  CS_WARN("refused connection from uid %u pid %d: only root or uid %u may use this shim", (unsigned)cred.uid,
          (int)cred.pid, (unsigned)getuid());
  return -1;
}

static int socket_path_of(int fd, char *out, size_t len) {
  struct sockaddr_un sa;
  socklen_t sl = sizeof sa;
  if (getsockname(fd, (struct sockaddr *)&sa, &sl) < 0 || sa.sun_family != AF_UNIX || sa.sun_path[0] == '\0')
    return -1;
  snprintf(out, len, "%s", sa.sun_path);
  return 0;
}

int shim_os_listen(shim_os_serve *s, ttrpc_server *srv, const shim_args *a, cs_err *err) {
  /* Refuse peers whose uid is neither root nor ours (SO_PEERCRED). */
  ttrpc_server_set_accept_check(srv, peer_check, NULL);
  if (a->socket && *a->socket) {
    const char *p = strncmp(a->socket, "unix://", 7) == 0 ? a->socket + 7 : a->socket;
    snprintf(s->socket_path, sizeof s->socket_path, "%s", p);
    if (ttrpc_server_listen(srv, s->socket_path, err) < 0) {
      s->socket_path[0] = '\0';
      return -1;
    }
    return 0;
  }
  socket_path_of(3, s->socket_path, sizeof s->socket_path);
  return ttrpc_server_listen_fd(srv, 3, err);
}

const char *shim_os_served(const shim_os_serve *s) { return s->socket_path; }

void shim_os_unlisten(shim_os_serve *s) {
  if (s->socket_path[0]) unlink(s->socket_path);
  s->socket_path[0] = '\0';
  uv_signal_stop(&s->sigterm);
}

static void free_on_close(uv_handle_t *h) { free(h->data); }

void shim_os_serve_free(shim_os_serve *s) {
  if (!s) return;
  shim_os_unlisten(s);
  uv_close((uv_handle_t *)&s->sigterm, free_on_close);
}

/* ------------------------------------------------------------------ the rest */

void shim_os_binary_stdout(void) {}

int shim_os_self_exe(char *out, size_t len, cs_err *err) {
  ssize_t n = readlink("/proc/self/exe", out, len - 1);
  if (n <= 0) return cs_err_sys(err, errno, "cannot find own executable");
  out[n] = '\0';
  return 0;
}
