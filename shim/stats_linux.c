#include "stats_linux.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cgroups/v1/metrics.pb-c.h"
#include "cgroups/v2/metrics.pb-c.h"

/* Blkio ops per device in the v1 message, as the kernel's files name them. */
#define STATS_LINUX_OPS 5

/* The fixed parts of the v1 message (about 2 KiB, on the stack); the blkio entries are sized to the sample
 * and allocated apart: at their maximum they would be ~28 KiB, which the shim's low mmap threshold would
 * turn into an mmap, page faults and a TLB-flushing munmap on every Stats call. */
typedef struct stats_v1_msg {
  Io__Containerd__Cgroups__V1__Metrics m;
  Io__Containerd__Cgroups__V1__PidsStat pids;
  Io__Containerd__Cgroups__V1__CPUStat cpu;
  Io__Containerd__Cgroups__V1__CPUUsage usage;
  Io__Containerd__Cgroups__V1__Throttle thr;
  Io__Containerd__Cgroups__V1__MemoryStat mem;
  Io__Containerd__Cgroups__V1__MemoryEntry mem_usage, mem_swap, mem_kernel;
  Io__Containerd__Cgroups__V1__MemoryOomControl oom;
  Io__Containerd__Cgroups__V1__BlkIOStat blkio;
  Io__Containerd__Cgroups__V1__NetworkStat net[RT_MAX_IFACES];
  Io__Containerd__Cgroups__V1__NetworkStat *pnet[RT_MAX_IFACES];
  char names[RT_MAX_IFACES][sizeof(((rt_net_iface *)0)->name)];
} stats_v1_msg;

static size_t blkio_entries(const rt_blkio_entry *e, uint32_t n, Io__Containerd__Cgroups__V1__BlkIOEntry *out,
                            Io__Containerd__Cgroups__V1__BlkIOEntry **ptrs) {
  static const char *const names[STATS_LINUX_OPS] = {"Read", "Write", "Sync", "Async", "Total"};
  size_t k = 0;
  for (uint32_t i = 0; i < n && i < RT_MAX_BLKIO; i++) {
    const uint64_t vals[STATS_LINUX_OPS] = {e[i].read, e[i].write, e[i].sync, e[i].async, e[i].total};
    for (int j = 0; j < STATS_LINUX_OPS; j++) {
      io__containerd__cgroups__v1__blk_ioentry__init(&out[k]);
      out[k].op = (char *)names[j];
      out[k].major = e[i].major;
      out[k].minor = e[i].minor;
      out[k].value = vals[j];
      ptrs[k] = &out[k];
      k++;
    }
  }
  return k;
}

static void mem_entry(Io__Containerd__Cgroups__V1__MemoryEntry *e, uint64_t limit, uint64_t usage, uint64_t max,
                      uint64_t failcnt) {
  io__containerd__cgroups__v1__memory_entry__init(e);
  e->limit = limit;
  e->usage = usage;
  e->max = max;
  e->failcnt = failcnt;
}

static int encode_v1(const rt_sample *s, uint8_t **out, size_t *len, cs_err *err) {
  stats_v1_msg msg, *w = &msg;
  memset(w, 0, sizeof *w);
  uint32_t ndev = s->blkio.n <= RT_MAX_BLKIO ? s->blkio.n : RT_MAX_BLKIO;
  size_t nent = (size_t)ndev * STATS_LINUX_OPS;
  /* bytes entries, ops entries, then their pointer arrays: one block. */
  Io__Containerd__Cgroups__V1__BlkIOEntry *ents = NULL, **ptrs = NULL;
  if (nent) {
    ents = malloc(2 * nent * (sizeof *ents + sizeof *ptrs));
    if (!ents) return cs_err_sys(err, ENOMEM, "stats");
    ptrs = (Io__Containerd__Cgroups__V1__BlkIOEntry **)(ents + 2 * nent);
  }
  io__containerd__cgroups__v1__metrics__init(&w->m);

  io__containerd__cgroups__v1__pids_stat__init(&w->pids);
  w->pids.current = s->pids.current;
  w->pids.limit = s->pids.limit;
  w->m.pids = &w->pids;

  io__containerd__cgroups__v1__cpustat__init(&w->cpu);
  io__containerd__cgroups__v1__cpuusage__init(&w->usage);
  io__containerd__cgroups__v1__throttle__init(&w->thr);
  w->usage.total = s->cpu.usage_ns;
  w->usage.kernel = s->cpu.kernel_ns;
  w->usage.user = s->cpu.user_ns;
  w->usage.n_per_cpu = s->cpu.ncpu <= RT_MAX_CPUS ? s->cpu.ncpu : RT_MAX_CPUS;
  w->usage.per_cpu = (uint64_t *)s->cpu.per_cpu_ns;
  w->thr.periods = s->cpu.periods;
  w->thr.throttled_periods = s->cpu.throttled_periods;
  w->thr.throttled_time = s->cpu.throttled_ns;
  w->cpu.usage = &w->usage;
  w->cpu.throttling = &w->thr;
  w->m.cpu = &w->cpu;

  const __typeof__(s->memory) *sm = &s->memory;
  Io__Containerd__Cgroups__V1__MemoryStat *m = &w->mem;
  io__containerd__cgroups__v1__memory_stat__init(m);
  m->cache = sm->cache;
  m->rss = sm->rss;
  m->rss_huge = sm->rss_huge;
  m->mapped_file = sm->mapped_file;
  m->dirty = sm->dirty;
  m->writeback = sm->writeback;
  m->pg_pg_in = sm->pgpgin;
  m->pg_pg_out = sm->pgpgout;
  m->pg_fault = sm->pgfault;
  m->pg_maj_fault = sm->pgmajfault;
  m->inactive_anon = sm->inactive_anon;
  m->active_anon = sm->active_anon;
  m->inactive_file = sm->inactive_file;
  m->active_file = sm->active_file;
  m->unevictable = sm->unevictable;
  m->hierarchical_memory_limit = sm->hierarchical_limit;
  m->hierarchical_swap_limit = sm->hierarchical_swap_limit;
  m->total_cache = sm->total_cache;
  m->total_rss = sm->total_rss;
  m->total_rss_huge = sm->total_rss_huge;
  m->total_mapped_file = sm->total_mapped_file;
  m->total_dirty = sm->total_dirty;
  m->total_writeback = sm->total_writeback;
  m->total_pg_pg_in = sm->total_pgpgin;
  m->total_pg_pg_out = sm->total_pgpgout;
  m->total_pg_fault = sm->total_pgfault;
  m->total_pg_maj_fault = sm->total_pgmajfault;
  m->total_inactive_anon = sm->total_inactive_anon;
  m->total_active_anon = sm->total_active_anon;
  m->total_inactive_file = sm->total_inactive_file;
  m->total_active_file = sm->total_active_file;
  m->total_unevictable = sm->total_unevictable;
  mem_entry(&w->mem_usage, sm->limit, sm->usage, sm->max_usage, sm->failcnt);
  mem_entry(&w->mem_swap, sm->swap_limit, sm->swap_usage, sm->swap_max_usage, sm->swap_failcnt);
  mem_entry(&w->mem_kernel, sm->kernel_limit, sm->kernel_usage, sm->kernel_max_usage, sm->kernel_failcnt);
  m->usage = &w->mem_usage;
  m->swap = &w->mem_swap;
  m->kernel = &w->mem_kernel;
  w->m.memory = m;

  io__containerd__cgroups__v1__memory_oom_control__init(&w->oom);
  w->oom.oom_kill_disable = sm->oom_kill_disable;
  w->oom.under_oom = sm->under_oom;
  w->oom.oom_kill = sm->oom_kill;
  w->m.memory_oom_control = &w->oom;

  io__containerd__cgroups__v1__blk_iostat__init(&w->blkio);
  w->blkio.n_io_service_bytes_recursive = blkio_entries(s->blkio.bytes, ndev, ents, ptrs);
  w->blkio.io_service_bytes_recursive = ptrs;
  w->blkio.n_io_serviced_recursive = blkio_entries(s->blkio.ops, ndev, ents + nent, ptrs + nent);
  w->blkio.io_serviced_recursive = ptrs + nent;
  w->m.blkio = &w->blkio;

  uint32_t nn = s->n_net <= RT_MAX_IFACES ? s->n_net : RT_MAX_IFACES;
  for (uint32_t i = 0; i < nn; i++) {
    Io__Containerd__Cgroups__V1__NetworkStat *n = &w->net[i];
    const rt_net_iface *f = &s->net[i];
    io__containerd__cgroups__v1__network_stat__init(n);
    memcpy(w->names[i], f->name, sizeof w->names[i]);
    w->names[i][sizeof w->names[i] - 1] = '\0';
    n->name = w->names[i];
    n->rx_bytes = f->rx_bytes;
    n->rx_packets = f->rx_packets;
    n->rx_errors = f->rx_errors;
    n->rx_dropped = f->rx_dropped;
    n->tx_bytes = f->tx_bytes;
    n->tx_packets = f->tx_packets;
    n->tx_errors = f->tx_errors;
    n->tx_dropped = f->tx_dropped;
    w->pnet[i] = n;
  }
  w->m.n_network = nn;
  w->m.network = w->pnet;

  size_t sz = io__containerd__cgroups__v1__metrics__get_packed_size(&w->m);
  *out = malloc(sz ? sz : 1);
  if (!*out) {
    free(ents);
    return cs_err_sys(err, ENOMEM, "stats");
  }
  *len = io__containerd__cgroups__v1__metrics__pack(&w->m, *out);
  free(ents);
  return 0;
}

static int encode_v2(const rt_sample *s, uint8_t **out, size_t *len, cs_err *err) {
  Io__Containerd__Cgroups__V2__Metrics m;
  Io__Containerd__Cgroups__V2__PidsStat pids;
  Io__Containerd__Cgroups__V2__CPUStat cpu;
  Io__Containerd__Cgroups__V2__MemoryStat mem;
  Io__Containerd__Cgroups__V2__MemoryEvents ev;
  Io__Containerd__Cgroups__V2__IOStat io;
  Io__Containerd__Cgroups__V2__IOEntry ent[RT_MAX_BLKIO], *pent[RT_MAX_BLKIO];
  io__containerd__cgroups__v2__metrics__init(&m);

  io__containerd__cgroups__v2__pids_stat__init(&pids);
  pids.current = s->pids.current;
  pids.limit = s->pids.limit;
  m.pids = &pids;

  io__containerd__cgroups__v2__cpustat__init(&cpu);
  cpu.usage_usec = s->cpu.usage_ns / 1000;
  cpu.user_usec = s->cpu.user_ns / 1000;
  cpu.system_usec = s->cpu.kernel_ns / 1000;
  cpu.nr_periods = s->cpu.periods;
  cpu.nr_throttled = s->cpu.throttled_periods;
  cpu.throttled_usec = s->cpu.throttled_ns / 1000;
  m.cpu = &cpu;

  const __typeof__(s->memory) *sm = &s->memory;
  io__containerd__cgroups__v2__memory_stat__init(&mem);
  mem.anon = sm->anon;
  mem.file = sm->file;
  mem.kernel_stack = sm->kernel_stack;
  mem.slab = sm->slab;
  mem.sock = sm->sock;
  mem.shmem = sm->shmem;
  mem.file_mapped = sm->file_mapped;
  mem.file_dirty = sm->file_dirty;
  mem.file_writeback = sm->file_writeback;
  mem.inactive_anon = sm->inactive_anon;
  mem.active_anon = sm->active_anon;
  mem.inactive_file = sm->inactive_file;
  mem.active_file = sm->active_file;
  mem.unevictable = sm->unevictable;
  mem.pgfault = sm->pgfault;
  mem.pgmajfault = sm->pgmajfault;
  mem.usage = sm->usage;
  mem.usage_limit = sm->limit;
  mem.swap_usage = sm->swap_usage;
  mem.swap_limit = sm->swap_limit;
  m.memory = &mem;

  io__containerd__cgroups__v2__memory_events__init(&ev);
  ev.low = sm->ev_low;
  ev.high = sm->ev_high;
  ev.max = sm->ev_max;
  ev.oom = sm->ev_oom;
  ev.oom_kill = sm->ev_oom_kill;
  m.memory_events = &ev;

  io__containerd__cgroups__v2__iostat__init(&io);
  uint32_t n = s->blkio.n <= RT_MAX_BLKIO ? s->blkio.n : RT_MAX_BLKIO;
  for (uint32_t i = 0; i < n; i++) {
    io__containerd__cgroups__v2__ioentry__init(&ent[i]);
    ent[i].major = s->blkio.bytes[i].major;
    ent[i].minor = s->blkio.bytes[i].minor;
    ent[i].rbytes = s->blkio.bytes[i].read;
    ent[i].wbytes = s->blkio.bytes[i].write;
    ent[i].rios = s->blkio.ops[i].read;
    ent[i].wios = s->blkio.ops[i].write;
    pent[i] = &ent[i];
  }
  io.n_usage = n;
  io.usage = pent;
  m.io = &io;

  size_t sz = io__containerd__cgroups__v2__metrics__get_packed_size(&m);
  *out = malloc(sz ? sz : 1);
  if (!*out) return cs_err_sys(err, ENOMEM, "stats");
  *len = io__containerd__cgroups__v2__metrics__pack(&m, *out);
  return 0;
}

int task_stats_encode_linux(const rt_sample *s, uint8_t **out, size_t *len, const char **type_url, cs_err *err) {
  *out = NULL;
  *len = 0;
  switch (s->kind) {
  case RT_SAMPLE_CGROUP_V1:
    *type_url = STATS_LINUX_V1_TYPE_URL;
    return encode_v1(s, out, len, err);
  case RT_SAMPLE_CGROUP_V2:
    *type_url = STATS_LINUX_V2_TYPE_URL;
    return encode_v2(s, out, len, err);
  default:
    return cs_err_set(err, CS_INVALID_ARGUMENT, "stats: sample kind %d is not a cgroup sample", s->kind);
  }
}
