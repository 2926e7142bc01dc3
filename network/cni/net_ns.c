#include "net_ns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "net_cni_util.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

/* The work a helper thread does; the thread writes rc and err, join orders those writes before ours. */
typedef struct ns_job {
  const char *path;
  bool create; /* unshare + bind-mount on path; else setns into path and call fn */
  net_ns_fn fn;
  void *arg;
  cs_err *err;
  int rc;
} ns_job;

static int job_create(ns_job *j) {
  if (unshare(CLONE_NEWNET) != 0) return cs_err_sys(j->err, errno, "unshare(CLONE_NEWNET)");
  /* thread-self, not self: /proc/self/ns/net is the main thread's namespace, the caller's. */
  if (mount("/proc/thread-self/ns/net", j->path, "none", MS_BIND, NULL) != 0)
    return cs_err_sys(j->err, errno, "bind-mount netns on %s", j->path);
  return 0;
}

static int job_enter(ns_job *j) {
  int fd = open(j->path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return cs_err_sys(j->err, errno, "open netns %s", j->path);
  int rc = setns(fd, CLONE_NEWNET);
  int e = errno;
  close(fd);
  if (rc != 0) return cs_err_sys(j->err, e, "setns %s", j->path);
  return j->fn(j->arg, j->err);
}

static void *job_main(void *p) {
  ns_job *j = p;
  j->rc = j->create ? job_create(j) : job_enter(j);
  return NULL;
}

static int run_job(ns_job *j) {
  pthread_t t;
  int e = pthread_create(&t, NULL, job_main, j);
  if (e != 0) return cs_err_sys(j->err, e, "netns thread");
  pthread_join(t, NULL);
  return j->rc;
}

/* What iproute2 does before its first `ip netns add`: make the directory a shared mount (bind-mounting it
 * on itself first if it is not a mount point), so namespace mounts and unmounts under it propagate to the
 * mount namespaces that copied it (containers started later keep no stale copy that pins a namespace). */
static int make_shared(const char *dir, cs_err *err) {
  for (bool bound = false;; bound = true) {
    if (mount("", dir, "none", MS_SHARED | MS_REC, NULL) == 0) return 0;
    if (errno != EINVAL || bound) return cs_err_sys(err, errno, "make %s a shared mount", dir);
    if (mount(dir, dir, "none", MS_BIND | MS_REC, NULL) != 0)
      return cs_err_sys(err, errno, "bind-mount %s on itself", dir);
  }
}

int net_ns_create(const char *path, cs_err *err) {
  char dir[4096];
  const char *slash = strrchr(path, '/');
  if (!slash || slash == path || (size_t)(slash - path) >= sizeof dir)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "netns path %s: want an absolute path below a directory", path);
  memcpy(dir, path, (size_t)(slash - path));
  dir[slash - path] = '\0';
  if (net_cni_mkdir_p(dir, 0755, err) != 0 || make_shared(dir, err) != 0) return -1;

  int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
  if (fd < 0) return cs_err_sys(err, errno, "create netns file %s", path);
  close(fd);
  ns_job j = {.path = path, .create = true, .err = err};
  if (run_job(&j) != 0) {
    unlink(path);
    return -1;
  }
  return 0;
}

int net_ns_remove(const char *path, cs_err *err) {
  /* EINVAL: not a mount point (the creator died before mounting); ENOENT: already gone. */
  if (umount2(path, MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
    return cs_err_sys(err, errno, "unmount netns %s", path);
  if (unlink(path) != 0 && errno != ENOENT) return cs_err_sys(err, errno, "remove netns file %s", path);
  return 0;
}

bool net_ns_is_mounted(const char *path) {
  struct statfs st;
  return statfs(path, &st) == 0 && (unsigned long)st.f_type == (unsigned long)NSFS_MAGIC;
}

int net_ns_run(const char *path, net_ns_fn fn, void *arg, cs_err *err) {
  ns_job j = {.path = path, .fn = fn, .arg = arg, .err = err};
  return run_job(&j);
}

static int open_dev(void *arg, cs_err *err) {
  int *fd = arg;
  *fd = open("/proc/thread-self/net/dev", O_RDONLY | O_CLOEXEC);
  if (*fd < 0) return cs_err_sys(err, errno, "open /proc/thread-self/net/dev");
  return 0;
}

int net_ns_open_net_dev(const char *path, cs_err *err) {
  int fd = -1;
  if (net_ns_run(path, open_dev, &fd, err) != 0) return -1;
  return fd;
}
