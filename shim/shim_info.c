/* -info: see shim_info.h. */
#include "shim_info.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "containerd/runc/options.pb-c.h"
#include "containerd/types/introspection.pb-c.h"
#include "google/protobuf/any.pb-c.h"

void shim_info_binary(const uint8_t *opts, size_t len, char *out, size_t out_len) {
  snprintf(out, out_len, "runc");
  Google__Protobuf__Any *any = opts && len ? google__protobuf__any__unpack(NULL, len, opts) : NULL;
  if (!any) return;
  const char *t = any->type_url ? any->type_url : "";
  size_t n = strlen(t);
  static const char runc_type[] = "containerd.runc.v1.Options";
  if (n >= sizeof runc_type - 1 && strcmp(t + n - (sizeof runc_type - 1), runc_type) == 0) {
    Containerd__Runc__V1__Options *o = containerd__runc__v1__options__unpack(NULL, any->value.len, any->value.data);
    if (o && o->binary_name && *o->binary_name) snprintf(out, out_len, "%s", o->binary_name);
    if (o) containerd__runc__v1__options__free_unpacked(o, NULL);
  }
  google__protobuf__any__free_unpacked(any, NULL);
}

int shim_info_encode(const char *version, const uint8_t *opts, size_t opts_len, const char *features,
                     uint8_t **out, size_t *out_len, cs_err *err) {
  Containerd__Types__RuntimeInfo info = CONTAINERD__TYPES__RUNTIME_INFO__INIT;
  Containerd__Types__RuntimeVersion ver = CONTAINERD__TYPES__RUNTIME_VERSION__INIT;
  Google__Protobuf__Any feat = GOOGLE__PROTOBUF__ANY__INIT;
  info.name = (char *)SHIM_RUNTIME_NAME;
  ver.version = (char *)version;
  ver.revision = (char *)"cshim";
  info.version = &ver;
  Google__Protobuf__Any *in = NULL;
  if (opts && opts_len) {
    in = google__protobuf__any__unpack(NULL, opts_len, opts);
    if (!in) return cs_err_set(err, CS_INVALID_ARGUMENT, "-info: the options on stdin are not a protobuf Any");
    info.options = in;
  }
  if (features) {
    feat.type_url = (char *)SHIM_FEATURES_TYPE;
    feat.value.data = (uint8_t *)features;
    feat.value.len = strlen(features);
    info.features = &feat;
  }
  *out_len = containerd__types__runtime_info__get_packed_size(&info);
  *out = malloc(*out_len ? *out_len : 1);
  if (!*out) {
    if (in) google__protobuf__any__free_unpacked(in, NULL);
    return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "-info: out of memory");
  }
  containerd__types__runtime_info__pack(&info, *out);
  if (in) google__protobuf__any__free_unpacked(in, NULL);
  return 0;
}
