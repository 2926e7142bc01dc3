/* attach / detach / check: the namespace, the lock, the cache around the protocol layer (net_cni_list.c).
 *
 * The cache (<state_dir>/attachments/<id>.json) holds the conflist an attachment was made from, its
 * interface name, its namespace path and, once ADD finished, the result — what the spec asks DEL and CHECK
 * to be given, even if the conflist on disk changed since. It is written before ADD runs, so a creator
 * that dies half-way leaves enough for detach to undo what the plugins did. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net_cni_int.h"
#include "net_cni_list.h"
#include "net_cni_util.h"
#include "net_ns.h"

typedef struct ctx {
  net_cni_opts o;
  const char *id;
  char netns[4096], cache[4096];
  int lock_fd;
} ctx;

int net_cni_id_valid(const char *id, cs_err *err) {
  if (!net_cni_name_ok(id, NET_CNI_ID_MAX))
    return cs_err_set(err, CS_INVALID_ARGUMENT, "id %.64s: want [A-Za-z0-9][A-Za-z0-9_.-]*, at most %d characters",
                      id ? id : "(null)", NET_CNI_ID_MAX);
  return 0;
}

int net_cni_netns_path(const char *id, const net_cni_opts *in, char *out, size_t cap, cs_err *err) {
  net_cni_opts o;
  net_cni_opts_resolve(in, &o);
  if (net_cni_id_valid(id, err) != 0) return -1;
  return net_cni_path(out, cap, err, "%s/%s%s", o.netns_dir, NET_CNI_NETNS_PREFIX, id);
}

/* Paths, and the lock every attach / detach / check holds: one cshimctl at a time per state dir, so a
 * detach removing an idle bridge never races an attach plugging into it. */
static int ctx_open(ctx *c, const char *id, const net_cni_opts *in, cs_err *err) {
  net_cni_opts_resolve(in, &c->o);
  c->id = id;
  c->lock_fd = -1;
  char dir[4096], lock[4096];
  if (!net_cni_ifname_ok(c->o.ifname))
    return cs_err_set(err, CS_INVALID_ARGUMENT, "interface name %.32s: want 1..15 characters, no '/', ':' or space",
                      c->o.ifname);
  if (net_cni_netns_path(id, &c->o, c->netns, sizeof c->netns, err) != 0 ||
      net_cni_path(dir, sizeof dir, err, "%s/attachments", c->o.state_dir) != 0 ||
      net_cni_path(c->cache, sizeof c->cache, err, "%s/%s.json", dir, id) != 0 ||
      net_cni_path(lock, sizeof lock, err, "%s/lock", c->o.state_dir) != 0 ||
      net_cni_mkdir_p(dir, 0700, err) != 0)
    return -1;
  c->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (c->lock_fd < 0) return cs_err_sys(err, errno, "open %s", lock);
  int rc;
  do rc = flock(c->lock_fd, LOCK_EX);
  while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    int e = errno;
    close(c->lock_fd);
    c->lock_fd = -1;
    return cs_err_sys(err, e, "lock %s", lock);
  }
  return 0;
}

static void ctx_close(ctx *c) {
  if (c->lock_fd >= 0) close(c->lock_fd);
  c->lock_fd = -1;
}

static net_cni_rt rt_of(const ctx *c, const char *netns, const char *ifname) {
  net_cni_rt rt = {.container_id = c->id, .netns = netns, .ifname = ifname, .plugin_path = c->o.plugin_path,
                   .timeout_ms = c->o.timeout_ms, .exec = c->o.exec, .exec_ctx = c->o.exec_ctx};
  return rt;
}

static int cache_write(const ctx *c, const json_t *conf, const json_t *result, cs_err *err) {
  json_t *j = json_pack("{s:i, s:s, s:s, s:s, s:O}", "version", 1, "id", c->id, "netns", c->netns, "ifname",
                        c->o.ifname, "config", conf);
  if (j && result) json_object_set(j, "result", (json_t *)result);
  char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
  json_decref(j);
  if (!text) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "encode %s", c->cache);
  int rc = net_cni_write_file(c->cache, text, strlen(text), 0600, err);
  free(text);
  return rc;
}

/* NULL with *absent = true if there is no cache; NULL with err if it cannot be used. */
static json_t *cache_read(const ctx *c, bool *absent, cs_err *err) {
  *absent = false;
  size_t len;
  char *text = net_cni_read_file(c->cache, 4u << 20, &len, err);
  if (!text) {
    *absent = err->sys_errno == ENOENT;
    return NULL;
  }
  json_error_t je;
  json_t *j = json_loadb(text, len, 0, &je);
  free(text);
  const char *ifname = json_string_value(json_object_get(j, "ifname"));
  if (!j || !ifname || net_cni_conf_validate(json_object_get(j, "config"), err) != 0) {
    if (!j || !ifname) cs_err_set(err, CS_DATA_LOSS, "%s: %s", c->cache, j ? "no ifname" : je.text);
    json_decref(j);
    return NULL;
  }
  return j;
}

/* Once the last container left: the bridge, unless kept. A failure here is reported but changes nothing
 * about the container's own clean-up, which is done. */
static int bridge_cleanup(const ctx *c, const json_t *conf, cs_err *err) {
  bool deleted;
  const char *br = net_cni_conf_bridge(conf);
  if (c->o.keep_idle_bridge || !br) return 0;
  return net_link_remove_idle_bridge(br, &deleted, err);
}

/* Undo a failed attach whose plugins were already cleaned up by DEL (or never ran). */
static void attach_undo(const ctx *c, const json_t *conf) {
  cs_err ignore;
  unlink(c->cache);
  net_ns_remove(c->netns, &ignore);
  if (conf) bridge_cleanup(c, conf, &ignore);
}

static int attach_locked(ctx *c, net_cni_result *res, cs_err *err) {
  struct stat st;
  if (lstat(c->cache, &st) == 0 || lstat(c->netns, &st) == 0)
    return cs_err_set(err, CS_ALREADY_EXISTS, "already attached (%s exists)",
                      lstat(c->cache, &st) == 0 ? c->cache : c->netns);
  json_t *conf = net_cni_conf_load(&c->o, err);
  if (!conf) return -1;
  if (net_ns_create(c->netns, err) != 0) {
    json_decref(conf);
    return -1;
  }
  if (cache_write(c, conf, NULL, err) != 0) {
    attach_undo(c, conf);
    json_decref(conf);
    return -1;
  }
  net_cni_rt rt = rt_of(c, c->netns, c->o.ifname);
  json_t *result = NULL;
  bool undo_failed = false;
  int rc = net_cni_list_add(conf, &rt, &result, &undo_failed, err);
  if (rc == 0) {
    memset(res, 0, sizeof *res);
    snprintf(res->netns, sizeof res->netns, "%s", c->netns);
    snprintf(res->network, sizeof res->network, "%s", json_string_value(json_object_get(conf, "name")));
    rc = net_cni_result_parse(result, c->o.ifname, res, err);
    if (rc == 0) rc = cache_write(c, conf, result, err);
    if (rc != 0) { /* ADD worked but we cannot use or keep its result: undo it */
      cs_err e2;
      undo_failed = net_cni_list_del(conf, &rt, result, &e2) != 0;
    }
  }
  /* If DEL failed, keep the cache and the namespace: net_cni_detach can finish the job later. */
  if (rc != 0 && !undo_failed) attach_undo(c, conf);
  json_decref(result);
  json_decref(conf);
  return rc;
}

int net_cni_attach(const char *id, const net_cni_opts *o, net_cni_result *res, cs_err *err) {
  ctx c;
  net_cni_result scratch;
  if (ctx_open(&c, id, o, err) != 0) return cs_err_wrap(err, "network attach %s", id ? id : "");
  int rc = attach_locked(&c, res ? res : &scratch, err);
  ctx_close(&c);
  return rc != 0 ? cs_err_wrap(err, "network attach %s", id) : 0;
}

static int detach_locked(ctx *c, cs_err *err) {
  bool absent;
  json_t *cache = cache_read(c, &absent, err);
  if (!cache && !absent) return -1;
  if (cache) {
    const json_t *conf = json_object_get(cache, "config");
    /* A namespace that is gone (or a file the creator never mounted on) cannot be entered: DEL without
     * one still releases the address, and the veth pair died with the namespace. */
    net_cni_rt rt = rt_of(c, net_ns_is_mounted(c->netns) ? c->netns : "",
                          json_string_value(json_object_get(cache, "ifname")));
    if (net_cni_list_del(conf, &rt, json_object_get(cache, "result"), err) != 0) {
      json_decref(cache);
      return -1;
    }
    if (unlink(c->cache) != 0 && errno != ENOENT) {
      json_decref(cache);
      return cs_err_sys(err, errno, "remove %s", c->cache);
    }
  }
  int rc = net_ns_remove(c->netns, err);
  if (rc == 0 && cache) rc = bridge_cleanup(c, json_object_get(cache, "config"), err);
  json_decref(cache);
  return rc;
}

int net_cni_detach(const char *id, const net_cni_opts *o, cs_err *err) {
  ctx c;
  if (ctx_open(&c, id, o, err) != 0) return cs_err_wrap(err, "network detach %s", id ? id : "");
  int rc = detach_locked(&c, err);
  ctx_close(&c);
  return rc != 0 ? cs_err_wrap(err, "network detach %s", id) : 0;
}

int net_cni_check(const char *id, const net_cni_opts *o, cs_err *err) {
  ctx c;
  if (ctx_open(&c, id, o, err) != 0) return cs_err_wrap(err, "network check %s", id ? id : "");
  bool absent;
  int rc = -1;
  json_t *cache = cache_read(&c, &absent, err);
  if (absent) {
    cs_err_set(err, CS_NOT_FOUND, "not attached");
  } else if (cache && !json_object_get(cache, "result")) {
    cs_err_set(err, CS_FAILED_PRECONDITION, "attach did not complete; detach it");
  } else if (cache) {
    net_cni_rt rt = rt_of(&c, c.netns, json_string_value(json_object_get(cache, "ifname")));
    rc = net_cni_list_check(json_object_get(cache, "config"), &rt, json_object_get(cache, "result"), err);
  }
  json_decref(cache);
  ctx_close(&c);
  return rc != 0 ? cs_err_wrap(err, "network check %s", id) : 0;
}
