/* What a Hyper-V isolated container needs inside its utility VM, as the ModifySettingRequests HCS takes on
 * the running VM (hcsshim's WCOW xenon path: uvm.AddVSMB, uvm.AddSCSI, then the CombinedLayers guest
 * request of layers.MountWCOWLayers), and the requests that take an HNS endpoint's NIC in and out.
 *
 *   VSMB share    {ResourcePath "VirtualMachine/Devices/VirtualSmb/Shares", RequestType Add, Settings VirtualSmbShare}
 *                 one per read-only layer ("s<i>") and per directory mount ("m<i>")
 *   scratch       {ResourcePath "VirtualMachine/Devices/Scsi/0/Attachments/1", RequestType Add,
 *                  Settings Attachment{Path <scratch>\sandbox.vhdx, Type VirtualDisk},
 *                  GuestRequest{ResourceType MappedVirtualDisk, RequestType Add, Settings{ContainerPath C:\c\<id>, Lun 1}}}
 *   layers        {GuestRequest{ResourceType CombinedLayers, RequestType Add,
 *                  Settings{ContainerRootPath C:\c\<id>, Layers [{Id, Path <VSMB guest path>}]}}}
 *   NIC           {ResourcePath "VirtualMachine/Devices/NetworkAdapters/<endpoint>", RequestType Add|Remove, ...}
 *
 * Lun 0 of controller 0 is the VM's own scratch (in the VM document); the container's scratch is Lun 1. Every
 * attachment goes with the VM when it is terminated, so a failed Create tears the VM down and nothing stays. */
#ifndef HCS_UVM_DOC_H
#define HCS_UVM_DOC_H

#include <jansson.h>
#include <stdbool.h>

#include "cs_err.h"
#include "hcs_doc.h"

#define HCS_UVM_SCSI_CONTROLLER "0"
#define HCS_UVM_SCRATCH_LUN 1

/* The ordered hot-adds for the container: shares, then the scratch, then the combined layers. spec is the OCI
 * spec, ctr_doc the hosted container's document (hcs_doc_container: its Storage names the layers and the
 * root). An array of ModifySettingRequests, or NULL with err set. */
json_t *hcs_doc_uvm_attach(json_t *spec, json_t *ctr_doc, cs_err *err);
json_t *hcs_doc_vsmb_share(const char *name, const char *path, bool read_only);
/* Remove the NIC of an HNS endpoint from a utility VM. */
json_t *hcs_doc_nic_remove(const char *endpoint_id);
/* Set Networking.Namespace of a container document (JSON text, replaced): process-isolated or hosted. */
int hcs_doc_set_namespace(char **doc, const char *ns, cs_err *err);

#endif
