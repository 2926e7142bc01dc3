/* Named network namespaces, as `ip netns add NAME` makes them: an empty file at <dir>/NAME with the
 * namespace bind-mounted on it, so the namespace outlives every process in it and anyone can setns() into
 * it by path (CNI_NETNS, an OCI spec's linux.namespaces path).
 *
 * The namespace is made on a short-lived thread (unshare(CLONE_NEWNET) is per thread), never in the
 * caller's thread, and without a child process: the caller's own network namespace is untouched and
 * there is no exit for anybody's reaper to collect, so these functions are safe in the CLI and the shim
 * alike. They block (mount, thread join) but only for microseconds. */
#ifndef NET_NS_H
#define NET_NS_H

#include <stdbool.h>

#include "cs_err.h"

/* Create the namespace at path (its directory is created if needed and made a shared mount point, as
 * iproute2 does, so that the later unmount reaches copies of the mount in other mount namespaces).
 * AlreadyExists if path exists. Nothing is left behind on failure. */
int net_ns_create(const char *path, cs_err *err);

/* Unmount (lazily: a process still inside keeps the namespace alive, not the file) and unlink. Succeeds if
 * path does not exist, or exists unmounted (what a creator that died between the two steps leaves). */
int net_ns_remove(const char *path, cs_err *err);

/* true if path is a mounted network namespace (nsfs) — false for a missing or plain file. */
bool net_ns_is_mounted(const char *path);

/* Run fn(arg, err) on a fresh thread that has joined the namespace at path; returns what fn returns.
 * A socket fn creates there stays in that namespace after the thread is gone: this is how a test (or
 * the CLI) talks from inside a namespace without a process in it. */
typedef int (*net_ns_fn)(void *arg, cs_err *err);
int net_ns_run(const char *path, net_ns_fn fn, void *arg, cs_err *err);

/* fd (O_CLOEXEC) of /proc/net/dev as seen inside the namespace at path; the open file keeps showing that
 * namespace, so it can be pread per sample with net_counters_read (network/linux). -1 with err. */
int net_ns_open_net_dev(const char *path, cs_err *err);

#endif
