/* cshimctl stats: a docker-stats-like view of containers' counters.
 *
 * Rates need two samples, so the first output comes one interval after the first sample. Samples come
 * from one function, stats_sample(): today a Stats RPC per container per tick; the push stream
 * cshim.stats.v1.Stats/Watch (another issue) will feed the same cli_sample through it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli_client.h"
#include "cli_cmd.h"
#include "cli_parse.h"
#include "cli_stats_calc.h"
#include "google/protobuf/any.pb-c.h"

typedef struct stats_opts {
  const char *interval, *count;
  bool watch, json;
} stats_opts;

#define O(f) offsetof(stats_opts, f)
static const cli_opt stats_opts_table[] = {
  {"watch", 'w', CLI_OPT_FLAG, O(watch), NULL, "keep sampling every interval until interrupted"},
  {"interval", 0, CLI_OPT_STRING, O(interval), "DURATION", "time between samples (default 1s)"},
  {"count", 'c', CLI_OPT_STRING, O(count), "N", "with --watch: stop after N outputs"},
  {"json", 0, CLI_OPT_FLAG, O(json), NULL, "one JSON object per container per sample"},
};
#undef O

static const cli_cmd_spec stats_spec = {
  .name = "stats",
  .usage = "[ID...] [--watch] [--interval 1s] [--json] [--address SOCKET --namespace NS]",
  .summary = "Show CPU %, memory, block and network I/O and pids of containers (all when no ID is given).",
  .opts = stats_opts_table, .nopts = sizeof stats_opts_table / sizeof stats_opts_table[0],
  .min_pos = 0, .max_pos = -1, .flags = CLI_ACCEPT_ADDRESS,
};

typedef struct stats_target {
  cli_target t;
  cli_conn conn;
  bool connected, gone, have_prev;
  cli_sample prev;
} stats_target;

static int64_t clock_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The source of samples (see the top of the file). */
static int stats_sample(stats_target *st, cli_sample *out, cs_err *err) {
  Containerd__Task__V2__StatsRequest req = CONTAINERD__TASK__V2__STATS_REQUEST__INIT;
  req.id = st->t.meta.id;
  Containerd__Task__V2__StatsResponse *r = NULL;
  if (cli_task_call(&st->conn, "Stats", &req.base, &containerd__task__v2__stats_response__descriptor,
                    (ProtobufCMessage **)&r, CLI_RPC_TIMEOUT_NS, err) < 0)
    return -1;
  out->mono_ns = clock_ns(CLOCK_MONOTONIC);
  out->wall_ns = clock_ns(CLOCK_REALTIME);
  int rc = r->stats ? cli_stats_decode(r->stats->type_url, r->stats->value.data, r->stats->value.len, out, err)
                    : cs_err_set(err, CS_UNIMPLEMENTED, "stats: the shim sent no metrics");
  containerd__task__v2__stats_response__free_unpacked(r, NULL);
  return rc;
}

static uint64_t host_memory(void) {
  FILE *f = fopen("/proc/meminfo", "re");
  if (!f) return 0;
  char line[256];
  unsigned long long kb = 0;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "MemTotal: %llu kB", &kb) == 1) break;
  fclose(f);
  return (uint64_t)kb * 1024;
}

static void sleep_until(int64_t mono_ns) {
  int64_t left = mono_ns - clock_ns(CLOCK_MONOTONIC);
  if (left <= 0) return;
  struct timespec ts = {(time_t)(left / 1000000000), (long)(left % 1000000000)};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

/* The containers to watch: those named, or every one in the state dir. */
static int open_targets(cli_env *e, cli_parsed *p, stats_target **out, size_t *n) {
  char **ids = p->pos;
  size_t nids = p->npos;
  char **listed = NULL;
  size_t nlisted = 0;
  cs_err err;
  if (nids == 0) {
    if (e->g.address) {
      err.code = CS_INVALID_ARGUMENT;
      snprintf(err.msg, sizeof err.msg, "--address needs the container id(s) to show");
      cli_report("stats", &err);
      return -1;
    }
    if (cli_state_list(e->g.state_dir, &listed, &nlisted, &err) < 0) {
      cli_report("stats", &err);
      return -1;
    }
    ids = listed;
    nids = nlisted;
  }
  stats_target *ts = calloc(nids ? nids : 1, sizeof *ts);
  int rc = ts ? 0 : -1;
  for (size_t i = 0; ts && i < nids; i++) {
    /* Of "all", a container still being created has no shim to ask yet. */
    if (listed && (cli_target_resolve(&e->g, ids[i], &ts[i].t, &err) < 0 || !ts[i].t.meta.address[0])) {
      ts[i].gone = true;
      continue;
    }
    if (cli_target_open(&e->g, ids[i], e->loop, &ts[i].t, &ts[i].conn, &err) < 0) {
      cli_report("stats", &err);
      ts[i].gone = true;
      /* A container named on the command line must be there; of "all", skip the ones whose shim is gone. */
      if (!listed) rc = -1;
      continue;
    }
    ts[i].connected = true;
  }
  cli_state_list_free(listed, nlisted);
  *out = ts;
  *n = nids;
  return rc;
}

static void emit(const stats_opts *o, stats_target *ts, size_t n, const cli_sample *cur, uint64_t host_mem,
                 bool tty) {
  if (!o->json) {
    if (o->watch && tty) fputs("\033[2J\033[H", stdout);
    printf("%s\n", CLI_STATS_HEADER);
  }
  for (size_t i = 0; i < n; i++) {
    if (ts[i].gone) continue;
    if (o->json) {
      json_t *j = cli_stats_json(ts[i].t.meta.id, ts[i].have_prev ? &ts[i].prev : NULL, &cur[i], host_mem);
      char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
      if (s) printf("%s\n", s);
      free(s);
      json_decref(j);
    } else {
      char row[512];
      cli_stats_row(ts[i].t.meta.id, ts[i].have_prev ? &ts[i].prev : NULL, &cur[i], host_mem, row, sizeof row);
      printf("%s\n", row);
    }
  }
  fflush(stdout);
}

static int stats_loop(const stats_opts *o, stats_target *ts, size_t n, uint64_t interval_ns, unsigned long count) {
  uint64_t host_mem = host_memory();
  bool tty = isatty(STDOUT_FILENO);
  if (n == 0) {
    /* Nothing to show: the table's header says so. */
    if (!o->json) printf("%s\n", CLI_STATS_HEADER);
    return 0;
  }
  cli_sample *cur = calloc(n ? n : 1, sizeof *cur);
  if (!cur) return CLI_EXIT_FAIL;
  int status = 0;
  unsigned long outputs = 0;
  int64_t next = clock_ns(CLOCK_MONOTONIC);
  for (bool first = true;; first = false) {
    size_t live = 0;
    for (size_t i = 0; i < n; i++) {
      if (ts[i].gone) continue;
      cs_err err;
      if (stats_sample(&ts[i], &cur[i], &err) < 0) {
        cli_report("stats", &err);
        ts[i].gone = true;
        status = CLI_EXIT_FAIL;
        continue;
      }
      live++;
    }
    if (live == 0) break;
    if (!first) {
      emit(o, ts, n, cur, host_mem, tty);
      if (!o->watch || (count && ++outputs >= count)) break;
    }
    for (size_t i = 0; i < n; i++) {
      if (ts[i].gone) continue;
      ts[i].prev = cur[i];
      ts[i].have_prev = true;
    }
    next += (int64_t)interval_ns;
    sleep_until(next);
  }
  free(cur);
  return status;
}

static int stats_cmd(cli_env *e, int argc, char **argv) {
  stats_opts o = {0};
  cli_parsed p;
  int status;
  if (cli_parse_or_exit(&stats_spec, &o, e, argc, argv, &p, CLI_EXIT_USAGE, &status)) return status;
  cs_err err;
  uint64_t interval = 1000000000;
  unsigned long count = 0;
  if (o.interval && cli_parse_duration(o.interval, &interval, &err) < 0) {
    cli_report("stats", &err);
    cli_args_free(&stats_spec, &o, &p);
    return CLI_EXIT_USAGE;
  }
  if (o.count) {
    char *end;
    count = strtoul(o.count, &end, 10);
    if (*end || !*o.count) {
      fprintf(stderr, "cshimctl: stats: invalid --count \"%s\"\n", o.count);
      cli_args_free(&stats_spec, &o, &p);
      return CLI_EXIT_USAGE;
    }
  }
  stats_target *ts = NULL;
  size_t n = 0;
  status = CLI_EXIT_FAIL;
  if (open_targets(e, &p, &ts, &n) == 0) status = stats_loop(&o, ts, n, interval, count);
  for (size_t i = 0; ts && i < n; i++)
    if (ts[i].connected) cli_conn_close(&ts[i].conn);
  free(ts);
  cli_args_free(&stats_spec, &o, &p);
  return status;
}

const cli_command cli_cmd_stats = {&stats_spec, stats_cmd};
