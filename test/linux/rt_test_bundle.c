#include "rt_test_bundle.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *config_template =
    "{\"ociVersion\":\"1.0.2-dev\","
    "\"process\":{\"terminal\":false,\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"sh\"],"
    "\"env\":[\"PATH=/bin\",\"TERM=xterm\"],\"cwd\":\"/\","
    "\"capabilities\":{\"bounding\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
    "\"effective\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
    "\"permitted\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
    "\"ambient\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"]},"
    "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}],\"noNewPrivileges\":true},"
    "\"root\":{\"path\":\"rootfs\",\"readonly\":true},\"hostname\":\"cshim\","
    "\"mounts\":["
    "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
    "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
    "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\",\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\",\"gid=5\"]},"
    "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\",\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},"
    "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\",\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]}],"
    "\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},"
    "\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},{\"type\":\"mount\"}],"
    "\"maskedPaths\":[\"/proc/kcore\",\"/proc/keys\",\"/proc/timer_list\",\"/sys/firmware\"],"
    "\"readonlyPaths\":[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\",\"/proc/sysrq-trigger\"]}}";

static const char *const applets[] = {"sh", "sleep", "echo", "cat", "dd", "true", "false", "tty", "ls", "head", NULL};

int tb_env_init(tb_env *e) {
  snprintf(e->dir, sizeof e->dir, "/tmp/cshim-rtl-XXXXXX");
  if (!mkdtemp(e->dir)) return -1;
  memcpy(e->state, e->dir, strlen(e->dir));
  strcpy(e->state + strlen(e->dir), "/state"); /* dir is a short literal template */
  return mkdir(e->state, 0700);
}

static int copy_file(const char *from, const char *to, mode_t mode) {
  int in = open(from, O_RDONLY | O_CLOEXEC);
  if (in < 0) return -1;
  int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (out < 0) {
    close(in);
    return -1;
  }
  char buf[65536];
  ssize_t n;
  int rc = 0;
  while ((n = read(in, buf, sizeof buf)) > 0)
    if (write(out, buf, (size_t)n) != n) rc = -1;
  close(in);
  close(out);
  return n < 0 ? -1 : rc;
}

int tb_bundle(const tb_env *e, const char *name, const tb_spec *s, char *out, size_t outlen) {
  char p[PATH_MAX];
  snprintf(out, outlen, "%s/%s", e->dir, name);
  if (mkdir(out, 0700) != 0) return -1;
  snprintf(p, sizeof p, "%s/rootfs", out);
  mkdir(p, 0755);
  snprintf(p, sizeof p, "%s/rootfs/bin", out);
  mkdir(p, 0755);
  snprintf(p, sizeof p, "%s/rootfs/bin/busybox", out);
  if (copy_file("/bin/busybox", p, 0755) != 0) return -1;
  for (int i = 0; applets[i]; i++) {
    snprintf(p, sizeof p, "%s/rootfs/bin/%s", out, applets[i]);
    if (symlink("busybox", p) != 0) return -1;
  }
  json_t *c = json_loads(config_template, 0, NULL);
  if (!c) return -1;
  json_t *proc = json_object_get(c, "process");
  json_t *args = json_array();
  for (size_t i = 0; s->args[i]; i++) json_array_append_new(args, json_string(s->args[i]));
  json_object_set_new(proc, "args", args);
  json_object_set_new(proc, "terminal", json_boolean(s->terminal));
  if (s->memory_limit > 0) {
    json_t *res = json_object_get(json_object_get(c, "linux"), "resources");
    json_t *mem = json_object();
    json_object_set_new(mem, "limit", json_integer(s->memory_limit));
    json_object_set_new(res, "memory", mem);
  }
  snprintf(p, sizeof p, "%s/config.json", out);
  int rc = json_dump_file(c, p, JSON_INDENT(1));
  json_decref(c);
  return rc;
}

int tb_run(char *const *argv) {
  pid_t pid;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  remove(path);
  return 0;
}

void tb_env_cleanup(tb_env *e, const char *binary) {
  if (!e->dir[0]) return;
  DIR *d = opendir(e->state);
  if (d) {
    struct dirent *de;
    while ((de = readdir(d))) {
      if (de->d_name[0] == '.') continue;
      char *argv[] = {(char *)binary, "--root", e->state, "delete", "--force", de->d_name, NULL};
      tb_run(argv);
    }
    closedir(d);
  }
  nftw(e->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
  e->dir[0] = '\0';
}

bool tb_read_until(int fd, const char *want, int ms, char *buf, size_t buflen) {
  size_t len = 0;
  buf[0] = '\0';
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    if (strstr(buf, want)) return true;
    clock_gettime(CLOCK_MONOTONIC, &t);
    int left = ms - (int)((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
    if (left <= 0 || len + 1 >= buflen) return false;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, left) <= 0) continue;
    ssize_t n = read(fd, buf + len, buflen - len - 1);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return strstr(buf, want) != NULL;
    len += (size_t)n;
    buf[len] = '\0';
  }
}
