/* Server side of a frame: validate the stream id and envelope, find the method, start the call.
 * Every rejection is a Response on the offending stream id and the connection carries on, as in Go's
 * server (statuses and messages follow containerd/ttrpc). */
#include "ttrpc_server_int.h"

#include <stdio.h>
#include <string.h>

int ttrpc_sconn_respond(ttrpc_sconn *sc, uint32_t id, int code, const char *msg, const uint8_t *payload,
                        size_t len) {
  size_t msg_len = msg ? strlen(msg) : 0;
  if (len > TTRPC_MAX_MESSAGE - 64 - msg_len) {
    code = CS_RESOURCE_EXHAUSTED;
    msg = "ttrpc: response exceeds maximum message size";
    msg_len = strlen(msg);
    payload = NULL;
    len = 0;
  }
  size_t max = ttrpc_response_max_size(msg_len, len), n = 0;
  uint8_t *buf = ttrpc_conn_reserve(&sc->conn, max);
  if (!buf) return -1;
  cs_err err;
  if (ttrpc_response_encode(buf, max, &n, code, msg, msg_len, payload, len, &err) < 0) return -1;
  ttrpc_conn_commit(&sc->conn, id, TTRPC_RESPONSE, 0, n);
  return 0;
}

static bool bytes_eq(const ttrpc_bytes *b, const char *s, size_t n) {
  return b->n == n && (n == 0 || memcmp(b->p, s, n) == 0);
}

static const ttrpc_service *find_service(const ttrpc_server *s, const ttrpc_bytes *name) {
  for (size_t i = 0; i < s->nsvc; i++)
    if (bytes_eq(name, s->svc[i].name, s->svc[i].name_len)) return &s->svc[i];
  return NULL;
}

static const ttrpc_method *find_method(const ttrpc_service *svc, const ttrpc_bytes *name) {
  for (size_t i = 0; i < svc->n; i++)
    if (bytes_eq(name, svc->methods[i].name, strlen(svc->methods[i].name))) return &svc->methods[i];
  return NULL;
}

static ttrpc_call *find_call(const ttrpc_sconn *sc, uint32_t id) {
  for (ttrpc_call *c = sc->calls; c; c = c->next)
    if (c->id == id) return c;
  return NULL;
}

static void reject(ttrpc_sconn *sc, uint32_t id, int code, const char *fmt, const ttrpc_bytes *a,
                   const ttrpc_bytes *b) {
  char msg[512];
  /* Names come from the peer: bound them so the message stays a message. */
  int an = a ? (int)(a->n > 128 ? 128 : a->n) : 0, bn = b ? (int)(b->n > 128 ? 128 : b->n) : 0;
  snprintf(msg, sizeof msg, fmt, an, a && a->p ? (const char *)a->p : "", bn, b && b->p ? (const char *)b->p : "");
  ttrpc_sconn_respond(sc, id, code, msg, NULL, 0);
}

static void on_request(ttrpc_sconn *sc, const ttrpc_frame_header *h, const uint8_t *payload) {
  if (h->stream_id <= sc->last_id) {
    ttrpc_sconn_respond(sc, h->stream_id, CS_INVALID_ARGUMENT, "StreamID cannot be re-used and must increment",
                        NULL, 0);
    return;
  }
  sc->last_id = h->stream_id;

  ttrpc_request_view v;
  cs_err err;
  if (ttrpc_request_decode(payload, h->length, &v, &err) < 0) {
    ttrpc_sconn_respond(sc, h->stream_id, CS_INVALID_ARGUMENT, err.msg, NULL, 0);
    return;
  }
  const ttrpc_service *svc = find_service(sc->srv, &v.service);
  if (!svc) {
    reject(sc, h->stream_id, CS_UNIMPLEMENTED, "service %.*s: not implemented%.*s", &v.service, NULL);
    return;
  }
  const ttrpc_method *m = find_method(svc, &v.method);
  if (!m) {
    reject(sc, h->stream_id, CS_UNIMPLEMENTED, "service %.*s: method %.*s not implemented", &v.service,
           &v.method);
    return;
  }
  if (h->flags & TTRPC_FLAG_REMOTE_OPEN) {
    reject(sc, h->stream_id, CS_UNIMPLEMENTED, "service %.*s: method %.*s: client streaming not supported",
           &v.service, &v.method);
    return;
  }
  if (v.md_total > TTRPC_MAX_METADATA) {
    char msg[128];
    snprintf(msg, sizeof msg, "too many metadata entries: %zu (at most %d)", v.md_total, TTRPC_MAX_METADATA);
    ttrpc_sconn_respond(sc, h->stream_id, CS_INVALID_ARGUMENT, msg, NULL, 0);
    return;
  }
  ttrpc_call *c = ttrpc_call_new(sc, h->stream_id, &v, m->server_stream);
  if (!c) {
    ttrpc_sconn_respond(sc, h->stream_id, CS_RESOURCE_EXHAUSTED, "ttrpc: out of memory", NULL, 0);
    return;
  }
  m->fn(c, v.payload.p ? v.payload.p : (const uint8_t *)"", v.payload.n, svc->data);
}

void ttrpc_server_on_frame(ttrpc_conn *conn, const ttrpc_frame_header *h, const uint8_t *payload) {
  ttrpc_sconn *sc = conn->owner;
  /* Unknown frame types are skipped for forward compatibility, as Go does. */
  if (h->type != TTRPC_REQUEST && h->type != TTRPC_DATA) return;
  if (h->stream_id % 2 != 1) {
    ttrpc_sconn_respond(sc, h->stream_id, CS_INVALID_ARGUMENT, "StreamID must be odd for client initiated streams",
                        NULL, 0);
    return;
  }
  if (h->type == TTRPC_REQUEST) {
    on_request(sc, h, payload);
    return;
  }
  /* No method takes a client stream, so data is only tolerated on a live stream (and dropped). */
  if (!find_call(sc, h->stream_id))
    ttrpc_sconn_respond(sc, h->stream_id, CS_INVALID_ARGUMENT, "StreamID is no longer active", NULL, 0);
}

void ttrpc_server_on_oversize(ttrpc_conn *conn, const ttrpc_frame_header *h) {
  char msg[128];
  snprintf(msg, sizeof msg, "message length %u exceed maximum message size of %u", h->length, TTRPC_MAX_MESSAGE);
  ttrpc_sconn_respond(conn->owner, h->stream_id, CS_RESOURCE_EXHAUSTED, msg, NULL, 0);
}
