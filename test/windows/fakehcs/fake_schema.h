/* The HCS schema2 types the fake accepts, field by field, each type tagged with the hcsshim file
 * (github.com/Microsoft/hcsshim, internal/hcs/schema2/<file>) its fields were taken from. A document with a field
 * that is not in the table, or of the wrong JSON type, is refused with HCS_E_INVALID_JSON and a message naming
 * the field path, so a backend that sends something HCS does not know fails its test. Only the types the cshim
 * backend sends are modelled; a real field of an unmodelled type is refused too (add it here, with its file). */
#ifndef FAKE_SCHEMA_H
#define FAKE_SCHEMA_H

#include <jansson.h>
#include <stddef.h>

typedef struct fs_type fs_type;

extern const fs_type FS_COMPUTE_SYSTEM;       /* HcsCreateComputeSystem configuration */
extern const fs_type FS_PROCESS_PARAMETERS;   /* HcsCreateProcess */
extern const fs_type FS_MODIFY_SETTING;       /* HcsModifyComputeSystem */
extern const fs_type FS_PROCESS_MODIFY;       /* HcsModifyProcess */
extern const fs_type FS_PROPERTY_QUERY;       /* HcsGetComputeSystemProperties */
extern const fs_type FS_SIGNAL_OPTIONS;       /* HcsSignalProcess */
extern const fs_type FS_PROCESSOR;            /* ModifySettingRequest.Settings for Container/Processor */
extern const fs_type FS_NETWORK_ADAPTER;      /* ModifySettingRequest.Settings for .../NetworkAdapters/<id> */
extern const fs_type FS_ATTACHMENT;           /* Settings for VirtualMachine/Devices/Scsi/<c>/Attachments/<lun> */
extern const fs_type FS_VSMB_SHARE;           /* Settings for VirtualMachine/Devices/VirtualSmb/Shares */
extern const fs_type FS_GUEST_REQUEST;        /* ModifySettingRequest.GuestRequest */
extern const fs_type FS_WCOW_MAPPED_DISK;     /* GuestRequest.Settings for MappedVirtualDisk */
extern const fs_type FS_WCOW_COMBINED_LAYERS; /* GuestRequest.Settings for CombinedLayers */

/* 0 if doc (an object) matches t; else -1 with "Container.Storage.Layers[0].Idd: unknown field (...)" in err. */
int fs_check(json_t *doc, const fs_type *t, char *err, size_t n);

/* The hcsshim file a type comes from (for messages and the README table). */
const char *fs_type_file(const fs_type *t);

#endif
