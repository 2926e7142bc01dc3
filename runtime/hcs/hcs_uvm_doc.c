/* The utility VM's hot-adds for a hosted container and the NIC requests (see hcs_uvm_doc.h). */
#include "hcs_uvm_doc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *hcs_doc_vsmb_share(const char *name, const char *path, bool read_only) {
  json_t *o = json_pack("{s:b,s:b,s:b,s:b,s:b}", "ReadOnly", read_only, "PseudoOplocks", 1, "TakeBackupPrivilege", 1,
                        "CacheIo", 1, "ShareRead", 1);
  return json_pack("{s:s,s:s,s:o}", "Name", name, "Path", path, "Options", o);
}

static json_t *vsmb_add(const char *name, const char *path, bool read_only) {
  return json_pack("{s:s,s:s,s:o}", "ResourcePath", "VirtualMachine/Devices/VirtualSmb/Shares", "RequestType", "Add",
                   "Settings", hcs_doc_vsmb_share(name, path, read_only));
}

json_t *hcs_doc_uvm_attach(json_t *spec, json_t *ctr_doc, cs_err *err) {
  json_t *lf = json_object_get(json_object_get(spec, "windows"), "layerFolders");
  json_t *storage = json_object_get(json_object_get(json_object_get(ctr_doc, "HostedSystem"), "Container"), "Storage");
  const char *root = json_string_value(json_object_get(storage, "Path"));
  json_t *layers = json_object_get(storage, "Layers");
  size_t nl = json_array_size(lf);
  if (nl < 2 || !root || json_array_size(layers) != nl - 1) {
    cs_err_set(err, CS_INTERNAL, "utility VM attachments: the hosted container document has no layers or root");
    return NULL;
  }
  json_t *reqs = json_array();
  /* The read-only layers and the directory mounts, by the share names the hosted container's paths use. */
  for (size_t i = 0; i + 1 < nl; i++) {
    char name[32];
    snprintf(name, sizeof name, "s%lu", (unsigned long)i);
    json_array_append_new(reqs, vsmb_add(name, json_string_value(json_array_get(lf, i)), true));
  }
  json_t *mounts = json_object_get(spec, "mounts");
  for (size_t i = 0; json_is_array(mounts) && i < json_array_size(mounts); i++) {
    json_t *m = json_array_get(mounts, i);
    const char *dst = hcs_json_str(m, "destination"), *src = hcs_json_str(m, "source");
    if (!dst || !src || strncmp(dst, "\\\\.\\pipe\\", 9) == 0) continue;
    char name[32];
    snprintf(name, sizeof name, "m%lu", (unsigned long)i);
    /* Writable on the share; the container-side ReadOnly flag (MappedDirectories) is what restricts it. */
    json_array_append_new(reqs, vsmb_add(name, src, false));
  }
  /* The scratch: a SCSI disk of the VM that the guest mounts where the container's root is. */
  char disk[1100], path[96];
  snprintf(disk, sizeof disk, "%s\\sandbox.vhdx", json_string_value(json_array_get(lf, nl - 1)));
  snprintf(path, sizeof path, "VirtualMachine/Devices/Scsi/%s/Attachments/%d", HCS_UVM_SCSI_CONTROLLER,
           HCS_UVM_SCRATCH_LUN);
  json_array_append_new(
      reqs, json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:s,s:s,s:{s:s,s:i}}}", "ResourcePath", path, "RequestType", "Add",
                      "Settings", "Path", disk, "Type", "VirtualDisk", "GuestRequest", "ResourceType",
                      "MappedVirtualDisk", "RequestType", "Add", "Settings", "ContainerPath", root, "Lun",
                      HCS_UVM_SCRATCH_LUN));
  /* The layers over the scratch at the root: the guest's filter needs the ids and the VSMB guest paths. */
  json_array_append_new(reqs, json_pack("{s:{s:s,s:s,s:{s:s,s:O}}}", "GuestRequest", "ResourceType", "CombinedLayers",
                                        "RequestType", "Add", "Settings", "ContainerRootPath", root, "Layers", layers));
  for (size_t i = 0; i < json_array_size(reqs); i++)
    if (!json_array_get(reqs, i)) {
      json_decref(reqs);
      cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
      return NULL;
    }
  return reqs;
}

json_t *hcs_doc_nic_remove(const char *endpoint_id) {
  char path[128];
  snprintf(path, sizeof path, "VirtualMachine/Devices/NetworkAdapters/%s", endpoint_id);
  return json_pack("{s:s,s:s}", "ResourcePath", path, "RequestType", "Remove");
}

int hcs_doc_set_namespace(char **doc, const char *ns, cs_err *err) {
  json_t *d = json_loads(*doc, 0, NULL);
  json_t *ctr = json_object_get(d, "Container");
  if (!ctr) ctr = json_object_get(json_object_get(d, "HostedSystem"), "Container");
  char *text = NULL;
  if (json_is_object(ctr)) {
    json_t *net = json_object_get(ctr, "Networking");
    if (!json_is_object(net)) {
      net = json_object();
      json_object_set_new(ctr, "Networking", net);
    }
    if (json_object_set_new(net, "Namespace", json_string(ns)) == 0) text = json_dumps(d, JSON_COMPACT);
  }
  json_decref(d);
  if (!text) return cs_err_set(err, CS_INTERNAL, "compute system document: cannot set Networking.Namespace");
  free(*doc);
  *doc = text;
  return 0;
}
