/* nanopb glue for the envelope. All string/bytes fields of ttrpc.proto are nanopb callbacks (no .options
 * file): on decode they record where the field lies in the input, on encode they write from the caller's
 * memory, so nothing is copied or allocated here. */
#include "ttrpc_envelope.h"

#include <pb_decode.h>
#include <pb_encode.h>
#include <stdint.h>
#include <string.h>

#include "ttrpc.pb.h"

/* Room for a tag plus a 32-bit length varint; 64-bit varints need 10. */
#define FIELD_OVERHEAD 6
#define VARINT64_FIELD 11

/* ---------------------------------------------------------------- decode */

/* nanopb's buffer streams keep the current read position in `state`, so the field's bytes can be
 * referenced where they are instead of being copied out. Only valid for pb_istream_from_buffer() — and
 * only for the length-delimited wire type: a string field sent as a varint or fixed value reaches the
 * callback through a stream over nanopb's own stack copy, which must never be referenced (fuzz_envelope
 * found this). So every field records the input's bounds and refuses bytes that lie outside them. */
typedef struct dec_field {
  ttrpc_bytes *out;
  const uint8_t *lo, *hi;
} dec_field;

/* True when the stream nanopb hands a callback reads the input itself (a length-delimited field), not its
 * stack copy of a scalar. */
static bool in_input(const pb_istream_t *s, const uint8_t *in_lo, const uint8_t *in_hi) {
  uintptr_t at = (uintptr_t)s->state, lo = (uintptr_t)in_lo, hi = (uintptr_t)in_hi;
  return at >= lo && at <= hi && s->bytes_left <= hi - at;
}

static bool dec_bytes(pb_istream_t *s, const pb_field_t *f, void **arg) {
  (void)f;
  dec_field *d = *arg;
  const uint8_t *p = (const uint8_t *)s->state;
  if (!in_input(s, d->lo, d->hi)) PB_RETURN_ERROR(s, "wrong wire type for a string field");
  d->out->p = p;
  d->out->n = s->bytes_left;
  return pb_read(s, NULL, s->bytes_left);
}

typedef struct dec_request {
  ttrpc_request_view *v;
  const uint8_t *lo, *hi;
} dec_request;

static bool dec_metadata(pb_istream_t *s, const pb_field_t *f, void **arg) {
  (void)f;
  dec_request *r = *arg;
  ttrpc_request_view *v = r->v;
  if (!in_input(s, r->lo, r->hi)) PB_RETURN_ERROR(s, "wrong wire type for a message field");
  ttrpc_bytes scratch_k, scratch_v;
  ttrpc_bytes *k = &scratch_k, *val = &scratch_v;
  if (v->nmd < TTRPC_MAX_METADATA) {
    k = &v->md_key[v->nmd];
    val = &v->md_value[v->nmd];
  }
  *k = (ttrpc_bytes){NULL, 0};
  *val = (ttrpc_bytes){NULL, 0};
  dec_field dk = {k, r->lo, r->hi}, dv = {val, r->lo, r->hi};
  ttrpc_KeyValue kv = ttrpc_KeyValue_init_zero;
  kv.key.funcs.decode = dec_bytes;
  kv.key.arg = &dk;
  kv.value.funcs.decode = dec_bytes;
  kv.value.arg = &dv;
  if (!pb_decode(s, ttrpc_KeyValue_fields, &kv)) return false;
  if (v->nmd < TTRPC_MAX_METADATA) v->nmd++;
  v->md_total++;
  return true;
}

/* nanopb ends a message at a zero tag (its null-terminated messages) and skips field number 0; Go and
 * protobuf-c reject both. So the fields are walked first with nanopb's own tag/skip functions, into the
 * one submessage each envelope has (Request.metadata, Response.status), and field number 0 is refused. */
static bool no_field_zero(pb_istream_t *s, uint32_t sub_field) {
  while (s->bytes_left) {
    pb_wire_type_t wt;
    uint32_t tag;
    bool eof;
    if (!pb_decode_tag(s, &wt, &tag, &eof) || tag == 0) return false;
    if (tag == sub_field && wt == PB_WT_STRING) {
      pb_istream_t sub;
      if (!pb_make_string_substream(s, &sub)) return false;
      bool ok = no_field_zero(&sub, 0);
      if (!pb_close_string_substream(s, &sub) || !ok) return false;
    } else if (!pb_skip_field(s, wt)) {
      return false;
    }
  }
  return true;
}

static bool well_formed(const uint8_t *buf, size_t len, uint32_t sub_field) {
  pb_istream_t s = pb_istream_from_buffer(buf, len);
  return no_field_zero(&s, sub_field);
}

int ttrpc_request_decode(const uint8_t *buf, size_t len, ttrpc_request_view *v, cs_err *err) {
  memset(v, 0, sizeof *v);
  if (!well_formed(buf, len, 5 /* metadata */))
    return cs_err_set(err, CS_INVALID_ARGUMENT, "unmarshal request error: malformed message or field number 0");
  const uint8_t *hi = buf + len;
  dec_field ds = {&v->service, buf, hi}, dm = {&v->method, buf, hi}, dp = {&v->payload, buf, hi};
  dec_request dr = {v, buf, hi};
  ttrpc_Request r = ttrpc_Request_init_zero;
  r.service.funcs.decode = dec_bytes;
  r.service.arg = &ds;
  r.method.funcs.decode = dec_bytes;
  r.method.arg = &dm;
  r.payload.funcs.decode = dec_bytes;
  r.payload.arg = &dp;
  r.metadata.funcs.decode = dec_metadata;
  r.metadata.arg = &dr;
  pb_istream_t s = pb_istream_from_buffer(buf, len);
  if (!pb_decode(&s, ttrpc_Request_fields, &r))
    return cs_err_set(err, CS_INVALID_ARGUMENT, "unmarshal request error: %s", PB_GET_ERROR(&s));
  v->timeout_nano = r.timeout_nano;
  return 0;
}

int ttrpc_response_decode(const uint8_t *buf, size_t len, ttrpc_response_view *v, cs_err *err) {
  memset(v, 0, sizeof *v);
  if (!well_formed(buf, len, 1 /* status */))
    return cs_err_set(err, CS_INTERNAL, "unmarshal response error: malformed message or field number 0");
  dec_field dmsg = {&v->message, buf, buf + len}, dp = {&v->payload, buf, buf + len};
  ttrpc_Response r = ttrpc_Response_init_zero;
  r.status.message.funcs.decode = dec_bytes;
  r.status.message.arg = &dmsg;
  r.payload.funcs.decode = dec_bytes;
  r.payload.arg = &dp;
  pb_istream_t s = pb_istream_from_buffer(buf, len);
  if (!pb_decode(&s, ttrpc_Response_fields, &r))
    return cs_err_set(err, CS_INTERNAL, "unmarshal response error: %s", PB_GET_ERROR(&s));
  v->code = r.has_status ? r.status.code : CS_OK;
  return 0;
}

/* ---------------------------------------------------------------- encode */

static bool enc_bytes(pb_ostream_t *s, const pb_field_t *f, void *const *arg) {
  const ttrpc_bytes *b = *arg;
  if (b->n == 0) return true; /* proto3: an empty field is not on the wire */
  return pb_encode_tag_for_field(s, f) && pb_encode_string(s, b->p, b->n);
}

typedef struct md_list {
  const ttrpc_kv *md;
  size_t n;
} md_list;

static bool enc_metadata(pb_ostream_t *s, const pb_field_t *f, void *const *arg) {
  const md_list *l = *arg;
  for (size_t i = 0; i < l->n; i++) {
    const char *key = l->md[i].key ? l->md[i].key : "", *value = l->md[i].value ? l->md[i].value : "";
    ttrpc_bytes k = {(const uint8_t *)key, strlen(key)}, val = {(const uint8_t *)value, strlen(value)};
    ttrpc_KeyValue kv = ttrpc_KeyValue_init_zero;
    kv.key.funcs.encode = enc_bytes;
    kv.key.arg = &k;
    kv.value.funcs.encode = enc_bytes;
    kv.value.arg = &val;
    if (!pb_encode_tag_for_field(s, f) || !pb_encode_submessage(s, ttrpc_KeyValue_fields, &kv)) return false;
  }
  return true;
}

size_t ttrpc_request_max_size(const char *service, const char *method, size_t payload_len, const ttrpc_kv *md,
                              size_t nmd) {
  size_t n = 3 * FIELD_OVERHEAD + strlen(service) + strlen(method) + payload_len + VARINT64_FIELD;
  for (size_t i = 0; i < nmd; i++) {
    n += 3 * FIELD_OVERHEAD;
    if (md[i].key) n += strlen(md[i].key);
    if (md[i].value) n += strlen(md[i].value);
  }
  return n;
}

int ttrpc_request_encode(uint8_t *out, size_t cap, size_t *written, const char *service, const char *method,
                         const uint8_t *payload, size_t len, int64_t timeout_nano, const ttrpc_kv *md,
                         size_t nmd, cs_err *err) {
  ttrpc_bytes sv = {(const uint8_t *)service, strlen(service)}, mt = {(const uint8_t *)method, strlen(method)};
  ttrpc_bytes pl = {payload, payload ? len : 0};
  md_list ml = {md, md ? nmd : 0};
  ttrpc_Request r = ttrpc_Request_init_zero;
  r.service.funcs.encode = enc_bytes;
  r.service.arg = &sv;
  r.method.funcs.encode = enc_bytes;
  r.method.arg = &mt;
  r.payload.funcs.encode = enc_bytes;
  r.payload.arg = &pl;
  r.timeout_nano = timeout_nano;
  r.metadata.funcs.encode = enc_metadata;
  r.metadata.arg = &ml;
  pb_ostream_t s = pb_ostream_from_buffer(out, cap);
  if (!pb_encode(&s, ttrpc_Request_fields, &r))
    return cs_err_set(err, CS_INTERNAL, "marshal request: %s", PB_GET_ERROR(&s));
  *written = s.bytes_written;
  return 0;
}

size_t ttrpc_response_max_size(size_t msg_len, size_t payload_len) {
  return 2 * FIELD_OVERHEAD + VARINT64_FIELD + FIELD_OVERHEAD + msg_len + payload_len;
}

int ttrpc_response_encode(uint8_t *out, size_t cap, size_t *written, int code, const char *msg,
                          size_t msg_len, const uint8_t *payload, size_t len, cs_err *err) {
  ttrpc_bytes m = {(const uint8_t *)msg, msg ? msg_len : 0}, pl = {payload, payload ? len : 0};
  ttrpc_Response r = ttrpc_Response_init_zero;
  r.has_status = true;
  r.status.code = code;
  r.status.message.funcs.encode = enc_bytes;
  r.status.message.arg = &m;
  r.payload.funcs.encode = enc_bytes;
  r.payload.arg = &pl;
  pb_ostream_t s = pb_ostream_from_buffer(out, cap);
  if (!pb_encode(&s, ttrpc_Response_fields, &r))
    return cs_err_set(err, CS_INTERNAL, "marshal response: %s", PB_GET_ERROR(&s));
  *written = s.bytes_written;
  return 0;
}
