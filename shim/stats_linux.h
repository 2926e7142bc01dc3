/* Stats payload on Linux: an rt_sample serialized as containerd's cgroups metrics, ready to go into the
 * StatsResponse Any. Cgroup v1 samples become io.containerd.cgroups.v1.Metrics (with the per-interface
 * network field); v2 samples become io.containerd.cgroups.v2.Metrics (which has no network field). */
#ifndef STATS_LINUX_H
#define STATS_LINUX_H

#include <stddef.h>
#include <stdint.h>

#include "cs_err.h"
#include "rt.h"

#define STATS_LINUX_V1_TYPE_URL "io.containerd.cgroups.v1.Metrics"
#define STATS_LINUX_V2_TYPE_URL "io.containerd.cgroups.v2.Metrics"

/* *out is malloc'd (free it); *type_url is a static string. InvalidArgument for a non-cgroup sample. */
int task_stats_encode_linux(const rt_sample *s, uint8_t **out, size_t *len, const char **type_url, cs_err *err);

#endif
