/* cshimctl stats: a docker-stats-like view of containers' counters.
 *
 * Every source fills the same cli_sample (cli_stats_calc.h) through got_sample(): the Stats RPC, once per
 * tick per container, or with --watch cshim's push stream cshim.stats.v1.Stats/Watch (falling back to
 * the RPC on shims without it). One loop drives all containers; an output is printed once each has a new
 * sample. Rates need two samples, so the first output comes one interval after the first sample. */
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
#include "cshim/stats.pb-c.h"
#include "google/protobuf/any.pb-c.h"

#define CLI_STATS_SERVICE "cshim.stats.v1.Stats"

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

/* Where a target's samples come from. */
typedef enum stats_src { SRC_POLL, SRC_WATCH } stats_src;

typedef struct stats_run stats_run;

typedef struct stats_target {
  stats_run *run;
  cli_target t;
  cli_conn conn;
  bool connected, gone;
  stats_src src;
  bool inflight;          /* SRC_POLL: a Stats call is out */
  bool got_any;           /* SRC_WATCH: at least one sample came (else Unimplemented means: poll) */
  uint32_t stream;
  bool fresh;             /* a sample came since the last output */
  cli_sample cur, prev;
  bool have_prev;
} stats_target;

struct stats_run {
  uv_loop_t *loop;
  const stats_opts *o;
  stats_target *ts;
  size_t n;
  uint64_t interval_ns;
  uv_timer_t tick;        /* drives the SRC_POLL targets */
  bool closing;
  int status;
};

static int64_t clock_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void target_failed(stats_target *st, const char *msg) {
  if (st->gone) return;
  st->gone = true;
  /* msg may be a shim's long message: the prefix goes first, the message is cut to fit. */
  cs_err err = {.code = CS_UNAVAILABLE};
  int n = snprintf(err.msg, sizeof err.msg, "container %s: ", st->t.meta.id);
  if (n > 0 && (size_t)n < sizeof err.msg) snprintf(err.msg + n, sizeof err.msg - (size_t)n, "%.*s",
                                                  (int)(sizeof err.msg - (size_t)n - 1), msg);
  cli_report("stats", &err);
  st->run->status = CLI_EXIT_FAIL;
}

static void got_sample(stats_target *st, const cli_sample *s) {
  st->cur = *s;
  st->fresh = true;
}

/* ---- source 1: the Stats RPC, one call per target per tick (any task-API shim). */

static void on_stats_reply(void *data, int code, const char *msg, const uint8_t *payload, size_t len) {
  stats_target *st = data;
  st->inflight = false;
  if (st->run->closing) return;
  if (code != CS_OK) {
    target_failed(st, msg && *msg ? msg : cs_code_name(code));
    return;
  }
  Containerd__Task__V2__StatsResponse *r = containerd__task__v2__stats_response__unpack(NULL, len, payload);
  cli_sample s = {.mono_ns = clock_ns(CLOCK_MONOTONIC), .wall_ns = clock_ns(CLOCK_REALTIME)};
  cs_err err;
  int rc = !r ? cs_err_set(&err, CS_DATA_LOSS, "stats: the reply does not decode")
           : r->stats ? cli_stats_decode(r->stats->type_url, r->stats->value.data, r->stats->value.len, &s, &err)
                      : cs_err_set(&err, CS_UNIMPLEMENTED, "stats: the shim sent no metrics");
  if (r) containerd__task__v2__stats_response__free_unpacked(r, NULL);
  if (rc < 0) target_failed(st, err.msg);
  else got_sample(st, &s);
}

static void poll_one(stats_target *st) {
  if (st->gone || st->inflight || st->src != SRC_POLL) return;
  Containerd__Task__V2__StatsRequest req = CONTAINERD__TASK__V2__STATS_REQUEST__INIT;
  req.id = st->t.meta.id;
  cs_err err;
  if (cli_task_call_async(&st->conn, "Stats", &req.base, CLI_RPC_TIMEOUT_NS, on_stats_reply, st, &err) < 0)
    target_failed(st, err.msg);
  else st->inflight = true;
}

static void on_tick(uv_timer_t *t) {
  stats_run *run = t->data;
  for (size_t i = 0; i < run->n; i++) poll_one(&run->ts[i]);
}

/* ---- source 2: cshim's push stream cshim.stats.v1.Stats/Watch (--watch; one sample per interval, read
 * by the shim from kept-open cgroup files). A shim without it (runc-v2) answers Unimplemented: poll. */

static void on_watch(void *data, bool last, int code, const char *msg, const uint8_t *payload, size_t len) {
  stats_target *st = data;
  if (st->run->closing) return;
  if (!last) {
    cli_sample s;
    cli_watch_info info;
    cs_err err;
    if (cli_stats_decode_watch(payload, len, &s, &info, &err) < 0) {
      target_failed(st, err.msg);
      ttrpc_client_stream_cancel(st->conn.client, st->stream);
      return;
    }
    if (strcmp(info.id, st->t.meta.id) != 0) return;
    if (info.gone) {
      target_failed(st, "deleted");
      return;
    }
    st->got_any = true;
    got_sample(st, &s);
    return;
  }
  if (code == CS_UNIMPLEMENTED && !st->got_any) {
    st->src = SRC_POLL;
    poll_one(st);
    return;
  }
  if (code == CS_OK || code == CS_CANCELLED) {
    if (!st->gone) target_failed(st, "the shim ended the stats stream");
    return;
  }
  target_failed(st, msg && *msg ? msg : cs_code_name(code));
}

static void watch_one(stats_target *st) {
  Cshim__Stats__V1__WatchRequest req = CSHIM__STATS__V1__WATCH_REQUEST__INIT;
  char *ids[1] = {st->t.meta.id};
  req.n_ids = 1;
  req.ids = ids;
  uint64_t ms = st->run->interval_ns / 1000000;
  req.interval_ms = ms < 10 ? 10 : ms;
  uint8_t buf[256];
  size_t len = cshim__stats__v1__watch_request__pack(&req, buf);
  cs_err err;
  if (ttrpc_client_stream(st->conn.client, CLI_STATS_SERVICE, "Watch", buf, len, &st->conn.md, 1, on_watch, st,
                          &st->stream, &err) < 0) {
    st->src = SRC_POLL;
    poll_one(st);
  }
}

/* ---- the rounds: an output once every live target has a sample newer than the last output. */

/* The containers to watch: those named, or every one in the state dir. */
static int open_targets(cli_env *e, cli_parsed *p, stats_run *run) {
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
    ts[i].run = run;
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
  run->ts = ts;
  run->n = nids;
  return rc;
}

static void emit(stats_run *run, uint64_t host_mem, bool tty) {
  const stats_opts *o = run->o;
  if (!o->json) {
    if (o->watch && tty) fputs("\033[2J\033[H", stdout);
    printf("%s\n", CLI_STATS_HEADER);
  }
  for (size_t i = 0; i < run->n; i++) {
    stats_target *st = &run->ts[i];
    if (st->gone) continue;
    const cli_sample *prev = st->have_prev ? &st->prev : NULL;
    if (o->json) {
      json_t *j = cli_stats_json(st->t.meta.id, prev, &st->cur, host_mem);
      char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
      if (s) printf("%s\n", s);
      free(s);
      json_decref(j);
    } else {
      char row[512];
      cli_stats_row(st->t.meta.id, prev, &st->cur, host_mem, row, sizeof row);
      printf("%s\n", row);
    }
  }
  fflush(stdout);
}

/* Runs the loop until every live target has a fresh sample; false when none is left. */
static bool next_round(stats_run *run) {
  for (;;) {
    size_t live = 0, fresh = 0;
    for (size_t i = 0; i < run->n; i++) {
      if (run->ts[i].gone) continue;
      live++;
      fresh += run->ts[i].fresh;
    }
    if (live == 0) return false;
    if (fresh == live) return true;
    uv_run(run->loop, UV_RUN_ONCE);
  }
}

static void stats_loop(stats_run *run, unsigned long count) {
  const stats_opts *o = run->o;
  uint64_t host_mem = uv_get_total_memory();
  bool tty = isatty(STDOUT_FILENO);
  if (run->n == 0) {
    /* Nothing to show: the table's header says so. */
    if (!o->json) printf("%s\n", CLI_STATS_HEADER);
    return;
  }
  uv_timer_init(run->loop, &run->tick);
  run->tick.data = run;
  for (size_t i = 0; i < run->n; i++) {
    stats_target *st = &run->ts[i];
    st->src = SRC_POLL;
    if (!st->gone && o->watch) {
      st->src = SRC_WATCH;
      watch_one(st);
    }
  }
  uint64_t ms = run->interval_ns / 1000000;
  uv_timer_start(&run->tick, on_tick, 0, ms ? ms : 1);
  /* Rates need two samples: the first round only sets them up. */
  for (unsigned long outputs = 0; next_round(run);) {
    bool first = true;
    for (size_t i = 0; i < run->n; i++) first = first && !run->ts[i].have_prev;
    if (!first) {
      emit(run, host_mem, tty);
      if (!o->watch || (count && ++outputs >= count)) break;
    }
    for (size_t i = 0; i < run->n; i++) {
      stats_target *st = &run->ts[i];
      st->prev = st->cur;
      st->have_prev = true;
      st->fresh = false;
    }
  }
  uv_timer_stop(&run->tick);
  uv_close((uv_handle_t *)&run->tick, NULL);
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
  stats_run run = {.loop = e->loop, .o = &o, .interval_ns = interval};
  status = CLI_EXIT_FAIL;
  if (open_targets(e, &p, &run) == 0) {
    stats_loop(&run, count);
    status = run.status;
  }
  run.closing = true;
  for (size_t i = 0; run.ts && i < run.n; i++)
    if (run.ts[i].connected) cli_conn_close(&run.ts[i].conn);
  uv_run(e->loop, UV_RUN_NOWAIT);
  free(run.ts);
  cli_args_free(&stats_spec, &o, &p);
  return status;
}

const cli_command cli_cmd_stats = {&stats_spec, stats_cmd};
