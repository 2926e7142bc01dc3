/* Envelope codec (nanopb, in place), cross-checked against protobuf-c, an independent implementation of
 * the same schema: what one writes the other must read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "google/rpc/status.pb-c.h"
#include "ttrpc.pb-c.h"
#include "ttrpc_envelope.h"

static bool bytes_is(const ttrpc_bytes *b, const char *s) { return b->n == strlen(s) && memcmp(b->p, s, b->n) == 0; }

static void test_request_nanopb_to_protobuf_c(void **state) {
  const ttrpc_kv md[] = {{"containerd-namespace-ttrpc", "k8s.io"}, {"x-a", ""}, {"", "v"}};
  const uint8_t payload[] = {0, 1, 2, 0xff};
  size_t max = ttrpc_request_max_size("containerd.task.v2.Task", "Create", sizeof payload, md, 3), n = 0;
  uint8_t *buf = malloc(max);
  cs_err err;
  assert_int_equal(ttrpc_request_encode(buf, max, &n, "containerd.task.v2.Task", "Create", payload, sizeof payload,
                                        -5, md, 3, &err), 0);
  Ttrpc__Request *r = ttrpc__request__unpack(NULL, n, buf);
  assert_non_null(r);
  assert_string_equal(r->service, "containerd.task.v2.Task");
  assert_string_equal(r->method, "Create");
  assert_int_equal(r->payload.len, sizeof payload);
  assert_memory_equal(r->payload.data, payload, sizeof payload);
  assert_int_equal(r->timeout_nano, -5);
  assert_int_equal(r->n_metadata, 3);
  assert_string_equal(r->metadata[0]->key, "containerd-namespace-ttrpc");
  assert_string_equal(r->metadata[0]->value, "k8s.io");
  assert_string_equal(r->metadata[1]->value, "");
  assert_string_equal(r->metadata[2]->key, "");
  ttrpc__request__free_unpacked(r, NULL);

  /* And back through our decoder, pointing into buf. */
  ttrpc_request_view v;
  assert_int_equal(ttrpc_request_decode(buf, n, &v, &err), 0);
  assert_true(bytes_is(&v.service, "containerd.task.v2.Task"));
  assert_true(bytes_is(&v.method, "Create"));
  assert_true(v.payload.p >= buf && v.payload.p + v.payload.n <= buf + n);
  assert_int_equal(v.nmd, 3);
  assert_int_equal(v.md_total, 3);
  assert_true(bytes_is(&v.md_key[0], "containerd-namespace-ttrpc"));
  assert_true(bytes_is(&v.md_value[0], "k8s.io"));
  assert_int_equal(v.md_value[1].n, 0);
  free(buf);
}

static void test_request_protobuf_c_to_nanopb(void **state) {
  Ttrpc__KeyValue kvs[TTRPC_MAX_METADATA + 3], *kvp[TTRPC_MAX_METADATA + 3];
  char keys[TTRPC_MAX_METADATA + 3][16];
  for (int i = 0; i < TTRPC_MAX_METADATA + 3; i++) {
    ttrpc__key_value__init(&kvs[i]);
    snprintf(keys[i], sizeof keys[i], "k%d", i);
    kvs[i].key = keys[i];
    kvs[i].value = "v";
    kvp[i] = &kvs[i];
  }
  Ttrpc__Request r = TTRPC__REQUEST__INIT;
  r.service = "s";
  r.method = "m";
  r.timeout_nano = 1000000000;
  r.n_metadata = TTRPC_MAX_METADATA + 3;
  r.metadata = kvp;
  uint8_t buf[1024];
  size_t n = ttrpc__request__pack(&r, buf);
  ttrpc_request_view v;
  cs_err err;
  assert_int_equal(ttrpc_request_decode(buf, n, &v, &err), 0);
  assert_true(bytes_is(&v.service, "s"));
  assert_true(bytes_is(&v.method, "m"));
  assert_int_equal(v.payload.n, 0);
  assert_int_equal(v.timeout_nano, 1000000000);
  /* Only TTRPC_MAX_METADATA are kept, but all are counted so the server can refuse the request. */
  assert_int_equal(v.nmd, TTRPC_MAX_METADATA);
  assert_int_equal(v.md_total, TTRPC_MAX_METADATA + 3);
  assert_true(bytes_is(&v.md_key[TTRPC_MAX_METADATA - 1], "k15"));
}

static void test_request_empty_and_garbage(void **state) {
  ttrpc_request_view v;
  cs_err err;
  assert_int_equal(ttrpc_request_decode((const uint8_t *)"", 0, &v, &err), 0);
  assert_int_equal(v.service.n, 0);
  const uint8_t garbage[][6] = {
      {0x0a, 0x05, 'a'},              /* string longer than the message */
      {0xff, 0xff, 0xff, 0xff, 0xff}, /* unterminated varint tag */
      {0x0f, 0, 0, 0, 0},             /* wire type 7 */
      {0x2a, 0x02, 0x0a, 0x09, 0, 0}, /* metadata KeyValue with a key running past its end */
  };
  const size_t lens[] = {3, 5, 5, 6};
  for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
    cs_err_clear(&err);
    assert_int_equal(ttrpc_request_decode(garbage[i], lens[i], &v, &err), -1);
    assert_int_equal(err.code, CS_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "unmarshal request error"));
  }
}

static void test_response_roundtrip(void **state) {
  uint8_t buf[256];
  size_t n = 0;
  cs_err err;
  const char *msg = "service x: method y not implemented";
  assert_true(ttrpc_response_max_size(strlen(msg), 3) <= sizeof buf);
  assert_int_equal(ttrpc_response_encode(buf, sizeof buf, &n, CS_UNIMPLEMENTED, msg, strlen(msg),
                                         (const uint8_t *)"abc", 3, &err), 0);
  Ttrpc__Response *r = ttrpc__response__unpack(NULL, n, buf);
  assert_non_null(r);
  assert_non_null(r->status);
  assert_int_equal(r->status->code, CS_UNIMPLEMENTED);
  assert_string_equal(r->status->message, msg);
  assert_int_equal(r->payload.len, 3);
  ttrpc__response__free_unpacked(r, NULL);

  ttrpc_response_view v;
  assert_int_equal(ttrpc_response_decode(buf, n, &v, &err), 0);
  assert_int_equal(v.code, CS_UNIMPLEMENTED);
  assert_true(bytes_is(&v.message, msg));
  assert_true(bytes_is(&v.payload, "abc"));

  /* OK still carries a (empty) Status, as Go's server sends. */
  assert_int_equal(ttrpc_response_encode(buf, sizeof buf, &n, CS_OK, NULL, 0, NULL, 0, &err), 0);
  const uint8_t want[] = {0x0a, 0x00};
  assert_int_equal(n, sizeof want);
  assert_memory_equal(buf, want, sizeof want);
  /* A Response without Status is OK. */
  assert_int_equal(ttrpc_response_decode((const uint8_t *)"", 0, &v, &err), 0);
  assert_int_equal(v.code, CS_OK);
}

static void test_response_from_protobuf_c_negative_code(void **state) {
  Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
  st.code = -1;
  st.message = "odd";
  Ttrpc__Response r = TTRPC__RESPONSE__INIT;
  r.status = &st;
  uint8_t buf[64];
  size_t n = ttrpc__response__pack(&r, buf);
  ttrpc_response_view v;
  cs_err err;
  assert_int_equal(ttrpc_response_decode(buf, n, &v, &err), 0);
  assert_int_equal(v.code, -1);
  assert_true(bytes_is(&v.message, "odd"));
}

/* A string field sent with a scalar wire type reaches nanopb's callback through nanopb's own stack copy:
 * the decoder must refuse it rather than keep a pointer to that copy (found by fuzz_envelope). */
static void test_string_field_with_scalar_wire_type(void **state) {
  (void)state;
  const uint8_t varint_service[] = {0x08, 0x96, 0x01};             /* field 1, varint 150 */
  const uint8_t fixed_method[] = {0x15, 0x01, 0x02, 0x03, 0x04};   /* field 2, fixed32 */
  const uint8_t md_key_varint[] = {0x2a, 0x02, 0x08, 0x01};        /* metadata{key: varint} */
  ttrpc_request_view v;
  cs_err err;
  assert_int_equal(ttrpc_request_decode(varint_service, sizeof varint_service, &v, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  assert_int_equal(ttrpc_request_decode(fixed_method, sizeof fixed_method, &v, &err), -1);
  assert_int_equal(ttrpc_request_decode(md_key_varint, sizeof md_key_varint, &v, &err), -1);
  const uint8_t resp_payload_varint[] = {0x10, 0x05};               /* Response.payload as varint */
  ttrpc_response_view rv;
  assert_int_equal(ttrpc_response_decode(resp_payload_varint, sizeof resp_payload_varint, &rv, &err), -1);
}

static void test_encode_too_small(void **state) {
  uint8_t buf[8];
  size_t n;
  cs_err err;
  assert_int_equal(ttrpc_request_encode(buf, sizeof buf, &n, "a.long.Service", "Method", NULL, 0, 0, NULL, 0, &err), -1);
  assert_int_equal(err.code, CS_INTERNAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_request_nanopb_to_protobuf_c),
      cmocka_unit_test(test_request_protobuf_c_to_nanopb),
      cmocka_unit_test(test_request_empty_and_garbage),
      cmocka_unit_test(test_response_roundtrip),
      cmocka_unit_test(test_response_from_protobuf_c_negative_code),
      cmocka_unit_test(test_encode_too_small),
      cmocka_unit_test(test_string_field_with_scalar_wire_type),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
