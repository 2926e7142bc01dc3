/* cshim.stats.v1.Stats/Watch: counters pushed over a TTRPC server stream (proto/cshim/stats.proto).
 * One timer per stream; each tick reads every watched task's CPU and memory usage through the backend
 * (kept-open cgroup files), encodes them with nanopb into a preallocated buffer and appends the task's
 * other counters as encoded at its last full read (every 2 s): nothing is allocated per sample. A client
 * that reads too slowly gets ticks dropped (counted in Sample.dropped), never a growing queue in the shim. */
#ifndef STATS_STREAM_H
#define STATS_STREAM_H

#include <stdint.h>

#include "task_service.h"

#define STATS_SERVICE_NAME "cshim.stats.v1.Stats"

int stats_stream_register(task_service *svc, ttrpc_server *srv, cs_err *err);
/* Streams still open (for tests). */
size_t stats_stream_count(const task_service *svc);
/* Ticks dropped so far on open streams because their clients read too slowly. */
uint64_t stats_stream_dropped(const task_service *svc);

#endif
