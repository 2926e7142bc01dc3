/* The OCI runtime spec side: linux.namespaces' "network" entry. runc joins the namespace a path names
 * (setns) instead of making a new one, which is how the container lands in the namespace CNI set up. */
#include <stdio.h>
#include <string.h>

#include "net_cni.h"

static json_t *network_entry(const json_t *spec) {
  const json_t *nss = json_object_get(json_object_get(spec, "linux"), "namespaces");
  for (size_t i = 0; i < json_array_size(nss); i++) {
    json_t *e = json_array_get(nss, i);
    const char *type = json_string_value(json_object_get(e, "type"));
    if (type && !strcmp(type, "network")) return e;
  }
  return NULL;
}

bool net_cni_spec_netns(const json_t *spec, char *out, size_t cap) {
  const char *path = json_string_value(json_object_get(network_entry(spec), "path"));
  if (!path || !path[0] || strlen(path) >= cap) return false;
  memcpy(out, path, strlen(path) + 1);
  return true;
}

int net_cni_spec_set_netns(json_t *spec, const char *path, cs_err *err) {
  if (!json_is_object(spec)) return cs_err_set(err, CS_INVALID_ARGUMENT, "spec: not a JSON object");
  json_t *lx = json_object_get(spec, "linux");
  if (!lx) json_object_set_new(spec, "linux", lx = json_object());
  if (!json_is_object(lx)) return cs_err_set(err, CS_INVALID_ARGUMENT, "spec: linux is not an object");
  json_t *nss = json_object_get(lx, "namespaces");
  if (!nss) json_object_set_new(lx, "namespaces", nss = json_array());
  if (!json_is_array(nss)) return cs_err_set(err, CS_INVALID_ARGUMENT, "spec: linux.namespaces is not an array");
  json_t *e = network_entry(spec);
  int rc = e ? json_object_set_new(e, "path", json_string(path))
             : json_array_append_new(nss, json_pack("{s:s, s:s}", "type", "network", "path", path));
  if (rc != 0) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "spec: set network namespace path");
  return 0;
}

int net_cni_spec_prepare(json_t *spec, const char *id, const net_cni_opts *o, net_cni_result *res,
                         bool *attached, cs_err *err) {
  char path[4096];
  *attached = false;
  if (!json_is_object(spec)) return cs_err_set(err, CS_INVALID_ARGUMENT, "spec: not a JSON object");
  /* A path is somebody else's namespace (a CRI pod sandbox's): its network is theirs, not ours to make. */
  if (net_cni_spec_netns(spec, path, sizeof path)) {
    if (res) {
      memset(res, 0, sizeof *res);
      snprintf(res->netns, sizeof res->netns, "%s", path);
    }
    return 0;
  }
  net_cni_result scratch;
  if (!res) res = &scratch;
  if (net_cni_attach(id, o, res, err) != 0) return -1;
  if (net_cni_spec_set_netns(spec, res->netns, err) != 0) {
    cs_err ignore;
    net_cni_detach(id, o, &ignore);
    return -1;
  }
  *attached = true;
  return 0;
}
