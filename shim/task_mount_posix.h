/* The Linux rootfs mount steps behind task_rootfs_mount, visible to their unit tests (test_shim_parse). */
#ifndef TASK_MOUNT_POSIX_H
#define TASK_MOUNT_POSIX_H

#include <stddef.h>

#include "cs_err.h"
#include "task_mount.h"

/* Only the mount types containerd's snapshotters send are accepted; anything else is InvalidArgument. */
int task_mount_all(const rt_mount *mounts, size_t n, const char *target, cs_err *err);
/* Split mount options into MS_* flags and the data string the filesystem parses. */
int task_mount_parse_options(const char *const *options, size_t n, unsigned long *flags, char *data, size_t data_len,
                             int *propagation, cs_err *err);

#endif
