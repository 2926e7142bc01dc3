/* The pod on Linux: a pause-like process the shim clones into the pod's namespaces — the network namespace
 * CRI made (setns to the request's path), a new IPC, UTS and PID namespace (it is the PID namespace's init,
 * so a pod with a shared PID namespace works too). containerd's CRI joins every container of the pod to
 * /proc/<pid>/ns/{net,ipc,uts} of this process.
 *
 * Why clone with exit signal 0 and a pidfd: the shim's reaper (runtime/linux/rt_reaper.c) collects every
 * SIGCHLD child with waitpid(-1) and would take this exit too. A child that signals nothing on exit is a
 * "clone" child: waitpid(-1) without __WCLONE never sees it, so this file alone waits for it, through its
 * pidfd (readable once it exited; waitid(P_PIDFD) gets the status; signals through the pidfd cannot hit a
 * reused pid). The shim dying kills it (PDEATHSIG), so a pod never outlives its shim. */

#include "sandbox_pod.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cs_log.h"
#include "sandbox_cgroup_linux.h"
#include "task_os.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef __WCLONE
#define __WCLONE 0x80000000
#endif
#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

struct sandbox_pod {
  uv_loop_t *loop;
  int netns_fd;   /* -1: host network */
  int pidfd;      /* -1: not started or already waited for */
  pid_t pid;
  uv_poll_t poll;      /* the pidfd: the exit */
  uv_poll_t sync_poll; /* the child's report that it is in its namespaces */
  int sync_fd;
  int closing;
  bool exited;
  sandbox_pod_started_cb started;
  void *started_data;
  char *hostname, *cgroup_parent;
  unsigned long ns_flags; /* the namespaces the pod's process gets of its own */
  sandbox_pod_exit_cb on_exit;
  void *data;
};

sandbox_pod *sandbox_pod_new(uv_loop_t *loop, const sandbox_pod_config *cfg, sandbox_pod_exit_cb on_exit, void *data,
                             cs_err *err) {
  sandbox_pod *pod = calloc(1, sizeof *pod);
  if (!pod) return cs_err_sys(err, ENOMEM, "pod"), NULL;
  pod->loop = loop;
  pod->netns_fd = pod->pidfd = pod->sync_fd = -1;
  pod->on_exit = on_exit;
  pod->data = data;
  pod->hostname = strdup(cfg->hostname ? cfg->hostname : "");
  pod->cgroup_parent = strdup(cfg->cgroup_parent ? cfg->cgroup_parent : "");
  if (!pod->hostname || !pod->cgroup_parent) {
    cs_err_sys(err, ENOMEM, "pod");
    goto fail;
  }
  pod->ns_flags = (cfg->host_net ? 0UL : (unsigned long)CLONE_NEWUTS) | (cfg->host_ipc ? 0UL : (unsigned long)CLONE_NEWIPC) |
                  (cfg->host_pid ? 0UL : (unsigned long)CLONE_NEWPID);
  if (cfg->host_net) pod->hostname[0] = '\0'; /* the host's UTS namespace is not ours to rename */
  if (cfg->host_net && cfg->netns_path && *cfg->netns_path) {
    cs_err_set(err, CS_INVALID_ARGUMENT, "netns_path %.200s given for a pod on the host's network", cfg->netns_path);
    goto fail;
  }
  if (strlen(pod->hostname) > 64) {
    cs_err_set(err, CS_INVALID_ARGUMENT, "hostname %.80s: longer than 64 bytes", pod->hostname);
    goto fail;
  }
  if (cfg->netns_path && *cfg->netns_path) {
    if (cfg->netns_path[0] != '/') {
      cs_err_set(err, CS_INVALID_ARGUMENT, "netns_path %.200s: not an absolute path", cfg->netns_path);
      goto fail;
    }
    pod->netns_fd = open(cfg->netns_path, O_RDONLY | O_CLOEXEC);
    if (pod->netns_fd < 0) {
      cs_err_sys(err, errno, "netns_path %.200s", cfg->netns_path);
      goto fail;
    }
    /* Asked of the namespace itself: the path is usually a bind mount (CRI's netns dir, `ip netns`), whose
     * /proc/self/fd link names the mount point, not "net:[...]". */
    if (ioctl(pod->netns_fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
      cs_err_set(err, CS_INVALID_ARGUMENT, "netns_path %.200s: not a network namespace", cfg->netns_path);
      goto fail;
    }
  }
  return pod;
fail:
  sandbox_pod_free(pod);
  return NULL;
}

/* The pod's process: joins the network namespace, names the host, then only waits — reaping what the
 * PID namespace reparents to it, exiting on SIGTERM/SIGINT as pause does. Only system calls here. */
typedef struct pod_report {
  int step; /* 0: ready; 1: setns; 2: sethostname */
  int errnum;
} pod_report;

static _Noreturn void pod_fail(int sync, int step) {
  pod_report r = {step, errno};
  if (write(sync, &r, sizeof r) < 0) {
  }
  _exit(120 + step);
}

static _Noreturn void pod_child(sandbox_pod *pod, int sync) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  prctl(PR_SET_NAME, "cshim-pod");
  if (pod->netns_fd >= 0 && setns(pod->netns_fd, CLONE_NEWNET) < 0) pod_fail(sync, 1);
  if (*pod->hostname && sethostname(pod->hostname, strlen(pod->hostname)) < 0) pod_fail(sync, 2);
  pod_report ok = {0, 0};
  if (write(sync, &ok, sizeof ok) < 0) _exit(123);
  int null = open("/dev/null", O_RDWR);
  if (null >= 0) {
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
  }
  syscall(SYS_close_range, 3U, ~0U, 0U);
  for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
  sigset_t all;
  sigfillset(&all);
  for (;;) {
    int sig = sigwaitinfo(&all, NULL);
    if (sig == SIGTERM || sig == SIGINT) _exit(0);
    if (sig == SIGCHLD)
      while (waitpid(-1, NULL, WNOHANG) > 0) {
      }
  }
}

static void pod_on_readable(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  sandbox_pod *pod = h->data;
  siginfo_t si;
  memset(&si, 0, sizeof si);
  if (waitid((idtype_t)P_PIDFD, (id_t)pod->pidfd, &si, WEXITED | WNOHANG | __WCLONE) < 0 || si.si_pid == 0) return;
  int code = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
  uv_poll_stop(&pod->poll);
  pod->exited = true;
  CS_INFO("pod process %d exited with status %d", (int)pod->pid, code);
  pod->on_exit(pod->data, code, task_os_now_ns());
}

static void pod_on_report(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  sandbox_pod *pod = h->data;
  pod_report r = {-1, 0};
  ssize_t n = read(pod->sync_fd, &r, sizeof r);
  if (n < 0 && errno == EAGAIN) return;
  uv_poll_stop(&pod->sync_poll);
  sandbox_pod_started_cb cb = pod->started;
  pod->started = NULL;
  cs_err err;
  static const char *const steps[] = {"", "join the network namespace", "set the hostname"};
  if (n == (ssize_t)sizeof r && r.step == 0) {
    cb(pod->started_data, (uint32_t)pod->pid, NULL);
    return;
  }
  if (n == (ssize_t)sizeof r && r.step > 0 && r.step < 3)
    cs_err_sys(&err, r.errnum, "pod process %d: %s", (int)pod->pid, steps[r.step]);
  else
    cs_err_set(&err, CS_INTERNAL, "pod process %d exited before it was set up", (int)pod->pid);
  cb(pod->started_data, 0, &err);
}

int sandbox_pod_start(sandbox_pod *pod, sandbox_pod_started_cb cb, void *data, cs_err *err) {
  if (pod->pidfd >= 0) return cs_err_set(err, CS_FAILED_PRECONDITION, "pod already started"), -1;
  int sync[2];
  if (pipe2(sync, O_CLOEXEC) < 0) return cs_err_sys(err, errno, "pod: pipe"), -1;
  /* Signals blocked across the clone: the child must not run the shim's (libuv's) handlers before it
   * resets them. */
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &old);
  int pidfd = -1;
  long r = syscall(SYS_clone, (unsigned long)CLONE_PIDFD | pod->ns_flags, NULL,
                   &pidfd, NULL, NULL);
  if (r == 0) {
    close(sync[0]);
    pod_child(pod, sync[1]);
  }
  int e = errno;
  sigprocmask(SIG_SETMASK, &old, NULL);
  close(sync[1]);
  if (r < 0) {
    close(sync[0]);
    return cs_err_sys(err, e, "clone the pod process"), -1;
  }
  pod->pid = (pid_t)r;
  pod->pidfd = pidfd;
  pod->sync_fd = sync[0];
  pod->started = cb;
  pod->started_data = data;
  fcntl(sync[0], F_SETFL, O_NONBLOCK);
  uv_poll_init(pod->loop, &pod->poll, pidfd);
  pod->poll.data = pod;
  uv_poll_start(&pod->poll, UV_READABLE, pod_on_readable);
  uv_poll_init(pod->loop, &pod->sync_poll, sync[0]);
  pod->sync_poll.data = pod;
  uv_poll_start(&pod->sync_poll, UV_READABLE, pod_on_report);
  return 0;
}

int sandbox_pod_kill(sandbox_pod *pod, cs_err *err) {
  if (pod->pidfd < 0 || pod->exited) return 0;
  if (syscall(SYS_pidfd_send_signal, pod->pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
    return cs_err_sys(err, errno, "kill the pod process %d", (int)pod->pid), -1;
  return 0;
}

int sandbox_pod_metrics(sandbox_pod *pod, uint8_t **out, size_t *len, const char **type_url, cs_err *err) {
  return sandbox_cgroup_metrics((int)pod->pid, pod->cgroup_parent, out, len, type_url, err);
}

void sandbox_pod_platform(const char **os, const char **arch) {
  *os = "linux";
#if defined(__x86_64__)
  *arch = "amd64";
#elif defined(__aarch64__)
  *arch = "arm64";
#elif defined(__i386__)
  *arch = "386";
#elif defined(__arm__)
  *arch = "arm";
#elif defined(__powerpc64__)
  *arch = "ppc64le";
#elif defined(__s390x__)
  *arch = "s390x";
#elif defined(__riscv)
  *arch = "riscv64";
#else
  *arch = "unknown";
#endif
}

static void pod_poll_closed(uv_handle_t *h) {
  sandbox_pod *pod = h->data;
  if (--pod->closing > 0) return;
  close(pod->pidfd);
  close(pod->sync_fd);
  free(pod);
}

void sandbox_pod_free(sandbox_pod *pod) {
  if (!pod) return;
  if (pod->netns_fd >= 0) close(pod->netns_fd);
  free(pod->hostname);
  free(pod->cgroup_parent);
  if (pod->pidfd < 0) {
    free(pod);
    return;
  }
  /* Not left running nor as a zombie: killed and waited for here (a pause process dies at once). */
  if (!pod->exited) {
    siginfo_t si;
    memset(&si, 0, sizeof si);
    syscall(SYS_pidfd_send_signal, pod->pidfd, SIGKILL, NULL, 0);
    /* uv_poll made the pidfd non-blocking, and waitid on such a pidfd does not wait (EAGAIN). */
    fcntl(pod->pidfd, F_SETFL, fcntl(pod->pidfd, F_GETFL) & ~O_NONBLOCK);
    while (waitid((idtype_t)P_PIDFD, (id_t)pod->pidfd, &si, WEXITED | __WCLONE) < 0 && errno == EINTR) {
    }
  }
  pod->closing = 2;
  uv_close((uv_handle_t *)&pod->poll, pod_poll_closed);
  uv_close((uv_handle_t *)&pod->sync_poll, pod_poll_closed);
}
