/* The ShimCgroup runtime option: runc-v2's `start` moves the serving shim into that cgroup (cgroup v2: the
 * unified hierarchy; v1: every hierarchy that has the path), so a pod's shims are accounted where the user
 * asked. Linux only (shim_cgroup_linux.c). */
#ifndef SHIM_CGROUP_H
#define SHIM_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cs_err.h"

/* start's stdin (the runtime options Any, maybe empty): decode it as Create would, and move pid into its
 * shim_cgroup if it names one. Options that do not decode are left to Create to refuse (0 here). */
int shim_cgroup_apply_options(const uint8_t *any, size_t len, int pid, cs_err *err);

/* Write pid into <hierarchy>/<path>/cgroup.procs. unified_root non-NULL: the cgroup v2 hierarchy mounted there
 * is the only one. Else every "cgroup" (v1) mount in mountinfo where <mount>/<path> exists; none is an error. */
int shim_cgroup_join_at(const char *mountinfo, const char *unified_root, const char *path, int pid, cs_err *err);
int shim_cgroup_join(const char *path, int pid, cs_err *err);

#endif
