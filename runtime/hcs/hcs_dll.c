#include "hcs_dll.h"

#include <string.h>

#ifdef _WIN32
#include <computecore.h>

#include "hcs_err.h"
#include "hcs_wstr.h"

/* Each table entry's type must be the SDK's prototype, or the call through it would be undefined: checked
 * here at compile time (mingw-w64 ships computecore.h). NameToGuid is not in the SDK. */
#define HCS_CHECK(fn, type) \
  _Static_assert(__builtin_types_compatible_p(__typeof__(&fn), type), #fn ": prototype differs from hcs_api")
HCS_CHECK(HcsCreateOperation, hcs_fn_create_operation);
HCS_CHECK(HcsCloseOperation, hcs_fn_close_operation);
HCS_CHECK(HcsWaitForOperationResult, hcs_fn_wait_result);
HCS_CHECK(HcsWaitForOperationResultAndProcessInfo, hcs_fn_wait_result_pi);
HCS_CHECK(HcsGetOperationResult, hcs_fn_get_result);
HCS_CHECK(HcsCreateComputeSystem, hcs_fn_create_system);
HCS_CHECK(HcsOpenComputeSystem, hcs_fn_open_system);
HCS_CHECK(HcsCloseComputeSystem, hcs_fn_close_system);
HCS_CHECK(HcsStartComputeSystem, hcs_fn_system_op);
HCS_CHECK(HcsShutDownComputeSystem, hcs_fn_system_op);
HCS_CHECK(HcsTerminateComputeSystem, hcs_fn_system_op);
HCS_CHECK(HcsPauseComputeSystem, hcs_fn_system_op);
HCS_CHECK(HcsResumeComputeSystem, hcs_fn_system_op);
HCS_CHECK(HcsGetComputeSystemProperties, hcs_fn_get_system_properties);
HCS_CHECK(HcsModifyComputeSystem, hcs_fn_modify_system);
HCS_CHECK(HcsSetComputeSystemCallback, hcs_fn_set_system_callback);
HCS_CHECK(HcsCreateProcess, hcs_fn_create_process);
HCS_CHECK(HcsCloseProcess, hcs_fn_close_process);
HCS_CHECK(HcsTerminateProcess, hcs_fn_process_op);
HCS_CHECK(HcsSignalProcess, hcs_fn_process_op);
HCS_CHECK(HcsGetProcessInfo, hcs_fn_get_process_info);
HCS_CHECK(HcsGetProcessProperties, hcs_fn_process_op);
HCS_CHECK(HcsModifyProcess, hcs_fn_process_op);
HCS_CHECK(HcsSetProcessCallback, hcs_fn_set_process_callback);

/* GetProcAddress returns a generic FARPROC; going through void(*)(void) keeps -Wcast-function-type quiet
 * about a cast that is correct by the checks above. */
typedef void (*hcs_any_fn)(void);
#define HCS_PROC(mod, name) ((hcs_any_fn)GetProcAddress((HMODULE)(mod), name))

static void hcs_dll_free_document(hcs_pwstr doc) {
  if (doc) LocalFree(doc);
}

int hcs_dll_load(hcs_api *api, cs_err *err) {
  memset(api, 0, sizeof *api);
  /* System32 only: a computecore.dll planted next to the shim must not be picked up. */
  HMODULE cc = LoadLibraryExW(L"computecore.dll", NULL, LOAD_LIBRARY_SEARCH_SYSTEM32);
  if (!cc) return hcs_err_set(err, "LoadLibrary computecore.dll", (hcs_hresult)GetLastError(),
                              "is the Containers feature installed?");
  HMODULE vc = LoadLibraryExW(L"vmcompute.dll", NULL, LOAD_LIBRARY_SEARCH_SYSTEM32);
  if (!vc) {
    hcs_err_set(err, "LoadLibrary vmcompute.dll", (hcs_hresult)GetLastError(), NULL);
    FreeLibrary(cc);
    return -1;
  }
  api->module[0] = cc;
  api->module[1] = vc;
#define LOAD(mod, field, type)                                                          \
  do {                                                                                  \
    api->field = (type)HCS_PROC(mod, #field);                                           \
    if (!api->field) {                                                                  \
      hcs_err_set(err, "GetProcAddress " #field, (hcs_hresult)GetLastError(), NULL);    \
      hcs_dll_unload(api);                                                              \
      return -1;                                                                        \
    }                                                                                   \
  } while (0)
  LOAD(cc, HcsCreateOperation, hcs_fn_create_operation);
  LOAD(cc, HcsCloseOperation, hcs_fn_close_operation);
  LOAD(cc, HcsWaitForOperationResult, hcs_fn_wait_result);
  LOAD(cc, HcsWaitForOperationResultAndProcessInfo, hcs_fn_wait_result_pi);
  LOAD(cc, HcsGetOperationResult, hcs_fn_get_result);
  LOAD(cc, HcsCreateComputeSystem, hcs_fn_create_system);
  LOAD(cc, HcsCloseComputeSystem, hcs_fn_close_system);
  LOAD(cc, HcsStartComputeSystem, hcs_fn_system_op);
  LOAD(cc, HcsShutDownComputeSystem, hcs_fn_system_op);
  LOAD(cc, HcsTerminateComputeSystem, hcs_fn_system_op);
  LOAD(cc, HcsPauseComputeSystem, hcs_fn_system_op);
  LOAD(cc, HcsResumeComputeSystem, hcs_fn_system_op);
  LOAD(cc, HcsGetComputeSystemProperties, hcs_fn_get_system_properties);
  LOAD(cc, HcsModifyComputeSystem, hcs_fn_modify_system);
  LOAD(cc, HcsSetComputeSystemCallback, hcs_fn_set_system_callback);
  LOAD(cc, HcsCreateProcess, hcs_fn_create_process);
  LOAD(cc, HcsCloseProcess, hcs_fn_close_process);
  LOAD(cc, HcsTerminateProcess, hcs_fn_process_op);
  LOAD(cc, HcsSignalProcess, hcs_fn_process_op);
  LOAD(cc, HcsGetProcessInfo, hcs_fn_get_process_info);
  LOAD(cc, HcsGetProcessProperties, hcs_fn_process_op);
  LOAD(cc, HcsModifyProcess, hcs_fn_process_op);
  LOAD(cc, HcsSetProcessCallback, hcs_fn_set_process_callback);
  LOAD(vc, NameToGuid, hcs_fn_name_to_guid);
  LOAD(vc, ActivateLayer, hcs_fn_layer_op);
  LOAD(vc, PrepareLayer, hcs_fn_prepare_layer);
  LOAD(vc, GetLayerMountPath, hcs_fn_layer_mount_path);
  LOAD(vc, UnprepareLayer, hcs_fn_layer_op);
  LOAD(vc, DeactivateLayer, hcs_fn_layer_op);
#undef LOAD
  /* Only the `delete` of a dead shim opens a system by id; a computecore.dll without it (a test fake) still
   * serves everything else, and that delete says it cannot terminate. */
  api->HcsOpenComputeSystem = (hcs_fn_open_system)HCS_PROC(cc, "HcsOpenComputeSystem");
  api->free_document = hcs_dll_free_document;
  return 0;
}

void hcs_dll_unload(hcs_api *api) {
  for (int i = 0; i < 2; i++)
    if (api->module[i]) FreeLibrary((HMODULE)api->module[i]);
  memset(api, 0, sizeof *api);
}

#else /* !_WIN32 */

int hcs_dll_load(hcs_api *api, cs_err *err) {
  memset(api, 0, sizeof *api);
  return cs_err_set(err, CS_UNIMPLEMENTED, "HCS: computecore.dll exists only on Windows");
}

void hcs_dll_unload(hcs_api *api) { memset(api, 0, sizeof *api); }

#endif
