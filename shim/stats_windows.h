/* The Stats RPC payload of a Windows task: containerd.runhcs.stats.v1.Statistics (hcsshim's message), so
 * containerd and crictl decode it as they do runhcs's. */
#ifndef STATS_WINDOWS_H
#define STATS_WINDOWS_H

#include <stddef.h>
#include <stdint.h>

#include "cs_err.h"
#include "rt.h"

#define TASK_STATS_WINDOWS_TYPE_URL "containerd.runhcs.stats.v1.Statistics"

/* s->kind must be RT_SAMPLE_WINDOWS. *out is malloc'd (free it); *len may be 0 for an all-zero sample. */
int task_stats_encode_windows(const rt_sample *s, uint8_t **out, size_t *len, cs_err *err);

#endif
