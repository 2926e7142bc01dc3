/* Server: service registry, listener, accepted connections and orderly shutdown. */
#include "ttrpc_server_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cs_log.h"
#include "ttrpc_err.h"
#include "ttrpc_sock.h"

#define LISTEN_BACKLOG 511

static void maybe_finish_close(ttrpc_server *s) {
  if (!s->closing || s->nconns || !s->listener_closed) return;
  void (*cb)(void *) = s->close_cb;
  void *data = s->close_data;
  for (size_t i = 0; i < s->nsvc; i++) free(s->svc[i].name);
  free(s->svc);
  free(s);
  if (cb) cb(data);
}

/* ---------------------------------------------------------------- connections */

static void sconn_on_dead(ttrpc_conn *conn, int status) {
  ttrpc_sconn *sc = conn->owner;
  if (status != UV_EOF && status != UV_ECONNRESET)
    CS_DEBUG("ttrpc: server connection error: %s", uv_strerror(status));
  while (sc->calls) ttrpc_call_detach(sc->calls);
  ttrpc_conn_close(conn);
}

static void sconn_on_closed(ttrpc_conn *conn) {
  ttrpc_sconn *sc = conn->owner;
  ttrpc_server *s = sc->srv;
  if (sc->prev) sc->prev->next = sc->next;
  else s->conns = sc->next;
  if (sc->next) sc->next->prev = sc->prev;
  s->nconns--;
  free(sc);
  maybe_finish_close(s);
}

static const ttrpc_conn_ops sconn_ops = {
    .on_frame = ttrpc_server_on_frame,
    .on_oversize = ttrpc_server_on_oversize,
    .on_dead = sconn_on_dead,
    .on_closed = sconn_on_closed,
};

/* Close a connection from our side: its calls are cancelled first, since nobody can be answered. */
static void sconn_close(ttrpc_sconn *sc) {
  if (sc->conn.closing) return;
  while (sc->calls) ttrpc_call_detach(sc->calls);
  ttrpc_conn_close(&sc->conn);
}

static ttrpc_sconn *sconn_new(ttrpc_server *s) {
  ttrpc_sconn *sc = calloc(1, sizeof *sc);
  if (!sc) return NULL;
  ttrpc_conn_init(&sc->conn, &sconn_ops, sc);
  sc->srv = s;
  uv_pipe_init(s->loop, &sc->conn.pipe, 0);
  sc->next = s->conns;
  if (s->conns) s->conns->prev = sc;
  s->conns = sc;
  s->nconns++;
  return sc;
}

static void on_connection(uv_stream_t *l, int status) {
  ttrpc_server *s = l->data;
  if (status < 0) {
    CS_WARN("ttrpc: accept: %s", uv_strerror(status));
    return;
  }
  ttrpc_sconn *sc = sconn_new(s);
  if (!sc) {
    CS_ERROR("ttrpc: accept: out of memory");
    return;
  }
  int r = uv_accept(l, (uv_stream_t *)&sc->conn.pipe);
  if (r < 0) {
    CS_WARN("ttrpc: accept: %s", uv_strerror(r));
    sconn_close(sc);
    return;
  }
  if (s->accept_fn) {
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)&sc->conn.pipe, &fd) < 0 || s->accept_fn((int)(intptr_t)fd, s->accept_data) != 0) {
      CS_WARN("ttrpc: connection refused by the accept check");
      sconn_close(sc);
      return;
    }
  }
  cs_err err;
  if (ttrpc_conn_start(&sc->conn, &err) < 0) {
    CS_WARN("%s", err.msg);
    sconn_close(sc);
  }
}

/* ---------------------------------------------------------------- server */

ttrpc_server *ttrpc_server_new(uv_loop_t *loop) {
  ttrpc_server *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->loop = loop;
  uv_pipe_init(loop, &s->listener, 0);
  s->listener.data = s;
  ttrpc_sock_check_sigpipe();
  return s;
}

int ttrpc_server_register(ttrpc_server *s, const char *service, const ttrpc_method *methods, size_t n,
                          void *data, cs_err *err) {
  size_t len = strlen(service);
  for (size_t i = 0; i < s->nsvc; i++)
    if (s->svc[i].name_len == len && memcmp(s->svc[i].name, service, len) == 0)
      return cs_err_set(err, CS_ALREADY_EXISTS, "ttrpc: duplicate service %s registered", service);
  if (s->nsvc == s->svc_cap) {
    size_t cap = s->svc_cap ? s->svc_cap * 2 : 4;
    ttrpc_service *p = realloc(s->svc, cap * sizeof *p);
    if (!p) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "ttrpc: register %s: out of memory", service);
    s->svc = p;
    s->svc_cap = cap;
  }
  char *name = strdup(service);
  if (!name) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "ttrpc: register %s: out of memory", service);
  s->svc[s->nsvc++] = (ttrpc_service){name, len, methods, n, data};
  return 0;
}

void ttrpc_server_set_accept_check(ttrpc_server *s, ttrpc_accept_fn fn, void *data) {
  s->accept_fn = fn;
  s->accept_data = data;
}

void ttrpc_server_set_private(ttrpc_server *s, bool on) { s->private_endpoint = on; }

static int start_listening(ttrpc_server *s, const char *what, cs_err *err) {
  int r = uv_listen((uv_stream_t *)&s->listener, LISTEN_BACKLOG, on_connection);
  if (r < 0) return ttrpc_err_uv(err, r, "ttrpc: listen %s", what);
  s->listening = true;
  return 0;
}

int ttrpc_server_listen(ttrpc_server *s, const char *addr, cs_err *err) {
  const char *path;
  if (s->listening) return cs_err_set(err, CS_FAILED_PRECONDITION, "ttrpc: server already listening");
  if (ttrpc_sock_path(addr, &path, err) < 0) return -1;
  if (ttrpc_sock_claim(path, err) < 0) return -1;
  int r = uv_pipe_bind(&s->listener, path);
  if (r < 0) return ttrpc_err_uv(err, r, "ttrpc: bind %s", path);
  if (s->private_endpoint && ttrpc_pipe_make_private(&s->listener, path, err) < 0) return -1;
  return start_listening(s, path, err);
}

int ttrpc_server_listen_fd(ttrpc_server *s, int fd, cs_err *err) {
  if (s->listening) return cs_err_set(err, CS_FAILED_PRECONDITION, "ttrpc: server already listening");
  int r = uv_pipe_open(&s->listener, fd);
  if (r < 0) return ttrpc_err_uv(err, r, "ttrpc: open listening fd %d", fd);
  return start_listening(s, "inherited socket", err);
}

int ttrpc_server_adopt_fd(ttrpc_server *s, int fd, cs_err *err) {
  ttrpc_sconn *sc = sconn_new(s);
  if (!sc) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "ttrpc: adopt fd %d: out of memory", fd);
  int r = uv_pipe_open(&sc->conn.pipe, fd);
  if (r < 0) {
    ttrpc_err_uv(err, r, "ttrpc: adopt fd %d", fd);
    sconn_close(sc);
    return -1;
  }
  if (ttrpc_conn_start(&sc->conn, err) < 0) {
    sconn_close(sc);
    return -1;
  }
  return 0;
}

size_t ttrpc_server_connections(const ttrpc_server *s) { return s->nconns; }

static void on_listener_closed(uv_handle_t *h) {
  ttrpc_server *s = h->data;
  s->listener_closed = true;
  maybe_finish_close(s);
}

void ttrpc_server_close(ttrpc_server *s, void (*cb)(void *data), void *data) {
  if (s->closing) return;
  s->closing = true;
  s->close_cb = cb;
  s->close_data = data;
  for (ttrpc_sconn *sc = s->conns; sc; sc = sc->next) sconn_close(sc);
  uv_close((uv_handle_t *)&s->listener, on_listener_closed);
}
