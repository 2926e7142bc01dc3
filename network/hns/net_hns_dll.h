/* Fills a net_hns_api from computenetwork.dll, vmcompute.dll and ole32.dll (CoTaskMemFree), loaded at run
 * time like hcs_dll. Off Windows: Unimplemented. */
#ifndef NET_HNS_DLL_H
#define NET_HNS_DLL_H

#include "cs_err.h"
#include "net_hns_api.h"

int net_hns_dll_load(net_hns_api *api, cs_err *err);
void net_hns_dll_unload(net_hns_api *api);

#endif
