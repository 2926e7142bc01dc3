#include "cli_stats_calc.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cgroups/v1/metrics.pb-c.h"
#include "cgroups/v2/metrics.pb-c.h"
#include "cli_parse.h"
#include "cshim/stats.pb-c.h"
#include "runhcs/stats.pb-c.h"

/* Type URLs may carry a host prefix ("type.googleapis.com/x.y.Z"); the name is what follows the last '/'. */
static const char *type_name(const char *url) {
  const char *slash = url ? strrchr(url, '/') : NULL;
  return slash ? slash + 1 : (url ? url : "");
}

static void decode_v1(const Io__Containerd__Cgroups__V1__Metrics *m, cli_sample *s) {
  if (m->cpu && m->cpu->usage) {
    s->has_cpu = true;
    s->cpu_ns = m->cpu->usage->total;
  }
  if (m->memory) {
    const Io__Containerd__Cgroups__V1__MemoryStat *mem = m->memory;
    s->has_mem = true;
    s->mem_usage = mem->usage ? mem->usage->usage : mem->total_rss + mem->total_cache;
    s->mem_limit = mem->usage && mem->usage->limit ? mem->usage->limit : mem->hierarchical_memory_limit;
    s->mem_inactive_file = mem->total_inactive_file;
  }
  if (m->blkio) {
    s->has_blk = true;
    for (size_t i = 0; i < m->blkio->n_io_service_bytes_recursive; i++) {
      const Io__Containerd__Cgroups__V1__BlkIOEntry *e = m->blkio->io_service_bytes_recursive[i];
      if (strcasecmp(e->op, "read") == 0) s->blk_read += e->value;
      else if (strcasecmp(e->op, "write") == 0) s->blk_write += e->value;
    }
  }
  if (m->pids) {
    s->has_pids = true;
    s->pids = m->pids->current;
  }
  for (size_t i = 0; i < m->n_network; i++) {
    s->has_net = true;
    /* Traffic the container has with itself is not network I/O (docker leaves lo out too). */
    if (strcmp(m->network[i]->name, "lo") == 0) continue;
    s->net_rx += m->network[i]->rx_bytes;
    s->net_tx += m->network[i]->tx_bytes;
  }
}

static void decode_v2(const Io__Containerd__Cgroups__V2__Metrics *m, cli_sample *s) {
  if (m->cpu) {
    s->has_cpu = true;
    s->cpu_ns = m->cpu->usage_usec * 1000;
  }
  if (m->memory) {
    s->has_mem = true;
    s->mem_usage = m->memory->usage;
    s->mem_limit = m->memory->usage_limit;
    s->mem_inactive_file = m->memory->inactive_file;
  }
  if (m->io) {
    s->has_blk = true;
    for (size_t i = 0; i < m->io->n_usage; i++) {
      s->blk_read += m->io->usage[i]->rbytes;
      s->blk_write += m->io->usage[i]->wbytes;
    }
  }
  if (m->pids) {
    s->has_pids = true;
    s->pids = m->pids->current;
  }
  /* cgroup v2 metrics have no network counters. */
}

/* A Windows shim's answer (hcsshim's and ours): HCS's counters of the container. Its memory figure is the
 * private working set (what docker on Windows shows); HCS reports no limit. */
static void decode_runhcs(const Containerd__Runhcs__Stats__V1__Statistics *m, cli_sample *s) {
  if (m->container_case == CONTAINERD__RUNHCS__STATS__V1__STATISTICS__CONTAINER_LINUX && m->linux) {
    decode_v1(m->linux, s);
    return;
  }
  if (m->container_case != CONTAINERD__RUNHCS__STATS__V1__STATISTICS__CONTAINER_WINDOWS || !m->windows) return;
  const Containerd__Runhcs__Stats__V1__WindowsContainerStatistics *w = m->windows;
  if (w->processor) {
    s->has_cpu = true;
    s->cpu_ns = w->processor->total_runtime_ns;
  }
  if (w->memory) {
    s->has_mem = true;
    s->mem_usage = w->memory->memory_usage_private_working_set_bytes;
  }
  if (w->storage) {
    s->has_blk = true;
    s->blk_read = w->storage->read_size_bytes;
    s->blk_write = w->storage->write_size_bytes;
  }
}

static void sample_clear(cli_sample *s) {
  s->cpu_ns = s->mem_usage = s->mem_inactive_file = s->mem_limit = 0;
  s->blk_read = s->blk_write = s->net_rx = s->net_tx = s->pids = 0;
  s->has_cpu = s->has_mem = s->has_blk = s->has_net = s->has_pids = false;
}

int cli_stats_decode_watch(const uint8_t *data, size_t len, cli_sample *s, cli_watch_info *info, cs_err *err) {
  Cshim__Stats__V1__Sample *m = cshim__stats__v1__sample__unpack(NULL, len, data);
  if (!m) return cs_err_set(err, CS_DATA_LOSS, "stats: cshim.stats.v1.Sample does not decode");
  sample_clear(s);
  snprintf(info->id, sizeof info->id, "%s", m->id);
  info->seq = m->seq;
  info->dropped = m->dropped;
  info->gone = m->task_gone;
  s->wall_ns = s->mono_ns = m->timestamp_ns;
  if (m->cpu) {
    s->has_cpu = true;
    s->cpu_ns = m->cpu->usage_ns;
  }
  if (m->memory) {
    s->has_mem = true;
    s->mem_usage = m->memory->usage;
    s->mem_limit = m->memory->limit;
    /* The stream has no inactive_file: usage is shown as is (page cache included). */
  }
  s->has_blk = true; /* no device entries: no I/O yet */
  for (size_t i = 0; i < m->n_blkio; i++) {
    s->blk_read += m->blkio[i]->read_bytes;
    s->blk_write += m->blkio[i]->write_bytes;
  }
  if (m->pids) {
    s->has_pids = true;
    s->pids = m->pids->current;
  }
  for (size_t i = 0; i < m->n_net; i++) {
    s->has_net = true;
    if (strcmp(m->net[i]->name, "lo") == 0) continue;
    s->net_rx += m->net[i]->rx_bytes;
    s->net_tx += m->net[i]->tx_bytes;
  }
  cshim__stats__v1__sample__free_unpacked(m, NULL);
  return 0;
}

int cli_stats_decode(const char *type_url, const uint8_t *data, size_t len, cli_sample *s, cs_err *err) {
  const char *name = type_name(type_url);
  sample_clear(s);
  if (strcmp(name, CLI_METRICS_V1_URL) == 0) {
    Io__Containerd__Cgroups__V1__Metrics *m = io__containerd__cgroups__v1__metrics__unpack(NULL, len, data);
    if (!m) return cs_err_set(err, CS_DATA_LOSS, "stats: %s does not decode", name);
    decode_v1(m, s);
    io__containerd__cgroups__v1__metrics__free_unpacked(m, NULL);
    return 0;
  }
  if (strcmp(name, CLI_METRICS_V2_URL) == 0) {
    Io__Containerd__Cgroups__V2__Metrics *m = io__containerd__cgroups__v2__metrics__unpack(NULL, len, data);
    if (!m) return cs_err_set(err, CS_DATA_LOSS, "stats: %s does not decode", name);
    decode_v2(m, s);
    io__containerd__cgroups__v2__metrics__free_unpacked(m, NULL);
    return 0;
  }
  if (strcmp(name, CLI_METRICS_RUNHCS_URL) == 0) {
    Containerd__Runhcs__Stats__V1__Statistics *m = containerd__runhcs__stats__v1__statistics__unpack(NULL, len, data);
    if (!m) return cs_err_set(err, CS_DATA_LOSS, "stats: %s does not decode", CLI_METRICS_RUNHCS_URL);
    decode_runhcs(m, s);
    containerd__runhcs__stats__v1__statistics__free_unpacked(m, NULL);
    return 0;
  }
  return cs_err_set(err, CS_UNIMPLEMENTED, "stats: unknown metrics type \"%s\"", type_url ? type_url : "");
}

double cli_stats_cpu_percent(const cli_sample *prev, const cli_sample *cur) {
  if (!prev || !prev->has_cpu || !cur->has_cpu || cur->cpu_ns < prev->cpu_ns || cur->mono_ns <= prev->mono_ns)
    return -1;
  return (double)(cur->cpu_ns - prev->cpu_ns) * 100.0 / (double)(cur->mono_ns - prev->mono_ns);
}

uint64_t cli_stats_mem_used(const cli_sample *s) {
  if (s->mem_inactive_file < s->mem_usage) return s->mem_usage - s->mem_inactive_file;
  return s->mem_usage;
}

uint64_t cli_stats_mem_limit(const cli_sample *s, uint64_t host_mem) {
  if (s->mem_limit == 0 || (host_mem && s->mem_limit > host_mem)) return host_mem;
  return s->mem_limit;
}

static void pair(uint64_t a, uint64_t b, bool have, char *out, size_t len) {
  if (!have) {
    snprintf(out, len, "--");
    return;
  }
  char x[20], y[20]; /* "1023.9 GiB" at most */
  cli_format_bytes(a, x, sizeof x);
  cli_format_bytes(b, y, sizeof y);
  snprintf(out, len, "%s / %s", x, y);
}

void cli_stats_row(const char *id, const cli_sample *prev, const cli_sample *cur, uint64_t host_mem, char *out,
                   size_t len) {
  char cpu[16], mem[48], memp[16], net[48], blk[48], pids[24];
  double c = cli_stats_cpu_percent(prev, cur);
  if (c < 0) snprintf(cpu, sizeof cpu, "--");
  else snprintf(cpu, sizeof cpu, "%.2f%%", c);
  uint64_t used = cli_stats_mem_used(cur), limit = cli_stats_mem_limit(cur, host_mem);
  pair(used, limit, cur->has_mem, mem, sizeof mem);
  if (cur->has_mem && limit) snprintf(memp, sizeof memp, "%.2f%%", (double)used * 100.0 / (double)limit);
  else snprintf(memp, sizeof memp, "--");
  pair(cur->net_rx, cur->net_tx, cur->has_net, net, sizeof net);
  pair(cur->blk_read, cur->blk_write, cur->has_blk, blk, sizeof blk);
  if (cur->has_pids) snprintf(pids, sizeof pids, "%llu", (unsigned long long)cur->pids);
  else snprintf(pids, sizeof pids, "--");
  snprintf(out, len, "%-20s %-9s %-23s %-9s %-21s %-21s %s", id, cpu, mem, memp, net, blk, pids);
}

static json_t *opt_uint(bool have, uint64_t v) { return have ? json_integer((json_int_t)v) : json_null(); }

json_t *cli_stats_json(const char *id, const cli_sample *prev, const cli_sample *cur, uint64_t host_mem) {
  char when[64];
  cli_format_time(cur->wall_ns / 1000000000, (int32_t)(cur->wall_ns % 1000000000), when, sizeof when);
  double c = cli_stats_cpu_percent(prev, cur);
  uint64_t used = cli_stats_mem_used(cur), limit = cli_stats_mem_limit(cur, host_mem);
  json_t *j = json_object();
  json_object_set_new(j, "id", json_string(id));
  json_object_set_new(j, "time", json_string(when));
  json_object_set_new(j, "cpu_percent", c < 0 ? json_null() : json_real(c));
  json_object_set_new(j, "cpu_total_ns", opt_uint(cur->has_cpu, cur->cpu_ns));
  json_object_set_new(j, "memory_usage", opt_uint(cur->has_mem, used));
  json_object_set_new(j, "memory_limit", opt_uint(cur->has_mem && limit, limit));
  json_object_set_new(j, "memory_percent",
                      cur->has_mem && limit ? json_real((double)used * 100.0 / (double)limit) : json_null());
  json_object_set_new(j, "block_read", opt_uint(cur->has_blk, cur->blk_read));
  json_object_set_new(j, "block_write", opt_uint(cur->has_blk, cur->blk_write));
  json_object_set_new(j, "net_rx", opt_uint(cur->has_net, cur->net_rx));
  json_object_set_new(j, "net_tx", opt_uint(cur->has_net, cur->net_tx));
  json_object_set_new(j, "pids", opt_uint(cur->has_pids, cur->pids));
  return j;
}
