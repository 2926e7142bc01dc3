/* HNS endpoints of a container: their properties (for attaching them to a utility VM) and their counters
 * (for Stats). Calls block briefly (local RPC to the HNS service). */
#ifndef NET_HNS_H
#define NET_HNS_H

#include <stdbool.h>

#include "cs_err.h"
#include "hcs_wstr.h"
#include "net_hns_api.h"
#include "rt.h"

typedef struct net_hns_endpoint {
  char id[HCS_GUID_STR_LEN];
  char mac[32];      /* "00-15-5D-..." as HNS spells it; "" if none */
  char name[128];
} net_hns_endpoint;

/* HcnOpenEndpoint + HcnQueryEndpointProperties + HcnCloseEndpoint. */
int net_hns_endpoint_query(const net_hns_api *api, const char *endpoint_id, net_hns_endpoint *out, cs_err *err);
/* HNSCall GET /endpointstats/<id> -> one rt_net_iface: name and endpoint_id carry the endpoint id. */
int net_hns_endpoint_stats(const net_hns_api *api, const char *endpoint_id, rt_net_iface *out, cs_err *err);
/* Parse an HNS stats answer (the {"Success","Error","Output"} envelope or a bare object). */
int net_hns_stats_parse(const char *json, rt_net_iface *out, cs_err *err);

/* HNS namespaces (net_hns_ns.c): HNSCall POST /namespaces/, POST /namespaces/<id>/addresource|removeresource
 * {"Type":"Endpoint","Data":{"Id":...}}, DELETE /namespaces/<id>. Errors name the call and the endpoint. */
int net_hns_namespace_create(const net_hns_api *api, char id[HCS_GUID_STR_LEN], cs_err *err);
int net_hns_namespace_endpoint(const net_hns_api *api, const char *ns, const char *endpoint_id, bool add, cs_err *err);
int net_hns_namespace_delete(const net_hns_api *api, const char *ns, cs_err *err);

#endif
