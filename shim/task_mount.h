/* The rootfs mounts of CreateTaskRequest, at <bundle>/rootfs, and their cleanup.
 * task_mount_posix.c mounts them (Linux snapshots); task_mount_windows.c mounts nothing: on Windows the
 * container's layers are the spec's Windows.LayerFolders, which HCS attaches itself (runtime/hcs). */
#ifndef TASK_MOUNT_H
#define TASK_MOUNT_H

#include <stdbool.h>
#include <stddef.h>

#include "cs_err.h"
#include "rt.h"

/* Every mount is checked before anything is mounted: a rejected request leaves nothing behind, and a
 * failed one is undone. *mounted: something is mounted that task_rootfs_unmount must undo. */
int task_rootfs_mount(const char *bundle, const rt_mount *mounts, size_t n, bool *mounted, cs_err *err);
int task_rootfs_unmount(const char *bundle, cs_err *err);

#endif
