/* The pod's cgroup counters for SandboxMetrics: the cgroup CRI named as the pod's parent (cgroupfs path or
 * systemd slice), else the pod process's own; cgroup v2 or v1, encoded as containerd's cgroups Metrics. A
 * SandboxMetrics call is rare (CRI's pod stats), so the files are opened per call, unlike a task's
 * counters (runtime/linux/rt_linux_counters.c). */
#include "sandbox_cgroup_linux.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroups/v1/metrics.pb-c.h"
#include "cgroups/v2/metrics.pb-c.h"


static int read_u64(const char *dir, const char *file, uint64_t *v) {
  char path[512], buf[64];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  if (strncmp(buf, "max", 3) == 0) return *v = UINT64_MAX, 0;
  *v = strtoull(buf, NULL, 10);
  return 0;
}

static uint64_t read_key(const char *dir, const char *file, const char *key) {
  char path[512], line[256];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  FILE *f = fopen(path, "re");
  uint64_t v = 0;
  if (!f) return 0;
  size_t kl = strlen(key);
  while (fgets(line, sizeof line, f))
    if (strncmp(line, key, kl) == 0 && line[kl] == ' ') {
      v = strtoull(line + kl + 1, NULL, 10);
      break;
    }
  fclose(f);
  return v;
}

/* CRI's cgroup parent in the cgroupfs driver's words (a path) or systemd's ("a-b-c.slice" is
 * /a.slice/a-b.slice/a-b-c.slice). */
static void pod_cgroup_rel(const char *p, const char *own, char *out, size_t n) {
  size_t len = strlen(p), o = 0;
  if (!len) {
    snprintf(out, n, "%s", own);
    return;
  }
  if (len <= 6 || strcmp(p + len - 6, ".slice") != 0 || strchr(p, '/')) {
    snprintf(out, n, "%s", p);
    return;
  }
  out[0] = '\0';
  for (const char *d = strchr(p, '-'); d && o < n; d = strchr(d + 1, '-'))
    o += (size_t)snprintf(out + o, n - o, "/%.*s.slice", (int)(d - p), p);
  if (o < n) snprintf(out + o, n - o, "/%s", p);
}

/* The pod process's own cgroup (for a pod without a cgroup parent) for one controller ("" for v2). */
static int proc_cgroup(int pid, const char *ctrl, char *out, size_t n) {
  char path[64], line[512];
  snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
  FILE *f = fopen(path, "re");
  if (!f) return -1;
  int rc = -1;
  while (rc < 0 && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = '\0';
    char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2) continue;
    *c2 = '\0';
    const char *ctrls = c1 + 1;
    bool match = !*ctrl ? !*ctrls : false;
    for (const char *t = ctrls; *ctrl && t && *t; t = strchr(t, ',') ? strchr(t, ',') + 1 : NULL)
      if (strncmp(t, ctrl, strlen(ctrl)) == 0 && (t[strlen(ctrl)] == ',' || !t[strlen(ctrl)])) match = true;
    if (match) rc = snprintf(out, n, "%s", c2 + 1) > 0 ? 0 : -1;
  }
  fclose(f);
  return rc;
}

static void ctrl_dir(int pid, const char *parent, const char *mount, const char *ctrl, char *out, size_t n) {
  char own[256] = "/", rel[300];
  if (pid > 0) proc_cgroup(pid, ctrl, own, sizeof own);
  pod_cgroup_rel(parent, own, rel, sizeof rel);
  snprintf(out, n, "/sys/fs/cgroup%s%s%s", mount, rel[0] == '/' ? "" : "/", rel);
}

int sandbox_cgroup_metrics(int pid, const char *cgroup_parent, uint8_t **out, size_t *len, const char **type_url,
                           cs_err *err) {
  char dir[600];
  struct stat st;
  if (stat("/sys/fs/cgroup/cgroup.controllers", &st) == 0) {
    ctrl_dir(pid, cgroup_parent, "", "", dir, sizeof dir);
    if (stat(dir, &st) < 0) return cs_err_sys(err, errno, "pod cgroup %s", dir), -1;
    Io__Containerd__Cgroups__V2__Metrics m = IO__CONTAINERD__CGROUPS__V2__METRICS__INIT;
    Io__Containerd__Cgroups__V2__CPUStat cpu = IO__CONTAINERD__CGROUPS__V2__CPUSTAT__INIT;
    Io__Containerd__Cgroups__V2__MemoryStat mem = IO__CONTAINERD__CGROUPS__V2__MEMORY_STAT__INIT;
    Io__Containerd__Cgroups__V2__PidsStat pids = IO__CONTAINERD__CGROUPS__V2__PIDS_STAT__INIT;
    cpu.usage_usec = read_key(dir, "cpu.stat", "usage_usec");
    cpu.user_usec = read_key(dir, "cpu.stat", "user_usec");
    cpu.system_usec = read_key(dir, "cpu.stat", "system_usec");
    cpu.nr_periods = read_key(dir, "cpu.stat", "nr_periods");
    cpu.nr_throttled = read_key(dir, "cpu.stat", "nr_throttled");
    cpu.throttled_usec = read_key(dir, "cpu.stat", "throttled_usec");
    read_u64(dir, "memory.current", &mem.usage);
    read_u64(dir, "memory.max", &mem.usage_limit);
    read_u64(dir, "pids.current", &pids.current);
    read_u64(dir, "pids.max", &pids.limit);
    m.cpu = &cpu;
    m.memory = &mem;
    m.pids = &pids;
    *len = io__containerd__cgroups__v2__metrics__get_packed_size(&m);
    *out = malloc(*len ? *len : 1);
    if (!*out) return cs_err_sys(err, ENOMEM, "metrics"), -1;
    io__containerd__cgroups__v2__metrics__pack(&m, *out);
    *type_url = "io.containerd.cgroups.v2.Metrics";
    return 0;
  }
  Io__Containerd__Cgroups__V1__Metrics m = IO__CONTAINERD__CGROUPS__V1__METRICS__INIT;
  Io__Containerd__Cgroups__V1__CPUStat cpu = IO__CONTAINERD__CGROUPS__V1__CPUSTAT__INIT;
  Io__Containerd__Cgroups__V1__CPUUsage usage = IO__CONTAINERD__CGROUPS__V1__CPUUSAGE__INIT;
  Io__Containerd__Cgroups__V1__MemoryStat mem = IO__CONTAINERD__CGROUPS__V1__MEMORY_STAT__INIT;
  Io__Containerd__Cgroups__V1__MemoryEntry mu = IO__CONTAINERD__CGROUPS__V1__MEMORY_ENTRY__INIT;
  Io__Containerd__Cgroups__V1__PidsStat pids = IO__CONTAINERD__CGROUPS__V1__PIDS_STAT__INIT;
  ctrl_dir(pid, cgroup_parent, "/cpuacct", "cpuacct", dir, sizeof dir);
  if (stat(dir, &st) < 0) return cs_err_sys(err, errno, "pod cgroup %s", dir), -1;
  read_u64(dir, "cpuacct.usage", &usage.total);
  read_u64(dir, "cpuacct.usage_user", &usage.user);
  read_u64(dir, "cpuacct.usage_sys", &usage.kernel);
  ctrl_dir(pid, cgroup_parent, "/memory", "memory", dir, sizeof dir);
  read_u64(dir, "memory.usage_in_bytes", &mu.usage);
  read_u64(dir, "memory.limit_in_bytes", &mu.limit);
  read_u64(dir, "memory.max_usage_in_bytes", &mu.max);
  read_u64(dir, "memory.failcnt", &mu.failcnt);
  ctrl_dir(pid, cgroup_parent, "/pids", "pids", dir, sizeof dir);
  read_u64(dir, "pids.current", &pids.current);
  read_u64(dir, "pids.max", &pids.limit);
  cpu.usage = &usage;
  mem.usage = &mu;
  m.cpu = &cpu;
  m.memory = &mem;
  m.pids = &pids;
  *len = io__containerd__cgroups__v1__metrics__get_packed_size(&m);
  *out = malloc(*len ? *len : 1);
  if (!*out) return cs_err_sys(err, ENOMEM, "metrics"), -1;
  io__containerd__cgroups__v1__metrics__pack(&m, *out);
  *type_url = "io.containerd.cgroups.v1.Metrics";
  return 0;
}

