#include "net_hns_dll.h"

#include <string.h>

#ifdef _WIN32
#include <computenetwork.h>

#include "hcs_err.h"

/* The HCN entries must match the SDK prototypes (mingw-w64 ships computenetwork.h). REFGUID is
 * const GUID *, HCN_ENDPOINT void *. HNSCall has no SDK header. */
#define NET_CHECK(fn, type) \
  _Static_assert(__builtin_types_compatible_p(__typeof__(&fn), type), #fn ": prototype differs from net_hns_api")
NET_CHECK(HcnOpenEndpoint, net_fn_open_endpoint);
NET_CHECK(HcnQueryEndpointProperties, net_fn_query_endpoint);
NET_CHECK(HcnCloseEndpoint, net_fn_close_endpoint);

typedef void (*net_any_fn)(void);
typedef void(WINAPI *net_fn_cotaskmemfree)(void *p);
#define NET_PROC(mod, name) ((net_any_fn)GetProcAddress((HMODULE)(mod), name))

/* free_string takes no context, so CoTaskMemFree is looked up per call rather than kept in a global;
 * ole32 stays loaded while the api is (module[2]), and the lookup is cheap next to an HNS round trip. */
static void net_free_string(hcs_pwstr s) {
  if (!s) return;
  HMODULE ole = GetModuleHandleW(L"ole32.dll");
  net_fn_cotaskmemfree f = ole ? (net_fn_cotaskmemfree)NET_PROC(ole, "CoTaskMemFree") : NULL;
  if (f) f(s);
}

int net_hns_dll_load(net_hns_api *api, cs_err *err) {
  memset(api, 0, sizeof *api);
  static const wchar_t *const names[3] = {L"computenetwork.dll", L"vmcompute.dll", L"ole32.dll"};
  for (int i = 0; i < 3; i++) {
    api->module[i] = LoadLibraryExW(names[i], NULL, LOAD_LIBRARY_SEARCH_SYSTEM32);
    if (!api->module[i]) {
      hcs_err_set(err, "LoadLibrary (HNS)", (hcs_hresult)GetLastError(), i == 0 ? "computenetwork.dll"
                                                                          : i == 1 ? "vmcompute.dll" : "ole32.dll");
      net_hns_dll_unload(api);
      return -1;
    }
  }
  api->HcnOpenEndpoint = (net_fn_open_endpoint)NET_PROC(api->module[0], "HcnOpenEndpoint");
  api->HcnQueryEndpointProperties = (net_fn_query_endpoint)NET_PROC(api->module[0], "HcnQueryEndpointProperties");
  api->HcnCloseEndpoint = (net_fn_close_endpoint)NET_PROC(api->module[0], "HcnCloseEndpoint");
  api->HNSCall = (net_fn_hns_call)NET_PROC(api->module[1], "HNSCall");
  if (!api->HcnOpenEndpoint || !api->HcnQueryEndpointProperties || !api->HcnCloseEndpoint || !api->HNSCall) {
    hcs_err_set(err, "GetProcAddress (HNS)", (hcs_hresult)GetLastError(), NULL);
    net_hns_dll_unload(api);
    return -1;
  }
  api->free_string = net_free_string;
  return 0;
}

void net_hns_dll_unload(net_hns_api *api) {
  for (int i = 0; i < 3; i++)
    if (api->module[i]) FreeLibrary((HMODULE)api->module[i]);
  memset(api, 0, sizeof *api);
}

#else /* !_WIN32 */

int net_hns_dll_load(net_hns_api *api, cs_err *err) {
  memset(api, 0, sizeof *api);
  return cs_err_set(err, CS_UNIMPLEMENTED, "HNS: computenetwork.dll exists only on Windows");
}

void net_hns_dll_unload(net_hns_api *api) { memset(api, 0, sizeof *api); }

#endif
