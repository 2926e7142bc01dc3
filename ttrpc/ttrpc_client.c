/* Client: one connection, calls multiplexed on odd increasing stream ids, replies matched by id. */
#include "ttrpc_client_int.h"

#include <stdlib.h>
#include <string.h>

#include "cs_log.h"
#include "ttrpc_envelope.h"
#include "ttrpc_sock.h"

#define CLOSED_MSG "ttrpc: closed"

/* ---------------------------------------------------------------- frames from the server */

static void on_response(ttrpc_pending *p, const uint8_t *payload, size_t len) {
  ttrpc_response_view v;
  cs_err err;
  if (ttrpc_response_decode(payload, len, &v, &err) < 0) {
    ttrpc_pending_complete(p, err.code, err.msg, NULL, 0);
    return;
  }
  /* The message is not NUL-terminated in the frame and the next byte may belong to another frame. */
  char msg[CS_ERR_MSG_MAX * 2];
  size_t n = v.message.n < sizeof msg - 1 ? v.message.n : sizeof msg - 1;
  if (n) memcpy(msg, v.message.p, n);
  msg[n] = '\0';
  if (v.code != CS_OK) ttrpc_pending_complete(p, v.code, msg, NULL, 0);
  else ttrpc_pending_complete(p, CS_OK, msg, v.payload.p ? v.payload.p : (const uint8_t *)"", v.payload.n);
}

static void on_frame(ttrpc_conn *conn, const ttrpc_frame_header *h, const uint8_t *payload) {
  ttrpc_client *c = conn->owner;
  ttrpc_pending *p = ttrpc_pending_find(c, h->stream_id);
  if (!p) {
    /* Late answer to a call that timed out or was cancelled here. */
    CS_DEBUG("ttrpc: frame type %u for inactive stream %u dropped", h->type, h->stream_id);
    return;
  }
  if (h->type == TTRPC_RESPONSE) {
    on_response(p, payload, h->length);
    return;
  }
  if (h->type != TTRPC_DATA || !p->stream) return;
  uint32_t id = p->id;
  if (h->length && !(h->flags & TTRPC_FLAG_NO_DATA)) {
    p->on_msg(p->data, false, CS_OK, "", payload, h->length);
    /* The callback may have cancelled the stream or closed the client. */
    if (!(h->flags & TTRPC_FLAG_REMOTE_CLOSED) || !(p = ttrpc_pending_find(c, id))) return;
  }
  if (h->flags & TTRPC_FLAG_REMOTE_CLOSED) ttrpc_pending_complete(p, CS_OK, "", NULL, 0);
}

static void on_oversize(ttrpc_conn *conn, const ttrpc_frame_header *h) {
  ttrpc_pending *p = ttrpc_pending_find(conn->owner, h->stream_id);
  if (p) ttrpc_pending_complete(p, CS_RESOURCE_EXHAUSTED, "ttrpc: message exceeds maximum message size", NULL, 0);
}

static void on_dead(ttrpc_conn *conn, int status) {
  ttrpc_client *c = conn->owner;
  c->state = TTRPC_CL_DEAD;
  if (status != UV_EOF) CS_DEBUG("ttrpc: client connection lost: %s", uv_strerror(status));
  ttrpc_pending_fail_all(c, CS_UNAVAILABLE, CLOSED_MSG);
  if (c->on_close && !c->user_closed) c->on_close(c->on_close_data);
}

static void on_closed(ttrpc_conn *conn) {
  ttrpc_client *c = conn->owner;
  ttrpc_pending_free_table(c);
  free(c);
}

static const ttrpc_conn_ops client_ops = {
    .on_frame = on_frame,
    .on_oversize = on_oversize,
    .on_dead = on_dead,
    .on_closed = on_closed,
};

/* ---------------------------------------------------------------- connection */

ttrpc_client *ttrpc_client_new(uv_loop_t *loop) {
  ttrpc_client *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  ttrpc_conn_init(&c->conn, &client_ops, c);
  c->loop = loop;
  c->next_id = 1;
  uv_pipe_init(loop, &c->conn.pipe, 0);
  ttrpc_sock_check_sigpipe();
  return c;
}

static void on_connect(uv_connect_t *req, int status) {
  ttrpc_client *c = req->data;
  if (status == 0 && c->user_closed) status = UV_ECANCELED;
  if (status == 0) {
    cs_err err;
    if (ttrpc_conn_start(&c->conn, &err) < 0) status = err.sys_errno ? -err.sys_errno : UV_EIO;
  }
  c->state = status == 0 ? TTRPC_CL_CONNECTED : TTRPC_CL_DEAD;
  if (c->connect_cb) c->connect_cb(c->connect_data, status);
}

int ttrpc_client_connect(ttrpc_client *c, const char *addr, ttrpc_connect_cb cb, void *data, cs_err *err) {
  const char *path;
  if (c->state != TTRPC_CL_IDLE || c->user_closed)
    return cs_err_set(err, CS_FAILED_PRECONDITION, "ttrpc: client already connected or closed");
  if (ttrpc_sock_path(addr, &path, err) < 0) return -1;
  c->connect_cb = cb;
  c->connect_data = data;
  c->creq.data = c;
  c->state = TTRPC_CL_CONNECTING;
  uv_pipe_connect(&c->creq, &c->conn.pipe, path, on_connect);
  return 0;
}

bool ttrpc_client_connected(const ttrpc_client *c) {
  return c->state == TTRPC_CL_CONNECTED && !c->conn.dead && !c->user_closed;
}

void ttrpc_client_on_close(ttrpc_client *c, void (*cb)(void *data), void *data) {
  c->on_close = cb;
  c->on_close_data = data;
}

void ttrpc_client_close(ttrpc_client *c) {
  if (c->user_closed) return;
  c->user_closed = true;
  ttrpc_pending_fail_all(c, CS_CANCELLED, "ttrpc: client closed");
  ttrpc_conn_close(&c->conn);
}

/* ---------------------------------------------------------------- calls */

static void on_timeout(uv_timer_t *t) {
  ttrpc_pending_complete(t->data, CS_DEADLINE_EXCEEDED, "context deadline exceeded", NULL, 0);
}

static int start_call(ttrpc_client *c, ttrpc_pending *p, const char *service, const char *method,
                      const uint8_t *payload, size_t len, const ttrpc_kv *md, size_t nmd, int64_t timeout_ns,
                      uint8_t flags, cs_err *err) {
  if (!ttrpc_client_connected(c)) {
    free(p);
    return cs_err_set(err, CS_UNAVAILABLE, "ttrpc: %s/%s: not connected", service, method);
  }
  if (c->next_id > UINT32_MAX - 2) {
    free(p);
    return cs_err_set(err, CS_UNAVAILABLE, "ttrpc: stream ids exhausted on this connection");
  }
  size_t max = ttrpc_request_max_size(service, method, len, md, md ? nmd : 0), n = 0;
  if (max > TTRPC_MAX_MESSAGE) {
    free(p);
    return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "ttrpc: %s/%s: request of %lu bytes exceeds maximum message size",
                      service, method, (unsigned long)len);
  }
  uint8_t *buf = ttrpc_conn_reserve(&c->conn, max);
  if (!buf) {
    free(p);
    return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "ttrpc: %s/%s: out of memory", service, method);
  }
  if (ttrpc_request_encode(buf, max, &n, service, method, payload, len, timeout_ns, md, nmd, err) < 0) {
    free(p);
    return -1;
  }
  p->cl = c;
  p->id = c->next_id;
  if (ttrpc_pending_add(c, p) < 0) {
    free(p);
    return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "ttrpc: %s/%s: out of memory", service, method);
  }
  c->next_id += 2;
  if (timeout_ns > 0) {
    uv_timer_init(c->loop, &p->timer);
    p->timer.data = p;
    p->has_timer = true;
    uv_timer_start(&p->timer, on_timeout, ((uint64_t)timeout_ns + 999999) / 1000000, 0);
  }
  ttrpc_conn_commit(&c->conn, p->id, TTRPC_REQUEST, flags, n);
  return 0;
}

int ttrpc_client_call(ttrpc_client *c, const char *service, const char *method, const uint8_t *payload,
                      size_t len, const ttrpc_kv *md, size_t nmd, int64_t timeout_ns, ttrpc_reply_cb cb,
                      void *data, cs_err *err) {
  ttrpc_pending *p = calloc(1, sizeof *p);
  if (!p) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "ttrpc: out of memory");
  p->reply = cb;
  p->data = data;
  return start_call(c, p, service, method, payload, len, md, nmd, timeout_ns, 0, err);
}

int ttrpc_client_stream(ttrpc_client *c, const char *service, const char *method, const uint8_t *payload,
                        size_t len, const ttrpc_kv *md, size_t nmd, ttrpc_stream_cb cb, void *data,
                        uint32_t *stream_id, cs_err *err) {
  ttrpc_pending *p = calloc(1, sizeof *p);
  if (!p) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "ttrpc: out of memory");
  p->stream = true;
  p->on_msg = cb;
  p->data = data;
  uint32_t id = c->next_id;
  /* Remote-closed on the request: the client sends nothing more, the server streams its answer. */
  if (start_call(c, p, service, method, payload, len, md, nmd, 0, TTRPC_FLAG_REMOTE_CLOSED, err) < 0) return -1;
  if (stream_id) *stream_id = id;
  return 0;
}

void ttrpc_client_stream_cancel(ttrpc_client *c, uint32_t stream_id) {
  ttrpc_pending *p = ttrpc_pending_find(c, stream_id);
  if (p && p->stream) ttrpc_pending_complete(p, CS_CANCELLED, "ttrpc: stream cancelled", NULL, 0);
}
