#include "rt_linux_spec.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rt_linux_spec_set_terminal(const char *json, size_t len, bool terminal, char **out, size_t *out_len,
                               cs_err *err) {
  json_error_t je;
  json_t *o = json_loadb(json, len, 0, &je);
  if (!json_is_object(o)) {
    json_decref(o);
    return cs_err_set(err, CS_INVALID_ARGUMENT, "exec process spec is not a JSON object: %s", je.text);
  }
  json_t *cur = json_object_get(o, "terminal");
  if (json_is_boolean(cur) && json_boolean_value(cur) == terminal) {
    json_decref(o);
    *out = malloc(len + 1);
    if (!*out) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "exec process spec: out of memory");
    memcpy(*out, json, len);
    (*out)[len] = '\0';
    *out_len = len;
    return 0;
  }
  json_object_set_new(o, "terminal", json_boolean(terminal));
  *out = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  if (!*out) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "exec process spec: out of memory");
  *out_len = strlen(*out);
  return 0;
}

bool rt_linux_spec_kill_all_on_exit(const char *bundle) {
  char path[PATH_MAX];
  if ((size_t)snprintf(path, sizeof path, "%s/config.json", bundle) >= sizeof path) return true;
  json_t *spec = json_load_file(path, 0, NULL);
  json_t *nss = json_object_get(json_object_get(spec, "linux"), "namespaces");
  bool all = true;
  for (size_t i = 0; all && i < json_array_size(nss); i++) {
    json_t *ns = json_array_get(nss, i);
    const char *type = json_string_value(json_object_get(ns, "type"));
    const char *p = json_string_value(json_object_get(ns, "path"));
    if (type && !strcmp(type, "pid") && (!p || !*p)) all = false;
  }
  json_decref(spec);
  return all;
}
