/* The pod's cgroup counters (sandbox_cgroup_linux.c), for sandbox_pod_linux.c's SandboxMetrics. */
#ifndef SANDBOX_CGROUP_LINUX_H
#define SANDBOX_CGROUP_LINUX_H

#include <stddef.h>
#include <stdint.h>

#include "cs_err.h"

/* pid: the pod's process (its cgroup when cgroup_parent is ""); the Any's value is malloc'd. */
int sandbox_cgroup_metrics(int pid, const char *cgroup_parent, uint8_t **out, size_t *len, const char **type_url,
                           cs_err *err);

#endif
