#include "shim_cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "google/protobuf/any.pb-c.h"
#include "task_opts.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

static int write_pid(const char *dir, int pid, cs_err *err) {
  char p[PATH_MAX + 16], buf[16];
  snprintf(p, sizeof p, "%s/cgroup.procs", dir);
  int fd = open(p, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return cs_err_sys(err, errno, "shim cgroup: open %s", p);
  int n = snprintf(buf, sizeof buf, "%d", pid);
  ssize_t w = write(fd, buf, (size_t)n);
  int e = errno;
  close(fd);
  if (w != n) return cs_err_sys(err, w < 0 ? e : EIO, "shim cgroup: write %s", p);
  return 0;
}

static int join_dir(char *out, size_t len, const char *mnt, const char *path) {
  int n = snprintf(out, len, "%s%s%s", mnt, path[0] == '/' ? "" : "/", path);
  return n < 0 || (size_t)n >= len ? -1 : 0;
}

int shim_cgroup_join_at(const char *mountinfo, const char *unified_root, const char *path, int pid, cs_err *err) {
  if (!path || !*path) return 0;
  if (strstr(path, "/../") || !strncmp(path, "../", 3) || (strlen(path) >= 3 && !strcmp(path + strlen(path) - 3, "/..")) ||
      !strcmp(path, ".."))
    return cs_err_set(err, CS_INVALID_ARGUMENT, "shim cgroup %s: must not contain ..", path);
  char dir[PATH_MAX];
  if (unified_root) {
    if (join_dir(dir, sizeof dir, unified_root, path) < 0) return cs_err_set(err, CS_INVALID_ARGUMENT, "shim cgroup path too long");
    return write_pid(dir, pid, err);
  }
  int joined = 0;
  for (const char *l = mountinfo; l && *l;) {
    const char *nl = strchr(l, '\n');
    size_t ll = nl ? (size_t)(nl - l) : strlen(l);
    char line[4096];
    if (ll < sizeof line) {
      memcpy(line, l, ll);
      line[ll] = '\0';
      /* "id parent maj:min root mountpoint opts [optional...] - fstype source superopts" */
      char *sep = strstr(line, " - ");
      char mnt[PATH_MAX], fstype[32];
      if (sep && sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1 && sscanf(sep + 3, "%31s", fstype) == 1 &&
          !strcmp(fstype, "cgroup")) {
        struct stat st;
        if (join_dir(dir, sizeof dir, mnt, path) == 0 && stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) {
          if (write_pid(dir, pid, err) < 0) return -1;
          joined++;
        }
      }
    }
    l = nl ? nl + 1 : l + ll;
  }
  if (joined == 0) return cs_err_set(err, CS_NOT_FOUND, "shim cgroup %s: no cgroup hierarchy has it", path);
  return 0;
}

int shim_cgroup_join(const char *path, int pid, cs_err *err) {
  struct statfs sf;
  if (statfs(CGROUP_ROOT, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
    return shim_cgroup_join_at(NULL, CGROUP_ROOT, path, pid, err);
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (!f) return cs_err_sys(err, errno, "shim cgroup: read mountinfo");
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  for (size_t r; buf && (r = fread(buf + n, 1, cap - 1 - n, f)) > 0;) {
    n += r;
    if (n == cap - 1) {
      char *nb = realloc(buf, cap * 2);
      if (!nb) free(buf);
      buf = nb;
      cap *= 2;
    }
  }
  fclose(f);
  if (!buf) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "shim cgroup: out of memory");
  buf[n] = '\0';
  int rc = shim_cgroup_join_at(buf, NULL, path, pid, err);
  free(buf);
  return rc;
}

/* Options that do not decode name no cgroup to join: start goes on, and Create, which carries the same
 * options, answers InvalidArgument saying what is wrong with them (start's error reaches the user only as
 * "failed to start shim"). A ShimCgroup that cannot be joined fails start, as in runc-v2. */
int shim_cgroup_apply_options(const uint8_t *any, size_t len, int pid, cs_err *err) {
  if (len == 0) return 0;
  Google__Protobuf__Any *a = google__protobuf__any__unpack(NULL, len, any);
  if (!a) return 0;
  task_opts t;
  cs_err derr;
  int rc = 0;
  if (task_opts_decode(&t, a->type_url, a->value.data, a->value.len, &derr) == 0)
    rc = shim_cgroup_join(t.o.shim_cgroup, pid, err);
  task_opts_release(&t);
  google__protobuf__any__free_unpacked(a, NULL);
  return rc;
}
