/* The rootfs on Linux: containerd's snapshot mounts, mounted at <bundle>/rootfs by the shim. */
#include "task_mount.h"
#include "task_mount_posix.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

static int unmount_all(const char *target, cs_err *err);

static const struct {
  const char *name;
  bool clear;
  unsigned long flag;
} mount_flags[] = {
  {"async", true, MS_SYNCHRONOUS}, {"atime", true, MS_NOATIME}, {"bind", false, MS_BIND},
  {"defaults", false, 0}, {"dev", true, MS_NODEV}, {"diratime", true, MS_NODIRATIME},
  {"dirsync", false, MS_DIRSYNC}, {"exec", true, MS_NOEXEC}, {"mand", false, MS_MANDLOCK},
  {"noatime", false, MS_NOATIME}, {"nodev", false, MS_NODEV}, {"nodiratime", false, MS_NODIRATIME},
  {"noexec", false, MS_NOEXEC}, {"nomand", true, MS_MANDLOCK}, {"norelatime", true, MS_RELATIME},
  {"nostrictatime", true, MS_STRICTATIME}, {"nosuid", false, MS_NOSUID}, {"rbind", false, MS_BIND | MS_REC},
  {"relatime", false, MS_RELATIME}, {"remount", false, MS_REMOUNT}, {"ro", false, MS_RDONLY},
  {"rw", true, MS_RDONLY}, {"strictatime", false, MS_STRICTATIME}, {"suid", true, MS_NOSUID},
  {"sync", false, MS_SYNCHRONOUS},
};

static const struct {
  const char *name;
  int flag;
} propagation_flags[] = {
  {"private", MS_PRIVATE}, {"rprivate", MS_PRIVATE | MS_REC}, {"shared", MS_SHARED},
  {"rshared", MS_SHARED | MS_REC}, {"slave", MS_SLAVE}, {"rslave", MS_SLAVE | MS_REC},
  {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

int task_mount_parse_options(const char *const *options, size_t n, unsigned long *flags, char *data, size_t data_len,
                             int *propagation, cs_err *err) {
  *flags = 0;
  *propagation = 0;
  size_t used = 0;
  if (data_len) data[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    const char *o = options[i];
    bool known = false;
    for (size_t k = 0; k < sizeof mount_flags / sizeof mount_flags[0]; k++) {
      if (strcmp(o, mount_flags[k].name) == 0) {
        if (mount_flags[k].clear) *flags &= ~mount_flags[k].flag;
        else *flags |= mount_flags[k].flag;
        known = true;
        break;
      }
    }
    for (size_t k = 0; !known && k < sizeof propagation_flags / sizeof propagation_flags[0]; k++) {
      if (strcmp(o, propagation_flags[k].name) == 0) {
        *propagation = propagation_flags[k].flag;
        known = true;
      }
    }
    if (known) continue;
    size_t len = strlen(o);
    if (used + len + 2 > data_len) return cs_err_set(err, CS_INVALID_ARGUMENT, "mount options too long");
    if (used) data[used++] = ',';
    memcpy(data + used, o, len + 1);
    used += len;
  }
  return 0;
}

static bool allowed_type(const char *type) {
  static const char *const types[] = {"bind", "rbind", "overlay", "ext4", "xfs", "btrfs", "tmpfs", "none",
                                      "fuse-overlayfs", "zfs", "aufs"};
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    if (strcmp(type, types[i]) == 0) return true;
  return false;
}

int task_mount_all(const rt_mount *mounts, size_t n, const char *target, cs_err *err) {
  /* Every type is checked before anything is mounted: a rejected request must leave nothing behind. */
  for (size_t i = 0; i < n; i++) {
    const char *type = mounts[i].type && *mounts[i].type ? mounts[i].type : "none";
    if (!allowed_type(type))
      return cs_err_set(err, CS_INVALID_ARGUMENT, "rootfs mount %zu: type %s is not supported", i, type);
  }
  for (size_t i = 0; i < n; i++) {
    const rt_mount *m = &mounts[i];
    const char *type = m->type && *m->type ? m->type : "none";
    unsigned long flags;
    int prop;
    char data[4096];
    if (task_mount_parse_options(m->options, m->n_options, &flags, data, sizeof data, &prop, err) < 0) {
      if (i > 0) unmount_all(target, NULL); /* undo the mounts made for this request */
      return cs_err_wrap(err, "rootfs mount %zu", i);
    }
    if (strcmp(type, "bind") == 0 || strcmp(type, "rbind") == 0) {
      flags |= MS_BIND;
      if (strcmp(type, "rbind") == 0) flags |= MS_REC;
    }
    /* A read-only bind needs a remount: the kernel ignores MS_RDONLY on the first bind. */
    unsigned long first = (flags & MS_BIND) ? (flags & ~MS_RDONLY) : flags;
    if (mount(m->source, target, type, first, data[0] ? data : NULL) < 0) {
      cs_err_sys(err, errno, "mount %s (%s) on %s", m->source ? m->source : "", type, target);
      unmount_all(target, NULL);
      return -1;
    }
    if ((flags & MS_BIND) && (flags & MS_RDONLY) &&
        mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | (flags & MS_REC), NULL) < 0) {
      cs_err_sys(err, errno, "remount %s read-only", target);
      unmount_all(target, NULL);
      return -1;
    }
    if (prop && mount(NULL, target, NULL, (unsigned long)prop, NULL) < 0) {
      cs_err_sys(err, errno, "set propagation on %s", target);
      unmount_all(target, NULL);
      return -1;
    }
  }
  return 0;
}

/* Unmount everything at target (repeatedly, for stacked mounts); lazily as a last resort. */
static int unmount_all(const char *target, cs_err *err) {
  for (int i = 0; i < 64; i++) {
    if (umount2(target, 0) == 0) continue;
    if (errno == EINVAL || errno == ENOENT) return 0; /* not a mount point (any more) */
    if (errno == EBUSY && umount2(target, MNT_DETACH) == 0) continue;
    return cs_err_sys(err, errno, "unmount %s", target);
  }
  return 0;
}

int task_rootfs_mount(const char *bundle, const rt_mount *mounts, size_t n, bool *mounted, cs_err *err) {
  *mounted = false;
  if (n == 0) return 0;
  char path[4096];
  snprintf(path, sizeof path, "%s/rootfs", bundle);
  if (mkdir(path, 0711) < 0 && errno != EEXIST) return cs_err_sys(err, errno, "mkdir %s", path);
  if (task_mount_all(mounts, n, path, err) < 0) return -1;
  *mounted = true;
  return 0;
}

int task_rootfs_unmount(const char *bundle, cs_err *err) {
  char path[4096];
  snprintf(path, sizeof path, "%s/rootfs", bundle);
  return unmount_all(path, err);
}
