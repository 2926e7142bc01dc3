/* Test-only: linked into cshim-leaky-shim (never installed, never in the shipped binary) with
 * -Wl,--wrap=protobuf_c_message_unpack, so every request message the shim decodes also leaks a small
 * block. load_shim's RSS-growth checks must fail against that shim: test load_shim_catches_leak. The blocks
 * are chained from a static head, so they stay reachable (a sanitizer would not call them leaks; the
 * plain build's RSS does). */
#include <stdlib.h>
#include <string.h>

#include <protobuf-c/protobuf-c.h>

#define LEAK_BYTES 64 /* per request: a small leak, as a forgotten free of a reply buffer would be */

ProtobufCMessage *__real_protobuf_c_message_unpack(const ProtobufCMessageDescriptor *d, ProtobufCAllocator *a,
                                                   size_t len, const uint8_t *data);

static void *leak_head;

ProtobufCMessage *__wrap_protobuf_c_message_unpack(const ProtobufCMessageDescriptor *d, ProtobufCAllocator *a,
                                                   size_t len, const uint8_t *data) {
  void **b = malloc(LEAK_BYTES);
  if (b) {
    memset(b, 0xab, LEAK_BYTES);
    *b = leak_head;
    leak_head = b;
  }
  return __real_protobuf_c_message_unpack(d, a, len, data);
}
