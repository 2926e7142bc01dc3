/* The rootfs mounts of CreateTaskRequest, mounted at <bundle>/rootfs, and their cleanup. */
#ifndef TASK_MOUNT_H
#define TASK_MOUNT_H

#include <stddef.h>

#include "cs_err.h"

typedef struct task_mount {
  const char *type;
  const char *source;
  const char **options;
  size_t n_options;
} task_mount;

/* Only the mount types containerd's snapshotters send are accepted; anything else is InvalidArgument. */
int task_mount_all(const task_mount *mounts, size_t n, const char *target, cs_err *err);
/* Unmount everything at target (repeatedly, for stacked mounts); lazily as a last resort. */
int task_unmount_all(const char *target, cs_err *err);
/* Split mount options into MS_* flags and the data string the filesystem parses. */
int task_mount_parse_options(const char **options, size_t n, unsigned long *flags, char *data, size_t data_len,
                             int *propagation, cs_err *err);

#endif
