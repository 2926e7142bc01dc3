#include "task_opts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "containerd/runc/options.pb-c.h"
#include "containerd/runctypes/runc.pb-c.h"
#include "cs_log.h"
#include "runtimeoptions/v1/api.pb-c.h"
#include "task_toml.h"

#define CONFIG_FILE_MAX (1 << 20)

static int keep(task_opts *t, const char **field, const char *s, cs_err *err) {
  if (!s || !*s) return 0;
  if (t->n_owned == TASK_OPTS_MAX_STRINGS) return cs_err_set(err, CS_INTERNAL, "runtime options: too many strings");
  char *c = strdup(s);
  if (!c) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "runtime options: out of memory");
  t->owned[t->n_owned++] = c;
  *field = c;
  return 0;
}

static int from_runc_v1(task_opts *t, const uint8_t *data, size_t len, cs_err *err) {
  Containerd__Runc__V1__Options *r = containerd__runc__v1__options__unpack(NULL, len, data);
  if (!r) return cs_err_set(err, CS_INVALID_ARGUMENT, "runtime options containerd.runc.v1.Options do not decode");
  task_runtime_opts *o = &t->o;
  o->no_pivot_root = r->no_pivot_root;
  o->no_new_keyring = r->no_new_keyring;
  o->io_uid = r->io_uid;
  o->io_gid = r->io_gid;
  o->systemd_cgroup = r->systemd_cgroup;
  int rc = keep(t, &o->shim_cgroup, r->shim_cgroup, err) | keep(t, &o->binary_name, r->binary_name, err) |
           keep(t, &o->root, r->root, err) | keep(t, &o->criu_path, r->criu_path, err) |
           keep(t, &o->criu_image_path, r->criu_image_path, err) | keep(t, &o->criu_work_path, r->criu_work_path, err);
  containerd__runc__v1__options__free_unpacked(r, NULL);
  return rc ? -1 : 0;
}

static int from_create_options(task_opts *t, const uint8_t *data, size_t len, cs_err *err) {
  Containerd__Linux__Runc__CreateOptions *r = containerd__linux__runc__create_options__unpack(NULL, len, data);
  if (!r) return cs_err_set(err, CS_INVALID_ARGUMENT, "runtime options containerd.linux.runc.CreateOptions do not decode");
  task_runtime_opts *o = &t->o;
  o->no_pivot_root = r->no_pivot_root;
  o->no_new_keyring = r->no_new_keyring;
  o->io_uid = r->io_uid;
  o->io_gid = r->io_gid;
  /* open_tcp, external_unix_sockets, terminal, file_locks, empty_namespaces, cgroups_mode: checkpoint/restore
   * settings of the v1 runtime; a restore here takes them from the checkpoint request. */
  int rc = keep(t, &o->shim_cgroup, r->shim_cgroup, err) | keep(t, &o->criu_image_path, r->criu_image_path, err) |
           keep(t, &o->criu_work_path, r->criu_work_path, err);
  containerd__linux__runc__create_options__free_unpacked(r, NULL);
  return rc ? -1 : 0;
}

static int from_runc_options(task_opts *t, const uint8_t *data, size_t len, cs_err *err) {
  Containerd__Linux__Runc__RuncOptions *r = containerd__linux__runc__runc_options__unpack(NULL, len, data);
  if (!r) return cs_err_set(err, CS_INVALID_ARGUMENT, "runtime options containerd.linux.runc.RuncOptions do not decode");
  t->o.systemd_cgroup = r->systemd_cgroup;
  int rc = keep(t, &t->o.binary_name, r->runtime, err) | keep(t, &t->o.root, r->runtime_root, err) |
           keep(t, &t->o.criu_path, r->criu_path, err);
  containerd__linux__runc__runc_options__free_unpacked(r, NULL);
  return rc ? -1 : 0;
}

/* ------------------------------------------------------------------ runtimeoptions.v1: TOML */

enum { KEY_STR, KEY_BOOL, KEY_U32 };

static int toml_option(void *data, const char *key, const task_toml_value *v, cs_err *err) {
  task_opts *t = data;
  task_runtime_opts *o = &t->o;
  static const struct {
    const char *name;
    int kind;
    size_t off;
  } keys[] = {
      {"BinaryName", KEY_STR, offsetof(task_runtime_opts, binary_name)},
      {"Root", KEY_STR, offsetof(task_runtime_opts, root)},
      {"CriuPath", KEY_STR, offsetof(task_runtime_opts, criu_path)},
      {"SystemdCgroup", KEY_BOOL, offsetof(task_runtime_opts, systemd_cgroup)},
      {"NoPivotRoot", KEY_BOOL, offsetof(task_runtime_opts, no_pivot_root)},
      {"NoNewKeyring", KEY_BOOL, offsetof(task_runtime_opts, no_new_keyring)},
      {"ShimCgroup", KEY_STR, offsetof(task_runtime_opts, shim_cgroup)},
      {"IoUid", KEY_U32, offsetof(task_runtime_opts, io_uid)},
      {"IoGid", KEY_U32, offsetof(task_runtime_opts, io_gid)},
      {"CriuImagePath", KEY_STR, offsetof(task_runtime_opts, criu_image_path)},
      {"CriuWorkPath", KEY_STR, offsetof(task_runtime_opts, criu_work_path)},
      {"BootstrapVersion", KEY_U32, offsetof(task_runtime_opts, bootstrap_version)},
  };
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    /* Go's TOML decoders match field names case-insensitively too. */
    if (strcasecmp(key, keys[i].name)) continue;
    void *field = (char *)o + keys[i].off;
    switch (keys[i].kind) {
      case KEY_STR:
        if (v->type != TASK_TOML_STRING) return cs_err_set(err, CS_INVALID_ARGUMENT, "%s wants a string", keys[i].name);
        return keep(t, (const char **)field, v->str, err);
      case KEY_BOOL:
        if (v->type != TASK_TOML_BOOL) return cs_err_set(err, CS_INVALID_ARGUMENT, "%s wants true or false", keys[i].name);
        *(bool *)field = v->b;
        return 0;
      default:
        if (v->type != TASK_TOML_INT || v->i < 0 || v->i > UINT32_MAX)
          return cs_err_set(err, CS_INVALID_ARGUMENT, "%s wants an integer from 0 to 4294967295", keys[i].name);
        *(uint32_t *)field = (uint32_t)v->i;
        return 0;
    }
  }
  /* CRI's own keys (TypeUrl, ConfigPath) are in a 2.x body too; anything else is someone else's option. */
  if (strcasecmp(key, "TypeUrl") && strcasecmp(key, "ConfigPath"))
    CS_WARN("runtime options: line %d: %s is not a runc option, ignored", v->line, key);
  return 0;
}

static int read_config_file(const char *path, char **out, size_t *len, cs_err *err) {
  FILE *f = fopen(path, "re");
  if (!f) return cs_err_sys(err, errno, "runtime options config_path %s", path);
  char *buf = malloc(CONFIG_FILE_MAX + 1);
  size_t n = buf ? fread(buf, 1, CONFIG_FILE_MAX + 1, f) : 0;
  int rerr = ferror(f);
  fclose(f);
  if (!buf) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "runtime options: out of memory");
  if (rerr || n > CONFIG_FILE_MAX) {
    free(buf);
    return cs_err_set(err, CS_INVALID_ARGUMENT, "runtime options config_path %s: %s", path,
                      rerr ? "read error" : "larger than 1 MiB");
  }
  *out = buf;
  *len = n;
  return 0;
}

static int from_runtimeoptions(task_opts *t, const uint8_t *data, size_t len, cs_err *err) {
  Runtimeoptions__V1__Options *r = runtimeoptions__v1__options__unpack(NULL, len, data);
  if (!r) return cs_err_set(err, CS_INVALID_ARGUMENT, "runtime options runtimeoptions.v1.Options do not decode");
  int rc = 0;
  /* As containerd documents config_body: used if config_path is not specified. */
  if (r->config_path && *r->config_path) {
    char *text = NULL;
    size_t n = 0;
    rc = read_config_file(r->config_path, &text, &n, err);
    if (rc == 0 && task_toml_read(text, n, toml_option, t, err) < 0)
      rc = cs_err_wrap(err, "runtime options config_path %s", r->config_path);
    free(text);
  } else if (r->config_body.len > 0 &&
             task_toml_read((const char *)r->config_body.data, r->config_body.len, toml_option, t, err) < 0) {
    rc = cs_err_wrap(err, "runtime options config_body");
  }
  runtimeoptions__v1__options__free_unpacked(r, NULL);
  return rc;
}

/* ------------------------------------------------------------------ by type URL */

int task_opts_decode(task_opts *t, const char *type_url, const uint8_t *data, size_t len, cs_err *err) {
  memset(t, 0, sizeof *t);
  task_runtime_opts *o = &t->o;
  o->binary_name = o->root = o->criu_path = o->shim_cgroup = o->criu_image_path = o->criu_work_path = "";
  if ((!type_url || !*type_url) && len == 0) return 0;
  const char *name = type_url ? type_url : "";
  const char *slash = strrchr(name, '/'); /* "type.googleapis.com/x.y.Z" names the same type as "x.y.Z" */
  if (slash) name = slash + 1;
  if (!strcmp(name, "containerd.runc.v1.Options")) return from_runc_v1(t, data, len, err);
  if (!strcmp(name, "containerd.linux.runc.CreateOptions")) return from_create_options(t, data, len, err);
  if (!strcmp(name, "containerd.linux.runc.RuncOptions")) return from_runc_options(t, data, len, err);
  if (!strcmp(name, "runtimeoptions.v1.Options")) return from_runtimeoptions(t, data, len, err);
  return cs_err_set(err, CS_INVALID_ARGUMENT,
                    "runtime options of type \"%s\" are not supported (want containerd.runc.v1.Options, "
                    "containerd.linux.runc.CreateOptions, containerd.linux.runc.RuncOptions or runtimeoptions.v1.Options)",
                    type_url ? type_url : "");
}

void task_opts_release(task_opts *t) {
  for (int i = 0; i < t->n_owned; i++) free(t->owned[i]);
  t->n_owned = 0;
}
