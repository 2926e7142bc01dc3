/* The TTRPC envelope (ttrpc.Request / ttrpc.Response) with nanopb, without heap allocation.
 *
 * Decoding is in place: every string and bytes field comes back as a pointer into the caller's frame
 * buffer plus a length (not NUL-terminated), valid as long as that buffer is. Encoding writes into a
 * caller-provided buffer at least ttrpc_*_max_size() bytes long. Internal to the transport; exposed to
 * the unit tests. */
#ifndef TTRPC_ENVELOPE_H
#define TTRPC_ENVELOPE_H

#include "ttrpc.h"

typedef struct ttrpc_bytes {
  const uint8_t *p;
  size_t n;
} ttrpc_bytes;

typedef struct ttrpc_request_view {
  ttrpc_bytes service;
  ttrpc_bytes method;
  ttrpc_bytes payload;
  int64_t timeout_nano;
  size_t nmd;               /* entries kept, at most TTRPC_MAX_METADATA */
  size_t md_total;          /* entries on the wire; more than nmd means some were not kept */
  ttrpc_bytes md_key[TTRPC_MAX_METADATA];
  ttrpc_bytes md_value[TTRPC_MAX_METADATA];
} ttrpc_request_view;

typedef struct ttrpc_response_view {
  int32_t code;
  ttrpc_bytes message;
  ttrpc_bytes payload;
} ttrpc_response_view;

/* -1 with InvalidArgument and nanopb's reason when the bytes are not a valid message. */
int ttrpc_request_decode(const uint8_t *buf, size_t len, ttrpc_request_view *v, cs_err *err);
int ttrpc_response_decode(const uint8_t *buf, size_t len, ttrpc_response_view *v, cs_err *err);

size_t ttrpc_request_max_size(const char *service, const char *method, size_t payload_len, const ttrpc_kv *md,
                              size_t nmd);
int ttrpc_request_encode(uint8_t *out, size_t cap, size_t *written, const char *service, const char *method,
                         const uint8_t *payload, size_t len, int64_t timeout_nano, const ttrpc_kv *md,
                         size_t nmd, cs_err *err);

size_t ttrpc_response_max_size(size_t msg_len, size_t payload_len);
/* code CS_OK with an empty message still carries a Status (Go's server always sends one). */
int ttrpc_response_encode(uint8_t *out, size_t cap, size_t *written, int code, const char *msg,
                          size_t msg_len, const uint8_t *payload, size_t len, cs_err *err);

#endif
