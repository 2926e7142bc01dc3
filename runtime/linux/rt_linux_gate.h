/* A parent cgroup's CPU usage, read once for all of its children within a tick. The kernel charges a task's
 * CPU time to its cgroup and to every ancestor, so a parent whose usage has not moved since a child's last
 * read vouches that the child's has not either: a stream tick over a pod whose tasks sleep costs one read,
 * not one per task. (v2 reports microseconds: a child can tick over one while the parent's sum does not, an
 * error below the unit either reports.) */
#ifndef RT_LINUX_GATE_H
#define RT_LINUX_GATE_H

#include <stdint.h>

typedef struct rt_linux_gate rt_linux_gate;

/* A reading is reused for this long: one tick over a pod's tasks reads the parent once. */
#define RT_LINUX_GATE_REUSE_NS 1000000

/* The gate of cgroup directory dir (v1: its cpuacct directory; v2: the unified one), shared through *list:
 * a new one, or another reference to the one already there. NULL if dir has no CPU usage to read (nothing
 * is gated then). */
rt_linux_gate *rt_linux_gate_get(rt_linux_gate **list, int version, const char *dir);
void rt_linux_gate_put(rt_linux_gate *g);

/* The parent's CPU usage in ns, read now or at most RT_LINUX_GATE_REUSE_NS ago; at_ns is CLOCK_REALTIME of
 * that read. -1 if it cannot be read. */
int rt_linux_gate_read(rt_linux_gate *g, uint64_t *usage_ns, int64_t *at_ns);

#endif
