#include "rt_linux_gate.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rt_linux_cgparse.h"
#include "rt_linux_clock.h"

struct rt_linux_gate {
  rt_linux_gate *next, **pprev;
  int refs;
  int version;
  int fd;
  uint64_t usage_ns;
  int64_t mono_ns, real_ns; /* of the last read; mono_ns 0: none yet */
  char dir[];
};

rt_linux_gate *rt_linux_gate_get(rt_linux_gate **list, int version, const char *dir) {
  for (rt_linux_gate *g = *list; g; g = g->next)
    if (g->version == version && !strcmp(g->dir, dir)) {
      g->refs++;
      return g;
    }
  char path[PATH_MAX];
  if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, version == 2 ? "cpu.stat" : "cpuacct.usage") >= sizeof path)
    return NULL;
  size_t len = strlen(dir);
  rt_linux_gate *g = calloc(1, sizeof *g + len + 1);
  if (!g) return NULL;
  if ((g->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
    free(g);
    return NULL;
  }
  memcpy(g->dir, dir, len + 1);
  g->refs = 1;
  g->version = version;
  g->next = *list;
  if (*list) (*list)->pprev = &g->next;
  g->pprev = list;
  *list = g;
  return g;
}

void rt_linux_gate_put(rt_linux_gate *g) {
  if (!g || --g->refs > 0) return;
  *g->pprev = g->next;
  if (g->next) g->next->pprev = g->pprev;
  close(g->fd);
  free(g);
}

int rt_linux_gate_read(rt_linux_gate *g, uint64_t *usage_ns, int64_t *at_ns) {
  int64_t now = rt_linux_clock_ns(CLOCK_MONOTONIC);
  if (g->mono_ns == 0 || now - g->mono_ns > RT_LINUX_GATE_REUSE_NS) {
    char buf[512];
    ssize_t n = pread(g->fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return -1;
    buf[n] = '\0';
    if (rt_linux_cg_parse_cpu_usage(g->version, buf, &g->usage_ns) != 0) return -1;
    g->mono_ns = now;
    g->real_ns = rt_linux_clock_ns(CLOCK_REALTIME);
  }
  *usage_ns = g->usage_ns;
  *at_ns = g->real_ns;
  return 0;
}
