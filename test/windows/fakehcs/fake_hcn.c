/* computenetwork.dll, fake: the HCN endpoint calls the backend makes, over the configured endpoints. */
#include <computenetwork.h>
#include <stdio.h>
#include <stdlib.h>

#include "fake_common.h"
#include "fake_hns_config.h"

#define HCN_EP_MAGIC 0x4E434846u

typedef struct fake_ep {
  unsigned magic;
  char id[40];
} fake_ep;

static void guid_text(const GUID *g, char out[40]) {
  snprintf(out, 40, "%08lx-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", g->Data1, g->Data2, g->Data3, g->Data4[0],
           g->Data4[1], g->Data4[2], g->Data4[3], g->Data4[4], g->Data4[5], g->Data4[6], g->Data4[7]);
}

/* HCN's error record: a JSON document naming the problem. */
static PWSTR error_record(HRESULT hr, const char *msg) {
  char *d = fake_error_doc(hr, "%s", msg);
  PWSTR w = fake_wide_cotask(d);
  free(d);
  return w;
}

HRESULT WINAPI HcnOpenEndpoint(REFGUID Id, PHCN_ENDPOINT Endpoint, PWSTR *ErrorRecord) {
  if (ErrorRecord) *ErrorRecord = NULL;
  if (!Id || !Endpoint) return E_INVALIDARG;
  *Endpoint = NULL;
  char id[40];
  guid_text(Id, id);
  const char *err = NULL;
  json_t *e = fake_hns_endpoint(id, &err);
  HRESULT hr = e ? S_OK : FAKE_HCN_E_ENDPOINT_NOT_FOUND;
  json_decref(e);
  fake_ep *ep = e ? calloc(1, sizeof *ep) : NULL;
  if (e && !ep) hr = E_OUTOFMEMORY;
  if (ep) {
    ep->magic = HCN_EP_MAGIC;
    snprintf(ep->id, sizeof ep->id, "%s", id);
    *Endpoint = ep;
  } else if (ErrorRecord) {
    *ErrorRecord = error_record(hr, err ? err : "The endpoint was not found.");
  }
  fake_log("HcnOpenEndpoint", json_pack("{s:s,s:o}", "id", id, "hr", fake_log_hr(hr)));
  return hr;
}

HRESULT WINAPI HcnQueryEndpointProperties(HCN_ENDPOINT Endpoint, PCWSTR Query, PWSTR *Properties, PWSTR *ErrorRecord) {
  if (ErrorRecord) *ErrorRecord = NULL;
  if (Properties) *Properties = NULL;
  fake_ep *ep = Endpoint;
  if (!ep || ep->magic != HCN_EP_MAGIC || !Properties) return E_INVALIDARG;
  char *q = fake_utf8(Query);
  json_t *qd = q ? json_loads(q, JSON_REJECT_DUPLICATES, NULL) : NULL;
  HRESULT hr = S_OK;
  const char *err = NULL;
  json_t *e = NULL;
  if (Query && !qd) {
    hr = E_INVALIDARG;
    err = "the query is not JSON";
  } else if (!(e = fake_hns_endpoint(ep->id, &err))) {
    hr = FAKE_HCN_E_ENDPOINT_NOT_FOUND; /* removed from the config since it was opened */
  }
  if (e) {
    /* HostComputeEndpoint (hcsshim hcn/hcnendpoint.go): "ID", Name, MacAddress, SchemaVersion. */
    json_t *out = json_pack("{s:s,s:{s:i,s:i}}", "ID", ep->id, "SchemaVersion", "Major", 2, "Minor", 0);
    const char *keys[] = {"Name", "MacAddress", "HostComputeNetwork", "HostComputeNamespace"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
      if (json_object_get(e, keys[i])) json_object_set(out, keys[i], json_object_get(e, keys[i]));
    char *text = json_dumps(out, JSON_COMPACT);
    *Properties = fake_wide_cotask(text);
    free(text);
    json_decref(out);
    json_decref(e);
  } else if (ErrorRecord) {
    *ErrorRecord = error_record(hr, err ? err : "The endpoint was not found.");
  }
  fake_log("HcnQueryEndpointProperties",
           json_pack("{s:s,s:o,s:o}", "id", ep->id, "query", fake_log_doc(q), "hr", fake_log_hr(hr)));
  json_decref(qd);
  free(q);
  return hr;
}

HRESULT WINAPI HcnCloseEndpoint(HCN_ENDPOINT Endpoint) {
  fake_ep *ep = Endpoint;
  if (!ep || ep->magic != HCN_EP_MAGIC) return E_INVALIDARG;
  ep->magic = 0;
  free(ep);
  return S_OK;
}
