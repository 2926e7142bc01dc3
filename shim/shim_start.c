#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cs_sha256.h"
#include "shim_cgroup.h"
#include "shim_start.h"

/* Annotations that put a container into an existing shim (a pod's sandbox shim), as runc-v2 groups them. */
static const char *const group_labels[] = {"io.containerd.runc.v2.group", "io.kubernetes.cri.sandbox-id"};

int shim_socket_address(const char *address, const char *ns, const char *group, char *out, size_t len, cs_err *err) {
  char joined[4096];
  /* Go's filepath.Join: elements joined with '/', the address path cleaned of a trailing slash */
  size_t alen = strlen(address);
  while (alen > 1 && address[alen - 1] == '/') alen--;
  int n = snprintf(joined, sizeof joined, "%.*s/%s/%s", (int)alen, address, ns, group);
  if (n < 0 || (size_t)n >= sizeof joined) return cs_err_set(err, CS_INVALID_ARGUMENT, "address too long");
  char hex[65];
  cs_sha256_hex(joined, (size_t)n, hex);
  n = snprintf(out, len, "unix://%s/%s", SHIM_SOCKET_DIR, hex);
  if (n < 0 || (size_t)n >= len) return cs_err_set(err, CS_INVALID_ARGUMENT, "socket address too long");
  return 0;
}

static const char *read_group(const char *id, json_t **spec) {
  json_error_t jerr;
  *spec = json_load_file("config.json", 0, &jerr);
  json_t *ann = *spec ? json_object_get(*spec, "annotations") : NULL;
  for (size_t i = 0; ann && i < sizeof group_labels / sizeof group_labels[0]; i++) {
    const char *g = json_string_value(json_object_get(ann, group_labels[i]));
    if (g && *g) return g;
  }
  return id;
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

/* runc-v2's WriteAddress: write .address then rename, so a reader never sees half an address. */
static int write_address(const char *address, cs_err *err) {
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

/* Runtime options arrive on stdin as a marshalled Any (Create carries them again); read to EOF so that
 * containerd's writer finishes. Kept (malloc'd, up to 1 MiB) when out is non-NULL. */
static size_t drain_stdin(uint8_t **out) {
  char buf[4096];
  size_t n = 0;
  if (out) *out = NULL;
  int fl = fcntl(0, F_GETFL);
  if (fl < 0) return 0;
  for (ssize_t r; (r = read(0, buf, sizeof buf)) > 0;) {
    uint8_t *nb = out && n + (size_t)r <= (1 << 20) ? realloc(*out, n + (size_t)r) : NULL;
    if (nb) memcpy(nb + n, buf, (size_t)r), *out = nb, n += (size_t)r;
  }
  return out ? n : 0;
}

int shim_start(const shim_args *a, const char *self_exe, cs_err *err) {
  if (!a->id || !*a->id) return cs_err_set(err, CS_INVALID_ARGUMENT, "start: -id is required");
  if (!a->address || !*a->address) return cs_err_set(err, CS_INVALID_ARGUMENT, "start: -address is required");
  json_t *spec = NULL;
  const char *group = read_group(a->id, &spec);
  char address[512];
  int rc = shim_socket_address(a->address, a->ns, group, address, sizeof address, err);
  json_decref(spec);
  if (rc < 0) return -1;
  const char *path = address + strlen("unix://");

  if (mkdir("/run/containerd", 0711) < 0 && errno != EEXIST) return cs_err_sys(err, errno, "mkdir /run/containerd");
  if (mkdir(SHIM_SOCKET_DIR, 0700) < 0 && errno != EEXIST) return cs_err_sys(err, errno, "mkdir %s", SHIM_SOCKET_DIR);
  int lfd = listen_unix(path, err);
  if (lfd < 0 && errno == EADDRINUSE) {
    if (can_connect(path)) {
      /* A shim already serves this socket (the pod's shim): this task joins it. */
      if (write_address(address, err) < 0) return -1;
      drain_stdin(NULL);
      printf("%s", address);
      fflush(stdout);
      return 0;
    }
    unlink(path);
    lfd = listen_unix(path, err);
  }
  if (lfd < 0) {
    if (err && err->code == CS_OK) cs_err_sys(err, errno, "create shim socket %s", path);
    return -1;
  }
  if (write_address(address, err) < 0) {
    close(lfd);
    unlink(path);
    return -1;
  }

  pid_t pid = fork();
  if (pid < 0) {
    close(lfd);
    unlink(path);
    return cs_err_sys(err, errno, "fork");
  }
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
  uint8_t *opts = NULL;
  size_t opts_len = drain_stdin(&opts);
  rc = shim_cgroup_apply_options(opts, opts_len, pid, err); /* ShimCgroup, as runc-v2's start */
  free(opts);
  if (rc < 0) {
    kill(pid, SIGKILL);
    unlink(path);
    return -1;
  }
  adjust_oom_score(pid);
  printf("%s", address);
  fflush(stdout);
  return 0;
}
