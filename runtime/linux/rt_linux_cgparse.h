/* Parsers for cgroup files and for finding a process's cgroup directories. Pure functions over the text
 * the kernel gives, so they are tested from fixture strings. */
#ifndef RT_LINUX_CGPARSE_H
#define RT_LINUX_CGPARSE_H

#include <stddef.h>
#include <stdint.h>

#include "rt.h"

typedef struct rt_linux_kv {
  const char *key;
  uint64_t *val;
} rt_linux_kv;

/* "key value" lines (memory.stat, cpu.stat, cpuacct.stat, memory.events, oom_control): each key found in
 * tbl gets its value; others are ignored. Returns how many keys were set. */
size_t rt_linux_cg_parse_kv(const char *buf, const rt_linux_kv *tbl, size_t n);

/* One number; the word "max" gives max_value. -1 if neither. */
int rt_linux_cg_parse_u64(const char *buf, uint64_t max_value, uint64_t *out);

/* A cgroup's CPU usage in ns from the file that has it: v1 cpuacct.usage (ns), v2 cpu.stat's usage_usec.
 * -1 if not there. */
int rt_linux_cg_parse_cpu_usage(int version, const char *buf, uint64_t *ns);

/* Whitespace-separated numbers (cpuacct.usage_percpu); returns the count, at most max. */
uint32_t rt_linux_cg_parse_list(const char *buf, uint64_t *out, uint32_t max);

/* v1 blkio "MAJ:MIN Op value" lines into per-device entries of `into` (bytes or ops); a device not yet in
 * the table is added to both tables (zeroed) so they stay in the same order. Returns lines used. */
size_t rt_linux_cg_parse_blkio(const char *buf, rt_blkio_entry *into, rt_blkio_entry *other, uint32_t *n,
                               uint32_t max);

/* v2 io.stat "MAJ:MIN rbytes=.. wbytes=.. rios=.. wios=.. ..." into bytes and ops. Returns devices. */
uint32_t rt_linux_cg_parse_iostat(const char *buf, rt_blkio_entry *bytes, rt_blkio_entry *ops, uint32_t max);

/* The directory of controller `ctrl` ("memory", "cpuacct", ...) for a process, from its /proc/<pid>/cgroup
 * and /proc/self/mountinfo: the v1 hierarchy's mount point + the cgroup path relative to the mount root.
 * ctrl NULL: the v2 (unified) directory. -1 if not found. */
int rt_linux_cg_resolve(const char *mountinfo, const char *proc_cgroup, const char *ctrl, char *out,
                        size_t outlen);

#endif
