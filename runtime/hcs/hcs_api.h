/* The Host Compute Service (computecore.dll) as a table of function pointers.
 *
 * Every HCS call of the Windows backend goes through an hcs_api, so all the logic above it (documents,
 * state, errors, exits) runs on Linux against a fake, and only hcs_dll.c touches the real DLL. The
 * pointer types are exactly the documented prototypes (computecore.h): on Windows the types below ARE the
 * SDK's types, and hcs_dll.c asserts at compile time that each pointer type matches the SDK prototype.
 * Elsewhere they are layout-compatible stand-ins: handles are opaque pointers, HRESULT is int32_t, and
 * wide strings are UTF-16 in uint16_t units (hcs_wstr.h converts to and from UTF-8). */
#ifndef HCS_API_H
#define HCS_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef _WIN32
/* winsock2.h must come before windows.h, and libuv (rt.h) includes it: take it first here. */
#include <winsock2.h>
#include <windows.h>
#include <computedefs.h>
typedef HRESULT hcs_hresult;
typedef DWORD hcs_dword;
typedef WCHAR hcs_wchar;
typedef HCS_OPERATION hcs_operation;
typedef HCS_SYSTEM hcs_system;
typedef HCS_PROCESS hcs_process;
typedef HCS_EVENT hcs_event;
typedef HCS_EVENT_OPTIONS hcs_event_options;
typedef HCS_PROCESS_INFORMATION hcs_process_information;
typedef SECURITY_DESCRIPTOR hcs_security_descriptor;
typedef HANDLE hcs_handle;
typedef GUID hcs_guid;
#define HCS_WINAPI WINAPI
#define HCS_CALLBACK CALLBACK
#else
typedef int32_t hcs_hresult;
typedef uint32_t hcs_dword;
typedef uint16_t hcs_wchar;
typedef struct hcs_operation_s *hcs_operation;
typedef struct hcs_system_s *hcs_system;
typedef struct hcs_process_s *hcs_process;
typedef uint32_t hcs_event_options;
typedef struct hcs_security_descriptor_s hcs_security_descriptor;
typedef void *hcs_handle;
typedef struct hcs_event {
  int32_t Type;                 /* HCS_EVENT_TYPE */
  const hcs_wchar *EventData;   /* JSON, may be NULL */
  hcs_operation Operation;
} hcs_event;
typedef struct hcs_process_information {
  uint32_t ProcessId;
  uint32_t Reserved;
  hcs_handle StdInput, StdOutput, StdError;
} hcs_process_information;
typedef struct hcs_guid {
  uint32_t Data1;
  uint16_t Data2, Data3;
  uint8_t Data4[8];
} hcs_guid;
#define HCS_WINAPI
#define HCS_CALLBACK
#endif

typedef hcs_wchar *hcs_pwstr;
typedef const hcs_wchar *hcs_pcwstr;

#define HCS_INFINITE 0xFFFFFFFFu

/* HCS_EVENT_TYPE values the backend reacts to (computedefs.h). */
#define HCS_EVENT_SYSTEM_EXITED 0x00000001
#define HCS_EVENT_PROCESS_EXITED 0x00010000
#define HCS_EVENT_SERVICE_DISCONNECT 0x02000000
#define HCS_EVENT_OPTION_NONE 0

typedef void(HCS_CALLBACK *hcs_operation_completion)(hcs_operation operation, void *context);
typedef void(HCS_CALLBACK *hcs_event_callback)(hcs_event *event, void *context);

/* One typedef per entry, so hcs_dll.c can check each against the SDK prototype. */
typedef hcs_operation(HCS_WINAPI *hcs_fn_create_operation)(const void *context, hcs_operation_completion cb);
typedef void(HCS_WINAPI *hcs_fn_close_operation)(hcs_operation operation);
typedef hcs_hresult(HCS_WINAPI *hcs_fn_wait_result)(hcs_operation operation, hcs_dword timeout_ms,
                                                    hcs_pwstr *result_document);
typedef hcs_hresult(HCS_WINAPI *hcs_fn_get_result)(hcs_operation operation, hcs_pwstr *result_document);
typedef hcs_hresult(HCS_WINAPI *hcs_fn_wait_result_pi)(hcs_operation operation, hcs_dword timeout_ms,
                                                       hcs_process_information *info,
                                                       hcs_pwstr *result_document);
typedef hcs_hresult(HCS_WINAPI *hcs_fn_create_system)(hcs_pcwstr id, hcs_pcwstr configuration,
                                                      hcs_operation operation,
                                                      const hcs_security_descriptor *sd, hcs_system *system);
typedef void(HCS_WINAPI *hcs_fn_close_system)(hcs_system system);
/* Start, ShutDown, Terminate, Pause, Resume share one shape: (system, operation, options). */
typedef hcs_hresult(HCS_WINAPI *hcs_fn_system_op)(hcs_system system, hcs_operation operation, hcs_pcwstr options);
typedef hcs_hresult(HCS_WINAPI *hcs_fn_get_system_properties)(hcs_system system, hcs_operation operation,
                                                              hcs_pcwstr property_query);
typedef hcs_hresult(HCS_WINAPI *hcs_fn_modify_system)(hcs_system system, hcs_operation operation,
                                                      hcs_pcwstr configuration, hcs_handle identity);
typedef hcs_hresult(HCS_WINAPI *hcs_fn_set_system_callback)(hcs_system system, hcs_event_options options,
                                                            const void *context, hcs_event_callback cb);
typedef hcs_hresult(HCS_WINAPI *hcs_fn_create_process)(hcs_system system, hcs_pcwstr process_parameters,
                                                       hcs_operation operation,
                                                       const hcs_security_descriptor *sd, hcs_process *process);
typedef void(HCS_WINAPI *hcs_fn_close_process)(hcs_process process);
/* Terminate, Signal (options), GetProcessProperties (query), ModifyProcess (settings): one shape. */
typedef hcs_hresult(HCS_WINAPI *hcs_fn_process_op)(hcs_process process, hcs_operation operation, hcs_pcwstr doc);
typedef hcs_hresult(HCS_WINAPI *hcs_fn_get_process_info)(hcs_process process, hcs_operation operation);
typedef hcs_hresult(HCS_WINAPI *hcs_fn_set_process_callback)(hcs_process process, hcs_event_options options,
                                                             void *context, hcs_event_callback cb);
/* HcsOpenComputeSystem: synchronous (no operation); the dead-shim cleanup opens a system by id. */
typedef hcs_hresult(HCS_WINAPI *hcs_fn_open_system)(hcs_pcwstr id, hcs_dword requested_access, hcs_system *system);
/* vmcompute.dll NameToGuid: the layer id HCS expects for a layer folder (a hash of the folder name). */
typedef hcs_hresult(HCS_WINAPI *hcs_fn_name_to_guid)(hcs_pcwstr name, hcs_guid *guid);

/* vmcompute.dll's layer (graph driver) functions, not in any SDK header: the prototypes are hcsshim's
 * internal/wclayer/wclayer.go //sys lines. A layer is named by its folder: HomeDir = the parent folder,
 * id = the folder's base name. Flavour 1 is the filter driver (hcsshim's filterDriver), the only one used. */
#define HCS_DRIVER_FLAVOUR_FILTER 1
typedef struct hcs_driver_info {
  int Flavour;
  const hcs_wchar *HomeDir;
} hcs_driver_info;
/* WC_LAYER_DESCRIPTOR: one parent layer for PrepareLayer (LayerId = NameToGuid(base name), Flags 0). */
typedef struct hcs_layer_descriptor {
  hcs_guid LayerId;
  uint32_t Flags;
  const hcs_wchar *Pathp;
} hcs_layer_descriptor;
/* ActivateLayer, DeactivateLayer, UnprepareLayer: (info, id). */
typedef hcs_hresult(HCS_WINAPI *hcs_fn_layer_op)(const hcs_driver_info *info, hcs_pcwstr id);
typedef hcs_hresult(HCS_WINAPI *hcs_fn_prepare_layer)(const hcs_driver_info *info, hcs_pcwstr id,
                                                      const hcs_layer_descriptor *layers, hcs_dword n_layers);
/* Called twice, as hcsshim does: buffer NULL sets *length (UTF-16 units with the NUL), then fills buffer. */
typedef hcs_hresult(HCS_WINAPI *hcs_fn_layer_mount_path)(const hcs_driver_info *info, hcs_pcwstr id, size_t *length,
                                                         hcs_wchar *buffer);

typedef struct hcs_api {
  hcs_fn_create_operation HcsCreateOperation;
  hcs_fn_close_operation HcsCloseOperation;
  hcs_fn_wait_result HcsWaitForOperationResult;
  hcs_fn_wait_result_pi HcsWaitForOperationResultAndProcessInfo;
  hcs_fn_get_result HcsGetOperationResult; /* a completed operation's result (from its completion callback) */
  hcs_fn_create_system HcsCreateComputeSystem;
  hcs_fn_open_system HcsOpenComputeSystem;  /* NULL where the table has none (fakes): no cleanup by id */
  hcs_fn_close_system HcsCloseComputeSystem;
  hcs_fn_system_op HcsStartComputeSystem;
  hcs_fn_system_op HcsShutDownComputeSystem;
  hcs_fn_system_op HcsTerminateComputeSystem;
  hcs_fn_system_op HcsPauseComputeSystem;
  hcs_fn_system_op HcsResumeComputeSystem;
  hcs_fn_get_system_properties HcsGetComputeSystemProperties;
  hcs_fn_modify_system HcsModifyComputeSystem;
  hcs_fn_set_system_callback HcsSetComputeSystemCallback;
  hcs_fn_create_process HcsCreateProcess;
  hcs_fn_close_process HcsCloseProcess;
  hcs_fn_process_op HcsTerminateProcess;
  hcs_fn_process_op HcsSignalProcess;
  hcs_fn_get_process_info HcsGetProcessInfo;
  hcs_fn_process_op HcsGetProcessProperties;
  hcs_fn_process_op HcsModifyProcess;
  hcs_fn_set_process_callback HcsSetProcessCallback;
  hcs_fn_name_to_guid NameToGuid;
  hcs_fn_layer_op ActivateLayer;
  hcs_fn_prepare_layer PrepareLayer;
  hcs_fn_layer_mount_path GetLayerMountPath;
  hcs_fn_layer_op UnprepareLayer;
  hcs_fn_layer_op DeactivateLayer;
  /* Frees a result document HCS returned (LocalFree on Windows). */
  void (*free_document)(hcs_pwstr doc);
  /* The DLL modules, for hcs_dll_unload; NULL for fakes. */
  void *module[2];
} hcs_api;

#endif
