/* The rootfs on Windows: nothing for the shim to mount. A Windows container's layers are its spec's
 * Windows.LayerFolders (the read-only parents and the scratch layer); HCS attaches them itself from the
 * compute system document runtime/hcs builds. The "windows-layer" mounts containerd sends name the same
 * folders: they are accepted here and the backend takes them (rt_create_req.rootfs, runtime/hcs/hcs_layers.h);
 * anything else cannot be mounted on Windows. */
#include "task_mount.h"

#include <string.h>

int task_rootfs_mount(const char *bundle, const rt_mount *mounts, size_t n, bool *mounted, cs_err *err) {
  (void)bundle;
  *mounted = false;
  for (size_t i = 0; i < n; i++) {
    const char *type = mounts[i].type ? mounts[i].type : "";
    if (strcmp(type, "windows-layer") != 0)
      return cs_err_set(err, CS_INVALID_ARGUMENT, "rootfs mount %zu: type %s is not supported on Windows", i,
                        *type ? type : "(none)");
  }
  return 0;
}

int task_rootfs_unmount(const char *bundle, cs_err *err) {
  (void)bundle;
  (void)err;
  return 0;
}
