/* start's answer by host: see shim_bootstrap.h. */
#include "shim_bootstrap.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "google/protobuf/any.pb-c.h"
#include "task_opts.h"

/* The runtime options' own BootstrapVersion, decoded as Create will decode them (task_opts): options that do
 * not decode keep the safe answer here, and Create reports them. */
static int options_version(const uint8_t *opts, size_t len) {
  if (!opts || len == 0) return 0;
  Google__Protobuf__Any *any = google__protobuf__any__unpack(NULL, len, opts);
  if (!any) return 0;
  task_opts t;
  cs_err err;
  int v = 0;
  if (task_opts_decode(&t, any->type_url, any->value.data, any->value.len, &err) == 0) v = (int)t.o.bootstrap_version;
  task_opts_release(&t);
  google__protobuf__any__free_unpacked(any, NULL);
  return v;
}

int shim_bootstrap_version(const char *max_env, const uint8_t *opts, size_t len) {
  if (!max_env || !*max_env) return 1;
  char *end;
  errno = 0;
  long max = strtol(max_env, &end, 10);
  if (errno || *end || max < 2) return 1;
  if (max >= 3) return 3; /* a host that says it takes 3 */
  return options_version(opts, len) == 3 ? 3 : 2;
}

int shim_bootstrap_answer(int version, const char *address, char *out, size_t len, cs_err *err) {
  if (version < 2 || strncmp(address, "unix://", 7) != 0) {
    if ((size_t)snprintf(out, len, "%s", address) >= len) return cs_err_set(err, CS_INTERNAL, "start: address too long");
    return 0;
  }
  json_t *o = json_pack("{s:i, s:s, s:s}", "version", version, "address", address, "protocol", "ttrpc");
  char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  json_decref(o);
  if (!s) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "start: bootstrap parameters: out of memory");
  int rc = 0;
  if ((size_t)snprintf(out, len, "%s", s) >= len) rc = cs_err_set(err, CS_INTERNAL, "start: bootstrap parameters too long");
  free(s);
  return rc;
}
