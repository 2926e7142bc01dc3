/* The transport over real unix sockets: a server thread runs the test service on a socket in a temp dir;
 * the test drives it with the ttrpc client on its own loop and with raw sockets for bad input. After each
 * bad input, a fresh connection proves the server still answers, and its connection count shows what
 * was released. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tt_service.h"
#include "tt_util.h"

typedef struct fx {
  char dir[256];
  char path[300];
  tt_server_thread srv;
  uv_loop_t loop;       /* the test's own loop, for clients */
  ttrpc_server *local;  /* a server a test runs on its own loop; closed here if the test failed */
} fx;

static int setup(void **state) {
  fx *f = calloc(1, sizeof *f);
  if (tt_tmpdir(f->dir, sizeof f->dir) < 0) return -1;
  snprintf(f->path, sizeof f->path, "%s/ttrpc.sock", f->dir);
  uv_loop_init(&f->loop);
  if (tt_server_start(&f->srv, f->path) < 0) return -1;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fx *f = *state;
  if (f->local) ttrpc_server_close(f->local, NULL, NULL);
  tt_server_stop(&f->srv);
  int left = tt_loop_drain(&f->loop);
  int rc = uv_loop_close(&f->loop) || left;
  int server_rc = f->srv.loop_close_rc;
  tt_rmdir(f->dir);
  free(f);
  return rc == 0 && server_rc == 0 ? 0 : -1;
}

static ttrpc_client *connect_client(fx *f) {
  ttrpc_client *c = ttrpc_client_new(&f->loop);
  cs_err err;
  assert_non_null(c);
  if (ttrpc_client_connect_sync(c, f->path, &err) < 0) fail_msg("connect: %s", err.msg);
  return c;
}

static void close_client(fx *f, ttrpc_client *c) {
  ttrpc_client_close(c);
  uv_run(&f->loop, UV_RUN_NOWAIT);
}

/* Server statistics through a fresh connection, which also proves the server still answers. */
static void server_stats(fx *f, char *out, size_t n) {
  ttrpc_client *c = connect_client(f);
  uint8_t *p = NULL;
  size_t len = 0;
  cs_err err;
  if (ttrpc_client_call_sync(c, TT_SERVICE, "Stats", NULL, 0, NULL, 0, 0, &p, &len, &err) < 0)
    fail_msg("Stats: %s", err.msg);
  assert_int_equal(tt_any_unpack(p, len, NULL, 0, out, n), 0);
  free(p);
  close_client(f, c);
}

/* Wait (bounded) until the server's stats contain want. The conns count includes the asking connection. */
static void await_stats(fx *f, const char *want) {
  char s[256] = "";
  for (int i = 0; i < 5000; i++) {
    server_stats(f, s, sizeof s);
    if (strstr(s, want)) return;
    usleep(2000);
  }
  fail_msg("server stats never reached \"%s\": %s", want, s);
}

static size_t any(const char *type_url, const char *value, uint8_t *out, size_t cap) {
  return tt_any_pack(type_url, value, strlen(value), out, cap);
}

/* ---------------------------------------------------------------- client basics */

static void test_sync_calls(void **state) {
  fx *f = *state;
  ttrpc_client *c = ttrpc_client_new(&f->loop);
  cs_err err;
  char addr[320];
  snprintf(addr, sizeof addr, "unix://%s", f->path);
  assert_int_equal(ttrpc_client_connect_sync(c, addr, &err), 0);
  assert_true(ttrpc_client_connected(c));
  uint8_t *out = NULL;
  size_t len = 0;
  assert_int_equal(ttrpc_client_call_sync(c, TT_SERVICE, "Echo", (const uint8_t *)"abc", 3, NULL, 0, 0, &out, &len, &err), 0);
  assert_int_equal(len, 3);
  assert_memory_equal(out, "abc", 3);
  free(out);
  assert_int_equal(ttrpc_client_call_sync(c, TT_SERVICE, "Empty", NULL, 0, NULL, 0, 0, &out, &len, &err), 0);
  assert_int_equal(len, 0);
  free(out);
  uint8_t p[256];
  size_t n = any("5", "no such task", p, sizeof p);
  assert_int_equal(ttrpc_client_call_sync(c, TT_SERVICE, "Fail", p, n, NULL, 0, 0, &out, &len, &err), -1);
  assert_int_equal(err.code, CS_NOT_FOUND);
  assert_string_equal(err.msg, "no such task");
  assert_int_equal(ttrpc_client_call_sync(c, "x.Y", "Z", NULL, 0, NULL, 0, 0, &out, &len, &err), -1);
  assert_int_equal(err.code, CS_UNIMPLEMENTED);
  const ttrpc_kv md[] = {{"containerd-namespace-ttrpc", "default"}, {"x-c", "3"}};
  assert_int_equal(ttrpc_client_call_sync(c, TT_SERVICE, "Meta", NULL, 0, md, 2, 0, &out, &len, &err), 0);
  char ns[64], kv[256];
  assert_int_equal(tt_any_unpack(out, len, ns, sizeof ns, kv, sizeof kv), 0);
  assert_string_equal(ns, "default");
  assert_string_equal(kv, "containerd-namespace-ttrpc=default;x-c=3");
  free(out);
  close_client(f, c);
}

static void test_connect_errors(void **state) {
  fx *f = *state;
  cs_err err;
  char missing[320];
  snprintf(missing, sizeof missing, "%s/missing.sock", f->dir);
  ttrpc_client *c = ttrpc_client_new(&f->loop);
  assert_int_equal(ttrpc_client_connect_sync(c, missing, &err), -1);
  assert_int_equal(err.code, CS_NOT_FOUND);
  assert_false(ttrpc_client_connected(c));
  assert_int_equal(ttrpc_client_call(c, TT_SERVICE, "Echo", NULL, 0, NULL, 0, 0, NULL, NULL, &err), -1);
  assert_int_equal(err.code, CS_UNAVAILABLE);
  close_client(f, c);
  char longpath[200];
  memset(longpath, 'a', sizeof longpath - 1);
  longpath[sizeof longpath - 1] = '\0';
  c = ttrpc_client_new(&f->loop);
  assert_int_equal(ttrpc_client_connect_sync(c, longpath, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  close_client(f, c);
}

typedef struct reply_rec {
  int calls;
  int code;
  char msg[256];
  size_t len;
  uint8_t payload[64];
} reply_rec;

static void on_reply(void *data, int code, const char *msg, const uint8_t *payload, size_t len) {
  reply_rec *r = data;
  r->calls++;
  r->code = code;
  snprintf(r->msg, sizeof r->msg, "%s", msg ? msg : "");
  r->len = len;
  if (len && len <= sizeof r->payload) memcpy(r->payload, payload, len);
}

static void run_until(uv_loop_t *loop, const int *counter, int want) {
  for (int i = 0; i < 1000000 && *counter < want; i++) uv_run(loop, UV_RUN_ONCE);
}

static void test_timeout_and_close(void **state) {
  fx *f = *state;
  ttrpc_client *c = connect_client(f);
  cs_err err;
  reply_rec slow = {0}, pending = {0};
  assert_int_equal(ttrpc_client_call(c, TT_SERVICE, "Sleep", NULL, 0, NULL, 0, 30 * 1000 * 1000, on_reply, &slow, &err), 0);
  run_until(&f->loop, &slow.calls, 1);
  assert_int_equal(slow.calls, 1);
  assert_int_equal(slow.code, CS_DEADLINE_EXCEEDED);
  /* The server saw the deadline too (timeout_nano on the wire) and cancelled its handler. */
  await_stats(f, "cancelled=1");
  /* Closing the client fails what is pending with Cancelled, exactly once. */
  assert_int_equal(ttrpc_client_call(c, TT_SERVICE, "Sleep", NULL, 0, NULL, 0, 0, on_reply, &pending, &err), 0);
  ttrpc_client_close(c);
  assert_int_equal(pending.calls, 1);
  assert_int_equal(pending.code, CS_CANCELLED);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  assert_int_equal(slow.calls, 1);
  assert_int_equal(pending.calls, 1);
  /* And the server noticed the disconnect. */
  await_stats(f, "cancelled=2");
}

static void on_drop(void *data) { (*(int *)data)++; }

static void test_connection_loss(void **state) {
  fx *f = *state;
  ttrpc_client *c = connect_client(f);
  cs_err err;
  int dropped = 0;
  ttrpc_client_on_close(c, on_drop, &dropped);
  reply_rec r[3] = {{0}};
  for (int i = 0; i < 3; i++)
    assert_int_equal(ttrpc_client_call(c, TT_SERVICE, "Sleep", NULL, 0, NULL, 0, 0, on_reply, &r[i], &err), 0);
  uv_run(&f->loop, UV_RUN_NOWAIT);
  tt_server_stop(&f->srv);
  run_until(&f->loop, &dropped, 1);
  assert_int_equal(dropped, 1);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(r[i].calls, 1);
    assert_int_equal(r[i].code, CS_UNAVAILABLE);
  }
  assert_false(ttrpc_client_connected(c));
  assert_int_equal(ttrpc_client_call(c, TT_SERVICE, "Echo", NULL, 0, NULL, 0, 0, on_reply, &r[0], &err), -1);
  assert_int_equal(err.code, CS_UNAVAILABLE);
  close_client(f, c);
  assert_int_equal(dropped, 1);
  /* teardown stops the server again: restart one so it has something to stop */
  assert_int_equal(tt_server_start(&f->srv, f->path), 0);
}

static void test_big_messages(void **state) {
  fx *f = *state;
  ttrpc_client *c = connect_client(f);
  cs_err err;
  size_t n = TTRPC_MAX_MESSAGE - 1024;
  uint8_t *big = malloc(TTRPC_MAX_MESSAGE + 1);
  for (size_t i = 0; i < n; i++) big[i] = (uint8_t)(i * 7);
  uint8_t *out = NULL;
  size_t len = 0;
  assert_int_equal(ttrpc_client_call_sync(c, TT_SERVICE, "Echo", big, n, NULL, 0, 0, &out, &len, &err), 0);
  assert_int_equal(len, n);
  assert_memory_equal(out, big, n);
  free(out);
  assert_int_equal(ttrpc_client_call(c, TT_SERVICE, "Echo", big, TTRPC_MAX_MESSAGE + 1, NULL, 0, 0, on_reply, NULL, &err), -1);
  assert_int_equal(err.code, CS_RESOURCE_EXHAUSTED);
  free(big);
  assert_int_equal(ttrpc_client_call_sync(c, TT_SERVICE, "Echo", (const uint8_t *)"s", 1, NULL, 0, 0, &out, &len, &err), 0);
  free(out);
  close_client(f, c);
}

/* ---------------------------------------------------------------- concurrency */

#define NCONN 8
#define PER_CONN 32

typedef struct multi_ctx {
  int done;
  int bad;
  int seen[NCONN][PER_CONN];
} multi_ctx;

typedef struct multi_call {
  multi_ctx *m;
  int conn, i;
} multi_call;

static void on_multi(void *data, int code, const char *msg, const uint8_t *payload, size_t len) {
  multi_call *mc = data;
  multi_ctx *m = mc->m;
  char type[32], value[64], want[64];
  snprintf(want, sizeof want, "c%d-%d", mc->conn, mc->i);
  if (code != CS_OK || tt_any_unpack(payload, len, type, sizeof type, value, sizeof value) < 0 || strcmp(value, want))
    m->bad++;
  m->seen[mc->conn][mc->i]++;
  m->done++;
}

static void test_many_connections_out_of_order(void **state) {
  fx *f = *state;
  ttrpc_client *cl[NCONN];
  static multi_ctx m;
  static multi_call calls[NCONN][PER_CONN];
  memset(&m, 0, sizeof m);
  cs_err err;
  char target[16];
  snprintf(target, sizeof target, "%d", NCONN * PER_CONN);
  for (int k = 0; k < NCONN; k++) cl[k] = connect_client(f);
  /* The server holds every call until all are in, then answers newest first, across connections. */
  for (int i = 0; i < PER_CONN; i++) {
    for (int k = 0; k < NCONN; k++) {
      uint8_t p[128];
      char v[32];
      snprintf(v, sizeof v, "c%d-%d", k, i);
      size_t n = any(target, v, p, sizeof p);
      calls[k][i] = (multi_call){&m, k, i};
      assert_int_equal(ttrpc_client_call(cl[k], TT_SERVICE, "Hold", p, n, NULL, 0, 0, on_multi, &calls[k][i], &err), 0);
    }
  }
  run_until(&f->loop, &m.done, NCONN * PER_CONN);
  assert_int_equal(m.done, NCONN * PER_CONN);
  assert_int_equal(m.bad, 0);
  for (int k = 0; k < NCONN; k++)
    for (int i = 0; i < PER_CONN; i++) assert_int_equal(m.seen[k][i], 1);
  for (int k = 0; k < NCONN; k++) close_client(f, cl[k]);
}

/* ---------------------------------------------------------------- bad input */

static void test_truncated_header(void **state) {
  fx *f = *state;
  int fd = tt_raw_connect(f->path);
  assert_true(fd >= 0);
  assert_int_equal(tt_write_all(fd, "\0\0\0\5\0", 5), 0);
  close(fd);
  await_stats(f, "conns=1 ");
}

static void test_oversized_frame(void **state) {
  fx *f = *state;
  int fd = tt_raw_connect(f->path);
  assert_true(fd >= 0);
  size_t big = TTRPC_MAX_MESSAGE + 4096;
  uint8_t hdr[TTRPC_HEADER_SIZE];
  ttrpc_header_encode(&(ttrpc_frame_header){(uint32_t)big, 1, TTRPC_REQUEST, 0}, hdr);
  assert_int_equal(tt_write_all(fd, hdr, sizeof hdr), 0);
  uint8_t *junk = calloc(1, big);
  memset(junk, 0x5a, big);
  assert_int_equal(tt_write_all(fd, junk, big), 0);
  free(junk);
  /* The same connection is still in frame sync afterwards. */
  assert_int_equal(tt_send_request(fd, 3, 0, TT_SERVICE, "Echo", "ok", 2, 0, NULL, 0), 0);
  tt_resp r;
  assert_int_equal(tt_recv_response(fd, NULL, &r), 0);
  assert_int_equal(r.id, 1);
  assert_int_equal(r.code, CS_RESOURCE_EXHAUSTED);
  assert_int_equal(tt_recv_response(fd, NULL, &r), 0);
  assert_int_equal(r.id, 3);
  assert_int_equal(r.code, CS_OK);
  close(fd);
  await_stats(f, "conns=1 ");
}

static void test_garbage(void **state) {
  fx *f = *state;
  int fd = tt_raw_connect(f->path);
  assert_true(fd >= 0);
  const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
  assert_int_equal(tt_send_frame(fd, 1, TTRPC_REQUEST, 0, junk, sizeof junk), 0);
  tt_resp r;
  assert_int_equal(tt_recv_response(fd, NULL, &r), 0);
  assert_int_equal(r.code, CS_INVALID_ARGUMENT);
  assert_int_equal(tt_send_request(fd, 3, 0, TT_SERVICE, "Decode", junk, sizeof junk, 0, NULL, 0), 0);
  assert_int_equal(tt_recv_response(fd, NULL, &r), 0);
  assert_int_equal(r.code, CS_INVALID_ARGUMENT);
  assert_int_equal(tt_send_request(fd, 5, 0, "no.Service", "X", NULL, 0, 0, NULL, 0), 0);
  assert_int_equal(tt_recv_response(fd, NULL, &r), 0);
  assert_int_equal(r.code, CS_UNIMPLEMENTED);
  assert_int_equal(tt_send_request(fd, 7, 0, TT_SERVICE, "X", NULL, 0, 0, NULL, 0), 0);
  assert_int_equal(tt_recv_response(fd, NULL, &r), 0);
  assert_int_equal(r.code, CS_UNIMPLEMENTED);
  assert_int_equal(tt_send_request(fd, 10, 0, TT_SERVICE, "Echo", NULL, 0, 0, NULL, 0), 0);
  assert_int_equal(tt_recv_response(fd, NULL, &r), 0);
  assert_int_equal(r.id, 10);
  assert_int_equal(r.code, CS_INVALID_ARGUMENT);
  assert_int_equal(tt_send_request(fd, 7, 0, TT_SERVICE, "Echo", NULL, 0, 0, NULL, 0), 0);
  assert_int_equal(tt_recv_response(fd, NULL, &r), 0);
  assert_int_equal(r.code, CS_INVALID_ARGUMENT);
  close(fd);
  await_stats(f, "conns=1 ");
}

static void test_disconnect_mid_frame(void **state) {
  fx *f = *state;
  int fd = tt_raw_connect(f->path);
  assert_true(fd >= 0);
  assert_int_equal(tt_send_request(fd, 1, 0, TT_SERVICE, "Sleep", NULL, 0, 0, NULL, 0), 0);
  uint8_t hdr[TTRPC_HEADER_SIZE];
  ttrpc_header_encode(&(ttrpc_frame_header){100000, 3, TTRPC_REQUEST, 0}, hdr);
  assert_int_equal(tt_write_all(fd, hdr, sizeof hdr), 0);
  assert_int_equal(tt_write_all(fd, "\x0a\x10partial", 9), 0);
  /* Make sure the Sleep call is in before going away, so its cancellation is observable. */
  await_stats(f, "conns=2 ");
  close(fd);
  await_stats(f, "conns=1 cancelled=1 ");
}

static void test_idle_half_open(void **state) {
  fx *f = *state;
  enum { N = 200 };
  int fds[N];
  for (int i = 0; i < N; i++) {
    fds[i] = tt_raw_connect(f->path);
    assert_true(fds[i] >= 0);
    if (i % 4 == 1) assert_int_equal(tt_write_all(fds[i], "\0\0", 2), 0); /* a header that never completes */
  }
  /* A working client is served while all of them idle. */
  await_stats(f, "conns=201 ");
  /* Peers that shut their write side are closed by the server; the rest stay. */
  for (int i = 0; i < N; i += 2) shutdown(fds[i], SHUT_WR);
  await_stats(f, "conns=101 ");
  for (int i = 0; i < N; i += 2) assert_int_equal(tt_wait_eof(fds[i], NULL), 0);
  for (int i = 0; i < N; i++) close(fds[i]);
  await_stats(f, "conns=1 ");
}

/* Random frames with plausible headers and junk bodies (fixed seed): every connection gets answers or is
 * closed, and the server keeps serving. */
static void test_random_frames(void **state) {
  fx *f = *state;
  unsigned seed = 12345;
  for (int conn = 0; conn < 40; conn++) {
    int fd = tt_raw_connect(f->path);
    assert_true(fd >= 0);
    for (int i = 0; i < 50; i++) {
      uint8_t body[512];
      size_t n = (size_t)(rand_r(&seed) % (int)sizeof body);
      for (size_t k = 0; k < n; k++) body[k] = (uint8_t)rand_r(&seed);
      if (rand_r(&seed) % 3 == 0 && n > 2) body[0] = 0x0a; /* looks like a service field */
      uint8_t type = (uint8_t)(rand_r(&seed) % 5), flags = (uint8_t)rand_r(&seed);
      if (tt_send_frame(fd, (uint32_t)rand_r(&seed), type, flags, body, n) < 0) break;
    }
    if (conn % 2) {
      const uint8_t cut[] = {0, 0, 1, 0, 0, 0};
      tt_write_all(fd, cut, sizeof cut);
    }
    close(fd);
  }
  await_stats(f, "conns=1 ");
}

/* ---------------------------------------------------------------- streams */

typedef struct stream_rec {
  int msgs;
  int last;
  int code;
  int order_bad;
  uint32_t id;
  ttrpc_client *cl;
  int cancel_after;
} stream_rec;

static void on_stream(void *data, bool last, int code, const char *msg, const uint8_t *payload, size_t len) {
  stream_rec *s = data;
  if (last) {
    s->last++;
    s->code = code;
    return;
  }
  char want[16];
  snprintf(want, sizeof want, "%d", s->msgs);
  if (len != strlen(want) || memcmp(payload, want, len)) s->order_bad++;
  s->msgs++;
  if (s->cancel_after && s->msgs == s->cancel_after) ttrpc_client_stream_cancel(s->cl, s->id);
}

static void test_server_stream(void **state) {
  fx *f = *state;
  ttrpc_client *c = connect_client(f);
  cs_err err;
  uint8_t p[64];
  stream_rec s = {0};
  assert_int_equal(ttrpc_client_stream(c, TT_SERVICE, "Count", p, any("500", "", p, sizeof p), NULL, 0, on_stream, &s,
                                       &s.id, &err), 0);
  run_until(&f->loop, &s.last, 1);
  assert_int_equal(s.msgs, 500);
  assert_int_equal(s.order_bad, 0);
  assert_int_equal(s.last, 1);
  assert_int_equal(s.code, CS_OK);
  stream_rec e = {0};
  assert_int_equal(ttrpc_client_stream(c, TT_SERVICE, "Count", p, any("3:9", "", p, sizeof p), NULL, 0, on_stream, &e,
                                       &e.id, &err), 0);
  run_until(&f->loop, &e.last, 1);
  assert_int_equal(e.msgs, 3);
  assert_int_equal(e.code, CS_FAILED_PRECONDITION);
  assert_int_equal(e.last, 1);
  close_client(f, c);
}

static void test_stream_cancel_early(void **state) {
  fx *f = *state;
  ttrpc_client *c = connect_client(f);
  cs_err err;
  stream_rec s = {.cl = c, .cancel_after = 5};
  assert_int_equal(ttrpc_client_stream(c, TT_SERVICE, "Forever", NULL, 0, NULL, 0, on_stream, &s, &s.id, &err), 0);
  run_until(&f->loop, &s.last, 1);
  assert_int_equal(s.msgs, 5);
  assert_int_equal(s.last, 1);
  assert_int_equal(s.code, CS_CANCELLED);
  /* Frames still arriving for the cancelled stream are dropped; the connection keeps working. */
  uint8_t *out = NULL;
  size_t len = 0;
  for (int i = 0; i < 20; i++) {
    assert_int_equal(ttrpc_client_call_sync(c, TT_SERVICE, "Echo", (const uint8_t *)"e", 1, NULL, 0, 0, &out, &len, &err), 0);
    free(out);
  }
  assert_int_equal(s.msgs, 5);
  assert_int_equal(s.last, 1);
  /* The server learns of it when the connection closes. */
  close_client(f, c);
  await_stats(f, "conns=1 cancelled=1 ");
}

static void test_backpressure(void **state) {
  fx *f = *state;
  int fd = tt_raw_connect(f->path);
  assert_true(fd >= 0);
  /* Ask for a flood and read nothing: the server must be told to stop at the limit, not buffer on. */
  assert_int_equal(tt_send_request(fd, 1, TTRPC_FLAG_REMOTE_CLOSED, TT_SERVICE, "Flood", NULL, 0, 0, NULL, 0), 0);
  await_stats(f, "bp=1 ");
  char s[256];
  server_stats(f, s, sizeof s);
  size_t queued = strtoul(strstr(s, "queued=") + 7, NULL, 10);
  assert_true(queued >= TTRPC_SEND_LIMIT);
  assert_true(queued < 8 * TTRPC_SEND_LIMIT);
  size_t got = 0;
  for (;;) {
    tt_frame fr;
    assert_int_equal(tt_recv_frame(fd, NULL, &fr), 0);
    assert_int_equal(fr.h.type, TTRPC_DATA);
    got += fr.h.length;
    tt_frame_free(&fr);
    if (fr.h.flags & TTRPC_FLAG_REMOTE_CLOSED) break;
  }
  assert_int_equal(got, queued);
  close(fd);
  await_stats(f, "conns=1 ");
}

/* ---------------------------------------------------------------- accept check (server in this loop) */

typedef struct accept_ctx {
  int calls;
  int refuse;
} accept_ctx;

static int accept_check(int fd, void *data) {
  accept_ctx *a = data;
  a->calls++;
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.pid != getpid()) return -1;
  return a->refuse ? -1 : 0;
}

static void on_closed_flag(void *data) { *(int *)data = 1; }

static void test_accept_check(void **state) {
  fx *f = *state;
  char path[320];
  snprintf(path, sizeof path, "%s/accept.sock", f->dir);
  /* A stale socket file from a dead server must not stop listen. */
  int stale = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  assert_true(strlen(path) < sizeof sa.sun_path);
  memcpy(sa.sun_path, path, strlen(path) + 1);
  assert_int_equal(bind(stale, (struct sockaddr *)&sa, sizeof sa), 0);
  close(stale);

  ttrpc_server *srv = f->local = ttrpc_server_new(&f->loop);
  tt_service svc;
  cs_err err;
  accept_ctx a = {0, 0};
  assert_int_equal(tt_service_register(&svc, &f->loop, srv, &err), 0);
  assert_int_equal(ttrpc_server_register(srv, TT_SERVICE, NULL, 0, NULL, &err), -1);
  assert_int_equal(err.code, CS_ALREADY_EXISTS);
  ttrpc_server_set_accept_check(srv, accept_check, &a);
  assert_int_equal(ttrpc_server_listen(srv, path, &err), 0);
  /* The address of a live server is not taken over (the server thread's socket is live too). */
  ttrpc_server *other = ttrpc_server_new(&f->loop);
  assert_int_equal(ttrpc_server_listen(other, path, &err), -1);
  assert_int_equal(err.code, CS_ALREADY_EXISTS);
  assert_int_equal(ttrpc_server_listen(other, f->path, &err), -1);
  assert_int_equal(err.code, CS_ALREADY_EXISTS);
  ttrpc_server_close(other, NULL, NULL);
  /* That probe was a connection too: let it be accepted (and checked) before counting. */
  for (int i = 0; i < 1000 && a.calls < 1; i++) uv_run(&f->loop, UV_RUN_NOWAIT);
  assert_int_equal(a.calls, 1);
  a.calls = 0;

  ttrpc_client *c = ttrpc_client_new(&f->loop);
  assert_int_equal(ttrpc_client_connect_sync(c, path, &err), 0);
  uint8_t *out = NULL;
  size_t len = 0;
  assert_int_equal(ttrpc_client_call_sync(c, TT_SERVICE, "Echo", (const uint8_t *)"a", 1, NULL, 0, 0, &out, &len, &err), 0);
  free(out);
  close_client(f, c);
  assert_int_equal(a.calls, 1);

  a.refuse = 1;
  c = ttrpc_client_new(&f->loop);
  assert_int_equal(ttrpc_client_connect_sync(c, path, &err), 0); /* the kernel accepted; the check closes it */
  assert_int_equal(ttrpc_client_call_sync(c, TT_SERVICE, "Echo", (const uint8_t *)"a", 1, NULL, 0, 0, &out, &len, &err), -1);
  assert_int_equal(err.code, CS_UNAVAILABLE);
  close_client(f, c);
  assert_int_equal(a.calls, 2);

  int closed = 0;
  f->local = NULL;
  ttrpc_server_close(srv, on_closed_flag, &closed);
  run_until(&f->loop, &closed, 1);
  assert_int_equal(closed, 1);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_sync_calls, setup, teardown),
      cmocka_unit_test_setup_teardown(test_connect_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_timeout_and_close, setup, teardown),
      cmocka_unit_test_setup_teardown(test_connection_loss, setup, teardown),
      cmocka_unit_test_setup_teardown(test_big_messages, setup, teardown),
      cmocka_unit_test_setup_teardown(test_many_connections_out_of_order, setup, teardown),
      cmocka_unit_test_setup_teardown(test_truncated_header, setup, teardown),
      cmocka_unit_test_setup_teardown(test_oversized_frame, setup, teardown),
      cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
      cmocka_unit_test_setup_teardown(test_disconnect_mid_frame, setup, teardown),
      cmocka_unit_test_setup_teardown(test_idle_half_open, setup, teardown),
      cmocka_unit_test_setup_teardown(test_random_frames, setup, teardown),
      cmocka_unit_test_setup_teardown(test_server_stream, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stream_cancel_early, setup, teardown),
      cmocka_unit_test_setup_teardown(test_backpressure, setup, teardown),
      cmocka_unit_test_setup_teardown(test_accept_check, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
