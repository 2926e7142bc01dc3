/* Container networking through CNI plugins, for containers run without containerd (`cshimctl run --net`).
 *
 * attach: a named network namespace /run/netns/cshim-<id> (net_ns.h), then the plugins of a network
 * configuration list (conflist) run ADD into it, chained with prevResult; the outcome (IPs, interface) is
 * returned and cached under the state dir together with the configuration it was made from.
 * detach: DEL with that cached configuration and result, in reverse order; then the namespace is removed,
 * and the bridge too once no port is left on it. Both are idempotent and work after the creator died.
 *
 * The conflist is the lexically first *.conflist in config_dir; if there is none, cshim's default is
 * written there first (10-cshim.conflist: bridge + host-local IPAM + loopback, no NAT, no routes beyond
 * the subnet — see README.md). The opts' network/bridge/subnet/gateway only shape that default file: an
 * existing file wins.
 *
 * Process model: plugins are run by opts.exec, net_cni_exec_fork by default, which fork/execs and
 * waitpid()s its own child — for the CLI process only. Inside the shim, whose reaper owns every child
 * exit, pass an exec function that goes through the reaper instead. Calls block (plugins take tens of
 * milliseconds to seconds); they serialize on a lock file in state_dir, so concurrent cshimctl processes
 * never race on the bridge or the cache. Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN). */
#ifndef NET_CNI_H
#define NET_CNI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cs_err.h"

#define NET_CNI_DEFAULT_CONFIG_DIR "/etc/cshim/net.d"
#define NET_CNI_DEFAULT_CONFLIST "10-cshim.conflist"
#define NET_CNI_DEFAULT_STATE_DIR "/var/lib/cshim/cni"
#define NET_CNI_DEFAULT_NETNS_DIR "/run/netns"
#define NET_CNI_NETNS_PREFIX "cshim-"
#define NET_CNI_DEFAULT_PLUGIN_PATH "/opt/cni/bin:/usr/lib/cni"
#define NET_CNI_DEFAULT_IFNAME "eth0"
#define NET_CNI_DEFAULT_NETWORK "cshim"
#define NET_CNI_DEFAULT_BRIDGE "cshim0"
#define NET_CNI_DEFAULT_SUBNET "10.231.0.0/24"
#define NET_CNI_DEFAULT_TIMEOUT_MS 60000
#define NET_CNI_CNI_VERSION "1.0.0"

#define NET_CNI_ID_MAX 128
#define NET_CNI_MAX_IPS 4

/* ------------------------------------------------------------------ running one plugin */

typedef struct net_cni_exec_req {
  const char *plugin;     /* absolute path of the plugin executable */
  const char *const *env; /* the plugin's whole environment, NULL-terminated "K=V" (CNI_COMMAND, ...) */
  const char *input;      /* network configuration JSON for stdin */
  size_t input_len;
  int timeout_ms;         /* kill the plugin after this long */
} net_cni_exec_req;

typedef struct net_cni_exec_out {
  char *out;              /* stdout, NUL-terminated, malloc'd: the caller frees it */
  size_t out_len;
  char errtxt[512];       /* the start of stderr (plugins log there), NUL-terminated */
  int status;             /* exit code */
} net_cni_exec_out;

/* Run a plugin to its exit: 0 with out filled (whatever the exit code), -1 with err if it could not be
 * started, was killed, or timed out. */
typedef int (*net_cni_exec_fn)(void *ctx, const net_cni_exec_req *req, net_cni_exec_out *out, cs_err *err);

/* The default: fork + execve + waitpid(pid) of that one child. CLI-side only (see above). ctx unused. */
int net_cni_exec_fork(void *ctx, const net_cni_exec_req *req, net_cni_exec_out *out, cs_err *err);

/* ------------------------------------------------------------------ options and result */

/* Zero-initialised is valid: every NULL / 0 field takes the default above. */
typedef struct net_cni_opts {
  const char *config_dir;  /* where the conflist is looked up (and the default one written) */
  const char *state_dir;   /* lock, attachments/<id>.json cache, networks/ (host-local dataDir) */
  const char *netns_dir;   /* named namespaces: <netns_dir>/cshim-<id> */
  const char *plugin_path; /* CNI_PATH: ':'-separated directories searched for plugin executables */
  const char *ifname;      /* the interface inside the namespace */
  /* Only used to write the default conflist when config_dir has none: */
  const char *network;     /* network name (host-local keeps its leases under networks/<name>) */
  const char *bridge;      /* Linux bridge, at most 15 characters */
  const char *subnet;      /* IPv4 CIDR, prefix 8..30 */
  const char *gateway;     /* the bridge's address; NULL: first host of subnet */
  bool keep_idle_bridge;   /* detach leaves the bridge even when its last port is gone */
  int timeout_ms;          /* per plugin call */
  net_cni_exec_fn exec;    /* NULL: net_cni_exec_fork */
  void *exec_ctx;
} net_cni_opts;

typedef struct net_cni_ip {
  int family;              /* 4 or 6 */
  char address[64];        /* CIDR as the plugin gave it: "10.231.0.2/24" */
  char gateway[48];        /* "" if none */
} net_cni_ip;

typedef struct net_cni_result {
  char netns[4096];        /* the namespace path (also for the OCI spec) */
  char network[64];        /* conflist name */
  char ifname[16];         /* interface inside the namespace */
  char mac[24];            /* its hardware address, "" if the plugin gave none */
  uint32_t nips;
  net_cni_ip ips[NET_CNI_MAX_IPS]; /* addresses of that interface (or all, if the plugin named none) */
} net_cni_result;

/* ------------------------------------------------------------------ attach / detach */

/* Validate an id (CNI container id rules: [A-Za-z0-9][A-Za-z0-9_.-]*, at most NET_CNI_ID_MAX). */
int net_cni_id_valid(const char *id, cs_err *err);

/* <netns_dir>/cshim-<id>. */
int net_cni_netns_path(const char *id, const net_cni_opts *o, char *out, size_t cap, cs_err *err);

/* Create the namespace, run ADD, cache the result. AlreadyExists if id is attached (or its namespace
 * exists). On failure everything made is undone: DEL for the whole list, namespace removed. A plugin's
 * error comes back with its own message ("bridge: failed to ...: details"). */
int net_cni_attach(const char *id, const net_cni_opts *o, net_cni_result *res, cs_err *err);

/* DEL (reverse order, prevResult = the cached ADD result), remove the cache and the namespace, then the
 * bridge if no port is left. Nothing attached: 0. A namespace without a cache (the creator died before
 * ADD) is just removed. If a plugin's DEL fails, the cache and namespace stay so a retry can finish. */
int net_cni_detach(const char *id, const net_cni_opts *o, cs_err *err);

/* CHECK against the cached result (skipped, 0, for conflists with disableCheck or cniVersion < 0.4.0).
 * NotFound if id is not attached. */
int net_cni_check(const char *id, const net_cni_opts *o, cs_err *err);

/* ------------------------------------------------------------------ configuration */

/* The default conflist for o (see README.md), as a new JSON object; NULL with err for bad options. */
json_t *net_cni_conf_default(const net_cni_opts *o, cs_err *err);

/* Path of the conflist attach would use (the first *.conflist in config_dir), writing the default one
 * first if there is none. */
int net_cni_conf_install(const net_cni_opts *o, char *path, size_t cap, cs_err *err);

/* Check a conflist's shape: name, cniVersion, non-empty plugins each with a plain "type". */
int net_cni_conf_validate(const json_t *conflist, cs_err *err);

/* ------------------------------------------------------------------ OCI spec */

/* If the spec's linux.namespaces has a "network" entry with a non-empty path, copy it to out (cap bytes)
 * and return true. */
bool net_cni_spec_netns(const json_t *spec, char *out, size_t cap);

/* Make linux.namespaces hold {"type":"network","path":path} (replacing any network entry). */
int net_cni_spec_set_netns(json_t *spec, const char *path, cs_err *err);

/* What `cshimctl run --net` calls before creating the container: if the spec already names a network
 * namespace path (the CRI case: someone else owns the network) it is used as it is and *attached is
 * false; otherwise net_cni_attach(id) and the spec gets the new path, *attached true (the caller must
 * net_cni_detach(id) when the container is deleted, and only then). res may be NULL. */
int net_cni_spec_prepare(json_t *spec, const char *id, const net_cni_opts *o, net_cni_result *res,
                         bool *attached, cs_err *err);

#endif
