/* Options, the default conflist, and finding / validating the conflist in use. */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_cni_int.h"
#include "net_cni_util.h"

#define CONF_MAX (1u << 20)

void net_cni_opts_resolve(const net_cni_opts *in, net_cni_opts *o) {
  static const net_cni_opts zero;
  *o = in ? *in : zero;
#define DEF(f, v) if (!o->f || !o->f[0]) o->f = v
  DEF(config_dir, NET_CNI_DEFAULT_CONFIG_DIR);
  DEF(state_dir, NET_CNI_DEFAULT_STATE_DIR);
  DEF(netns_dir, NET_CNI_DEFAULT_NETNS_DIR);
  DEF(plugin_path, NET_CNI_DEFAULT_PLUGIN_PATH);
  DEF(ifname, NET_CNI_DEFAULT_IFNAME);
  DEF(network, NET_CNI_DEFAULT_NETWORK);
  DEF(bridge, NET_CNI_DEFAULT_BRIDGE);
  DEF(subnet, NET_CNI_DEFAULT_SUBNET);
#undef DEF
  if (o->timeout_ms <= 0) o->timeout_ms = NET_CNI_DEFAULT_TIMEOUT_MS;
  if (!o->exec) o->exec = net_cni_exec_fork;
}

bool net_cni_name_ok(const char *s, size_t max) {
  size_t n = s ? strlen(s) : 0;
  if (n == 0 || n > max || !isalnum((unsigned char)s[0])) return false;
  for (size_t i = 1; i < n; i++)
    if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i])) return false;
  return true;
}

bool net_cni_ifname_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 15 || !strcmp(s, ".") || !strcmp(s, "..")) return false;
  for (size_t i = 0; i < n; i++)
    if (s[i] == '/' || s[i] == ':' || isspace((unsigned char)s[i])) return false;
  return true;
}

/* "a.b.c.d/n" → network and gateway in canonical text. The gateway defaults to the first host; it must be
 * a host of the subnet (not the network or broadcast address). */
static int subnet_parse(const char *subnet, const char *gateway, char *net_out, char *gw_out, cs_err *err) {
  char addr[INET_ADDRSTRLEN + 4];
  const char *slash = strchr(subnet, '/');
  char *end;
  long plen = slash ? strtol(slash + 1, &end, 10) : -1;
  if (!slash || (size_t)(slash - subnet) >= sizeof addr || *end || slash[1] == '\0' || plen < 8 || plen > 30)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "subnet %s: want IPv4 a.b.c.d/n with n in 8..30", subnet);
  memcpy(addr, subnet, (size_t)(slash - subnet));
  addr[slash - subnet] = '\0';
  struct in_addr a, g;
  if (inet_pton(AF_INET, addr, &a) != 1)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "subnet %s: not an IPv4 address", subnet);
  uint32_t mask = 0xffffffffu << (32 - plen), net = ntohl(a.s_addr);
  if (net & ~mask) return cs_err_set(err, CS_INVALID_ARGUMENT, "subnet %s: host bits set", subnet);
  uint32_t gw = net + 1;
  if (gateway && gateway[0]) {
    if (inet_pton(AF_INET, gateway, &g) != 1)
      return cs_err_set(err, CS_INVALID_ARGUMENT, "gateway %s: not an IPv4 address", gateway);
    gw = ntohl(g.s_addr);
    if ((gw & mask) != net || gw == net || gw == (net | ~mask))
      return cs_err_set(err, CS_INVALID_ARGUMENT, "gateway %s: not a host of %s", gateway, subnet);
  }
  struct in_addr n_be = {htonl(net)}, g_be = {htonl(gw)};
  char ntxt[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &n_be, ntxt, sizeof ntxt);
  snprintf(net_out, INET_ADDRSTRLEN + 4, "%s/%ld", ntxt, plen);
  inet_ntop(AF_INET, &g_be, gw_out, INET_ADDRSTRLEN);
  return 0;
}

json_t *net_cni_conf_default(const net_cni_opts *in, cs_err *err) {
  net_cni_opts o;
  net_cni_opts_resolve(in, &o);
  char net[INET_ADDRSTRLEN + 4], gw[INET_ADDRSTRLEN], data_dir[4096];
  if (!net_cni_name_ok(o.network, 63)) {
    cs_err_set(err, CS_INVALID_ARGUMENT, "network name %s: want [A-Za-z0-9][A-Za-z0-9_.-]*, at most 63", o.network);
    return NULL;
  }
  if (!net_cni_ifname_ok(o.bridge)) {
    cs_err_set(err, CS_INVALID_ARGUMENT, "bridge name %s: want 1..15 characters, no '/', ':' or space", o.bridge);
    return NULL;
  }
  if (subnet_parse(o.subnet, o.gateway, net, gw, err) != 0 ||
      net_cni_path(data_dir, sizeof data_dir, err, "%s/networks", o.state_dir) != 0)
    return NULL;
  /* isGateway: the bridge gets the gateway address, so the host reaches the containers. No ipMasq (no
   * NAT) and no routes in IPAM: a container reaches its subnet and the host's bridge address, nothing
   * else. host-local keeps its leases under cshim's own state dir, away from other runtimes'. */
  json_t *c = json_pack("{s:s, s:s, s:[{s:s, s:s, s:b, s:b, s:b, s:{s:s, s:[[{s:s, s:s}]], s:s}}, {s:s}]}",
                        "cniVersion", NET_CNI_CNI_VERSION, "name", o.network, "plugins",
                        "type", "bridge", "bridge", o.bridge, "isGateway", 1, "ipMasq", 0, "hairpinMode", 0,
                        "ipam", "type", "host-local", "ranges", "subnet", net, "gateway", gw, "dataDir", data_dir,
                        "type", "loopback");
  if (!c) cs_err_set(err, CS_RESOURCE_EXHAUSTED, "build default conflist");
  return c;
}

int net_cni_conf_validate(const json_t *c, cs_err *err) {
  if (!json_is_object(c)) return cs_err_set(err, CS_INVALID_ARGUMENT, "conflist: not a JSON object");
  const char *name = json_string_value(json_object_get(c, "name"));
  if (!net_cni_name_ok(name, 63))
    return cs_err_set(err, CS_INVALID_ARGUMENT, "conflist: name %s: want [A-Za-z0-9][A-Za-z0-9_.-]*",
                      name ? name : "(missing)");
  if (!json_is_string(json_object_get(c, "cniVersion")))
    return cs_err_set(err, CS_INVALID_ARGUMENT, "conflist %s: no cniVersion", name);
  const json_t *p = json_object_get(c, "plugins");
  if (!json_is_array(p) || json_array_size(p) == 0)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "conflist %s: no plugins", name);
  for (size_t i = 0; i < json_array_size(p); i++)
    if (!json_is_string(json_object_get(json_array_get(p, i), "type")))
      return cs_err_set(err, CS_INVALID_ARGUMENT, "conflist %s: plugins[%zu] has no type", name, i);
  return 0;
}

const char *net_cni_conf_bridge(const json_t *c) {
  const json_t *p = json_object_get(c, "plugins");
  for (size_t i = 0; i < json_array_size(p); i++) {
    const json_t *pl = json_array_get(p, i);
    const char *type = json_string_value(json_object_get(pl, "type"));
    if (type && !strcmp(type, "bridge")) {
      const char *br = json_string_value(json_object_get(pl, "bridge"));
      return br && br[0] ? br : "cni0";
    }
  }
  return NULL;
}

/* The lexically first visible *.conflist in dir, libcni's rule: an administrator's 05-x.conflist wins
 * over ours. found is false if there is none. */
static int first_conflist(const char *dir, char *name, size_t cap, bool *found, cs_err *err) {
  *found = false;
  DIR *d = opendir(dir);
  if (!d) return cs_err_sys(err, errno, "open config dir %s", dir);
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t n = strlen(e->d_name);
    if (e->d_name[0] == '.' || n <= 9 || strcmp(e->d_name + n - 9, ".conflist") != 0 || n >= cap) continue;
    if (!*found || strcmp(e->d_name, name) < 0) memcpy(name, e->d_name, n + 1);
    *found = true;
  }
  closedir(d);
  return 0;
}

int net_cni_conf_install(const net_cni_opts *in, char *path, size_t cap, cs_err *err) {
  net_cni_opts o;
  net_cni_opts_resolve(in, &o);
  char name[256];
  bool found;
  if (net_cni_mkdir_p(o.config_dir, 0755, err) != 0 ||
      first_conflist(o.config_dir, name, sizeof name, &found, err) != 0)
    return -1;
  if (found) return net_cni_path(path, cap, err, "%s/%s", o.config_dir, name);
  if (net_cni_path(path, cap, err, "%s/%s", o.config_dir, NET_CNI_DEFAULT_CONFLIST) != 0) return -1;
  json_t *c = net_cni_conf_default(&o, err);
  if (!c) return -1;
  char *text = json_dumps(c, JSON_INDENT(2));
  json_decref(c);
  if (!text) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "encode default conflist");
  size_t n = strlen(text);
  text[n] = '\n'; /* json_dumps's NUL becomes the file's final newline */
  int rc = net_cni_write_file(path, text, n + 1, 0644, err);
  free(text);
  return rc;
}

json_t *net_cni_conf_load(const net_cni_opts *o, cs_err *err) {
  char path[4096];
  if (net_cni_conf_install(o, path, sizeof path, err) != 0) return NULL;
  size_t len;
  char *text = net_cni_read_file(path, CONF_MAX, &len, err);
  if (!text) return NULL;
  json_error_t je;
  json_t *c = json_loadb(text, len, 0, &je);
  free(text);
  if (!c) {
    cs_err_set(err, CS_INVALID_ARGUMENT, "%s:%d: %s", path, je.line, je.text);
    return NULL;
  }
  if (net_cni_conf_validate(c, err) != 0) {
    cs_err_wrap(err, "%s", path);
    json_decref(c);
    return NULL;
  }
  return c;
}
