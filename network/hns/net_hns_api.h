/* The Host Network Service as a table of function pointers, like hcs_api: HCN endpoints through
 * computenetwork.dll (HcnOpenEndpoint, HcnQueryEndpointProperties, HcnCloseEndpoint), endpoint counters
 * through vmcompute.dll's HNSCall("GET", "/endpointstats/<id>") — HCN has no stats query; hcsshim's
 * internal/hns GetHNSEndpointStats uses the same call. net_hns_dll.c fills it on Windows; tests fake it. */
#ifndef NET_HNS_API_H
#define NET_HNS_API_H

#include "hcs_api.h"

#ifdef _WIN32
typedef void *net_hcn_endpoint; /* computenetwork.h: typedef void *HCN_ENDPOINT */
#else
typedef struct net_hcn_endpoint_s *net_hcn_endpoint;
#endif

typedef hcs_hresult(HCS_WINAPI *net_fn_open_endpoint)(const hcs_guid *id, net_hcn_endpoint *endpoint,
                                                      hcs_pwstr *error_record);
typedef hcs_hresult(HCS_WINAPI *net_fn_query_endpoint)(net_hcn_endpoint endpoint, hcs_pcwstr query,
                                                       hcs_pwstr *properties, hcs_pwstr *error_record);
typedef hcs_hresult(HCS_WINAPI *net_fn_close_endpoint)(net_hcn_endpoint endpoint);
typedef hcs_hresult(HCS_WINAPI *net_fn_hns_call)(hcs_pcwstr method, hcs_pcwstr path, hcs_pcwstr request,
                                                 hcs_pwstr *response);

typedef struct net_hns_api {
  net_fn_open_endpoint HcnOpenEndpoint;
  net_fn_query_endpoint HcnQueryEndpointProperties;
  net_fn_close_endpoint HcnCloseEndpoint;
  net_fn_hns_call HNSCall;
  /* Frees strings HCN/HNS returned (CoTaskMemFree on Windows). */
  void (*free_string)(hcs_pwstr s);
  void *module[3];
} net_hns_api;

#endif
