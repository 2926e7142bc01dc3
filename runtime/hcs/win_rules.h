/* Windows container rules as plain functions: no HCS, no JSON, no allocation (except win_cmdline_join).
 *
 * The resource rules are docker's for Windows (daemon_windows.go verifyContainerResources and
 * verifyPlatformContainerSettings), with its messages word for word, so clients that match on them keep
 * working. The input is a plain struct shaped like docker's HostConfig.Resources. */
#ifndef WIN_RULES_H
#define WIN_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cs_err.h"

/* What the rules need to know about the host. */
typedef struct win_host {
  uint32_t ncpu;
  uint32_t build;    /* OS build number, e.g. 17763 */
  bool client;       /* a client edition (Windows 10/11), not Server */
  bool iot_core;
} win_host;

#define WIN_WARN_MAX 8
#define WIN_WARN_LEN 256
typedef struct win_warnings {
  size_t n;
  char msg[WIN_WARN_MAX][WIN_WARN_LEN];
} win_warnings;

/* docker's container.Resources, the fields Windows validates. Lists are given by their length only:
 * any entry at all is refused. */
typedef struct win_resources {
  int64_t cpu_shares;
  int64_t cpu_count;
  int64_t cpu_percent;
  int64_t nano_cpus;
  int64_t cpu_period;
  uint16_t blkio_weight;
  size_t n_blkio_weight_device;
  size_t n_blkio_device_read_bps, n_blkio_device_write_bps;
  size_t n_blkio_device_read_iops, n_blkio_device_write_iops;
  const char *cgroup_parent; /* NULL or "" = unset */
  const char *cpuset_cpus;
  const char *cpuset_mems;
  int64_t kernel_memory;
  int64_t memory_reservation;
  int64_t memory_swap;
  int64_t memory_swappiness; /* -1 = unset (docker's nil); win_resources_init sets it */
  bool oom_kill_disable;
  int64_t pids_limit;
  size_t n_ulimits;
} win_resources;

void win_resources_init(win_resources *r);

/* Process isolation takes one processor control: count over shares over percent. Each discarded value is
 * zeroed and reported as a warning. Hyper-V isolation keeps all three. */
void win_cpu_precedence(int64_t *count, int64_t *shares, int64_t *percent, bool hyperv, win_warnings *w);

/* verifyContainerResources: applies the precedence (mutating r), then range and support checks.
 * InvalidArgument on the first violation; warnings gathered so far stay in w. */
int win_verify_resources(win_resources *r, bool hyperv, const win_host *host, win_warnings *w, cs_err *err);

enum win_isolation { WIN_ISOLATION_DEFAULT = 0, WIN_ISOLATION_PROCESS = 1, WIN_ISOLATION_HYPERV = 2 };

/* "process", "hyperv", "default" or "" (any case). */
int win_isolation_parse(const char *s, int *out, cs_err *err);
const char *win_isolation_name(int isolation);
/* Default resolved for this host: a client edition defaults to Hyper-V, a server to process. */
int win_isolation_resolve(int isolation, const win_host *host);

/* verifyPlatformContainerSettings: client editions run only Hyper-V containers (IoT Core excepted),
 * then the resource rules. */
int win_verify_platform(win_resources *r, int isolation, const win_host *host, win_warnings *w, cs_err *err);

/* The daemon's --exec-opt list: "isolation=<value>" (key any case, spaces trimmed). Sets *isolation to the
 * host default first, then applies the options in order. An unknown key is an error naming it. */
int win_exec_opts_parse(const char *const *opts, size_t n, const win_host *host, int *isolation, cs_err *err);

/* One environment entry "K=V" split at the first '=' (the value keeps any further '='). A leading '=' is
 * part of the name, as in Windows' per-drive "=C:=C:\dir" entries. Returns -1 (and leaves kv alone) for an
 * entry with no '=' or an empty name: Windows cannot express it. */
typedef struct win_env_kv {
  const char *key;
  size_t key_len;
  const char *value; /* points into the entry, NUL-terminated */
} win_env_kv;
int win_env_split(const char *entry, win_env_kv *kv);

/* Windows command line from argv, quoted so CommandLineToArgvW gives the same argv back (the rules of
 * Go's syscall.EscapeArg). malloc'd; NULL on allocation failure. */
char *win_cmdline_join(const char *const *argv, size_t argc);

#endif
