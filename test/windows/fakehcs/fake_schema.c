#include "fake_schema.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

enum fs_kind {
  FS_STRING,
  FS_BOOL,
  FS_UINT,    /* Go unsigned integer: a JSON integer >= 0 */
  FS_INT,     /* Go signed integer */
  FS_OBJ,     /* a nested struct */
  FS_ARRAY,   /* []struct */
  FS_MAP,     /* map[string]struct */
  FS_STRMAP,  /* map[string]string */
  FS_STRS,    /* []string */
  FS_UINTS,   /* []uint16 etc. */
  FS_ANY,     /* interface{}: checked by the caller (ModifySettingRequest.Settings) */
};

typedef struct fs_field {
  const char *name;
  enum fs_kind kind;
  const fs_type *type;
  const char *const *values; /* enum: the accepted strings */
} fs_field;

struct fs_type {
  const char *name;
  const char *file;
  const fs_field *fields;
};

/* Tentative definitions, so the types can refer to each other in any order. */
static const fs_type T_VERSION, T_HOSTED, T_CONTAINER, T_GUEST_OS, T_STORAGE, T_LAYER, T_QOS, T_CMEMORY, T_MAPDIR,
    T_MAPPIPE, T_NETWORKING, T_VM, T_CHIPSET, T_UEFI, T_BOOT, T_TOPOLOGY, T_MEMORY2, T_PROCESSOR2, T_DEVICES, T_SCSI,
    T_ATTACHMENT, T_HVSOCKET2, T_HVSOCKCFG, T_VSMB, T_VSMB_SHARE, T_VSMB_OPTS, T_GUESTCONN, T_CONSOLE_SIZE,
    T_CLOSE_HANDLE;

static const char *const boot_devices[] = {"ScsiDrive", "VmbFs", "Network", "File", NULL};
static const char *const request_types[] = {"Add", "Remove", "Update", NULL};
static const char *const modify_ops[] = {"ConsoleSize", "CloseHandle", NULL};
static const char *const std_handles[] = {"StdIn", "StdOut", "StdErr", "All", NULL};
static const char *const signals[] = {"CtrlC", "CtrlBreak", "CtrlClose", "CtrlLogOff", "CtrlShutdown", NULL};
static const char *const property_types[] = {"Memory", "GuestMemory", "Statistics", "ProcessList",
                                             "TerminateOnLastHandleClosed", "SharedMemoryRegion", "GuestConnection",
                                             "ICHeartbeatStatus", "ProcessorTopology", "CPUGroup", "Basic", NULL};
static const char *const attachment_types[] = {"VirtualDisk", "Iso", "PassThru", NULL};

#define END {NULL, FS_STRING, NULL, NULL}
#define F(n, k) {n, k, NULL, NULL}
#define O(n, k, t) {n, k, &t, NULL}
#define E(n, v) {n, FS_STRING, NULL, v}

static const fs_field compute_system_f[] = {
  F("Owner", FS_STRING), O("SchemaVersion", FS_OBJ, T_VERSION), F("HostingSystemId", FS_STRING),
  O("HostedSystem", FS_OBJ, T_HOSTED), O("Container", FS_OBJ, T_CONTAINER), O("VirtualMachine", FS_OBJ, T_VM),
  F("ShouldTerminateOnLastHandleClosed", FS_BOOL), END};
const fs_type FS_COMPUTE_SYSTEM = {"ComputeSystem", "compute_system.go", compute_system_f};

static const fs_field version_f[] = {F("Major", FS_UINT), F("Minor", FS_UINT), END};
static const fs_type T_VERSION = {"Version", "version.go", version_f};

static const fs_field hosted_f[] = {O("SchemaVersion", FS_OBJ, T_VERSION), O("Container", FS_OBJ, T_CONTAINER), END};
static const fs_type T_HOSTED = {"HostedSystem", "hosted_system.go", hosted_f};

static const fs_field container_f[] = {
  O("GuestOs", FS_OBJ, T_GUEST_OS), O("Storage", FS_OBJ, T_STORAGE), O("MappedDirectories", FS_ARRAY, T_MAPDIR),
  O("MappedPipes", FS_ARRAY, T_MAPPIPE), O("Memory", FS_OBJ, T_CMEMORY), O("Processor", FS_OBJ, FS_PROCESSOR),
  O("Networking", FS_OBJ, T_NETWORKING), END};
static const fs_type T_CONTAINER = {"Container", "container.go", container_f};

static const fs_field guest_os_f[] = {F("HostName", FS_STRING), END};
static const fs_type T_GUEST_OS = {"GuestOs", "guest_os.go", guest_os_f};

static const fs_field storage_f[] = {O("Layers", FS_ARRAY, T_LAYER), F("Path", FS_STRING), O("QoS", FS_OBJ, T_QOS),
                                     F("ContainerRootPath", FS_STRING), END};
static const fs_type T_STORAGE = {"Storage", "storage.go", storage_f};

static const fs_field layer_f[] = {F("Id", FS_STRING), F("Path", FS_STRING), END};
static const fs_type T_LAYER = {"Layer", "layer.go", layer_f};

static const fs_field qos_f[] = {F("IopsMaximum", FS_UINT), F("BandwidthMaximum", FS_UINT), END};
static const fs_type T_QOS = {"StorageQoS", "storage_qo_s.go", qos_f};

static const fs_field cmemory_f[] = {F("SizeInMB", FS_UINT), F("Maximum", FS_UINT), END};
static const fs_type T_CMEMORY = {"ContainerMemory", "container_memory.go", cmemory_f};

static const fs_field processor_f[] = {F("Count", FS_INT), F("Maximum", FS_INT), F("Weight", FS_INT),
                                       F("Affinity", FS_UINT), END};
const fs_type FS_PROCESSOR = {"Processor", "processor.go", processor_f};

static const fs_field mapdir_f[] = {F("HostPath", FS_STRING), F("ContainerPath", FS_STRING), F("ReadOnly", FS_BOOL),
                                    F("SupportCloudFiles", FS_BOOL), END};
static const fs_type T_MAPDIR = {"MappedDirectory", "mapped_directory.go", mapdir_f};

static const fs_field mappipe_f[] = {F("ContainerPipeName", FS_STRING), F("HostPath", FS_STRING), END};
static const fs_type T_MAPPIPE = {"MappedPipe", "mapped_pipe.go", mappipe_f};

static const fs_field networking_f[] = {F("AllowUnqualifiedDnsQuery", FS_BOOL), F("DnsSearchList", FS_STRING),
                                        F("NetworkSharedContainerName", FS_STRING), F("Namespace", FS_STRING),
                                        F("NetworkAdapters", FS_STRS), END};
static const fs_type T_NETWORKING = {"Networking", "networking.go", networking_f};

static const fs_field vm_f[] = {F("StopOnReset", FS_BOOL), O("Chipset", FS_OBJ, T_CHIPSET),
                                O("ComputeTopology", FS_OBJ, T_TOPOLOGY), O("Devices", FS_OBJ, T_DEVICES),
                                O("GuestConnection", FS_OBJ, T_GUESTCONN), O("StorageQoS", FS_OBJ, T_QOS), END};
static const fs_type T_VM = {"VirtualMachine", "virtual_machine.go", vm_f};

static const fs_field chipset_f[] = {O("Uefi", FS_OBJ, T_UEFI), END};
static const fs_type T_CHIPSET = {"Chipset", "chipset.go", chipset_f};

static const fs_field uefi_f[] = {F("EnableDebugger", FS_BOOL), F("SecureBootTemplateId", FS_STRING),
                                  O("BootThis", FS_OBJ, T_BOOT), F("StopOnBootFailure", FS_BOOL), END};
static const fs_type T_UEFI = {"Uefi", "uefi.go", uefi_f};

static const fs_field boot_f[] = {E("DeviceType", boot_devices), F("DevicePath", FS_STRING), F("DiskNumber", FS_UINT),
                                  F("OptionalData", FS_STRING), F("VmbFsRootPath", FS_STRING), END};
static const fs_type T_BOOT = {"UefiBootEntry", "uefi_boot_entry.go", boot_f};

static const fs_field topology_f[] = {O("Memory", FS_OBJ, T_MEMORY2), O("Processor", FS_OBJ, T_PROCESSOR2), END};
static const fs_type T_TOPOLOGY = {"Topology", "topology.go", topology_f};

static const fs_field memory2_f[] = {F("SizeInMB", FS_UINT), F("AllowOvercommit", FS_BOOL), F("EnableHotHint", FS_BOOL),
                                     F("EnableColdHint", FS_BOOL), F("EnableEpf", FS_BOOL),
                                     F("EnableDeferredCommit", FS_BOOL), F("EnableColdDiscardHint", FS_BOOL), END};
static const fs_type T_MEMORY2 = {"Memory2", "memory_2.go", memory2_f};

static const fs_field processor2_f[] = {F("Count", FS_INT), F("Limit", FS_INT), F("Weight", FS_INT),
                                        F("ExposeVirtualizationExtensions", FS_BOOL), END};
static const fs_type T_PROCESSOR2 = {"Processor2", "processor_2.go", processor2_f};

static const fs_field devices_f[] = {O("Scsi", FS_MAP, T_SCSI), O("NetworkAdapters", FS_MAP, FS_NETWORK_ADAPTER),
                                     O("HvSocket", FS_OBJ, T_HVSOCKET2), O("VirtualSmb", FS_OBJ, T_VSMB), END};
static const fs_type T_DEVICES = {"Devices", "devices.go", devices_f};

static const fs_field scsi_f[] = {O("Attachments", FS_MAP, T_ATTACHMENT), END};
static const fs_type T_SCSI = {"Scsi", "scsi.go", scsi_f};

static const fs_field attachment_f[] = {E("Type", attachment_types), F("Path", FS_STRING), F("ReadOnly", FS_BOOL), END};
static const fs_type T_ATTACHMENT = {"Attachment", "attachment.go", attachment_f};

static const fs_field hvsocket2_f[] = {O("HvSocketConfig", FS_OBJ, T_HVSOCKCFG), END};
static const fs_type T_HVSOCKET2 = {"HvSocket2", "hv_socket_2.go", hvsocket2_f};

static const fs_field hvsockcfg_f[] = {F("DefaultBindSecurityDescriptor", FS_STRING),
                                       F("DefaultConnectSecurityDescriptor", FS_STRING), END};
static const fs_type T_HVSOCKCFG = {"HvSocketSystemConfig", "hv_socket_system_config.go", hvsockcfg_f};

static const fs_field vsmb_f[] = {O("Shares", FS_ARRAY, T_VSMB_SHARE), F("DirectFileMappingInMB", FS_INT), END};
static const fs_type T_VSMB = {"VirtualSmb", "virtual_smb.go", vsmb_f};

static const fs_field vsmb_share_f[] = {F("Name", FS_STRING), F("Path", FS_STRING), F("AllowedFiles", FS_STRS),
                                        O("Options", FS_OBJ, T_VSMB_OPTS), END};
static const fs_type T_VSMB_SHARE = {"VirtualSmbShare", "virtual_smb_share.go", vsmb_share_f};

static const fs_field vsmb_opts_f[] = {
  F("ReadOnly", FS_BOOL), F("ShareRead", FS_BOOL), F("CacheIo", FS_BOOL), F("NoOplocks", FS_BOOL),
  F("TakeBackupPrivilege", FS_BOOL), F("UseShareRootIdentity", FS_BOOL), F("NoDirectmap", FS_BOOL),
  F("NoLocks", FS_BOOL), F("NoDirnotify", FS_BOOL), F("VmSharedMemory", FS_BOOL), F("RestrictFileAccess", FS_BOOL),
  F("ForceLevelIIOplocks", FS_BOOL), F("ReparseBaseLayer", FS_BOOL), F("PseudoOplocks", FS_BOOL),
  F("NonCacheIo", FS_BOOL), F("PseudoDirnotify", FS_BOOL), F("SingleFileMapping", FS_BOOL), END};
static const fs_type T_VSMB_OPTS = {"VirtualSmbShareOptions", "virtual_smb_share_options.go", vsmb_opts_f};

static const fs_field guestconn_f[] = {F("UseVsock", FS_BOOL), F("UseConnectedSuspend", FS_BOOL),
                                       F("UseHostTimeZone", FS_BOOL), END};
static const fs_type T_GUESTCONN = {"GuestConnection", "guest_connection.go", guestconn_f};

static const fs_field netadapter_f[] = {F("EndpointId", FS_STRING), F("MacAddress", FS_STRING), F("MediaType", FS_UINT),
                                        F("InstanceId", FS_STRING), F("SwitchId", FS_STRING), F("PortId", FS_STRING),
                                        F("SwitchName", FS_STRING), END};
const fs_type FS_NETWORK_ADAPTER = {"NetworkAdapter", "network_adapter.go", netadapter_f};

/* Hot-adds to a running VM (hcsshim internal/hcs/resourcepaths/virtualmachine.go) and the guest requests a WCOW
 * utility VM takes (internal/protocol/guestrequest/types.go, internal/protocol/guestresource/resources.go). */
const fs_type FS_ATTACHMENT = {"Attachment", "attachment.go", attachment_f};
const fs_type FS_VSMB_SHARE = {"VirtualSmbShare", "virtual_smb_share.go", vsmb_share_f};
static const char *const guest_resource_types[] = {"MappedVirtualDisk", "CombinedLayers", NULL};
static const fs_field guest_request_f[] = {E("ResourceType", guest_resource_types), E("RequestType", request_types),
                                           F("Settings", FS_ANY), END};
const fs_type FS_GUEST_REQUEST = {"ModificationRequest", "internal/protocol/guestrequest/types.go", guest_request_f};
static const fs_field wcow_disk_f[] = {F("ContainerPath", FS_STRING), F("Lun", FS_INT), END};
const fs_type FS_WCOW_MAPPED_DISK = {"WCOWMappedVirtualDisk", "internal/protocol/guestresource/resources.go",
                                     wcow_disk_f};
static const fs_field wcow_layers_f[] = {F("ContainerRootPath", FS_STRING), O("Layers", FS_ARRAY, T_LAYER),
                                         F("ScratchPath", FS_STRING), F("FilterType", FS_STRING), END};
const fs_type FS_WCOW_COMBINED_LAYERS = {"WCOWCombinedLayers", "internal/protocol/guestresource/resources.go",
                                         wcow_layers_f};

static const fs_field process_f[] = {
  F("ApplicationName", FS_STRING), F("CommandLine", FS_STRING), F("CommandArgs", FS_STRS), F("User", FS_STRING),
  F("WorkingDirectory", FS_STRING), F("Environment", FS_STRMAP), F("RestrictedToken", FS_BOOL),
  F("EmulateConsole", FS_BOOL), F("CreateStdInPipe", FS_BOOL), F("CreateStdOutPipe", FS_BOOL),
  F("CreateStdErrPipe", FS_BOOL), F("ConsoleSize", FS_UINTS), F("CreateInUtilityVM", FS_BOOL),
  F("UseExistingLogin", FS_BOOL), F("UseLegacyConsole", FS_BOOL), END};
const fs_type FS_PROCESS_PARAMETERS = {"ProcessParameters", "process_parameters.go", process_f};

static const fs_field modify_f[] = {F("ResourcePath", FS_STRING), E("RequestType", request_types),
                                    F("Settings", FS_ANY), F("GuestRequest", FS_ANY), END};
const fs_type FS_MODIFY_SETTING = {"ModifySettingRequest", "modify_setting_request.go", modify_f};

static const fs_field pmodify_f[] = {E("Operation", modify_ops), O("ConsoleSize", FS_OBJ, T_CONSOLE_SIZE),
                                     O("CloseHandle", FS_OBJ, T_CLOSE_HANDLE), END};
const fs_type FS_PROCESS_MODIFY = {"ProcessModifyRequest", "process_modify_request.go", pmodify_f};

static const fs_field console_size_f[] = {F("Height", FS_UINT), F("Width", FS_UINT), END};
static const fs_type T_CONSOLE_SIZE = {"ConsoleSize", "console_size.go", console_size_f};

static const fs_field close_handle_f[] = {E("Handle", std_handles), END};
static const fs_type T_CLOSE_HANDLE = {"CloseHandle", "close_handle.go", close_handle_f};

/* PropertyTypes is []PropertyType (strings); each element is checked against property_types in fs_check. */
static const fs_field query_f[] = {F("PropertyTypes", FS_STRS), END};
const fs_type FS_PROPERTY_QUERY = {"PropertyQuery", "property_query.go (v1: internal/hcs/schema1/schema1.go)", query_f};

static const fs_field signal_f[] = {E("Signal", signals), END};
const fs_type FS_SIGNAL_OPTIONS = {"SignalProcessOptionsWCOW", "internal/protocol/guestrequest/types.go", signal_f};

const char *fs_type_file(const fs_type *t) { return t->file; }

static const char *json_kind(json_t *v) {
  switch (json_typeof(v)) {
  case JSON_OBJECT: return "an object";
  case JSON_ARRAY: return "an array";
  case JSON_STRING: return "a string";
  case JSON_INTEGER: return "an integer";
  case JSON_REAL: return "a real number";
  case JSON_TRUE:
  case JSON_FALSE: return "a boolean";
  default: return "null";
  }
}

static int fail(char *err, size_t n, const char *path, const char *what) {
  snprintf(err, n, "%s: %s", path, what);
  return -1;
}

static int check_obj(json_t *doc, const fs_type *t, const char *path, char *err, size_t n);

static int check_value(json_t *v, const fs_field *f, const char *path, char *err, size_t n) {
  char want[160], sub[512];
  /* Go's encoding/json leaves a field at its zero value for null. */
  if (json_is_null(v)) return 0;
  switch (f->kind) {
  case FS_STRING:
    if (!json_is_string(v)) break;
    if (f->values) {
      for (const char *const *e = f->values; *e; e++)
        if (strcmp(*e, json_string_value(v)) == 0) return 0;
      snprintf(want, sizeof want, "\"%s\" is not a value of this enum", json_string_value(v));
      return fail(err, n, path, want);
    }
    return 0;
  case FS_BOOL:
    if (json_is_boolean(v)) return 0;
    break;
  case FS_UINT:
    if (json_is_integer(v) && json_integer_value(v) >= 0) return 0;
    break;
  case FS_INT:
    if (json_is_integer(v)) return 0;
    break;
  case FS_OBJ:
    if (!json_is_object(v)) break;
    return check_obj(v, f->type, path, err, n);
  case FS_ARRAY:
    if (!json_is_array(v)) break;
    for (size_t i = 0; i < json_array_size(v); i++) {
      json_t *e = json_array_get(v, i);
      snprintf(sub, sizeof sub, "%s[%lu]", path, (unsigned long)i);
      if (!json_is_object(e)) return fail(err, n, sub, "want an object");
      if (check_obj(e, f->type, sub, err, n) < 0) return -1;
    }
    return 0;
  case FS_MAP: {
    if (!json_is_object(v)) break;
    const char *k;
    json_t *e;
    json_object_foreach(v, k, e) {
      snprintf(sub, sizeof sub, "%s[\"%s\"]", path, k);
      if (!json_is_object(e)) return fail(err, n, sub, "want an object");
      if (check_obj(e, f->type, sub, err, n) < 0) return -1;
    }
    return 0;
  }
  case FS_STRMAP: {
    if (!json_is_object(v)) break;
    const char *k;
    json_t *e;
    json_object_foreach(v, k, e) if (!json_is_string(e)) {
      snprintf(sub, sizeof sub, "%s[\"%s\"]", path, k);
      return fail(err, n, sub, "want a string (map[string]string)");
    }
    return 0;
  }
  case FS_STRS:
  case FS_UINTS:
    if (!json_is_array(v)) break;
    for (size_t i = 0; i < json_array_size(v); i++) {
      json_t *e = json_array_get(v, i);
      bool ok = f->kind == FS_STRS ? json_is_string(e) : json_is_integer(e) && json_integer_value(e) >= 0;
      if (!ok) {
        snprintf(sub, sizeof sub, "%s[%lu]", path, (unsigned long)i);
        return fail(err, n, sub, f->kind == FS_STRS ? "want a string" : "want a non-negative integer");
      }
    }
    return 0;
  case FS_ANY: return 0;
  }
  static const char *const names[] = {"a string", "a boolean", "a non-negative integer", "an integer", "an object",
                                      "an array of objects", "an object (map)", "an object of strings",
                                      "an array of strings", "an array of integers", "anything"};
  snprintf(want, sizeof want, "want %s, got %s", names[f->kind], json_kind(v));
  return fail(err, n, path, want);
}

static int check_obj(json_t *doc, const fs_type *t, const char *path, char *err, size_t n) {
  const char *key;
  json_t *v;
  json_object_foreach(doc, key, v) {
    char sub[512];
    snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", key);
    const fs_field *f = t->fields;
    /* HCS's JSON is case-sensitive about member names, as Go's encoding/json is not: take the exact name. */
    while (f->name && strcmp(f->name, key) != 0) f++;
    if (!f->name) {
      char what[256];
      snprintf(what, sizeof what, "unknown field: not in hcsshim's %s (internal/hcs/schema2/%s)", t->name, t->file);
      return fail(err, n, sub, what);
    }
    if (check_value(v, f, sub, err, n) < 0) return -1;
  }
  return 0;
}

int fs_check(json_t *doc, const fs_type *t, char *err, size_t n) {
  if (!json_is_object(doc)) return fail(err, n, t->name, "the document is not a JSON object");
  if (check_obj(doc, t, "", err, n) < 0) return -1;
  if (t == &FS_PROPERTY_QUERY) {
    json_t *types = json_object_get(doc, "PropertyTypes");
    for (size_t i = 0; json_is_array(types) && i < json_array_size(types); i++) {
      const char *s = json_string_value(json_array_get(types, i));
      const char *const *e = property_types;
      while (*e && strcmp(*e, s) != 0) e++;
      if (!*e) {
        char p[64];
        snprintf(p, sizeof p, "PropertyTypes[%lu]", (unsigned long)i);
        return fail(err, n, p, "not a PropertyType of hcsshim's get_property_type.go");
      }
    }
  }
  return 0;
}
