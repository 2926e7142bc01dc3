/* Blocking wrappers for CLIs and the shim's start/delete: they turn the loop until the answer is in.
 * Not for use from inside a loop callback (libuv does not allow uv_run to nest). */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "ttrpc_client_int.h"
#include "ttrpc_err.h"

/* Runs the loop until *done, or until it runs dry: that cannot happen while a connect or a call is
 * pending (the connect request, or the connection's read, keeps the loop alive), but a caller must not
 * spin forever if it does. */
static void run_until(ttrpc_client *c, const bool *done) {
  while (!*done && uv_run(c->loop, UV_RUN_ONCE) != 0) {
  }
}

typedef struct sync_connect {
  bool done;
  int status;
} sync_connect;

static void connect_done(void *data, int status) {
  sync_connect *s = data;
  s->status = status;
  s->done = true;
}

int ttrpc_client_connect_sync(ttrpc_client *c, const char *path, cs_err *err) {
  sync_connect s = {false, 0};
  if (ttrpc_client_connect(c, path, connect_done, &s, err) < 0) return -1;
  run_until(c, &s.done);
  if (!s.done) return cs_err_set(err, CS_INTERNAL, "ttrpc: connect %s: event loop stopped", path);
  if (s.status < 0) return ttrpc_err_uv(err, s.status, "ttrpc: connect %s", path);
  return 0;
}

typedef struct sync_call {
  bool done;
  int code;
  char msg[CS_ERR_MSG_MAX];
  uint8_t *out;
  size_t out_len;
} sync_call;

static void call_done(void *data, int code, const char *msg, const uint8_t *payload, size_t len) {
  sync_call *s = data;
  s->done = true;
  s->code = code;
  snprintf(s->msg, sizeof s->msg, "%s", msg ? msg : "");
  if (code != CS_OK) return;
  /* malloc(0) may return NULL; callers get a freeable pointer either way. */
  s->out = malloc(len ? len : 1);
  if (!s->out) {
    s->code = CS_RESOURCE_EXHAUSTED;
    snprintf(s->msg, sizeof s->msg, "ttrpc: out of memory for a %zu-byte reply", len);
    return;
  }
  if (len) memcpy(s->out, payload, len);
  s->out_len = len;
}

int ttrpc_client_call_sync(ttrpc_client *c, const char *service, const char *method, const uint8_t *payload,
                           size_t len, const ttrpc_kv *md, size_t nmd, int64_t timeout_ns, uint8_t **out,
                           size_t *out_len, cs_err *err) {
  sync_call s;
  memset(&s, 0, sizeof s);
  uint32_t id = c->next_id;
  if (ttrpc_client_call(c, service, method, payload, len, md, nmd, timeout_ns, call_done, &s, err) < 0) return -1;
  run_until(c, &s.done);
  ttrpc_pending *p = s.done ? NULL : ttrpc_pending_find(c, id);
  if (p) ttrpc_pending_complete(p, CS_INTERNAL, "ttrpc: event loop stopped", NULL, 0);
  if (s.code != CS_OK) {
    free(s.out);
    return cs_err_set(err, s.code, "%s", s.msg);
  }
  if (out) *out = s.out;
  else free(s.out);
  if (out_len) *out_len = s.out_len;
  return 0;
}
