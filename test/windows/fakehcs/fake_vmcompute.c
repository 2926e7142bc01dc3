/* vmcompute.dll, fake: NameToGuid (layer ids) and HNSCall (the HNS v1 REST-over-RPC entry hcsshim's internal/hns
 * uses). HNSCall serves GET /endpoints/, GET /endpoints/<id> and GET /endpointstats/<id> from the configured
 * endpoints (fake_hns_config.h); anything else answers {"Success":false} as HNS does for what it refuses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_common.h"
#include "fake_hns_config.h"

/* Neither function is in an SDK header: the prototypes are hcsshim's //sys lines (vmcompute.NameToGuid,
 * vmcompute.HNSCall). */
HRESULT WINAPI NameToGuid(PCWSTR name, GUID *guid);
HRESULT WINAPI HNSCall(PCWSTR method, PCWSTR path, PCWSTR object, PWSTR *response);

/* A name-based GUID (version 5 layout) from two FNV-1a passes over the UTF-16 name. Deterministic per name like
 * HCS's, but not HCS's algorithm: a test may compare ids the fake made, never against real Windows values. */
HRESULT WINAPI NameToGuid(PCWSTR name, GUID *guid) {
  if (!name || !*name || !guid) return E_INVALIDARG;
  unsigned long long a = 0xcbf29ce484222325ULL, b = 0x84222325cbf29ce4ULL;
  for (const WCHAR *p = name; *p; p++) {
    a = (a ^ (unsigned char)(*p & 0xFF)) * 0x100000001b3ULL;
    a = (a ^ (unsigned char)(*p >> 8)) * 0x100000001b3ULL;
    b = (b ^ (unsigned char)(*p >> 8)) * 0x100000001b3ULL;
    b = (b ^ (unsigned char)(*p & 0xFF)) * 0x100000001b3ULL;
  }
  guid->Data1 = (unsigned long)(a >> 32);
  guid->Data2 = (unsigned short)(a >> 16);
  guid->Data3 = (unsigned short)((a & 0x0FFF) | 0x5000);
  for (int i = 0; i < 8; i++) guid->Data4[i] = (unsigned char)(b >> (56 - 8 * i));
  guid->Data4[0] = (unsigned char)((guid->Data4[0] & 0x3F) | 0x80);
  char *u = fake_utf8(name);
  char g[40];
  snprintf(g, sizeof g, "%08lx-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", guid->Data1, guid->Data2, guid->Data3,
           guid->Data4[0], guid->Data4[1], guid->Data4[2], guid->Data4[3], guid->Data4[4], guid->Data4[5],
           guid->Data4[6], guid->Data4[7]);
  fake_log("NameToGuid", json_pack("{s:s,s:s}", "name", u ? u : "", "guid", g));
  free(u);
  return S_OK;
}

static json_t *fail(const char *msg) { return json_pack("{s:b,s:s}", "Success", 0, "Error", msg); }

static json_t *ok(json_t *output) { return json_pack("{s:b,s:o}", "Success", 1, "Output", output); }

/* The endpoint as HNS v1 shows it (hcsshim HNSEndpoint: "ID", not "Id"), without the fake's Stats. */
static json_t *endpoint_view(json_t *e) {
  json_t *v = json_deep_copy(e);
  json_object_del(v, "Stats");
  json_t *id = json_object_get(v, "Id");
  if (id) {
    json_object_set(v, "ID", id);
    json_object_del(v, "Id");
  }
  return v;
}

/* HNS v1 namespaces (hcsshim internal/hns/namespace.go): POST /namespaces/ makes one, POST
 * /namespaces/<id>/addresource|removeresource {"Type":"Endpoint","Data":{"Id":...}} puts a configured endpoint in
 * or takes it out, DELETE /namespaces/<id> removes an empty one. State of the loading process, under ns_lock;
 * every answer's log line carries how many namespaces and namespace endpoints are left. */
static SRWLOCK ns_lock = SRWLOCK_INIT;
static json_t *ns_all; /* id -> array of endpoint ids */
static unsigned ns_next;

static json_t *ns_census(void) {
  size_t eps = 0;
  const char *k;
  json_t *v;
  json_object_foreach(ns_all, k, v) eps += json_array_size(v);
  return json_pack("{s:i,s:i}", "namespaces", (int)json_object_size(ns_all), "nsEndpoints", (int)eps);
}

static json_t *ns_route(const char *method, const char *path, const char *request) {
  static const char pre[] = "/namespaces/";
  if (!ns_all) ns_all = json_object();
  const char *rest = path + sizeof pre - 1;
  if (strcmp(method, "POST") == 0 && !*rest) {
    char id[40];
    snprintf(id, sizeof id, "5e5e0000-0000-4000-8000-%012x", ++ns_next);
    json_object_set_new(ns_all, id, json_array());
    return ok(json_pack("{s:s}", "ID", id));
  }
  char id[64] = "", verb[32] = "";
  sscanf(rest, "%63[^/]/%31s", id, verb);
  json_t *eps = json_object_get(ns_all, id);
  if (!eps) return fail("Element not found.");
  if (strcmp(method, "DELETE") == 0 && !*verb) {
    if (json_array_size(eps)) return fail("the namespace still has endpoints");
    json_object_del(ns_all, id);
    return ok(json_object());
  }
  bool add = strcmp(verb, "addresource") == 0;
  if (strcmp(method, "POST") != 0 || (!add && strcmp(verb, "removeresource") != 0))
    return fail("the fake HNS does not serve this namespace request");
  json_t *req = request ? json_loads(request, 0, NULL) : NULL;
  const char *type = json_string_value(json_object_get(req, "Type"));
  const char *ep = json_string_value(json_object_get(json_object_get(req, "Data"), "Id"));
  const char *err = NULL;
  json_t *known = ep ? fake_hns_endpoint(ep, &err) : NULL;
  json_t *r = NULL;
  size_t at = json_array_size(eps);
  for (size_t i = 0; ep && i < json_array_size(eps); i++)
    if (_stricmp(json_string_value(json_array_get(eps, i)), ep) == 0) at = i;
  if (!type || strcmp(type, "Endpoint") != 0 || !ep) r = fail("want {\"Type\":\"Endpoint\",\"Data\":{\"Id\":...}}");
  else if (!known) r = fail(err ? err : "Element not found.");
  else if (add && at < json_array_size(eps)) r = fail("the endpoint is already in the namespace");
  else if (!add && at == json_array_size(eps)) r = fail("Element not found.");
  else {
    if (add) json_array_append_new(eps, json_string(ep));
    else json_array_remove(eps, at);
    r = ok(json_object());
  }
  json_decref(known);
  json_decref(req);
  return r;
}

static json_t *route(const char *method, const char *path) {
  const char *err = NULL;
  if (strcmp(method, "GET") != 0) return fail("the fake HNS serves GET only");
  if (strcmp(path, "/endpoints/") == 0 || strcmp(path, "/endpoints") == 0) {
    json_t *list = fake_hns_endpoints(&err), *out = json_array();
    if (!list) {
      json_decref(out);
      return fail(err);
    }
    for (size_t i = 0; i < json_array_size(list); i++) json_array_append_new(out, endpoint_view(json_array_get(list, i)));
    json_decref(list);
    return ok(out);
  }
  static const char stats[] = "/endpointstats/", ep[] = "/endpoints/";
  bool is_stats = strncmp(path, stats, sizeof stats - 1) == 0;
  if (!is_stats && strncmp(path, ep, sizeof ep - 1) != 0) return fail("the fake HNS does not serve this path");
  const char *id = path + (is_stats ? sizeof stats : sizeof ep) - 1;
  json_t *e = fake_hns_endpoint(id, &err);
  if (!e) return fail(err ? err : "Element not found.");
  json_t *out;
  if (is_stats) {
    static const char *const counters[] = {"BytesReceived", "BytesSent", "PacketsReceived", "PacketsSent",
                                           "DroppedPacketsIncoming", "DroppedPacketsOutgoing"};
    json_t *st = json_object_get(e, "Stats");
    out = json_pack("{s:s,s:s}", "EndpointId", json_string_value(json_object_get(e, "Id")), "InstanceId", "");
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++) {
      json_t *c = json_object_get(st, counters[i]);
      json_object_set_new(out, counters[i], json_integer(json_is_integer(c) ? json_integer_value(c) : 0));
    }
  } else {
    out = endpoint_view(e);
  }
  json_decref(e);
  return ok(out);
}

HRESULT WINAPI HNSCall(PCWSTR method, PCWSTR path, PCWSTR object, PWSTR *response) {
  if (!method || !path || !response) return E_INVALIDARG;
  *response = NULL;
  char *m = fake_utf8(method), *p = fake_utf8(path), *o = fake_utf8(object);
  HRESULT hr = E_INVALIDARG;
  if (m && p) {
    bool ns = strncmp(p, "/namespaces/", 12) == 0;
    json_t *census = NULL, *r;
    if (ns) {
      AcquireSRWLockExclusive(&ns_lock);
      r = ns_route(m, p, o);
      census = ns_census();
      ReleaseSRWLockExclusive(&ns_lock);
    } else {
      r = route(m, p);
    }
    char *text = json_dumps(r, JSON_COMPACT);
    json_t *rec = json_pack("{s:s,s:s,s:o,s:O}", "method", m, "path", p, "request", fake_log_doc(o), "response", r);
    if (census) json_object_set_new(rec, "census", census);
    fake_log("HNSCall", rec);
    json_decref(r);
    *response = fake_wide_cotask(text);
    hr = *response ? S_OK : E_OUTOFMEMORY;
    free(text);
  }
  free(m);
  free(p);
  free(o);
  return hr;
}
