/* What plugins print: results and errors (CNI spec, "Result" and "Error"). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_cni_list.h"

/* CNI well-known error codes → gRPC codes. 100+ are plugin-specific; the Go plugins' generic failures
 * are 999 ("internal"): those say nothing a caller could act on, so Unknown. */
static int code_from_cni(json_int_t c) {
  switch (c) {
  case 1: return CS_FAILED_PRECONDITION; /* incompatible CNI version */
  case 2: case 4: case 6: case 7: return CS_INVALID_ARGUMENT; /* field, env, decoding, network config */
  case 3: return CS_NOT_FOUND;           /* container unknown */
  case 5: return CS_INTERNAL;            /* I/O failure */
  case 11: return CS_UNAVAILABLE;        /* try again later */
  default: return CS_UNKNOWN;
  }
}

/* Copy text trimmed of surrounding white space, newlines folded to "; " so the message stays one line. */
static void one_line(char *dst, size_t cap, const char *src) {
  while (*src && isspace((unsigned char)*src)) src++;
  size_t n = 0;
  for (; *src && n + 3 < cap; src++) {
    if (*src == '\n' || *src == '\r') {
      const char *q = src;
      while (*q && isspace((unsigned char)*q)) q++;
      if (!*q) break;
      dst[n++] = ';';
      dst[n++] = ' ';
      src = q - 1;
    } else {
      dst[n++] = *src;
    }
  }
  while (n > 0 && isspace((unsigned char)dst[n - 1])) n--;
  dst[n] = '\0';
}

int net_cni_plugin_error(const char *type, const net_cni_exec_out *out, cs_err *err) {
  json_t *j = out->out && out->out_len ? json_loadb(out->out, out->out_len, 0, NULL) : NULL;
  const char *msg = j ? json_string_value(json_object_get(j, "msg")) : NULL;
  if (msg) {
    const char *details = json_string_value(json_object_get(j, "details"));
    json_int_t code = json_integer_value(json_object_get(j, "code"));
    char m[CS_ERR_MSG_MAX], d[CS_ERR_MSG_MAX];
    one_line(m, sizeof m, msg);
    one_line(d, sizeof d, details ? details : "");
    if (d[0] && strcmp(d, m) != 0)
      cs_err_set(err, code_from_cni(code), "%s: %s: %s", type, m, d);
    else
      cs_err_set(err, code_from_cni(code), "%s: %s", type, m);
    json_decref(j);
    return -1;
  }
  json_decref(j);
  /* Not the error JSON the spec asks for: a crash, a panic, a shell error. stderr says most. */
  char t[CS_ERR_MSG_MAX];
  one_line(t, sizeof t, out->errtxt[0] ? out->errtxt : (out->out ? out->out : ""));
  if (t[0]) return cs_err_set(err, CS_UNKNOWN, "%s: exit status %d: %s", type, out->status, t);
  return cs_err_set(err, CS_UNKNOWN, "%s: exit status %d", type, out->status);
}

static int copy_str(char *dst, size_t cap, const char *src, const char *what, cs_err *err) {
  size_t n = strlen(src);
  if (n >= cap) return cs_err_set(err, CS_INVALID_ARGUMENT, "result: %s too long: %.64s", what, src);
  memcpy(dst, src, n + 1);
  return 0;
}

static int add_ip(net_cni_result *res, const char *addr, const char *gw, const char *version, cs_err *err) {
  if (res->nips >= NET_CNI_MAX_IPS) return 0; /* more than a container uses; the first ones are kept */
  net_cni_ip *ip = &res->ips[res->nips];
  memset(ip, 0, sizeof *ip);
  if (copy_str(ip->address, sizeof ip->address, addr, "address", err) != 0) return -1;
  if (gw && copy_str(ip->gateway, sizeof ip->gateway, gw, "gateway", err) != 0) return -1;
  ip->family = version ? atoi(version) : (strchr(addr, ':') ? 6 : 4);
  res->nips++;
  return 0;
}

/* 0.1.0 / 0.2.0: {"ip4": {"ip": "10.0.0.2/24", "gateway": ...}, "ip6": {...}} */
static int parse_legacy(const json_t *r, net_cni_result *res, cs_err *err) {
  static const char *const keys[] = {"ip4", "ip6"};
  for (int k = 0; k < 2; k++) {
    const json_t *o = json_object_get(r, keys[k]);
    const char *a = json_string_value(json_object_get(o, "ip"));
    if (a && add_ip(res, a, json_string_value(json_object_get(o, "gateway")), k ? "6" : "4", err) != 0)
      return -1;
  }
  return 0;
}

int net_cni_result_parse(const json_t *r, const char *ifname, net_cni_result *res, cs_err *err) {
  if (!json_is_object(r)) return cs_err_set(err, CS_INVALID_ARGUMENT, "result: not a JSON object");
  if (copy_str(res->ifname, sizeof res->ifname, ifname, "ifname", err) != 0) return -1;
  res->mac[0] = '\0';
  res->nips = 0;
  json_int_t idx = -1;
  const json_t *ifs = json_object_get(r, "interfaces");
  for (size_t i = 0; i < json_array_size(ifs); i++) {
    const json_t *f = json_array_get(ifs, i);
    const char *name = json_string_value(json_object_get(f, "name"));
    const char *sandbox = json_string_value(json_object_get(f, "sandbox"));
    const char *mac = json_string_value(json_object_get(f, "mac"));
    if (!name || strcmp(name, ifname) != 0 || !sandbox || !sandbox[0]) continue;
    idx = (json_int_t)i;
    if (mac && copy_str(res->mac, sizeof res->mac, mac, "mac", err) != 0) return -1;
    break;
  }
  const json_t *ips = json_object_get(r, "ips");
  if (!ips) return parse_legacy(r, res, err);
  for (size_t i = 0; i < json_array_size(ips); i++) {
    const json_t *ip = json_array_get(ips, i);
    const char *addr = json_string_value(json_object_get(ip, "address"));
    if (!addr) return cs_err_set(err, CS_INVALID_ARGUMENT, "result: ips[%zu] has no address", i);
    /* An address bound to another interface (the host side, another sandbox) is not the container's. */
    const json_t *iface = json_object_get(ip, "interface");
    if (idx >= 0 && json_is_integer(iface) && json_integer_value(iface) != idx) continue;
    if (add_ip(res, addr, json_string_value(json_object_get(ip, "gateway")),
               json_string_value(json_object_get(ip, "version")), err) != 0)
      return -1;
  }
  return 0;
}

static long version_part(const char **p) {
  char *end;
  long v = strtol(*p, &end, 10);
  *p = end;
  if (**p == '.') (*p)++;
  return v;
}

int net_cni_version_cmp(const char *a, const char *b) {
  if (!a) a = "";
  if (!b) b = "";
  for (int part = 0; part < 3; part++) {
    long x = version_part(&a), y = version_part(&b);
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}
