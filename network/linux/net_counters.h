/* Per-interface network counters of a container, read in its network namespace.
 *
 * /proc/<pid>/net/dev shows the netns of <pid>, and the open file keeps referring to that netns: open it
 * once (while the container's init is alive) and pread it per sample — no setns, no /proc walk per sample.
 * Every interface is reported, loopback included (runc's NetworkStat is per interface and so is this; the
 * caller may drop "lo"). */
#ifndef NET_COUNTERS_H
#define NET_COUNTERS_H

#include <stdint.h>

#include "cs_err.h"
#include "rt.h"

/* fd of /proc/<pid>/net/dev (O_CLOEXEC), or -1 with err. */
int net_counters_open(int pid, cs_err *err);

/* Read and parse; *n gets the number of interfaces (at most max). */
int net_counters_read(int fd, rt_net_iface *out, uint32_t max, uint32_t *n, cs_err *err);

/* Parse the text of /proc/net/dev; returns the number of interfaces filled. */
uint32_t net_counters_parse(const char *buf, rt_net_iface *out, uint32_t max);

#endif
