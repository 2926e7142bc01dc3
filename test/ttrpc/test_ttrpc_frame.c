/* Frame header codec: byte layout (big-endian, Go's channel.go) and round trips at the edges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "ttrpc.h"

static void test_layout(void **state) {
  ttrpc_frame_header h = {0x01020304u, 0x0a0b0c0du, TTRPC_RESPONSE, TTRPC_FLAG_REMOTE_CLOSED | TTRPC_FLAG_NO_DATA};
  uint8_t b[TTRPC_HEADER_SIZE];
  ttrpc_header_encode(&h, b);
  const uint8_t want[TTRPC_HEADER_SIZE] = {1, 2, 3, 4, 0x0a, 0x0b, 0x0c, 0x0d, 2, 5};
  assert_memory_equal(b, want, sizeof want);
}

static void test_roundtrip_edges(void **state) {
  const ttrpc_frame_header cases[] = {
      {0, 1, TTRPC_REQUEST, 0},
      {TTRPC_MAX_MESSAGE, 3, TTRPC_DATA, TTRPC_FLAG_REMOTE_OPEN},
      {TTRPC_MAX_MESSAGE + 1, 0xffffffffu, 0xff, 0xff},
      {0xffffffffu, 0, 0, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    uint8_t b[TTRPC_HEADER_SIZE];
    ttrpc_frame_header back;
    memset(&back, 0xaa, sizeof back);
    ttrpc_header_encode(&cases[i], b);
    ttrpc_header_decode(b, &back);
    assert_int_equal(back.length, cases[i].length);
    assert_int_equal(back.stream_id, cases[i].stream_id);
    assert_int_equal(back.type, cases[i].type);
    assert_int_equal(back.flags, cases[i].flags);
  }
}

static void test_decode_unaligned(void **state) {
  uint8_t b[TTRPC_HEADER_SIZE + 1] = {0, 0, 0, 0, 0x10, 0, 0, 0, 7, 1, 0};
  ttrpc_frame_header h;
  ttrpc_header_decode(b + 1, &h);
  assert_int_equal(h.length, 0x10);
  assert_int_equal(h.stream_id, 7);
  assert_int_equal(h.type, TTRPC_REQUEST);
  assert_int_equal(h.flags, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_layout),
      cmocka_unit_test(test_roundtrip_edges),
      cmocka_unit_test(test_decode_unaligned),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
