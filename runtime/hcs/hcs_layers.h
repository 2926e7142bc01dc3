/* A process-isolated container's storage: its layer folders made into one volume before HCS starts it.
 *
 * containerd 1.6 names the layers either in the spec (windows.layerFolders: the read-only parents top-most
 * first, the scratch last) or as one "windows-layer" rootfs mount (source = the scratch folder, option
 * parentLayerPaths=<JSON array of the parents>, containerd's snapshots/windows/windows.go). When the spec
 * has no root.path, the backend mounts them as hcsshim's internal/layers does for process isolation:
 * vmcompute's ActivateLayer(scratch), PrepareLayer(scratch, parents), GetLayerMountPath(scratch) -> a volume
 * path \\?\Volume{guid}\ that becomes the compute system's Storage.Path; Delete undoes it with
 * UnprepareLayer and DeactivateLayer. The calls block: they run on a job's worker thread. */
#ifndef HCS_LAYERS_H
#define HCS_LAYERS_H

#include <jansson.h>

#include "cs_err.h"
#include "hcs_api.h"
#include "rt.h"

/* The layer folders (JSON array of strings, parents then scratch) named by the rootfs mounts, or NULL with
 * no error when there is no mount. More than one mount, another type, or a bad parentLayerPaths option is
 * InvalidArgument. */
json_t *hcs_layers_from_mounts(const rt_mount *mounts, size_t n, cs_err *err);

/* Activate and prepare the scratch (folders[n-1]) over its parents; *volume is the malloc'd mount path.
 * On failure nothing stays activated, and the error names the layer and the step. */
int hcs_layers_mount(const hcs_api *api, const char *const *folders, size_t n, char **volume, cs_err *err);
/* Unprepare, then deactivate the scratch; a failed unprepare leaves it activated (a retry does both). */
int hcs_layers_unmount(const hcs_api *api, const char *scratch, cs_err *err);

#endif
