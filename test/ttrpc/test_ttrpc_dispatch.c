/* Server dispatch in process: a server adopts one end of a socketpair, the test writes raw frames on the
 * other and reads the answers while turning the same loop. Covers routing, metadata, status codes, stream
 * id rules, bad envelopes, deadlines, out-of-order replies, server streams and cancellation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tt_service.h"
#include "tt_util.h"

typedef struct fx {
  uv_loop_t loop;
  ttrpc_server *srv;
  tt_service svc;
  int fd;
  bool closed;
} fx;

static int setup(void **state) {
  fx *f = calloc(1, sizeof *f);
  cs_err err;
  uv_loop_init(&f->loop);
  f->srv = ttrpc_server_new(&f->loop);
  if (tt_service_register(&f->svc, &f->loop, f->srv, &err) < 0) return -1;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return -1;
  if (ttrpc_server_adopt_fd(f->srv, sv[0], &err) < 0) return -1;
  f->fd = sv[1];
  *state = f;
  return 0;
}

static void on_server_closed(void *data) { ((fx *)data)->closed = true; }

static int teardown(void **state) {
  fx *f = *state;
  if (f->fd >= 0) close(f->fd);
  ttrpc_server_close(f->srv, on_server_closed, f);
  int left = tt_loop_drain(&f->loop);
  int rc = uv_loop_close(&f->loop) || left || !f->closed;
  free(f);
  return rc == 0 ? 0 : -1;
}

static void call(fx *f, uint32_t id, const char *svc, const char *method, const void *p, size_t n, tt_resp *r) {
  assert_int_equal(tt_send_request(f->fd, id, 0, svc, method, p, n, 0, NULL, 0), 0);
  assert_int_equal(tt_recv_response(f->fd, &f->loop, r), 0);
  assert_int_equal(r->id, id);
  assert_int_equal(r->type, TTRPC_RESPONSE);
}

static size_t any(const char *type_url, const char *value, uint8_t *out) {
  return tt_any_pack(type_url, value, strlen(value), out, 256);
}

static void test_echo_and_empty(void **state) {
  fx *f = *state;
  tt_resp r;
  call(f, 1, TT_SERVICE, "Echo", "hello", 5, &r);
  assert_int_equal(r.code, CS_OK);
  assert_int_equal(r.len, 5);
  assert_memory_equal(r.payload, "hello", 5);
  call(f, 3, TT_SERVICE, "Empty", NULL, 0, &r);
  assert_int_equal(r.code, CS_OK);
  assert_int_equal(r.len, 0);
  assert_int_equal(ttrpc_server_connections(f->srv), 1);
}

static void test_metadata(void **state) {
  fx *f = *state;
  const ttrpc_kv md[] = {{"containerd-namespace-ttrpc", "k8s.io"}, {"X-A", "1"}, {"x-b", ""}};
  assert_int_equal(tt_send_request(f->fd, 1, 0, TT_SERVICE, "Meta", NULL, 0, 0, md, 3), 0);
  tt_resp r;
  assert_int_equal(tt_recv_response(f->fd, &f->loop, &r), 0);
  assert_int_equal(r.code, CS_OK);
  char ns[64], kv[256];
  assert_int_equal(tt_any_unpack(r.payload, r.len, ns, sizeof ns, kv, sizeof kv), 0);
  assert_string_equal(ns, "k8s.io");
  /* Keys match case-insensitively; an empty value is present, not absent. */
  assert_string_equal(kv, "containerd-namespace-ttrpc=k8s.io;x-a=1;x-b=");
}

static void test_too_much_metadata(void **state) {
  fx *f = *state;
  ttrpc_kv md[TTRPC_MAX_METADATA + 1];
  for (size_t i = 0; i < TTRPC_MAX_METADATA + 1; i++) md[i] = (ttrpc_kv){"k", "v"};
  assert_int_equal(tt_send_request(f->fd, 1, 0, TT_SERVICE, "Echo", NULL, 0, 0, md, TTRPC_MAX_METADATA + 1), 0);
  tt_resp r;
  assert_int_equal(tt_recv_response(f->fd, &f->loop, &r), 0);
  assert_int_equal(r.code, CS_INVALID_ARGUMENT);
  assert_int_equal(tt_send_request(f->fd, 3, 0, TT_SERVICE, "Echo", NULL, 0, 0, md, TTRPC_MAX_METADATA), 0);
  assert_int_equal(tt_recv_response(f->fd, &f->loop, &r), 0);
  assert_int_equal(r.code, CS_OK);
}

static void test_unimplemented(void **state) {
  fx *f = *state;
  tt_resp r;
  call(f, 1, "no.Such", "Echo", NULL, 0, &r);
  assert_int_equal(r.code, CS_UNIMPLEMENTED);
  assert_string_equal(r.msg, "service no.Such: not implemented");
  call(f, 3, TT_SERVICE, "Nope", NULL, 0, &r);
  assert_int_equal(r.code, CS_UNIMPLEMENTED);
  assert_string_equal(r.msg, "service " TT_SERVICE ": method Nope not implemented");
  /* Client streaming (remote-open) is not offered by any method. */
  assert_int_equal(tt_send_request(f->fd, 5, TTRPC_FLAG_REMOTE_OPEN, TT_SERVICE, "Echo", NULL, 0, 0, NULL, 0), 0);
  assert_int_equal(tt_recv_response(f->fd, &f->loop, &r), 0);
  assert_int_equal(r.code, CS_UNIMPLEMENTED);
  call(f, 7, TT_SERVICE, "Echo", "x", 1, &r);
  assert_int_equal(r.code, CS_OK);
}

static void test_stream_id_rules(void **state) {
  fx *f = *state;
  tt_resp r;
  call(f, 2, TT_SERVICE, "Echo", NULL, 0, &r);
  assert_int_equal(r.code, CS_INVALID_ARGUMENT);
  assert_string_equal(r.msg, "StreamID must be odd for client initiated streams");
  call(f, 5, TT_SERVICE, "Echo", NULL, 0, &r);
  assert_int_equal(r.code, CS_OK);
  call(f, 5, TT_SERVICE, "Echo", NULL, 0, &r);
  assert_int_equal(r.code, CS_INVALID_ARGUMENT);
  assert_string_equal(r.msg, "StreamID cannot be re-used and must increment");
  call(f, 3, TT_SERVICE, "Echo", NULL, 0, &r);
  assert_int_equal(r.code, CS_INVALID_ARGUMENT);
  /* Data for a stream that is not open. */
  assert_int_equal(tt_send_frame(f->fd, 9, TTRPC_DATA, 0, "zz", 2), 0);
  assert_int_equal(tt_recv_response(f->fd, &f->loop, &r), 0);
  assert_int_equal(r.id, 9);
  assert_int_equal(r.code, CS_INVALID_ARGUMENT);
  assert_string_equal(r.msg, "StreamID is no longer active");
  /* Unknown frame types are skipped silently. */
  assert_int_equal(tt_send_frame(f->fd, 11, 0x7f, 0, "zz", 2), 0);
  call(f, 13, TT_SERVICE, "Echo", "ok", 2, &r);
  assert_int_equal(r.code, CS_OK);
}

static void test_garbage_envelope_and_payload(void **state) {
  fx *f = *state;
  tt_resp r;
  const uint8_t junk[] = {0x0a, 0x7f, 'x', 0xff, 0xff};
  assert_int_equal(tt_send_frame(f->fd, 1, TTRPC_REQUEST, 0, junk, sizeof junk), 0);
  assert_int_equal(tt_recv_response(f->fd, &f->loop, &r), 0);
  assert_int_equal(r.id, 1);
  assert_int_equal(r.code, CS_INVALID_ARGUMENT);
  assert_non_null(strstr(r.msg, "unmarshal request error"));
  call(f, 3, TT_SERVICE, "Decode", junk, sizeof junk, &r);
  assert_int_equal(r.code, CS_INVALID_ARGUMENT);
  call(f, 5, TT_SERVICE, "Echo", "still", 5, &r);
  assert_int_equal(r.code, CS_OK);
}

static void test_status_codes(void **state) {
  fx *f = *state;
  const int codes[] = {CS_CANCELLED, CS_INVALID_ARGUMENT, CS_NOT_FOUND, CS_ALREADY_EXISTS, CS_FAILED_PRECONDITION,
                       CS_UNAVAILABLE, CS_DEADLINE_EXCEEDED, CS_UNIMPLEMENTED, CS_INTERNAL};
  uint32_t id = 1;
  for (size_t i = 0; i < sizeof codes / sizeof *codes; i++, id += 2) {
    char code[16];
    uint8_t p[256];
    snprintf(code, sizeof code, "%d", codes[i]);
    tt_resp r;
    call(f, id, TT_SERVICE, "Fail", p, any(code, "it broke", p), &r);
    assert_int_equal(r.code, codes[i]);
    assert_string_equal(r.msg, "it broke");
  }
  /* An error reply must not read as success. */
  uint8_t p[256];
  tt_resp r;
  call(f, id, TT_SERVICE, "Fail", p, any("0", "zero", p), &r);
  assert_int_equal(r.code, CS_UNKNOWN);
}

static void test_errno_mapping(void **state) {
  fx *f = *state;
  const struct { int e, code; } cases[] = {{ENOENT, CS_NOT_FOUND}, {EEXIST, CS_ALREADY_EXISTS}, {EINVAL, CS_INVALID_ARGUMENT},
                                           {EAGAIN, CS_UNAVAILABLE}, {ETIMEDOUT, CS_DEADLINE_EXCEEDED}, {EIO, CS_UNKNOWN}};
  uint32_t id = 1;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++, id += 2) {
    char num[16], want[256];
    uint8_t p[256];
    snprintf(num, sizeof num, "%d", cases[i].e);
    snprintf(want, sizeof want, "open thing: %s", strerror(cases[i].e));
    tt_resp r;
    call(f, id, TT_SERVICE, "Errno", p, any(num, "", p), &r);
    assert_int_equal(r.code, cases[i].code);
    assert_string_equal(r.msg, want);
  }
}

static void test_out_of_order(void **state) {
  fx *f = *state;
  uint8_t p[256];
  size_t n = any("4", "", p);
  for (uint32_t id = 1; id <= 7; id += 2) assert_int_equal(tt_send_request(f->fd, id, 0, TT_SERVICE, "Hold", p, n, 0, NULL, 0), 0);
  for (int want = 7; want >= 1; want -= 2) {
    tt_resp r;
    assert_int_equal(tt_recv_response(f->fd, &f->loop, &r), 0);
    assert_int_equal(r.id, want);
    assert_int_equal(r.code, CS_OK);
    assert_int_equal(r.len, n);
  }
}

static void test_deadline(void **state) {
  fx *f = *state;
  assert_int_equal(tt_send_request(f->fd, 1, 0, TT_SERVICE, "Sleep", NULL, 0, 20 * 1000 * 1000, NULL, 0), 0);
  tt_resp r;
  assert_int_equal(tt_recv_response(f->fd, &f->loop, &r), 0);
  assert_int_equal(r.id, 1);
  assert_int_equal(r.code, CS_DEADLINE_EXCEEDED);
  assert_int_equal(f->svc.cancelled, 1);
  /* A deadline already past still runs the handler, then expires. */
  assert_int_equal(tt_send_request(f->fd, 3, 0, TT_SERVICE, "Sleep", NULL, 0, -1, NULL, 0), 0);
  assert_int_equal(tt_recv_response(f->fd, &f->loop, &r), 0);
  assert_int_equal(r.code, CS_DEADLINE_EXCEEDED);
  assert_int_equal(f->svc.cancelled, 2);
  /* The handler sees the absolute deadline. */
  assert_int_equal(tt_send_request(f->fd, 5, 0, TT_SERVICE, "Deadline", NULL, 0, 10ll * 1000 * 1000 * 1000, NULL, 0), 0);
  assert_int_equal(tt_recv_response(f->fd, &f->loop, &r), 0);
  char set[16], left[32];
  assert_int_equal(tt_any_unpack(r.payload, r.len, set, sizeof set, left, sizeof left), 0);
  assert_string_equal(set, "set");
  assert_true(atoll(left) > 0 && atoll(left) <= 10ll * 1000 * 1000 * 1000);
  assert_int_equal(tt_send_request(f->fd, 7, 0, TT_SERVICE, "Deadline", NULL, 0, 0, NULL, 0), 0);
  assert_int_equal(tt_recv_response(f->fd, &f->loop, &r), 0);
  assert_int_equal(tt_any_unpack(r.payload, r.len, set, sizeof set, NULL, 0), 0);
  assert_string_equal(set, "none");
  /* A handler answering before its deadline wins; the timer is released. */
  tt_resp ok;
  assert_int_equal(tt_send_request(f->fd, 9, 0, TT_SERVICE, "Echo", "a", 1, 60ll * 1000 * 1000 * 1000, NULL, 0), 0);
  assert_int_equal(tt_recv_response(f->fd, &f->loop, &ok), 0);
  assert_int_equal(ok.code, CS_OK);
}

static void test_server_stream(void **state) {
  fx *f = *state;
  uint8_t p[256];
  size_t n = any("5", "", p);
  assert_int_equal(tt_send_request(f->fd, 1, TTRPC_FLAG_REMOTE_CLOSED, TT_SERVICE, "Count", p, n, 0, NULL, 0), 0);
  for (int i = 0; i < 5; i++) {
    tt_resp r;
    assert_int_equal(tt_recv_response(f->fd, &f->loop, &r), 0);
    assert_int_equal(r.type, TTRPC_DATA);
    assert_int_equal(r.flags, 0);
    char want[8];
    snprintf(want, sizeof want, "%d", i);
    assert_int_equal(r.len, strlen(want));
    assert_memory_equal(r.payload, want, r.len);
  }
  tt_resp end;
  assert_int_equal(tt_recv_response(f->fd, &f->loop, &end), 0);
  assert_int_equal(end.type, TTRPC_DATA);
  assert_int_equal(end.flags, TTRPC_FLAG_REMOTE_CLOSED | TTRPC_FLAG_NO_DATA);
  assert_int_equal(end.len, 0);
  /* An error ends the stream with a Response. */
  n = any("2:5", "", p);
  assert_int_equal(tt_send_request(f->fd, 3, TTRPC_FLAG_REMOTE_CLOSED, TT_SERVICE, "Count", p, n, 0, NULL, 0), 0);
  tt_resp r;
  for (int i = 0; i < 2; i++) {
    assert_int_equal(tt_recv_response(f->fd, &f->loop, &r), 0);
    assert_int_equal(r.type, TTRPC_DATA);
  }
  assert_int_equal(tt_recv_response(f->fd, &f->loop, &r), 0);
  assert_int_equal(r.type, TTRPC_RESPONSE);
  assert_int_equal(r.code, CS_NOT_FOUND);
}

static void test_disconnect_cancels(void **state) {
  fx *f = *state;
  assert_int_equal(tt_send_request(f->fd, 1, 0, TT_SERVICE, "Sleep", NULL, 0, 0, NULL, 0), 0);
  assert_int_equal(tt_send_request(f->fd, 3, TTRPC_FLAG_REMOTE_CLOSED, TT_SERVICE, "Forever", NULL, 0, 0, NULL, 0), 0);
  tt_resp r;
  assert_int_equal(tt_recv_response(f->fd, &f->loop, &r), 0); /* the stream is running */
  assert_int_equal(r.id, 3);
  /* Half a frame, then gone. */
  const uint8_t partial[] = {0, 0, 0, 100, 0, 0, 0, 5, 1, 0, 0x0a};
  assert_int_equal(tt_write_all(f->fd, partial, sizeof partial), 0);
  close(f->fd);
  f->fd = -1;
  for (int i = 0; i < 100000 && ttrpc_server_connections(f->srv) > 0; i++) uv_run(&f->loop, UV_RUN_ONCE);
  assert_int_equal(ttrpc_server_connections(f->srv), 0);
  assert_int_equal(f->svc.cancelled, 2);
}

static void test_close_with_calls(void **state) {
  fx *f = *state;
  uint8_t p[256];
  size_t n = any("100", "", p);
  assert_int_equal(tt_send_request(f->fd, 1, 0, TT_SERVICE, "Hold", p, n, 0, NULL, 0), 0);
  assert_int_equal(tt_send_request(f->fd, 3, 0, TT_SERVICE, "Sleep", NULL, 0, 0, NULL, 0), 0);
  tt_resp r;
  assert_int_equal(tt_send_request(f->fd, 5, 0, TT_SERVICE, "Echo", NULL, 0, 0, NULL, 0), 0);
  assert_int_equal(tt_recv_response(f->fd, &f->loop, &r), 0);
  assert_int_equal(r.id, 5);
  assert_int_equal(f->svc.nheld, 1);
  /* teardown closes the server with both calls open: both are cancelled and the loop ends clean. */
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_echo_and_empty, setup, teardown),
      cmocka_unit_test_setup_teardown(test_metadata, setup, teardown),
      cmocka_unit_test_setup_teardown(test_too_much_metadata, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unimplemented, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stream_id_rules, setup, teardown),
      cmocka_unit_test_setup_teardown(test_garbage_envelope_and_payload, setup, teardown),
      cmocka_unit_test_setup_teardown(test_status_codes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_errno_mapping, setup, teardown),
      cmocka_unit_test_setup_teardown(test_out_of_order, setup, teardown),
      cmocka_unit_test_setup_teardown(test_deadline, setup, teardown),
      cmocka_unit_test_setup_teardown(test_server_stream, setup, teardown),
      cmocka_unit_test_setup_teardown(test_disconnect_cancels, setup, teardown),
      cmocka_unit_test_setup_teardown(test_close_with_calls, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
