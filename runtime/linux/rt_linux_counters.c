#include "rt_linux_counters.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "cs_log.h"
#include "net_counters.h"
#include "rt_linux_cgparse.h"
#include "rt_linux_clock.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* The files kept open. v1 and v2 share the table; a missing file (no swap accounting, no kmem) stays -1. */
enum {
  /* v1 */
  F_CPUACCT_USAGE, F_CPUACCT_STAT, F_CPUACCT_PERCPU, F_CPU_STAT,
  F_MEM_USAGE, F_MEM_LIMIT, F_MEM_MAX, F_MEM_FAILCNT, F_MEM_STAT, F_MEM_OOM,
  F_MEMSW_USAGE, F_MEMSW_LIMIT, F_MEMSW_MAX, F_MEMSW_FAILCNT,
  F_KMEM_USAGE, F_KMEM_LIMIT, F_KMEM_MAX, F_KMEM_FAILCNT,
  F_BLKIO_BYTES, F_BLKIO_OPS, F_BLKIO_BYTES_ALT, F_BLKIO_OPS_ALT,
  F_PIDS_CURRENT, F_PIDS_MAX,
  /* v2 */
  F2_CPU_STAT, F2_MEM_CURRENT, F2_MEM_MAX, F2_MEM_STAT, F2_MEM_EVENTS, F2_SWAP_CURRENT, F2_SWAP_MAX,
  F2_IO_STAT, F2_PIDS_CURRENT, F2_PIDS_MAX,
  F_COUNT
};

/* How often what changes only by hand is looked at again (limits; which block I/O files count). A stream's
 * full reads come every 2 s: a shorter period would re-read them in every one. */
#define RECHECK_MS 10000

typedef struct rt_linux_cgfile {
  int id;
  const char *ctrl; /* v1 controller; NULL for v2 */
  const char *name;
} rt_linux_cgfile;

static const rt_linux_cgfile v1_files[] = {
    {F_CPUACCT_USAGE, "cpuacct", "cpuacct.usage"},
    {F_CPUACCT_STAT, "cpuacct", "cpuacct.stat"},
    {F_CPUACCT_PERCPU, "cpuacct", "cpuacct.usage_percpu"},
    {F_CPU_STAT, "cpu", "cpu.stat"},
    {F_MEM_USAGE, "memory", "memory.usage_in_bytes"},
    {F_MEM_LIMIT, "memory", "memory.limit_in_bytes"},
    {F_MEM_MAX, "memory", "memory.max_usage_in_bytes"},
    {F_MEM_FAILCNT, "memory", "memory.failcnt"},
    {F_MEM_STAT, "memory", "memory.stat"},
    {F_MEM_OOM, "memory", "memory.oom_control"},
    {F_MEMSW_USAGE, "memory", "memory.memsw.usage_in_bytes"},
    {F_MEMSW_LIMIT, "memory", "memory.memsw.limit_in_bytes"},
    {F_MEMSW_MAX, "memory", "memory.memsw.max_usage_in_bytes"},
    {F_MEMSW_FAILCNT, "memory", "memory.memsw.failcnt"},
    {F_KMEM_USAGE, "memory", "memory.kmem.usage_in_bytes"},
    {F_KMEM_LIMIT, "memory", "memory.kmem.limit_in_bytes"},
    {F_KMEM_MAX, "memory", "memory.kmem.max_usage_in_bytes"},
    {F_KMEM_FAILCNT, "memory", "memory.kmem.failcnt"},
    /* Throttle files count I/O on every kernel; the scheduler's *_recursive files (CFQ before 5.0, BFQ
     * after) are the fallback when throttling saw nothing. */
    {F_BLKIO_BYTES, "blkio", "blkio.throttle.io_service_bytes"},
    {F_BLKIO_OPS, "blkio", "blkio.throttle.io_serviced"},
    {F_PIDS_CURRENT, "pids", "pids.current"},
    {F_PIDS_MAX, "pids", "pids.max"},
};

static const char *const blkio_alt[][2] = {
    {"blkio.bfq.io_service_bytes_recursive", "blkio.bfq.io_serviced_recursive"},
    {"blkio.io_service_bytes_recursive", "blkio.io_serviced_recursive"},
};

static const rt_linux_cgfile v2_files[] = {
    {F2_CPU_STAT, NULL, "cpu.stat"},
    {F2_MEM_CURRENT, NULL, "memory.current"},
    {F2_MEM_MAX, NULL, "memory.max"},
    {F2_MEM_STAT, NULL, "memory.stat"},
    {F2_MEM_EVENTS, NULL, "memory.events"},
    {F2_SWAP_CURRENT, NULL, "memory.swap.current"},
    {F2_SWAP_MAX, NULL, "memory.swap.max"},
    {F2_IO_STAT, NULL, "io.stat"},
    {F2_PIDS_CURRENT, NULL, "pids.current"},
    {F2_PIDS_MAX, NULL, "pids.max"},
};

struct rt_linux_counters {
  int version;
  rt_linux_counters_shared *sh;
  int fd[F_COUNT];
  int net_fd;
  bool gone;        /* set by rd(): a removed cgroup answers ENODEV to every read */
  /* Limits change only on Update (which calls rt_linux_counters_limits_changed) or by hand, so they are
   * re-read every RECHECK_MS rather than costing four reads in every sample (a hand-made change shows
   * within that). */
  struct {
    uint64_t memory, swap, kernel, pids;
    /* v1 fail counts (memory, memsw, kmem), read with the limits: a counter only fails against its own
     * limit, so with that limit unlimited its fail count cannot move and is not read per sample. */
    uint64_t failcnt[3];
    int64_t read_at_ms; /* CLOCK_MONOTONIC_COARSE; 0: never, or changed */
  } lim;
  /* v1 block I/O: which pair of files counts this cgroup's I/O, once one has shown any (0: not known yet;
   * the alternates are then looked at every RECHECK_MS, not in every sample). */
  int blkio_pair;
  int64_t blkio_alt_at_ms;
  /* The last CPU and memory usage read: a quick read re-reads memory only if the CPU usage moved. */
  struct {
    bool valid;
    uint64_t cpu_ns, memory;
  } last;
  /* The parent cgroup's CPU usage as read before the last quick read of this one's (gate_valid): while
   * it has not moved, neither has this cgroup's. */
  rt_linux_gate *gate;
  bool gate_valid;
  uint64_t gate_seen;
  uint64_t ns_per_tick;
  char *memdir;
};

int rt_linux_counters_version(const rt_linux_counters *k) {
  return k->version;
}

const char *rt_linux_counters_memory_dir(const rt_linux_counters *k) {
  return k->memdir ? k->memdir : "";
}

void rt_linux_counters_close(rt_linux_counters *k) {
  if (!k) return;
  for (int i = 0; i < F_COUNT; i++)
    if (k->fd[i] >= 0) close(k->fd[i]);
  if (k->net_fd >= 0) close(k->net_fd);
  rt_linux_gate_put(k->gate);
  free(k->memdir);
  free(k);
}

static char *slurp_path(const char *path, cs_err *err) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    cs_err_sys(err, errno, "open %s", path);
    return NULL;
  }
  size_t cap = 8192, len = 0;
  char *buf = malloc(cap);
  while (buf) {
    if (cap - len < 4096) {
      char *b = realloc(buf, cap * 2);
      if (!b) break;
      buf = b;
      cap *= 2;
    }
    ssize_t n = read(fd, buf + len, cap - len - 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      buf[len] = '\0';
      close(fd);
      return buf;
    }
    len += (size_t)n;
  }
  free(buf);
  close(fd);
  cs_err_sys(err, ENOMEM, "read %s", path);
  return NULL;
}

static int open_in(const char *dir, const char *name) {
  char path[PATH_MAX];
  if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path) return -1;
  return open(path, O_RDONLY | O_CLOEXEC);
}

static rt_linux_counters *alloc_counters(rt_linux_counters_shared *sh, cs_err *err) {
  rt_linux_counters *k = calloc(1, sizeof *k);
  if (!k) {
    cs_err_sys(err, ENOMEM, "counters");
    return NULL;
  }
  k->sh = sh;
  for (int i = 0; i < F_COUNT; i++) k->fd[i] = -1;
  k->net_fd = -1;
  long hz = sysconf(_SC_CLK_TCK);
  k->ns_per_tick = 1000000000ull / (uint64_t)(hz > 0 ? hz : 100);
  return k;
}

/* The gate of dir's parent, unless the parent is the hierarchy's root: the root's usage is the whole
 * machine's, which always moves. */
static void open_gate(rt_linux_counters *k, const char *dir) {
  char parent[PATH_MAX], above[PATH_MAX + 4];
  snprintf(parent, sizeof parent, "%s", dir);
  char *slash = strrchr(parent, '/');
  if (!slash || slash == parent) return;
  *slash = '\0';
  snprintf(above, sizeof above, "%s/..", parent);
  struct stat p, a;
  if (stat(parent, &p) != 0 || stat(above, &a) != 0 || p.st_dev != a.st_dev) return; /* a mount's root */
  k->gate = rt_linux_gate_get(&k->sh->gates, k->version, parent);
}

static void open_v2_files(rt_linux_counters *k, const char *dir) {
  k->version = 2;
  k->memdir = strdup(dir);
  open_gate(k, dir);
  for (size_t i = 0; i < sizeof v2_files / sizeof v2_files[0]; i++) k->fd[v2_files[i].id] = open_in(dir, v2_files[i].name);
}

static void open_net(rt_linux_counters *k, int pid) {
  cs_err nerr;
  k->net_fd = net_counters_open(pid, &nerr);
  if (k->net_fd < 0) CS_DEBUG("counters: pid %d: no network counters: %s", pid, nerr.msg);
}

rt_linux_counters *rt_linux_counters_open_v2(const char *dir, int net_pid, rt_linux_counters_shared *sh,
                                             cs_err *err) {
  rt_linux_counters *k = alloc_counters(sh, err);
  if (!k) return NULL;
  open_v2_files(k, dir);
  if (k->fd[F2_CPU_STAT] < 0 && k->fd[F2_MEM_CURRENT] < 0) {
    cs_err_set(err, CS_NOT_FOUND, "no cgroup v2 counters in %s", dir);
    rt_linux_counters_close(k);
    return NULL;
  }
  if (net_pid > 0) open_net(k, net_pid);
  return k;
}

rt_linux_counters *rt_linux_counters_open(int pid, rt_linux_counters_shared *sh, cs_err *err) {
  rt_linux_counters *k = alloc_counters(sh, err);
  if (!k) return NULL;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/cgroup", pid);
  char *cg = slurp_path(path, err), *mi = cg ? slurp_path("/proc/self/mountinfo", err) : NULL;
  if (!mi) goto fail;
  struct statfs sfs;
  k->version = statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC ? 2 : 1;
  char dir[PATH_MAX];
  if (k->version == 2) {
    if (rt_linux_cg_resolve(mi, cg, NULL, dir, sizeof dir) != 0) {
      cs_err_set(err, CS_NOT_FOUND, "cgroup v2 directory of pid %d not found", pid);
      goto fail;
    }
    open_v2_files(k, dir);
  } else {
    const char *last = NULL;
    bool have = false;
    for (size_t i = 0; i < sizeof v1_files / sizeof v1_files[0]; i++) {
      const rt_linux_cgfile *f = &v1_files[i];
      if (!last || strcmp(last, f->ctrl) != 0) {
        have = rt_linux_cg_resolve(mi, cg, f->ctrl, dir, sizeof dir) == 0;
        last = f->ctrl;
        if (!have) CS_DEBUG("counters: pid %d: no %s cgroup", pid, f->ctrl);
        if (have && !strcmp(f->ctrl, "memory") && !k->memdir) k->memdir = strdup(dir);
        if (have && !strcmp(f->ctrl, "cpuacct")) open_gate(k, dir);
        if (have && !strcmp(f->ctrl, "blkio")) {
          for (size_t a = 0; a < sizeof blkio_alt / sizeof blkio_alt[0] && k->fd[F_BLKIO_BYTES_ALT] < 0; a++) {
            k->fd[F_BLKIO_BYTES_ALT] = open_in(dir, blkio_alt[a][0]);
            k->fd[F_BLKIO_OPS_ALT] = open_in(dir, blkio_alt[a][1]);
            if (k->fd[F_BLKIO_OPS_ALT] < 0 && k->fd[F_BLKIO_BYTES_ALT] >= 0) {
              close(k->fd[F_BLKIO_BYTES_ALT]);
              k->fd[F_BLKIO_BYTES_ALT] = -1;
            }
          }
        }
      }
      if (have) k->fd[f->id] = open_in(dir, f->name);
    }
    if (k->fd[F_CPUACCT_USAGE] < 0 && k->fd[F_MEM_USAGE] < 0) {
      cs_err_set(err, CS_NOT_FOUND, "cgroup v1 directories of pid %d not found", pid);
      goto fail;
    }
  }
  open_net(k, pid);
  free(cg);
  free(mi);
  return k;
fail:
  free(cg);
  free(mi);
  rt_linux_counters_close(k);
  return NULL;
}

/* One file's content into buf. 1: read; 0: not there; -1: read failed (the cgroup is gone: ENODEV). */
static int rd(rt_linux_counters *k, int id, char *buf, size_t cap) {
  int fd = k->fd[id];
  if (fd < 0) return 0;
  size_t got = 0;
  while (got < cap - 1) {
    size_t want = cap - 1 - got;
    ssize_t n = pread(fd, buf + got, want, (off_t)got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      if (errno == ENODEV || errno == ENOENT) k->gone = true;
      return -1;
    }
    got += (size_t)n;
    /* cgroup and proc files are seq_files: a read shorter than asked for is the end of the file, so the
     * usual extra read that returns 0 would only double the syscalls of every sample. */
    if ((size_t)n < want) break;
  }
  buf[got] = '\0';
  return 1;
}

static void rd_u64(rt_linux_counters *k, int id, uint64_t max_value, uint64_t *out) {
  char buf[64];
  if (rd(k, id, buf, sizeof buf) == 1) rt_linux_cg_parse_u64(buf, max_value, out);
}

void rt_linux_counters_limits_changed(rt_linux_counters *k) {
  k->lim.read_at_ms = 0;
}

static int64_t coarse_ms(void) {
  return rt_linux_clock_ns(CLOCK_MONOTONIC_COARSE) / 1000000;
}

/* v1 reports "no limit" as the page counter's maximum (0x7FFFFFFFFFFFF000 with 4 KiB pages). */
static bool unlimited_v1(uint64_t limit) {
  return limit >= (UINT64_C(1) << 62);
}

static void read_limits(rt_linux_counters *k) {
  int64_t now = coarse_ms();
  if (k->lim.read_at_ms != 0 && now - k->lim.read_at_ms < RECHECK_MS) return;
  memset(&k->lim, 0, sizeof k->lim);
  if (k->version == 2) {
    rd_u64(k, F2_MEM_MAX, UINT64_MAX, &k->lim.memory);
    rd_u64(k, F2_SWAP_MAX, UINT64_MAX, &k->lim.swap);
    rd_u64(k, F2_PIDS_MAX, 0, &k->lim.pids);
  } else {
    rd_u64(k, F_MEM_LIMIT, 0, &k->lim.memory);
    rd_u64(k, F_MEMSW_LIMIT, 0, &k->lim.swap);
    rd_u64(k, F_KMEM_LIMIT, 0, &k->lim.kernel);
    rd_u64(k, F_PIDS_MAX, 0, &k->lim.pids);
    /* Only the fail counts samples will not read themselves (see failcnt_v1). */
    const struct { uint64_t limit; int id; } fc[3] = {
        {k->lim.memory, F_MEM_FAILCNT}, {k->lim.swap, F_MEMSW_FAILCNT}, {k->lim.kernel, F_KMEM_FAILCNT}};
    for (int i = 0; i < 3; i++)
      if (unlimited_v1(fc[i].limit)) rd_u64(k, fc[i].id, 0, &k->lim.failcnt[i]);
  }
  k->lim.read_at_ms = now > 0 ? now : 1;
}

/* A v1 fail count: the one read with the limits while the limit is unlimited, else read now. */
static void failcnt_v1(rt_linux_counters *k, int id, int i, uint64_t limit, uint64_t *out) {
  if (unlimited_v1(limit))
    *out = k->lim.failcnt[i];
  else
    rd_u64(k, id, 0, out);
}

static void read_blkio_pair(rt_linux_counters *k, int bytes, int ops, rt_sample *s, char *buf, size_t cap) {
  s->blkio.n = 0;
  if (rd(k, bytes, buf, cap) == 1) rt_linux_cg_parse_blkio(buf, s->blkio.bytes, s->blkio.ops, &s->blkio.n, RT_MAX_BLKIO);
  if (rd(k, ops, buf, cap) == 1) rt_linux_cg_parse_blkio(buf, s->blkio.ops, s->blkio.bytes, &s->blkio.n, RT_MAX_BLKIO);
}

/* The throttle files count I/O only on queues with blk-throttle on; the scheduler's files (BFQ, CFQ) only on
 * disks that scheduler drives. Whichever shows a device first is the one read from then on. */
static void read_blkio_v1(rt_linux_counters *k, rt_sample *s, char *buf, size_t cap) {
  if (k->blkio_pair == 2) {
    read_blkio_pair(k, F_BLKIO_BYTES_ALT, F_BLKIO_OPS_ALT, s, buf, cap);
    return;
  }
  read_blkio_pair(k, F_BLKIO_BYTES, F_BLKIO_OPS, s, buf, cap);
  if (s->blkio.n > 0) {
    k->blkio_pair = 1;
    return;
  }
  if (k->blkio_pair != 0 || k->fd[F_BLKIO_BYTES_ALT] < 0) return;
  int64_t now = coarse_ms();
  if (k->blkio_alt_at_ms != 0 && now - k->blkio_alt_at_ms < RECHECK_MS) return;
  k->blkio_alt_at_ms = now;
  read_blkio_pair(k, F_BLKIO_BYTES_ALT, F_BLKIO_OPS_ALT, s, buf, cap);
  if (s->blkio.n > 0) k->blkio_pair = 2;
}

static void sample_v1(rt_linux_counters *k, rt_sample *s, char *buf, size_t cap, bool lean) {
  /* cpuacct.usage is the sum of cpuacct.usage_percpu: one read gives both (unless the list was cut short). */
  if (!lean && rd(k, F_CPUACCT_PERCPU, buf, cap) == 1)
    s->cpu.ncpu = rt_linux_cg_parse_list(buf, s->cpu.per_cpu_ns, RT_MAX_CPUS);
  if (s->cpu.ncpu > 0 && s->cpu.ncpu < RT_MAX_CPUS)
    for (uint32_t i = 0; i < s->cpu.ncpu; i++) s->cpu.usage_ns += s->cpu.per_cpu_ns[i];
  else
    rd_u64(k, F_CPUACCT_USAGE, 0, &s->cpu.usage_ns);
  if (rd(k, F_CPUACCT_STAT, buf, cap) == 1) {
    uint64_t user = 0, sys = 0;
    const rt_linux_kv kv[] = {{"user", &user}, {"system", &sys}};
    rt_linux_cg_parse_kv(buf, kv, 2);
    s->cpu.user_ns = user * k->ns_per_tick;
    s->cpu.kernel_ns = sys * k->ns_per_tick;
  }
  if (rd(k, F_CPU_STAT, buf, cap) == 1) {
    const rt_linux_kv kv[] = {{"nr_periods", &s->cpu.periods},
                              {"nr_throttled", &s->cpu.throttled_periods},
                              {"throttled_time", &s->cpu.throttled_ns}};
    rt_linux_cg_parse_kv(buf, kv, 3);
  }
  __typeof__(s->memory) *m = &s->memory;
  read_limits(k);
  m->limit = k->lim.memory;
  m->swap_limit = k->lim.swap;
  m->kernel_limit = k->lim.kernel;
  s->pids.limit = k->lim.pids;
  rd_u64(k, F_MEM_USAGE, 0, &m->usage);
  rd_u64(k, F_MEM_MAX, 0, &m->max_usage);
  failcnt_v1(k, F_MEM_FAILCNT, 0, m->limit, &m->failcnt);
  rd_u64(k, F_MEMSW_USAGE, 0, &m->swap_usage);
  if (!lean) {
    rd_u64(k, F_MEMSW_MAX, 0, &m->swap_max_usage);
    failcnt_v1(k, F_MEMSW_FAILCNT, 1, m->swap_limit, &m->swap_failcnt);
    rd_u64(k, F_KMEM_USAGE, 0, &m->kernel_usage);
    rd_u64(k, F_KMEM_MAX, 0, &m->kernel_max_usage);
    failcnt_v1(k, F_KMEM_FAILCNT, 2, m->kernel_limit, &m->kernel_failcnt);
  }
  if (rd(k, F_MEM_STAT, buf, cap) == 1) {
    const rt_linux_kv kv[] = {
        {"cache", &m->cache}, {"rss", &m->rss}, {"rss_huge", &m->rss_huge}, {"mapped_file", &m->mapped_file},
        {"dirty", &m->dirty}, {"writeback", &m->writeback}, {"pgpgin", &m->pgpgin}, {"pgpgout", &m->pgpgout},
        {"pgfault", &m->pgfault}, {"pgmajfault", &m->pgmajfault}, {"inactive_anon", &m->inactive_anon},
        {"active_anon", &m->active_anon}, {"inactive_file", &m->inactive_file},
        {"active_file", &m->active_file}, {"unevictable", &m->unevictable},
        {"hierarchical_memory_limit", &m->hierarchical_limit},
        {"hierarchical_memsw_limit", &m->hierarchical_swap_limit}, {"shmem", &m->shmem},
        {"total_cache", &m->total_cache}, {"total_rss", &m->total_rss}, {"total_rss_huge", &m->total_rss_huge},
        {"total_mapped_file", &m->total_mapped_file}, {"total_dirty", &m->total_dirty},
        {"total_writeback", &m->total_writeback}, {"total_pgpgin", &m->total_pgpgin},
        {"total_pgpgout", &m->total_pgpgout}, {"total_pgfault", &m->total_pgfault},
        {"total_pgmajfault", &m->total_pgmajfault}, {"total_inactive_anon", &m->total_inactive_anon},
        {"total_active_anon", &m->total_active_anon}, {"total_inactive_file", &m->total_inactive_file},
        {"total_active_file", &m->total_active_file}, {"total_unevictable", &m->total_unevictable},
    };
    rt_linux_cg_parse_kv(buf, kv, sizeof kv / sizeof kv[0]);
  }
  if (rd(k, F_MEM_OOM, buf, cap) == 1) {
    const rt_linux_kv kv[] = {{"oom_kill_disable", &m->oom_kill_disable}, {"under_oom", &m->under_oom},
                              {"oom_kill", &m->oom_kill}};
    rt_linux_cg_parse_kv(buf, kv, 3);
  }
  read_blkio_v1(k, s, buf, cap);
  rd_u64(k, F_PIDS_CURRENT, 0, &s->pids.current);
}

static void sample_v2(rt_linux_counters *k, rt_sample *s, char *buf, size_t cap) {
  if (rd(k, F2_CPU_STAT, buf, cap) == 1) {
    uint64_t usage = 0, user = 0, sys = 0, thr = 0;
    const rt_linux_kv kv[] = {{"usage_usec", &usage}, {"user_usec", &user}, {"system_usec", &sys},
                              {"nr_periods", &s->cpu.periods}, {"nr_throttled", &s->cpu.throttled_periods},
                              {"throttled_usec", &thr}};
    rt_linux_cg_parse_kv(buf, kv, sizeof kv / sizeof kv[0]);
    s->cpu.usage_ns = usage * 1000;
    s->cpu.user_ns = user * 1000;
    s->cpu.kernel_ns = sys * 1000;
    s->cpu.throttled_ns = thr * 1000;
  }
  __typeof__(s->memory) *m = &s->memory;
  read_limits(k);
  m->limit = k->lim.memory;
  m->swap_limit = k->lim.swap;
  s->pids.limit = k->lim.pids;
  rd_u64(k, F2_MEM_CURRENT, 0, &m->usage);
  rd_u64(k, F2_SWAP_CURRENT, 0, &m->swap_usage);
  if (rd(k, F2_MEM_STAT, buf, cap) == 1) {
    const rt_linux_kv kv[] = {
        {"anon", &m->anon}, {"file", &m->file}, {"kernel_stack", &m->kernel_stack}, {"slab", &m->slab},
        {"sock", &m->sock}, {"shmem", &m->shmem}, {"file_mapped", &m->file_mapped},
        {"file_dirty", &m->file_dirty}, {"file_writeback", &m->file_writeback},
        {"inactive_anon", &m->inactive_anon}, {"active_anon", &m->active_anon},
        {"inactive_file", &m->inactive_file}, {"active_file", &m->active_file},
        {"unevictable", &m->unevictable}, {"pgfault", &m->pgfault}, {"pgmajfault", &m->pgmajfault},
    };
    rt_linux_cg_parse_kv(buf, kv, sizeof kv / sizeof kv[0]);
  }
  if (rd(k, F2_MEM_EVENTS, buf, cap) == 1) {
    const rt_linux_kv kv[] = {{"low", &m->ev_low}, {"high", &m->ev_high}, {"max", &m->ev_max},
                              {"oom", &m->ev_oom}, {"oom_kill", &m->ev_oom_kill}};
    rt_linux_cg_parse_kv(buf, kv, sizeof kv / sizeof kv[0]);
  }
  if (rd(k, F2_IO_STAT, buf, cap) == 1)
    s->blkio.n = rt_linux_cg_parse_iostat(buf, s->blkio.bytes, s->blkio.ops, RT_MAX_BLKIO);
  rd_u64(k, F2_PIDS_CURRENT, 0, &s->pids.current);
}

static int check_alive(rt_linux_counters *k, cs_err *err) {
  if (!k->gone) return 0;
  return cs_err_sys(err, ENOENT, "container cgroup is gone");
}

/* The usage a quick read compares with (see rt_linux_counters_quick). */
static void remember_usage(rt_linux_counters *k, uint64_t cpu_ns, uint64_t memory) {
  k->last.valid = true;
  k->last.cpu_ns = cpu_ns;
  k->last.memory = memory;
}

int rt_linux_counters_quick(rt_linux_counters *k, rt_quick *q, cs_err *err) {
  memset(q, 0, sizeof *q);
  uint64_t parent = 0;
  int64_t parent_at = 0;
  bool gated = k->gate && rt_linux_gate_read(k->gate, &parent, &parent_at) == 0;
  if (gated && k->gate_valid && k->last.valid && parent == k->gate_seen) {
    /* As of the parent's read: nothing under it ran between then and this cgroup's last read. */
    q->timestamp_ns = parent_at;
    q->cpu_usage_ns = k->last.cpu_ns;
    q->memory_usage = k->last.memory;
    return 0;
  }
  q->timestamp_ns = rt_linux_clock_ns(CLOCK_REALTIME);
  k->gone = false;
  char buf[512];
  if (rd(k, k->version == 2 ? F2_CPU_STAT : F_CPUACCT_USAGE, buf, sizeof buf) == 1)
    rt_linux_cg_parse_cpu_usage(k->version, buf, &q->cpu_usage_ns);
  /* A task that did not run since the last read has charged next to no memory: the read is skipped (a
   * cold cgroup read is most of a tick's cost), and the next full sample reads it anyway. */
  if (k->last.valid && q->cpu_usage_ns == k->last.cpu_ns)
    q->memory_usage = k->last.memory;
  else
    rd_u64(k, k->version == 2 ? F2_MEM_CURRENT : F_MEM_USAGE, 0, &q->memory_usage);
  if (check_alive(k, err) < 0) return -1;
  remember_usage(k, q->cpu_usage_ns, q->memory_usage);
  k->gate_valid = gated;
  k->gate_seen = parent;
  return 0;
}

void rt_linux_counters_shared_release(rt_linux_counters_shared *sh) {
  free(sh->buf);
  sh->buf = NULL;
}

int rt_linux_counters_sample(rt_linux_counters *k, rt_sample *s, bool lean, cs_err *err) {
  /* Its own mapping (above the serving process's mmap threshold, not zeroed by hand): only the pages
   * the largest file used are ever resident. */
  if (!k->sh->buf && !(k->sh->buf = malloc(RT_LINUX_COUNTERS_BUF))) return cs_err_sys(err, ENOMEM, "counters");
  memset(s, 0, sizeof *s);
  s->timestamp_ns = rt_linux_clock_ns(CLOCK_REALTIME);
  k->gone = false;
  s->kind = k->version == 2 ? RT_SAMPLE_CGROUP_V2 : RT_SAMPLE_CGROUP_V1;
  if (k->version == 2)
    sample_v2(k, s, k->sh->buf, RT_LINUX_COUNTERS_BUF);
  else
    sample_v1(k, s, k->sh->buf, RT_LINUX_COUNTERS_BUF, lean); /* v2 has nothing a lean sample could skip */
  /* No separate liveness probe: the reads themselves tell (ENODEV once the cgroup is removed). */
  if (check_alive(k, err) < 0) return -1;
  remember_usage(k, s->cpu.usage_ns, s->memory.usage);
  if (k->net_fd >= 0) {
    cs_err nerr;
    if (net_counters_read(k->net_fd, s->net, RT_MAX_IFACES, &s->n_net, &nerr) != 0) s->n_net = 0;
  }
  return 0;
}
