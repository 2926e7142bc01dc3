/* The CNI protocol layer: run a conflist's plugins for ADD / DEL / CHECK with a given exec function, and
 * read what they print. No namespace, lock or file of its own: net_cni.c wraps it with those. Exposed for
 * the unit tests (a fake exec function stands in for the plugins). */
#ifndef NET_CNI_LIST_H
#define NET_CNI_LIST_H

#include <jansson.h>
#include <stdbool.h>

#include "cs_err.h"
#include "net_cni.h"

/* The runtime side of one invocation: the CNI_* environment and how to run a plugin. */
typedef struct net_cni_rt {
  const char *container_id; /* CNI_CONTAINERID */
  const char *netns;        /* CNI_NETNS; "" allowed for DEL (namespace already gone) */
  const char *ifname;       /* CNI_IFNAME */
  const char *plugin_path;  /* CNI_PATH */
  int timeout_ms;
  net_cni_exec_fn exec;
  void *exec_ctx;
} net_cni_rt;

/* ADD each plugin in order (NotFound before anything runs if one is missing from the plugin path), each
 * after the first with prevResult = its predecessor's result. *result gets
 * the last result (a new reference). If a plugin fails, DEL runs for the whole list in reverse (no
 * prevResult: there is no final result), as the spec asks; err keeps the ADD failure, with the DEL
 * failure appended and *undo_failed set if that clean-up failed too. */
int net_cni_list_add(const json_t *conflist, const net_cni_rt *rt, json_t **result, bool *undo_failed,
                     cs_err *err);
/* DEL each plugin in reverse order with prevResult (may be NULL); stops at the first failure. */
int net_cni_list_del(const json_t *conflist, const net_cni_rt *rt, const json_t *prev, cs_err *err);
/* CHECK each plugin in order with prevResult; 0 without running anything if the list disables CHECK or
 * its version predates CHECK (0.4.0). */
int net_cni_list_check(const json_t *conflist, const net_cni_rt *rt, const json_t *prev, cs_err *err);

/* ---- pieces, unit-tested on their own */

/* The stdin of plugin i: its object with the list's name and cniVersion, plus prevResult if prev. */
json_t *net_cni_plugin_conf(const json_t *conflist, size_t i, const json_t *prev);
/* First executable <dir>/<type> along plugin_path. NotFound naming the path otherwise. */
int net_cni_plugin_find(const char *type, const char *plugin_path, char *out, size_t cap, cs_err *err);
/* A plugin that exited non-zero: its CNI error JSON on stdout ({code, msg, details}) becomes err,
 * "<type>: <msg>: <details>", with the code mapped to a gRPC code; without JSON, stderr or the exit
 * status say what happened. Returns -1. */
int net_cni_plugin_error(const char *type, const net_cni_exec_out *out, cs_err *err);
/* Fill res (ifname, mac, ips) from a CNI result (spec 0.3.0 .. 1.0.0 "interfaces"/"ips", or 0.1/0.2
 * "ip4"/"ip6"). The interface is the one named ifname that is in a sandbox. */
int net_cni_result_parse(const json_t *result, const char *ifname, net_cni_result *res, cs_err *err);
/* Compare semantic versions "a.b.c": <0, 0, >0. */
int net_cni_version_cmp(const char *a, const char *b);

#endif
