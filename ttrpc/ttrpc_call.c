/* Server call lifetime: creation from a request, deadline, cancellation, and the replies that finish it. */
#include "ttrpc_server_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void link_call(ttrpc_sconn *sc, ttrpc_call *c) {
  c->sc = sc;
  c->prev = NULL;
  c->next = sc->calls;
  if (sc->calls) sc->calls->prev = c;
  sc->calls = c;
}

static void unlink_call(ttrpc_call *c) {
  if (!c->sc) return;
  if (c->prev) c->prev->next = c->next;
  else c->sc->calls = c->next;
  if (c->next) c->next->prev = c->prev;
  c->prev = c->next = NULL;
  c->sc = NULL;
}

static char *copy_str(char **dst, const ttrpc_bytes *b) {
  char *s = *dst;
  if (b->n) memcpy(s, b->p, b->n);
  s[b->n] = '\0';
  *dst += b->n + 1;
  return s;
}

/* Cancelled calls are already off the connection: run the handler's cancel callback once. */
static void run_cancel(ttrpc_call *c) {
  c->cancelled = true;
  if (c->has_timer) uv_timer_stop(&c->timer);
  if (c->cancel_fn) c->cancel_fn(c, c->cancel_data);
}

static void on_deadline(uv_timer_t *t) {
  ttrpc_call *c = t->data;
  if (c->cancelled) return;
  ttrpc_sconn *sc = c->sc;
  unlink_call(c);
  if (sc) ttrpc_sconn_respond(sc, c->id, CS_DEADLINE_EXCEEDED, "context deadline exceeded", NULL, 0);
  run_cancel(c);
}

ttrpc_call *ttrpc_call_new(ttrpc_sconn *sc, uint32_t id, const ttrpc_request_view *v, bool stream) {
  size_t strsz = v->service.n + 1 + v->method.n + 1;
  for (size_t i = 0; i < v->nmd; i++) strsz += v->md_key[i].n + 1 + v->md_value[i].n + 1;
  ttrpc_call *c = malloc(sizeof *c + strsz);
  if (!c) return NULL;
  memset(c, 0, sizeof *c);
  c->id = id;
  c->stream = stream;
  char *p = c->strings;
  c->service = copy_str(&p, &v->service);
  c->method = copy_str(&p, &v->method);
  c->nmd = v->nmd;
  for (size_t i = 0; i < v->nmd; i++) {
    c->md[i].key = copy_str(&p, &v->md_key[i]);
    c->md[i].value = copy_str(&p, &v->md_value[i]);
  }
  if (v->timeout_nano != 0) {
    /* A negative timeout is a deadline already past, as with Go's context.WithTimeout. */
    uint64_t ns = v->timeout_nano > 0 ? (uint64_t)v->timeout_nano : 0;
    c->deadline = uv_hrtime() + ns;
    uv_timer_init(sc->srv->loop, &c->timer);
    c->timer.data = c;
    c->has_timer = true;
    uv_timer_start(&c->timer, on_deadline, (ns + 999999) / 1000000, 0);
  }
  link_call(sc, c);
  return c;
}

void ttrpc_call_detach(ttrpc_call *c) {
  if (c->cancelled) return;
  unlink_call(c);
  run_cancel(c);
}

static void free_after_timer(uv_handle_t *h) { free(h->data); }

static void finish(ttrpc_call *c) {
  unlink_call(c);
  if (c->has_timer) {
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, free_after_timer);
  } else {
    free(c);
  }
}

/* The connection to answer on, or NULL if the call may no longer send. */
static ttrpc_sconn *live(const ttrpc_call *c) { return c->cancelled ? NULL : c->sc; }

const char *ttrpc_call_metadata(const ttrpc_call *c, const char *key) {
  for (size_t i = 0; i < c->nmd; i++)
    if (strcasecmp(c->md[i].key, key) == 0) return c->md[i].value;
  return NULL;
}

const char *ttrpc_call_service(const ttrpc_call *c) { return c->service; }
const char *ttrpc_call_method(const ttrpc_call *c) { return c->method; }
uint64_t ttrpc_call_deadline(const ttrpc_call *c) { return c->deadline; }
bool ttrpc_call_cancelled(const ttrpc_call *c) { return c->cancelled; }

void ttrpc_call_set_cancel(ttrpc_call *c, ttrpc_cancel_fn fn, void *data) {
  c->cancel_fn = fn;
  c->cancel_data = data;
}

static void end_stream(ttrpc_sconn *sc, ttrpc_call *c) {
  ttrpc_conn_send(&sc->conn, c->id, TTRPC_DATA, TTRPC_FLAG_REMOTE_CLOSED | TTRPC_FLAG_NO_DATA, NULL, 0);
}

void ttrpc_call_reply(ttrpc_call *c, const uint8_t *payload, size_t len) {
  ttrpc_sconn *sc = live(c);
  if (sc && c->stream) {
    /* A streaming method's success is a data frame, never a Response. */
    if (len > TTRPC_MAX_MESSAGE)
      ttrpc_sconn_respond(sc, c->id, CS_RESOURCE_EXHAUSTED, "ttrpc: stream message too large", NULL, 0);
    else if (len == 0 || ttrpc_conn_send(&sc->conn, c->id, TTRPC_DATA, 0, payload, len) == 0)
      end_stream(sc, c);
  } else if (sc) {
    ttrpc_sconn_respond(sc, c->id, CS_OK, NULL, payload, len);
  }
  finish(c);
}

void ttrpc_call_reply_error(ttrpc_call *c, int code, const char *fmt, ...) {
  ttrpc_sconn *sc = live(c);
  if (sc) {
    char msg[CS_ERR_MSG_MAX * 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ttrpc_sconn_respond(sc, c->id, code == CS_OK ? CS_UNKNOWN : code, msg, NULL, 0);
  }
  finish(c);
}

void ttrpc_call_reply_err(ttrpc_call *c, const cs_err *err) {
  ttrpc_call_reply_error(c, err->code, "%s", err->msg);
}

int ttrpc_stream_send(ttrpc_call *c, const uint8_t *payload, size_t len) {
  ttrpc_sconn *sc = live(c);
  if (!sc || !c->stream || len > TTRPC_MAX_MESSAGE) return -1;
  if (ttrpc_conn_queued(&sc->conn) > TTRPC_SEND_LIMIT) return 1;
  return ttrpc_conn_send(&sc->conn, c->id, TTRPC_DATA, 0, payload, len);
}

void ttrpc_stream_cork(ttrpc_call *c, bool on) {
  ttrpc_sconn *sc = live(c);
  if (sc) ttrpc_conn_cork(&sc->conn, on);
}

void ttrpc_stream_close(ttrpc_call *c) {
  ttrpc_sconn *sc = live(c);
  if (sc && c->stream) end_stream(sc, c);
  else if (sc) ttrpc_sconn_respond(sc, c->id, CS_OK, NULL, NULL, 0);
  finish(c);
}
