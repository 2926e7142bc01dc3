/* The pod of the Sandbox API (sandbox_service.c): the process whose namespaces every container of the pod
 * joins, and its counters. Platform code: sandbox_pod_linux.c (a pause-like process the shim clones into the
 * pod's namespaces), sandbox_pod_windows.c (not supported yet: every call fails with Unimplemented). */
#ifndef SANDBOX_POD_H
#define SANDBOX_POD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "cs_err.h"

typedef struct sandbox_pod sandbox_pod;

typedef struct sandbox_pod_config {
  const char *id;
  const char *netns_path;    /* "" or NULL: the host's network namespace */
  const char *hostname;      /* "" or NULL: leave the new UTS namespace's name as inherited */
  const char *cgroup_parent; /* the pod's cgroup as CRI names it ("" if none): where SandboxMetrics reads */
  /* hostNetwork (also the host's UTS namespace, as containerd's own pod controller does), hostIPC, hostPID:
   * the pod's process stays in the shim's namespace of that kind. */
  bool host_net, host_ipc, host_pid;
} sandbox_pod_config;

/* status: exit code or 128+signal; exited_at_ns: wall clock. Called once, on the loop. */
typedef void (*sandbox_pod_exit_cb)(void *data, int status, int64_t exited_at_ns);

/* Checks and takes hold of what the pod needs (the network namespace: a path that is not one fails with
 * InvalidArgument or NotFound) without starting anything. */
sandbox_pod *sandbox_pod_new(uv_loop_t *loop, const sandbox_pod_config *cfg, sandbox_pod_exit_cb on_exit, void *data,
                             cs_err *err);
/* Called once the pod's process is in its namespaces (its pid, in the shim's pid namespace), or could not
 * get there (err; its exit follows). Not before: containerd joins containers to /proc/<pid>/ns/... at once. */
typedef void (*sandbox_pod_started_cb)(void *data, uint32_t pid, const cs_err *err);
/* Starts the pod's process; cb runs once from the loop unless this returns -1. */
int sandbox_pod_start(sandbox_pod *pod, sandbox_pod_started_cb cb, void *data, cs_err *err);
/* Kills the pod's process (on_exit follows); 0 if it is not running. */
int sandbox_pod_kill(sandbox_pod *pod, cs_err *err);
/* The pod's cgroup counters, as the Any of a containerd.types.Metric (malloc'd value). */
int sandbox_pod_metrics(sandbox_pod *pod, uint8_t **out, size_t *len, const char **type_url, cs_err *err);
/* "linux"/"windows" and the architecture in containerd's (GOARCH) words. */
void sandbox_pod_platform(const char **os, const char **arch);
/* Kills a running process (its exit is not reported) and releases everything; the loop must run once more
 * to finish closing. */
void sandbox_pod_free(sandbox_pod *pod);

#endif
