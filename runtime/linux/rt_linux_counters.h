/* A container's counters: its cgroup files and its netns /proc/<pid>/net/dev, resolved and opened once
 * (from the init's /proc/<pid>/cgroup) and pread per sample. No path resolution or /proc walk per sample. */
#ifndef RT_LINUX_COUNTERS_H
#define RT_LINUX_COUNTERS_H

#include <stdbool.h>

#include "cs_err.h"
#include "rt.h"
#include "rt_linux_gate.h"

typedef struct rt_linux_counters rt_linux_counters;

/* What the counters of one backend's containers share: the parent cgroups' CPU usage (see rt_linux_gate.h)
 * and one read buffer (samples are read synchronously, on one thread). Outlives the counters. */
typedef struct rt_linux_counters_shared {
  rt_linux_gate *gates;
  char *buf; /* RT_LINUX_COUNTERS_BUF bytes, allocated at the first full sample */
} rt_linux_counters_shared;

/* Large enough for memory.stat (~50 lines) and blkio with RT_MAX_BLKIO devices x 6 ops. */
#define RT_LINUX_COUNTERS_BUF 32768

/* Frees the read buffer; the gates go with the last counters that use them. */
void rt_linux_counters_shared_release(rt_linux_counters_shared *sh);

/* Resolve pid's cgroups (v2 if /sys/fs/cgroup is cgroup2, else the v1 controllers) and open the files. */
rt_linux_counters *rt_linux_counters_open(int pid, rt_linux_counters_shared *sh, cs_err *err);

/* Cgroup v2 counters of a known directory (fixture files in tests); net_pid 0: no network counters. */
rt_linux_counters *rt_linux_counters_open_v2(const char *dir, int net_pid, rt_linux_counters_shared *sh,
                                             cs_err *err);

/* Fill out (memset first). Fails with NotFound once the cgroup has been removed. lean: without per-CPU
 * usage and the swap and kernel-memory peaks and fail counts (v1; see rt_ops.stats_lean). */
int rt_linux_counters_sample(rt_linux_counters *k, rt_sample *out, bool lean, cs_err *err);
/* CPU usage and memory usage only: two preads, or one when the CPU usage has not moved since the last
 * read (memory usage is then the last one read), or none when the parent cgroup's usage has not moved
 * since then (its one read serves all its children for RT_LINUX_GATE_REUSE_NS). */
int rt_linux_counters_quick(rt_linux_counters *k, rt_quick *out, cs_err *err);

/* The limits (memory, swap, kernel memory, pids) are read at most every 10 s, as they change only on Update
 * (or by hand): call this after one so the next sample has the new ones. */
void rt_linux_counters_limits_changed(rt_linux_counters *k);
/* 1 or 2 */
int rt_linux_counters_version(const rt_linux_counters *k);
/* v1: the memory controller's directory; v2: the cgroup's directory. "" if unknown. */
const char *rt_linux_counters_memory_dir(const rt_linux_counters *k);

void rt_linux_counters_close(rt_linux_counters *k);

#endif
