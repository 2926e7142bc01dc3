/* Internal to the CNI library: options with defaults applied, configuration loading, bridge clean-up. */
#ifndef NET_CNI_INT_H
#define NET_CNI_INT_H

#include <jansson.h>
#include <stdbool.h>

#include "cs_err.h"
#include "net_cni.h"

/* out = in with every NULL / 0 field replaced by its default. */
void net_cni_opts_resolve(const net_cni_opts *in, net_cni_opts *out);

/* The conflist attach uses (net_cni_conf_install's file), parsed and validated. */
json_t *net_cni_conf_load(const net_cni_opts *o, cs_err *err);

/* Name rules shared by container ids and network names (CNI spec). */
bool net_cni_name_ok(const char *s, size_t max);
/* A Linux interface name: 1..15 characters, no '/', ':' or white space, not "." or "..". */
bool net_cni_ifname_ok(const char *s);

/* The bridge a conflist's "bridge" plugin uses ("cni0" when it names none, as the plugin does); NULL if
 * the list has no bridge plugin. */
const char *net_cni_conf_bridge(const json_t *conflist);

/* Delete the Linux bridge name if it exists, is a bridge, and has no port left. *deleted tells. */
int net_link_remove_idle_bridge(const char *name, bool *deleted, cs_err *err);

#endif
