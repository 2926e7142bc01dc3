/* Counter samples and what `stats` computes from them, docker-style. Pure functions, unit-tested.
 *
 * A cli_sample is the one shape every source produces: the Stats RPC's Any decoded from
 * io.containerd.cgroups.v1.Metrics, io.containerd.cgroups.v2.Metrics or (Windows shims)
 * containerd.runhcs.stats.v1.Statistics, or a Sample of cshim's push stream
 * cshim.stats.v1.Stats/Watch. */
#ifndef CLI_STATS_CALC_H
#define CLI_STATS_CALC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cs_err.h"

#define CLI_METRICS_V1_URL "io.containerd.cgroups.v1.Metrics"
#define CLI_METRICS_V2_URL "io.containerd.cgroups.v2.Metrics"
#define CLI_METRICS_RUNHCS_URL "containerd.runhcs.stats.v1.Statistics"

typedef struct cli_sample {
  int64_t mono_ns;        /* when it was taken (CLOCK_MONOTONIC): rates divide by its differences */
  int64_t wall_ns;        /* CLOCK_REALTIME, for output */
  uint64_t cpu_ns;        /* total CPU time of the cgroup */
  uint64_t mem_usage;     /* as the cgroup reports it (includes page cache) */
  uint64_t mem_inactive_file; /* reclaimable cache docker subtracts from usage */
  uint64_t mem_limit;     /* 0 or a huge value = unlimited */
  uint64_t blk_read, blk_write;
  uint64_t net_rx, net_tx;
  uint64_t pids;
  bool has_cpu, has_mem, has_blk, has_net, has_pids;
} cli_sample;

/* Decode a Stats Any by its type URL (a "types.example/" prefix before the name is ignored). Network
 * counters leave out lo. */
int cli_stats_decode(const char *type_url, const uint8_t *data, size_t len, cli_sample *s, cs_err *err);

/* What a cshim.stats.v1.Sample says besides the counters. */
typedef struct cli_watch_info {
  char id[80];
  uint64_t seq, dropped;
  bool gone;  /* the task was deleted: no more samples */
} cli_watch_info;

/* Decode one frame of the cshim.stats.v1.Stats/Watch stream; times are the shim's read time. */
int cli_stats_decode_watch(const uint8_t *data, size_t len, cli_sample *s, cli_watch_info *info, cs_err *err);

/* CPU use between two samples as a percentage of one CPU (200% = two CPUs busy), as docker shows it;
 * negative when it cannot be computed (first sample, counter went back, no time passed). */
double cli_stats_cpu_percent(const cli_sample *prev, const cli_sample *cur);
/* Memory in use: usage minus inactive file cache (docker's figure). */
uint64_t cli_stats_mem_used(const cli_sample *s);
/* The limit to show: the cgroup's, or host_mem when the cgroup has none (or one above the host's). */
uint64_t cli_stats_mem_limit(const cli_sample *s, uint64_t host_mem);

#define CLI_STATS_HEADER "ID                   CPU %     MEM USAGE / LIMIT       MEM %     NET I/O               BLOCK I/O             PIDS"
/* One table row (no newline); prev may be NULL (CPU shows "--"). */
void cli_stats_row(const char *id, const cli_sample *prev, const cli_sample *cur, uint64_t host_mem, char *out,
                   size_t len);
/* One JSON object per sample (for --json): id, time, cpu_percent (null without prev), counters. */
json_t *cli_stats_json(const char *id, const cli_sample *prev, const cli_sample *cur, uint64_t host_mem);

#endif
