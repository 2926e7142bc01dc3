#include "tt_service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tt_util.h"

struct tt_held {
  tt_held *next;
  ttrpc_call *call;
  size_t len;
  uint8_t payload[];
};

static void echo(ttrpc_call *c, const uint8_t *p, size_t n, void *data) { ttrpc_call_reply(c, p, n); }
static void empty(ttrpc_call *c, const uint8_t *p, size_t n, void *data) { ttrpc_call_reply(c, NULL, 0); }

static void fail(ttrpc_call *c, const uint8_t *p, size_t n, void *data) {
  char code[32], msg[256];
  if (tt_any_unpack(p, n, code, sizeof code, msg, sizeof msg) < 0) {
    ttrpc_call_reply_error(c, CS_INVALID_ARGUMENT, "fail: payload is not an Any");
    return;
  }
  ttrpc_call_reply_error(c, atoi(code), "%s", msg);
}

static void errno_(ttrpc_call *c, const uint8_t *p, size_t n, void *data) {
  char num[32];
  cs_err err;
  if (tt_any_unpack(p, n, num, sizeof num, NULL, 0) < 0) {
    ttrpc_call_reply_error(c, CS_INVALID_ARGUMENT, "errno: payload is not an Any");
    return;
  }
  cs_err_sys(&err, atoi(num), "open thing");
  ttrpc_call_reply_err(c, &err);
}

static void deadline(ttrpc_call *c, const uint8_t *p, size_t n, void *data) {
  uint64_t d = ttrpc_call_deadline(c), now = uv_hrtime();
  char left[32];
  snprintf(left, sizeof left, "%lld", d ? (long long)(d - now) : -1ll);
  uint8_t out[128];
  size_t len = tt_any_pack(d ? "set" : "none", left, strlen(left), out, sizeof out);
  ttrpc_call_reply(c, out, len);
}

static void decode(ttrpc_call *c, const uint8_t *p, size_t n, void *data) {
  if (tt_any_unpack(p, n, NULL, 0, NULL, 0) < 0) ttrpc_call_reply_error(c, CS_INVALID_ARGUMENT, "decode: bad payload");
  else ttrpc_call_reply(c, p, n);
}

static void meta(ttrpc_call *c, const uint8_t *p, size_t n, void *data) {
  char kv[1024] = "";
  const char *keys[] = {"containerd-namespace-ttrpc", "x-a", "x-b", "x-c"};
  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
    const char *v = ttrpc_call_metadata(c, keys[i]);
    if (!v) continue;
    size_t l = strlen(kv);
    snprintf(kv + l, sizeof kv - l, "%s%s=%s", l ? ";" : "", keys[i], v);
  }
  const char *ns = ttrpc_call_metadata(c, "containerd-namespace-ttrpc");
  uint8_t out[1200];
  size_t len = tt_any_pack(ns ? ns : "", kv, strlen(kv), out, sizeof out);
  ttrpc_call_reply(c, out, len);
}

static void held_cancel(ttrpc_call *c, void *data) {
  tt_service *t = data;
  for (tt_held **pp = &t->held; *pp; pp = &(*pp)->next) {
    if ((*pp)->call == c) {
      tt_held *h = *pp;
      *pp = h->next;
      t->nheld--;
      free(h);
      break;
    }
  }
  t->cancelled++;
  ttrpc_call_reply_error(c, CS_CANCELLED, "cancelled");
}

static void hold(ttrpc_call *c, const uint8_t *p, size_t n, void *data) {
  tt_service *t = data;
  char target[32];
  if (tt_any_unpack(p, n, target, sizeof target, NULL, 0) < 0) {
    ttrpc_call_reply_error(c, CS_INVALID_ARGUMENT, "hold: payload is not an Any");
    return;
  }
  tt_held *h = malloc(sizeof *h + n);
  h->call = c;
  h->len = n;
  memcpy(h->payload, p, n);
  /* Newest first: draining the list answers in the reverse of arrival order. */
  h->next = t->held;
  t->held = h;
  t->nheld++;
  ttrpc_call_set_cancel(c, held_cancel, t);
  if (t->nheld < (size_t)atol(target)) return;
  while (t->held) {
    tt_held *x = t->held;
    t->held = x->next;
    t->nheld--;
    ttrpc_call_reply(x->call, x->payload, x->len);
    free(x);
  }
}

static void sleep_cancel(ttrpc_call *c, void *data) {
  tt_service *t = data;
  t->cancelled++;
  ttrpc_call_reply_error(c, CS_CANCELLED, "sleep cancelled"); /* sends nothing: the call is cancelled */
}

static void sleep_(ttrpc_call *c, const uint8_t *p, size_t n, void *data) { ttrpc_call_set_cancel(c, sleep_cancel, data); }

static void stats(ttrpc_call *c, const uint8_t *p, size_t n, void *data) {
  tt_service *t = data;
  char v[256];
  snprintf(v, sizeof v, "conns=%zu cancelled=%u bp=%u held=%zu queued=%zu", ttrpc_server_connections(t->srv),
           t->cancelled, t->bp_hits, t->nheld, t->bp_queued);
  uint8_t out[512];
  size_t len = tt_any_pack("stats", v, strlen(v), out, sizeof out);
  ttrpc_call_reply(c, out, len);
}

static void count(ttrpc_call *c, const uint8_t *p, size_t n, void *data) {
  char spec[64];
  if (tt_any_unpack(p, n, spec, sizeof spec, NULL, 0) < 0) {
    ttrpc_call_reply_error(c, CS_INVALID_ARGUMENT, "count: payload is not an Any");
    return;
  }
  long k = atol(spec);
  const char *colon = strchr(spec, ':');
  for (long i = 0; i < k; i++) {
    char b[32];
    int l = snprintf(b, sizeof b, "%ld", i);
    if (ttrpc_stream_send(c, (const uint8_t *)b, (size_t)l) != 0) break;
  }
  if (colon) ttrpc_call_reply_error(c, atoi(colon + 1), "count failed after %ld", k);
  else ttrpc_stream_close(c);
}

typedef struct forever {
  tt_service *t;
  ttrpc_call *call;
  uv_timer_t timer;
  unsigned i;
} forever;

static void forever_free(uv_handle_t *h) { free(h->data); }

static void forever_end(forever *f) {
  uv_timer_stop(&f->timer);
  uv_close((uv_handle_t *)&f->timer, forever_free);
  ttrpc_stream_close(f->call);
}

static void forever_cancel(ttrpc_call *c, void *data) {
  forever *f = data;
  f->t->cancelled++;
  forever_end(f);
}

static void forever_tick(uv_timer_t *tm) {
  forever *f = tm->data;
  char b[32];
  int l = snprintf(b, sizeof b, "%u", f->i++);
  int r = ttrpc_stream_send(f->call, (const uint8_t *)b, (size_t)l);
  if (r < 0) forever_end(f); /* cancelled without the callback having run would be a bug; end anyway */
}

static void forever_start(ttrpc_call *c, const uint8_t *p, size_t n, void *data) {
  forever *f = calloc(1, sizeof *f);
  f->t = data;
  f->call = c;
  uv_timer_init(f->t->loop, &f->timer);
  f->timer.data = f;
  uv_timer_start(&f->timer, forever_tick, 1, 1);
  ttrpc_call_set_cancel(c, forever_cancel, f);
}

static void flood(ttrpc_call *c, const uint8_t *p, size_t n, void *data) {
  tt_service *t = data;
  static const size_t chunk = 64 * 1024;
  uint8_t *buf = calloc(1, chunk);
  size_t sent = 0;
  for (int i = 0; i < 10000; i++) {
    int r = ttrpc_stream_send(c, buf, chunk);
    if (r == 1) {
      t->bp_hits++;
      t->bp_queued = sent;
      break;
    }
    if (r < 0) break;
    sent += chunk;
  }
  free(buf);
  ttrpc_stream_close(c);
}

static const ttrpc_method methods[] = {
    {"Echo", echo, false},    {"Empty", empty, false},          {"Fail", fail, false},
    {"Decode", decode, false}, {"Meta", meta, false},           {"Hold", hold, false},
    {"Sleep", sleep_, false}, {"Stats", stats, false},          {"Count", count, true},
    {"Forever", forever_start, true}, {"Flood", flood, true}, {"Errno", errno_, false},
    {"Deadline", deadline, false},
};

int tt_service_register(tt_service *t, uv_loop_t *loop, ttrpc_server *srv, cs_err *err) {
  memset(t, 0, sizeof *t);
  t->loop = loop;
  t->srv = srv;
  return ttrpc_server_register(srv, TT_SERVICE, methods, sizeof methods / sizeof *methods, t, err);
}

/* ---------------------------------------------------------------- server thread */

static void on_stop(uv_async_t *a) {
  tt_server_thread *t = a->data;
  ttrpc_server_close(t->srv, NULL, NULL);
  uv_close((uv_handle_t *)&t->stop, NULL);
}

static void server_main(void *arg) {
  tt_server_thread *t = arg;
  cs_err err;
  t->rc = tt_service_register(&t->svc, &t->loop, t->srv, &err);
  if (t->rc == 0) t->rc = ttrpc_server_listen(t->srv, t->path, &err);
  if (t->rc < 0) fprintf(stderr, "test server: %s\n", err.msg);
  uv_sem_post(&t->ready);
  if (t->rc < 0) ttrpc_server_close(t->srv, NULL, NULL), uv_close((uv_handle_t *)&t->stop, NULL);
  uv_run(&t->loop, UV_RUN_DEFAULT);
  t->loop_close_rc = uv_loop_close(&t->loop);
}

int tt_server_start(tt_server_thread *t, const char *path) {
  memset(t, 0, sizeof *t);
  snprintf(t->path, sizeof t->path, "%s", path);
  uv_loop_init(&t->loop);
  uv_async_init(&t->loop, &t->stop, on_stop);
  t->stop.data = t;
  uv_sem_init(&t->ready, 0);
  t->srv = ttrpc_server_new(&t->loop);
  uv_thread_create(&t->tid, server_main, t);
  uv_sem_wait(&t->ready);
  return t->rc;
}

void tt_server_stop(tt_server_thread *t) {
  if (t->rc == 0) uv_async_send(&t->stop);
  uv_thread_join(&t->tid);
  uv_sem_destroy(&t->ready);
}
