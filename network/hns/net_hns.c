#include "net_hns.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hcs_err.h"

/* HCN's query document: schema 2, no filter (hcn's defaultQuery). */
#define NET_HCN_QUERY "{\"SchemaVersion\":{\"Major\":2,\"Minor\":0},\"Flags\":0}"

/* Take ownership of an HCN/HNS string: convert to UTF-8, free the original. */
static char *take(const net_hns_api *api, hcs_pwstr w) {
  if (!w) return NULL;
  char *s = hcs_wide_to_utf8(w, NULL);
  api->free_string(w);
  return s;
}

static void copy(char *dst, size_t n, const char *src) { snprintf(dst, n, "%s", src ? src : ""); }

int net_hns_endpoint_query(const net_hns_api *api, const char *endpoint_id, net_hns_endpoint *out, cs_err *err) {
  memset(out, 0, sizeof *out);
  hcs_guid g;
  if (hcs_guid_parse(endpoint_id, &g, err) < 0) return cs_err_wrap(err, "HNS endpoint");
  net_hcn_endpoint ep = NULL;
  hcs_pwstr rec = NULL;
  hcs_hresult hr = api->HcnOpenEndpoint(&g, &ep, &rec);
  char *record = take(api, rec);
  if (HCS_FAILED(hr)) {
    hcs_err_set(err, "HcnOpenEndpoint", hr, record ? record : endpoint_id);
    free(record);
    return -1;
  }
  free(record);
  hcs_pwstr wq = hcs_utf8_to_wide(NET_HCN_QUERY, err), props = NULL;
  if (!wq) {
    api->HcnCloseEndpoint(ep);
    return -1;
  }
  rec = NULL;
  hr = api->HcnQueryEndpointProperties(ep, wq, &props, &rec);
  free(wq);
  api->HcnCloseEndpoint(ep);
  char *json = take(api, props);
  record = take(api, rec);
  if (HCS_FAILED(hr)) {
    hcs_err_set(err, "HcnQueryEndpointProperties", hr, record ? record : endpoint_id);
    free(json);
    free(record);
    return -1;
  }
  free(record);
  json_t *d = json ? json_loads(json, 0, NULL) : NULL;
  free(json);
  if (!json_is_object(d)) {
    json_decref(d);
    return cs_err_set(err, CS_INTERNAL, "HcnQueryEndpointProperties %s: not a JSON object", endpoint_id);
  }
  copy(out->id, sizeof out->id, endpoint_id);
  copy(out->mac, sizeof out->mac, json_string_value(json_object_get(d, "MacAddress")));
  copy(out->name, sizeof out->name, json_string_value(json_object_get(d, "Name")));
  json_decref(d);
  return 0;
}

static uint64_t u64(json_t *o, const char *k) {
  json_t *v = json_object_get(o, k);
  return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
}

int net_hns_stats_parse(const char *json, rt_net_iface *out, cs_err *err) {
  json_t *d = json ? json_loads(json, 0, NULL) : NULL;
  if (!json_is_object(d)) {
    json_decref(d);
    return cs_err_set(err, CS_INTERNAL, "HNS endpoint stats: not a JSON object");
  }
  /* hnsCall's envelope: {"Success": bool, "Error": "...", "Output": {...}}. */
  json_t *st = d, *ok = json_object_get(d, "Success");
  if (ok) {
    if (!json_is_true(ok)) {
      int rc = cs_err_set(err, CS_UNAVAILABLE, "HNS endpoint stats: %s",
                          json_string_value(json_object_get(d, "Error")) ? json_string_value(json_object_get(d, "Error"))
                                                                         : "failed");
      json_decref(d);
      return rc;
    }
    st = json_object_get(d, "Output");
  }
  const char *id = json_string_value(json_object_get(st, "EndpointId"));
  if (id) {
    copy(out->endpoint_id, sizeof out->endpoint_id, id);
    copy(out->name, sizeof out->name, id);
  }
  out->rx_bytes = u64(st, "BytesReceived");
  out->tx_bytes = u64(st, "BytesSent");
  out->rx_packets = u64(st, "PacketsReceived");
  out->tx_packets = u64(st, "PacketsSent");
  out->rx_dropped = u64(st, "DroppedPacketsIncoming");
  out->tx_dropped = u64(st, "DroppedPacketsOutgoing");
  json_decref(d);
  return 0;
}

int net_hns_endpoint_stats(const net_hns_api *api, const char *endpoint_id, rt_net_iface *out, cs_err *err) {
  memset(out, 0, sizeof *out);
  hcs_guid g;
  /* The id goes into a request path: only a well-formed GUID may. */
  if (hcs_guid_parse(endpoint_id, &g, err) < 0) return cs_err_wrap(err, "HNS endpoint stats");
  char path[96];
  snprintf(path, sizeof path, "/endpointstats/%s", endpoint_id);
  hcs_pwstr wm = hcs_utf8_to_wide("GET", err), wp = hcs_utf8_to_wide(path, err), we = hcs_utf8_to_wide("", err);
  hcs_pwstr resp = NULL;
  int rc = -1;
  if (wm && wp && we) {
    hcs_hresult hr = api->HNSCall(wm, wp, we, &resp);
    char *json = take(api, resp);
    if (HCS_FAILED(hr)) hcs_err_set(err, "HNSCall GET /endpointstats", hr, json ? json : endpoint_id);
    else rc = net_hns_stats_parse(json, out, err);
    free(json);
  }
  free(wm);
  free(wp);
  free(we);
  if (rc == 0) {
    /* Name the counters by the endpoint asked for, whatever HNS echoed. */
    copy(out->endpoint_id, sizeof out->endpoint_id, endpoint_id);
    copy(out->name, sizeof out->name, endpoint_id);
  }
  return rc;
}
