/* HNS namespaces through vmcompute's HNSCall (HNS v1 REST paths, as hcsshim's internal/hns/namespace.go
 * drives them): a container whose spec names endpoints but no namespace gets a namespace of its own with
 * those endpoints in it, and Delete takes them out and removes it. HNS answers a refused request with S_OK
 * and {"Success":false,"Error":...}: both layers are checked. */
#include "net_hns.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hcs_err.h"

/* One HNSCall; *output (if asked) gets the envelope's Output. The error names the method and path. */
static int hns_call(const net_hns_api *api, const char *method, const char *path, const char *request, json_t **output,
                    cs_err *err) {
  hcs_pwstr wm = hcs_utf8_to_wide(method, err), wp = wm ? hcs_utf8_to_wide(path, err) : NULL;
  hcs_pwstr wr = wp ? hcs_utf8_to_wide(request ? request : "", err) : NULL;
  int rc = -1;
  if (wr) {
    hcs_pwstr resp = NULL;
    hcs_hresult hr = api->HNSCall(wm, wp, wr, &resp);
    char *json = resp ? hcs_wide_to_utf8(resp, NULL) : NULL;
    if (resp) api->free_string(resp);
    char what[160];
    snprintf(what, sizeof what, "HNSCall %s %s", method, path);
    json_t *d = json ? json_loads(json, 0, NULL) : NULL;
    if (HCS_FAILED(hr)) {
      hcs_err_set(err, what, hr, json);
    } else if (!json_is_object(d)) {
      cs_err_set(err, CS_INTERNAL, "%s: the answer is not a JSON object", what);
    } else if (!json_is_true(json_object_get(d, "Success"))) {
      const char *e = json_string_value(json_object_get(d, "Error"));
      /* hcsshim reads "Element not found." as the thing not existing. */
      cs_err_set(err, e && strstr(e, "not found") ? CS_NOT_FOUND : CS_UNAVAILABLE, "%s: %s", what, e ? e : "failed");
    } else {
      if (output) *output = json_incref(json_object_get(d, "Output"));
      rc = 0;
    }
    json_decref(d);
    free(json);
  }
  free(wm);
  free(wp);
  free(wr);
  return rc;
}

/* Only a well-formed GUID goes into a request path. */
static int check_guid(const char *what, const char *id, cs_err *err) {
  hcs_guid g;
  if (!id || hcs_guid_parse(id, &g, err) < 0) {
    if (!id) cs_err_set(err, CS_INVALID_ARGUMENT, "no id");
    return cs_err_wrap(err, "%s", what);
  }
  return 0;
}

int net_hns_namespace_create(const net_hns_api *api, char id[HCS_GUID_STR_LEN], cs_err *err) {
  json_t *out = NULL;
  if (hns_call(api, "POST", "/namespaces/", "{}", &out, err) < 0) return -1;
  const char *got = json_string_value(json_object_get(out, "ID"));
  int rc = 0;
  if (!got || strlen(got) >= HCS_GUID_STR_LEN)
    rc = cs_err_set(err, CS_INTERNAL, "HNSCall POST /namespaces/: no ID in the answer");
  else
    snprintf(id, HCS_GUID_STR_LEN, "%s", got);
  json_decref(out);
  return rc;
}

int net_hns_namespace_endpoint(const net_hns_api *api, const char *ns, const char *endpoint_id, bool add, cs_err *err) {
  if (check_guid("HNS namespace", ns, err) < 0 || check_guid("HNS endpoint", endpoint_id, err) < 0) return -1;
  char path[128];
  snprintf(path, sizeof path, "/namespaces/%s/%s", ns, add ? "addresource" : "removeresource");
  json_t *req = json_pack("{s:s,s:{s:s}}", "Type", "Endpoint", "Data", "Id", endpoint_id);
  char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
  json_decref(req);
  if (!text) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
  int rc = hns_call(api, "POST", path, text, NULL, err);
  free(text);
  return rc < 0 ? cs_err_wrap(err, "%s endpoint %s", add ? "attach" : "detach", endpoint_id) : 0;
}

int net_hns_namespace_delete(const net_hns_api *api, const char *ns, cs_err *err) {
  if (check_guid("HNS namespace", ns, err) < 0) return -1;
  char path[96];
  snprintf(path, sizeof path, "/namespaces/%s", ns);
  return hns_call(api, "DELETE", path, NULL, NULL, err);
}
