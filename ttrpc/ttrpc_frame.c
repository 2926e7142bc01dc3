/* The 10-byte frame header. Big-endian by spec, written byte by byte so the code does not depend on the
 * host's byte order or on the buffer's alignment. */
#include "ttrpc.h"

static void put_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

void ttrpc_header_encode(const ttrpc_frame_header *h, uint8_t out[TTRPC_HEADER_SIZE]) {
  put_be32(out, h->length);
  put_be32(out + 4, h->stream_id);
  out[8] = h->type;
  out[9] = h->flags;
}

void ttrpc_header_decode(const uint8_t in[TTRPC_HEADER_SIZE], ttrpc_frame_header *h) {
  h->length = get_be32(in);
  h->stream_id = get_be32(in + 4);
  h->type = in[8];
  h->flags = in[9];
}
