/* HCS schema 2 documents (JSON, jansson) built from the OCI spec, and the documents HCS sends back.
 *
 * Shapes follow hcsshim's internal/hcs/schema2 field names:
 *   process isolation: ComputeSystem{Owner, SchemaVersion 2.1, ShouldTerminateOnLastHandleClosed, Container}
 *   Hyper-V isolation: two compute systems, as hcsshim's WCOW "xenon" path (uvm.CreateContainer with an
 *     HCS-owned guest connection): a utility VM (VirtualMachine document booting the base layer's
 *     UtilityVM over VSMB), and the container hosted in it: ComputeSystem{HostingSystemId, HostedSystem{
 *     SchemaVersion, Container}}. The layers and mounts reach the guest as read-only VSMB shares of the UVM,
 *     named in the UVM document, and the hosted Container refers to them by their guest paths. */
#ifndef HCS_DOC_H
#define HCS_DOC_H

#include <jansson.h>
#include <stdbool.h>

#include "cs_err.h"
#include "hcs_api.h"
#include "win_rules.h"

#define HCS_QUERY_STATISTICS "{\"PropertyTypes\":[\"Statistics\"]}"
#define HCS_QUERY_PROCESS_LIST "{\"PropertyTypes\":[\"ProcessList\"]}"
/* Guest path prefix of a VSMB share inside a Windows utility VM (hcsshim internal/uvm/vsmb.go). */
#define HCS_VSMB_GUEST_PREFIX "\\\\?\\VMSMB\\VSMB-{dcc079ae-60ba-4d07-847c-3493609c0870}\\"
#define HCS_UVM_DEFAULT_MEMORY_MB 1024
#define HCS_UVM_DEFAULT_CPUS 2

typedef struct hcs_doc_ctx {
  const char *id;         /* the container's compute system id */
  const char *uvm_id;     /* Hyper-V: the utility VM's id */
  const char *owner;
  int isolation;          /* WIN_ISOLATION_PROCESS or WIN_ISOLATION_HYPERV (resolved) */
  const hcs_api *api;     /* NameToGuid for layer ids */
  const win_host *host;
  /* Process isolation without root.path: the backend mounts the layers itself (hcs_layers.h), so the
   * document leaves Storage.Path out and hcs_doc_set_storage_path fills it in once the volume exists. */
  bool mount_layers;
} hcs_doc_ctx;

/* <bundle>/config.json. */
int hcs_spec_load(const char *bundle, json_t **out, cs_err *err);
/* windows.hyperv present means Hyper-V; otherwise the backend default, resolved for the host. Then the
 * client-edition rule. */
int hcs_spec_isolation(json_t *spec, int default_isolation, const win_host *host, int *out, cs_err *err);
/* windows.network.endpointList as a NULL-terminated malloc'd array of malloc'd strings (free with
 * hcs_strv_free); *n its length. Empty list: a one-element array holding NULL. */
char **hcs_spec_endpoints(json_t *spec, size_t *n, cs_err *err);
void hcs_strv_free(char **v);

json_t *hcs_doc_container(json_t *spec, const hcs_doc_ctx *c, win_warnings *w, cs_err *err);
/* Set Container.Storage.Path of a process-isolated container document (JSON text, replaced). */
int hcs_doc_set_storage_path(char **doc, const char *path, cs_err *err);
json_t *hcs_doc_uvm(json_t *spec, const hcs_doc_ctx *c, cs_err *err);

/* ProcessParameters for HcsCreateProcess from an OCI Process object. paths[i] != NULL asks HCS for that
 * std pipe; with a terminal, stderr is merged into the console (HCS ignores StdErrPipe then). */
json_t *hcs_doc_process(json_t *process, bool terminal, const char *const paths[3], cs_err *err);
/* ModifySettingRequest hot-adding an HNS endpoint as a NIC of a utility VM. */
json_t *hcs_doc_nic_add(const char *endpoint_id, const char *mac);
/* OCI WindowsResources -> array of ModifySettingRequests for the container, checked and capped by the same
 * Windows rules as Create (c: isolation and host; warnings as Create's). */
json_t *hcs_doc_update(json_t *resources, const hcs_doc_ctx *c, win_warnings *w, cs_err *err);
/* Signal -> HcsSignalProcess options, or *terminate for SIGKILL; signal 0 sets neither (a liveness probe). */
int hcs_doc_signal(int sig, char **options, bool *terminate, cs_err *err);
/* {"ConsoleSize":...} for HcsModifyProcess. */
char *hcs_doc_resize(uint32_t width, uint32_t height);
/* ProcessStatus / exit event data: {"ProcessId", "Exited", "ExitCode", ...}. Returns 0 when the document
 * says the process has exited (with its code), -1 otherwise. */
int hcs_doc_exit_status(const char *json, int *exit_code);

/* Properties{ProcessList:[{ProcessId,...}]} -> malloc'd pids (*n of them; NULL with *n 0 for none). */
int hcs_doc_process_list(const char *json, int **pids, size_t *n, cs_err *err);

/* The JSON string or NULL, for optional fields. */
const char *hcs_json_str(json_t *obj, const char *key);

#endif
