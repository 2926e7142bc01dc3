/* Running a conflist (CNI spec: "Network Configuration Lists", "Execution protocol"). */
#include "net_cni_list.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

json_t *net_cni_plugin_conf(const json_t *conflist, size_t i, const json_t *prev) {
  json_t *c = json_deep_copy(json_array_get(json_object_get(conflist, "plugins"), i));
  if (!c) return NULL;
  /* The spec: the list's name and cniVersion replace the plugin's, so every call of a list agrees. */
  json_object_set(c, "name", json_object_get(conflist, "name"));
  json_object_set(c, "cniVersion", json_object_get(conflist, "cniVersion"));
  if (prev) json_object_set_new(c, "prevResult", json_deep_copy(prev));
  return c;
}

int net_cni_plugin_find(const char *type, const char *plugin_path, char *out, size_t cap, cs_err *err) {
  if (!type || !type[0] || strchr(type, '/') || !strcmp(type, ".") || !strcmp(type, ".."))
    return cs_err_set(err, CS_INVALID_ARGUMENT, "plugin type %s: not a file name", type ? type : "(none)");
  for (const char *p = plugin_path; *p;) {
    const char *colon = strchr(p, ':');
    size_t n = colon ? (size_t)(colon - p) : strlen(p);
    if (n > 0 && snprintf(out, cap, "%.*s/%s", (int)n, p, type) < (int)cap) {
      struct stat st;
      if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0) return 0;
    }
    p += n + (colon ? 1 : 0);
  }
  return cs_err_set(err, CS_NOT_FOUND, "plugin %s not found in %s", type, plugin_path);
}

typedef struct env_buf {
  char cmd[32], id[NET_CNI_ID_MAX + 32], netns[4200], ifname[64], cni_path[4200], path[4200];
  const char *v[7];
} env_buf;

static void env_fill(env_buf *e, const char *cmd, const net_cni_rt *rt) {
  const char *path = getenv("PATH"); /* plugins run iptables, ip6tables... by name */
  snprintf(e->cmd, sizeof e->cmd, "CNI_COMMAND=%s", cmd);
  snprintf(e->id, sizeof e->id, "CNI_CONTAINERID=%s", rt->container_id);
  snprintf(e->netns, sizeof e->netns, "CNI_NETNS=%s", rt->netns ? rt->netns : "");
  snprintf(e->ifname, sizeof e->ifname, "CNI_IFNAME=%s", rt->ifname);
  snprintf(e->cni_path, sizeof e->cni_path, "CNI_PATH=%s", rt->plugin_path);
  snprintf(e->path, sizeof e->path, "PATH=%s", path && path[0] ? path : DEFAULT_PATH);
  const char *v[7] = {e->cmd, e->id, e->netns, e->ifname, e->cni_path, e->path, NULL};
  memcpy(e->v, v, sizeof v);
}

/* One plugin, one command. result (ADD only) gets the parsed stdout. */
static int run_plugin(const char *cmd, const json_t *conflist, size_t i, const json_t *prev,
                      const net_cni_rt *rt, json_t **result, cs_err *err) {
  const char *type = json_string_value(json_object_get(json_array_get(json_object_get(conflist, "plugins"), i),
                                                       "type"));
  char exe[4096];
  if (net_cni_plugin_find(type, rt->plugin_path, exe, sizeof exe, err) != 0) return -1;
  json_t *conf = net_cni_plugin_conf(conflist, i, prev);
  char *input = conf ? json_dumps(conf, JSON_COMPACT) : NULL;
  json_decref(conf);
  if (!input) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "%s: encode network configuration", type);

  env_buf *env = malloc(sizeof *env); /* ~13 KiB: keep it off the caller's stack */
  if (!env) {
    free(input);
    return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "%s: out of memory", type);
  }
  env_fill(env, cmd, rt);
  net_cni_exec_req req = {.plugin = exe, .env = env->v, .input = input, .input_len = strlen(input),
                          .timeout_ms = rt->timeout_ms > 0 ? rt->timeout_ms : NET_CNI_DEFAULT_TIMEOUT_MS};
  net_cni_exec_out out = {0};
  net_cni_exec_fn exec = rt->exec ? rt->exec : net_cni_exec_fork;
  int rc = exec(rt->exec_ctx, &req, &out, err);
  free(env);
  free(input);
  if (rc != 0) {
    rc = cs_err_wrap(err, "%s %s", type, cmd);
  } else if (out.status != 0) {
    rc = net_cni_plugin_error(type, &out, err);
  } else if (result) {
    json_error_t je;
    *result = out.out_len ? json_loadb(out.out, out.out_len, 0, &je) : NULL;
    if (!json_is_object(*result)) {
      json_decref(*result);
      *result = NULL;
      rc = cs_err_set(err, CS_INTERNAL, "%s: %s printed no result object%s%s", type, cmd,
                      out.out_len ? ": " : "", out.out_len ? je.text : "");
    }
  }
  free(out.out);
  return rc;
}

static int list_ok(const json_t *conflist, cs_err *err) {
  return net_cni_conf_validate(conflist, err);
}

int net_cni_list_del(const json_t *conflist, const net_cni_rt *rt, const json_t *prev, cs_err *err) {
  if (list_ok(conflist, err) != 0) return -1;
  for (size_t i = json_array_size(json_object_get(conflist, "plugins")); i-- > 0;)
    if (run_plugin("DEL", conflist, i, prev, rt, NULL, err) != 0) return -1;
  return 0;
}

int net_cni_list_add(const json_t *conflist, const net_cni_rt *rt, json_t **result, bool *undo_failed,
                     cs_err *err) {
  *result = NULL;
  if (undo_failed) *undo_failed = false;
  if (list_ok(conflist, err) != 0) return -1;
  json_t *last = NULL;
  const json_t *plugins = json_object_get(conflist, "plugins");
  size_t n = json_array_size(plugins);
  /* Every plugin must exist before any runs: DEL stops at the first plugin it cannot run, so a missing
   * one would leave the earlier plugins' work in place for good. */
  for (size_t i = 0; i < n; i++) {
    char exe[4096];
    const char *type = json_string_value(json_object_get(json_array_get(plugins, i), "type"));
    if (net_cni_plugin_find(type, rt->plugin_path, exe, sizeof exe, err) != 0) return -1;
  }
  for (size_t i = 0; i < n; i++) {
    json_t *r = NULL;
    if (run_plugin("ADD", conflist, i, last, rt, &r, err) != 0) {
      json_decref(last);
      cs_err undo;
      cs_err_clear(&undo);
      if (net_cni_list_del(conflist, rt, NULL, &undo) != 0) {
        if (undo_failed) *undo_failed = true;
        size_t len = strlen(err->msg);
        snprintf(err->msg + len, sizeof err->msg - len, " (clean-up DEL failed too: %s)", undo.msg);
      }
      return -1;
    }
    json_decref(last);
    last = r;
  }
  *result = last;
  return 0;
}

int net_cni_list_check(const json_t *conflist, const net_cni_rt *rt, const json_t *prev, cs_err *err) {
  if (list_ok(conflist, err) != 0) return -1;
  const json_t *dc = json_object_get(conflist, "disableCheck");
  const char *dcs = json_string_value(dc);
  if (json_is_true(dc) || (dcs && !strcmp(dcs, "true"))) return 0;
  if (net_cni_version_cmp(json_string_value(json_object_get(conflist, "cniVersion")), "0.4.0") < 0) return 0;
  size_t n = json_array_size(json_object_get(conflist, "plugins"));
  for (size_t i = 0; i < n; i++)
    if (run_plugin("CHECK", conflist, i, prev, rt, NULL, err) != 0) return -1;
  return 0;
}
