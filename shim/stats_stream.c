#include "stats_stream.h"

#include <pb_decode.h>
#include <pb_encode.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cs_log.h"
#include "cshim/stats.pb.h"
#include "task_service_int.h"

#define WATCH_MIN_MS 10
#define WATCH_MAX_MS 3600000

typedef struct stats_watch {
  struct stats_watch *next, **pprev;
  task_service *svc;
  ttrpc_call *call;
  uv_timer_t timer;
  cshim_stats_v1_WatchRequest req;   /* ids still watched (all tasks if none were named) */
  bool all;
  bool ended;                        /* finished (the call is gone); the struct lives until the timer closes
                                      * and every read it started has answered */
  bool end_when_read;                /* the last tick is done: end once the reads in flight have answered */
  unsigned refs;                     /* the timer until closed + reads in flight */
  unsigned reading;                  /* reads in flight */
  uint32_t left;                     /* ticks left; 0 = unbounded */
  uint64_t seq, dropped;
  cshim_stats_v1_Sample msg;         /* scratch for encoding */
  uint8_t buf[cshim_stats_v1_Sample_size];
} stats_watch;

/* Streams hang off the service so they can be counted and closed with it. */
static stats_watch **watch_list(task_service *svc) { return (stats_watch **)&svc->streams; }

static void watch_unref(stats_watch *w) {
  if (--w->refs == 0) free(w);
}

static void watch_closed(uv_handle_t *h) { watch_unref(h->data); }

static void watch_end(stats_watch *w, int code, const char *msg) {
  /* A write failing inside a tick tears the connection down and cancels the call (watch_on_cancel ends
   * the watch) while the tick still runs: end once, and never touch the call after. */
  if (w->ended) return;
  w->ended = true;
  ttrpc_stream_cork(w->call, false); /* a tick may end the stream while corked */
  if (w->pprev) {
    *w->pprev = w->next;
    if (w->next) w->next->pprev = w->pprev;
    w->pprev = NULL;
  }
  ttrpc_call_set_cancel(w->call, NULL, NULL);
  if (code == CS_OK) ttrpc_stream_close(w->call);
  else ttrpc_call_reply_error(w->call, code, "%s", msg);
  uv_timer_stop(&w->timer);
  uv_close((uv_handle_t *)&w->timer, watch_closed);
}

static void watch_on_cancel(ttrpc_call *call, void *data) {
  stats_watch *w = data;
  CS_DEBUG("stats watch closed by the client");
  watch_end(w, CS_CANCELLED, "cancelled");
}

static void fill(cshim_stats_v1_Sample *m, const rt_sample *s) {
  m->has_cpu = true;
  m->cpu.usage_ns = s->cpu.usage_ns;
  m->cpu.user_ns = s->cpu.user_ns;
  m->cpu.kernel_ns = s->cpu.kernel_ns;
  m->cpu.periods = s->cpu.periods;
  m->cpu.throttled_periods = s->cpu.throttled_periods;
  m->cpu.throttled_ns = s->cpu.throttled_ns;
  m->has_memory = true;
  m->memory.usage = s->memory.usage;
  m->memory.limit = s->memory.limit;
  m->memory.max_usage = s->memory.max_usage;
  m->memory.cache = s->memory.cache ? s->memory.cache : s->memory.file;
  m->memory.rss = s->memory.rss ? s->memory.rss : s->memory.anon;
  m->memory.swap = s->memory.swap_usage;
  m->memory.failcnt = s->memory.failcnt;
  m->memory.oom_kill = s->memory.oom_kill ? s->memory.oom_kill : s->memory.ev_oom_kill;
  m->memory.inactive_file = s->memory.total_inactive_file ? s->memory.total_inactive_file : s->memory.inactive_file;
  uint32_t nb = s->blkio.n < 32 ? s->blkio.n : 32;
  m->blkio_count = (pb_size_t)nb;
  for (uint32_t i = 0; i < nb; i++) {
    m->blkio[i].major = s->blkio.bytes[i].major;
    m->blkio[i].minor = s->blkio.bytes[i].minor;
    m->blkio[i].read_bytes = s->blkio.bytes[i].read;
    m->blkio[i].write_bytes = s->blkio.bytes[i].write;
    m->blkio[i].read_ops = s->blkio.ops[i].read;
    m->blkio[i].write_ops = s->blkio.ops[i].write;
  }
  m->has_pids = true;
  m->pids.current = s->pids.current;
  m->pids.limit = s->pids.limit;
  uint32_t nn = s->n_net < 16 ? s->n_net : 16;
  m->net_count = (pb_size_t)nn;
  for (uint32_t i = 0; i < nn; i++) {
    const rt_net_iface *f = &s->net[i];
    cshim_stats_v1_NetIface *t = &m->net[i];
    /* An HNS endpoint is named by its whole id (36 chars), which rt_net_iface.name only holds in part. */
    snprintf(t->name, sizeof t->name, "%s", f->endpoint_id[0] ? f->endpoint_id : f->name);
    t->rx_bytes = f->rx_bytes, t->rx_packets = f->rx_packets, t->rx_errors = f->rx_errors, t->rx_dropped = f->rx_dropped;
    t->tx_bytes = f->tx_bytes, t->tx_packets = f->tx_packets, t->tx_errors = f->tx_errors, t->tx_dropped = f->tx_dropped;
  }
  if (s->kind == RT_SAMPLE_WINDOWS) {
    m->has_windows = true;
    m->windows.commit_bytes = s->windows.commit_bytes;
    m->windows.commit_peak_bytes = s->windows.commit_peak_bytes;
    m->windows.private_working_set_bytes = s->windows.private_working_set_bytes;
    m->windows.read_bytes = s->windows.read_size_bytes;
    m->windows.write_bytes = s->windows.write_size_bytes;
    m->windows.read_count = s->windows.read_count_normalized;
    m->windows.write_count = s->windows.write_count_normalized;
  }
}

/* Per task, shared by every stream: the last full read, and when it was made. CPU and memory usage are read
 * every tick (the backend's quick read); the rest (memory.stat, block I/O, network, throttling, pids: the
 * expensive or slow-moving reads) at most once per STREAM_FULL_NS. What a full read brings is kept encoded:
 * the Cpu and Memory submessages without their usage (field 1 of each), and fields 8-11 (blkio, pids, net,
 * windows: most of a Sample's bytes and nanopb's work). A tick writes fields 1-5, then each submessage with
 * its usage in front of the rest (where field 1 goes), then fields 8-11: the bytes pb_encode would write for
 * the whole Sample (test_task_service checks that), from a few varints and two copies. No field is sent
 * twice, so a decoder needs no merge of repeated submessages (protobuf-c, for one, does not merge proto3
 * scalars). */
#define STREAM_FULL_NS 2000000000LL
/* A task that has not run since its last full read waits up to this long for the next one: what a full read
 * adds can then only have moved by the kernel's work for it (reclaim, packets received), and a pod's idle
 * tasks are most of its tasks. */
#define STREAM_IDLE_FULL_NS 10000000000LL

typedef struct stream_cache {
  int64_t full_at_ns;
  int64_t full_ts_ns;           /* the full read's own timestamp */
  bool reading;                 /* a full read is in flight (a backend that answers later: HCS) */
  uint64_t full_cpu_ns;         /* CPU usage at the full read */
  uint64_t cpu_ns, memory;      /* usage as of the last tick */
  uint8_t cpu_len, memory_len;
  uint8_t cpu[cshim_stats_v1_Cpu_size];       /* Cpu without usage_ns, encoded */
  uint8_t mem[cshim_stats_v1_Memory_size];    /* Memory without usage, encoded */
  size_t rest_len, rest_cap;
  uint8_t *rest;                /* fields 8-11, encoded */
} stream_cache;

void stats_stream_cache_free(void *cache) {
  stream_cache *c = cache;
  if (c) free(c->rest);
  free(c);
}

/* A submessage's fields but the first into out; returns the length, or -1. */
static int encode_rest_of(const pb_msgdesc_t *fields, const void *msg, uint8_t *out, size_t cap) {
  pb_ostream_t os = pb_ostream_from_buffer(out, cap);
  if (!pb_encode(&os, fields, msg)) {
    CS_ERROR("stats watch: encode: %s", PB_GET_ERROR(&os));
    return -1;
  }
  return (int)os.bytes_written;
}

/* A full read into the task's cache (encoded as a tick writes it). */
static int cache_update(stats_watch *w, stream_cache *c, const rt_sample *sample, cs_err *err) {
  cshim_stats_v1_Sample *m = &w->msg;
  memset(m, 0, sizeof *m);
  fill(m, sample);
  c->cpu_ns = m->cpu.usage_ns;
  c->memory = m->memory.usage;
  m->cpu.usage_ns = 0;  /* proto3: a zero is not written, so what is encoded starts at field 2 */
  m->memory.usage = 0;
  int cl = encode_rest_of(cshim_stats_v1_Cpu_fields, &m->cpu, c->cpu, sizeof c->cpu);
  int ml = encode_rest_of(cshim_stats_v1_Memory_fields, &m->memory, c->mem, sizeof c->mem);
  if (cl < 0 || ml < 0) return cs_err_set(err, CS_INTERNAL, "stats watch: encode failed");
  c->cpu_len = (uint8_t)cl;
  c->memory_len = (uint8_t)ml;
  m->has_cpu = m->has_memory = false; /* written by every tick */
  pb_ostream_t os = pb_ostream_from_buffer(w->buf, sizeof w->buf);
  if (!pb_encode(&os, cshim_stats_v1_Sample_fields, m))
    return cs_err_set(err, CS_INTERNAL, "stats watch: encode: %s", PB_GET_ERROR(&os));
  if (os.bytes_written > c->rest_cap) {
    uint8_t *r = realloc(c->rest, os.bytes_written);
    if (!r) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
    c->rest = r;
    c->rest_cap = os.bytes_written;
  }
  memcpy(c->rest, w->buf, os.bytes_written);
  c->rest_len = os.bytes_written;
  c->full_at_ns = task_now_ns();
  c->full_ts_ns = sample->timestamp_ns;
  c->full_cpu_ns = c->cpu_ns;
  return 0;
}

/* A full read through the backend's asynchronous Stats. Linux answers inside the call (the tick then sends
 * the sample as it always did); HCS answers on a later turn, and the answer is sent on its own, so a task
 * whose read hangs holds up no other task's sample. */
enum { READ_PENDING, READ_OK, READ_FAILED };

typedef struct full_read {
  rt_stats_req req;
  rt_sample sample;
  stats_watch *w;
  int *outcome;                 /* the starter's while the start call runs; NULL after */
  char id[];
} full_read;

static int send_sample(stats_watch *w, stream_cache *c, const char *id, int64_t ts);

static void full_done(rt_stats_req *req, const cs_err *rerr) {
  full_read *r = req->data;
  stats_watch *w = r->w;
  task_container *ct = task_find_container(w->svc, r->id);
  stream_cache *c = ct ? ct->stream_cache : NULL;
  cs_err err;
  int rc = -1;
  if (c) c->reading = false;
  if (rerr) err = *rerr;
  else if (!c) cs_err_set(&err, CS_NOT_FOUND, "task %s: gone", r->id);
  else rc = cache_update(w, c, &r->sample, &err);
  if (rc < 0) CS_DEBUG("stats watch %s: %s", r->id, err.msg);
  w->reading--;
  if (r->outcome) {
    *r->outcome = rc == 0 ? READ_OK : READ_FAILED; /* the tick that started it sends it */
  } else if (!w->ended) {
    int sent = rc == 0 ? send_sample(w, c, r->id, c->full_ts_ns) : 0;
    if (sent < 0) watch_end(w, CS_CANCELLED, "stream closed");
    else if (sent == 1 && w->dropped++ == 0) CS_WARN("stats watch: client is reading too slowly, dropping samples");
    if (!w->ended && w->end_when_read && w->reading == 0) watch_end(w, CS_OK, NULL);
  }
  free(r);
  watch_unref(w);
}

/* READ_OK: the cache holds the new read; READ_PENDING: it comes later; -1: failed (logged). */
static int start_full_read(stats_watch *w, task_container *ct, stream_cache *c) {
  size_t idlen = strlen(ct->id);
  full_read *r = calloc(1, sizeof *r + idlen + 1);
  if (!r) {
    CS_DEBUG("stats watch %s: out of memory", ct->id);
    return -1;
  }
  memcpy(r->id, ct->id, idlen + 1);
  r->w = w;
  r->req.data = r;
  r->req.out = &r->sample;
  r->req.lean = true;
  int outcome = READ_PENDING;
  r->outcome = &outcome;
  w->refs++;
  w->reading++;
  c->reading = true;
  cs_err err;
  if (task_stats_read(w->svc, ct->id, &r->req, full_done, &err) < 0) {
    CS_DEBUG("stats watch %s: %s", ct->id, err.msg);
    c->reading = false;
    w->reading--;
    w->refs--; /* the timer's reference is still held: never the last */
    free(r);
    return -1;
  }
  if (outcome != READ_PENDING) return outcome == READ_OK ? READ_OK : -1; /* answered inside: r is gone */
  r->outcome = NULL;
  return READ_PENDING;
}

/* The task's cache brought up to this tick (a quick read, or a full one when due); *ts its timestamp. */
/* NULL with *later: the sample goes out when its read answers (full_done); NULL with err: no sample. */
static stream_cache *sample_for(stats_watch *w, task_container *ct, int64_t *ts, bool *later, cs_err *err) {
  rt_backend *rt = w->svc->rt;
  stream_cache *c = ct->stream_cache;
  if (!c) {
    c = ct->stream_cache = calloc(1, sizeof *c);
    if (!c) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory"), NULL;
  }
  int64_t age = c->full_at_ns ? task_now_ns() - c->full_at_ns : INT64_MAX;
  if (age < STREAM_IDLE_FULL_NS && rt->ops->stats_quick) {
    rt_quick q;
    if (rt->ops->stats_quick(rt, ct->id, &q, err) < 0) return NULL;
    if (age < STREAM_FULL_NS || q.cpu_usage_ns == c->full_cpu_ns) {
      *ts = q.timestamp_ns;
      c->cpu_ns = q.cpu_usage_ns;
      c->memory = q.memory_usage;
      return c;
    }
  }
  /* A read still in flight answers for this tick when it comes; an answered one is sent now. */
  int rc = c->reading ? READ_PENDING : start_full_read(w, ct, c);
  if (rc == READ_OK) {
    *ts = c->full_ts_ns;
    return c;
  }
  *later = true;
  return NULL;
}

static bool put_varint_field(pb_ostream_t *os, uint32_t tag, uint64_t v) {
  return v == 0 || (pb_encode_tag(os, PB_WT_VARINT, tag) && pb_encode_varint(os, v));
}

/* A submessage whose field 1 is a varint: field 1 (unless 0), then the rest as encoded without it. */
static bool put_usage_sub(pb_ostream_t *os, uint32_t tag, uint64_t usage, const uint8_t *rest, size_t rest_len) {
  pb_ostream_t sizing = PB_OSTREAM_SIZING;
  if (!put_varint_field(&sizing, 1, usage)) return false;
  return pb_encode_tag(os, PB_WT_STRING, tag) && pb_encode_varint(os, sizing.bytes_written + rest_len) &&
         put_varint_field(os, 1, usage) && pb_write(os, rest, rest_len);
}

/* Returns -1 when the stream is gone, 1 when the client is behind, 0 when sent (or nothing to send). */
/* ct NULL: the task is gone, say so. */
static int send_one(stats_watch *w, task_container *ct, const char *id) {
  stream_cache *c = NULL;
  int64_t ts = 0;
  bool later = false;
  cs_err err;
  err.msg[0] = '\0';
  if (ct && !(c = sample_for(w, ct, &ts, &later, &err))) {
    if (err.msg[0]) CS_DEBUG("stats watch %s: %s", id, err.msg);
    return 0;
  }
  if (!c) ts = task_now_ns();
  return send_sample(w, c, id, ts);
}

/* One Sample: c NULL says the task is gone. */
static int send_sample(stats_watch *w, stream_cache *c, const char *id, int64_t ts) {
  pb_ostream_t os = pb_ostream_from_buffer(w->buf, sizeof w->buf);
  size_t idlen = strnlen(id, sizeof w->msg.id - 1);
  bool ok = (idlen == 0 || (pb_encode_tag(&os, PB_WT_STRING, cshim_stats_v1_Sample_id_tag) &&
                            pb_encode_string(&os, (const pb_byte_t *)id, idlen))) &&
            put_varint_field(&os, cshim_stats_v1_Sample_timestamp_ns_tag, (uint64_t)ts) &&
            put_varint_field(&os, cshim_stats_v1_Sample_seq_tag, w->seq) &&
            put_varint_field(&os, cshim_stats_v1_Sample_dropped_tag, w->dropped) &&
            put_varint_field(&os, cshim_stats_v1_Sample_task_gone_tag, c == NULL);
  if (ok && c)
    ok = put_usage_sub(&os, cshim_stats_v1_Sample_cpu_tag, c->cpu_ns, c->cpu, c->cpu_len) &&
         put_usage_sub(&os, cshim_stats_v1_Sample_memory_tag, c->memory, c->mem, c->memory_len) &&
         pb_write(&os, c->rest, c->rest_len);
  if (!ok) {
    CS_ERROR("stats watch: encode: %s", PB_GET_ERROR(&os));
    return 0;
  }
  return ttrpc_stream_send(w->call, w->buf, os.bytes_written);
}

static void watch_tick(uv_timer_t *t) {
  stats_watch *w = t->data;
  if (w->ended) return;
  task_service *svc = w->svc;
  w->seq++;
  bool behind = false;
  ttrpc_stream_cork(w->call, true); /* one write for the whole tick */
  if (w->all) {
    for (task_container *ct = svc->containers; ct && !behind; ct = ct->next) {
      int rc = send_one(w, ct, ct->id);
      if (w->ended) return;
      if (rc < 0) return watch_end(w, CS_CANCELLED, "stream closed");
      behind = rc == 1;
    }
  } else {
    for (pb_size_t i = 0; i < w->req.ids_count && !behind;) {
      const char *id = w->req.ids[i];
      task_container *ct = task_find_container(svc, id);
      bool gone = ct == NULL;
      int rc = send_one(w, ct, id);
      if (w->ended) return;
      if (rc < 0) return watch_end(w, CS_CANCELLED, "stream closed");
      behind = rc == 1;
      if (gone && !behind) {
        memmove(&w->req.ids[i], &w->req.ids[i + 1], sizeof w->req.ids[0] * (w->req.ids_count - i - 1));
        w->req.ids_count--;
      } else {
        i++;
      }
    }
    if (w->req.ids_count == 0) return watch_end(w, CS_OK, NULL);
  }
  ttrpc_stream_cork(w->call, false);
  if (w->ended) return; /* the flush failed and the connection is gone */
  if (behind) {
    /* The connection has too much unsent data: skip the rest of this tick rather than queue it. */
    if (w->dropped++ == 0) CS_WARN("stats watch: client is reading too slowly, dropping samples");
  }
  if (w->left && --w->left == 0) {
    if (w->reading == 0) return watch_end(w, CS_OK, NULL);
    w->end_when_read = true; /* the last tick's deferred samples still go out */
    uv_timer_stop(&w->timer);
  }
}

static void h_watch(ttrpc_call *call, const uint8_t *payload, size_t n, void *data) {
  task_service *svc = data;
  stats_watch *w = calloc(1, sizeof *w);
  if (!w) {
    ttrpc_call_reply_error(call, CS_RESOURCE_EXHAUSTED, "watch: out of memory");
    return;
  }
  pb_istream_t is = pb_istream_from_buffer(payload, n);
  if (!pb_decode(&is, cshim_stats_v1_WatchRequest_fields, &w->req)) {
    ttrpc_call_reply_error(call, CS_INVALID_ARGUMENT, "cshim.stats.v1.WatchRequest: %s", PB_GET_ERROR(&is));
    free(w);
    return;
  }
  for (pb_size_t i = 0; i < w->req.ids_count; i++) {
    if (!task_find_container(svc, w->req.ids[i])) {
      ttrpc_call_reply_error(call, CS_NOT_FOUND, "task %s: not found", w->req.ids[i]);
      free(w);
      return;
    }
  }
  if (!svc->rt) {
    ttrpc_call_reply_error(call, CS_FAILED_PRECONDITION, "no task has been created yet");
    free(w);
    return;
  }
  uint64_t ms = w->req.interval_ms ? w->req.interval_ms : 1000;
  if (ms < WATCH_MIN_MS) ms = WATCH_MIN_MS;
  if (ms > WATCH_MAX_MS) ms = WATCH_MAX_MS;
  w->svc = svc;
  w->call = call;
  w->all = w->req.ids_count == 0;
  w->left = w->req.count;
  w->refs = 1; /* the timer */
  uv_timer_init(svc->cfg.loop, &w->timer);
  w->timer.data = w;
  stats_watch **head = watch_list(svc);
  w->next = *head;
  if (*head) (*head)->pprev = &w->next;
  *head = w;
  w->pprev = head;
  ttrpc_call_set_cancel(call, watch_on_cancel, w);
  /* first sample at once, then one per interval */
  uv_timer_start(&w->timer, watch_tick, 0, ms);
}

static const ttrpc_method stats_methods[] = {{"Watch", h_watch, true}};

int stats_stream_register(task_service *svc, ttrpc_server *srv, cs_err *err) {
  return ttrpc_server_register(srv, STATS_SERVICE_NAME, stats_methods, 1, svc, err);
}

uint64_t stats_stream_dropped(const task_service *svc) {
  uint64_t n = 0;
  for (stats_watch *w = svc->streams; w; w = w->next) n += w->dropped;
  return n;
}

size_t stats_stream_count(const task_service *svc) {
  size_t n = 0;
  for (stats_watch *w = svc->streams; w; w = w->next) n++;
  return n;
}

void stats_stream_close_all(task_service *svc) {
  while (svc->streams) watch_end(svc->streams, CS_UNAVAILABLE, "shim exiting");
}
