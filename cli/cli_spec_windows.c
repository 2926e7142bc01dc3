/* The config.json of a Windows container (what containerd's Windows defaults and `ctr run` on Windows
 * produce, reduced to what HCS uses): process with args and cwd C:\, windows.layerFolders = the image's
 * layer folder(s) then the scratch folder, limits in windows.resources, windows.hyperv for Hyper-V
 * isolation. No root.path: the shim activates and mounts the layers itself for a process-isolated
 * container (as hcsshim does when nobody mounted them), and a Hyper-V one gets them shared into its
 * utility VM. */
#include "cli_spec.h"
#include "cli_spec_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "cli_os.h"
#include "cli_parse.h"

#define WIN_DEFAULT_CWD "C:\\"
#define SCRATCH_NAME "scratch"

/* Windows paths with backslashes: HCS and vmcompute take them as they are. */
static json_t *win_path(const char *dir, const char *name) {
  char buf[CLI_PATH_MAX + 32];
  snprintf(buf, sizeof buf, "%s%s%s", dir, name ? "\\" : "", name ? name : "");
  for (char *p = buf; *p; p++)
    if (*p == '/') *p = '\\';
  return json_string(buf);
}


void cli_spec_merge_env(json_t *process, const char *const *env, size_t nenv, bool terminal) {
  (void)terminal; /* no TERM: a Windows console does not read it */
  json_t *e = json_object_get(process, "env");
  if (!json_is_array(e)) {
    e = json_array();
    json_object_set_new(process, "env", e);
  }
  for (size_t i = 0; i < nenv; i++) {
    size_t klen = (size_t)(strchr(env[i], '=') - env[i]) + 1;
    size_t k;
    /* Windows environment names are case-insensitive. */
    for (k = 0; k < json_array_size(e); k++) {
      const char *v = json_string_value(json_array_get(e, k));
      if (v && strlen(v) >= klen && _strnicmp(v, env[i], klen) == 0) break;
    }
    if (k < json_array_size(e)) json_array_set_new(e, k, json_string(env[i]));
    else json_array_append_new(e, json_string(env[i]));
  }
}

/* docker's --cpus for Windows: CPU maximum in 1/100 of a percent of the whole host (10000 = every CPU). */
static int set_resources(json_t *win, const cli_spec_opts *o, cs_err *err) {
  json_t *r = json_object_get(win, "resources");
  if (!json_is_object(r)) {
    r = json_object();
    json_object_set_new(win, "resources", r);
  }
  if (o->cpu_quota > 0 && o->cpu_period > 0) {
    unsigned ncpu = uv_available_parallelism();
    double cpus = (double)o->cpu_quota / (double)o->cpu_period;
    if (cpus > ncpu)
      return cs_err_set(err, CS_INVALID_ARGUMENT, "--cpus %.2f: this host has %u CPUs", cpus, ncpu);
    json_int_t max = (json_int_t)(cpus * 10000.0 / ncpu);
    if (max < 1) max = 1;
    json_object_set_new(r, "cpu", json_pack("{s:I}", "maximum", max));
  }
  if (o->memory_limit > 0) json_object_set_new(r, "memory", json_pack("{s:I}", "limit", (json_int_t)o->memory_limit));
  if (json_object_size(r) == 0) json_object_del(win, "resources");
  return 0;
}

int cli_spec_apply(json_t *spec, const cli_spec_opts *o, const char *bundle_dir, cs_err *err) {
  (void)bundle_dir;
  json_t *process = json_object_get(spec, "process");
  json_t *win = json_object_get(spec, "windows");
  if (!json_is_object(process)) return cs_err_set(err, CS_INVALID_ARGUMENT, "config.json has no process");
  if (!json_is_object(win)) return cs_err_set(err, CS_INVALID_ARGUMENT, "config.json has no windows section");
  if (cli_spec_set_args(process, o->args, o->nargs, err) < 0) return -1;
  if (json_array_size(json_object_get(process, "args")) == 0 && !json_object_get(process, "commandLine"))
    return cs_err_set(err, CS_INVALID_ARGUMENT, "no command: give one after -- or in config.json");
  json_object_set_new(process, "terminal", json_boolean(o->terminal));
  cli_spec_merge_env(process, o->env, o->nenv, o->terminal);
  if (o->cwd) json_object_set_new(process, "cwd", json_string(o->cwd));
  if (!json_object_get(process, "cwd")) json_object_set_new(process, "cwd", json_string(WIN_DEFAULT_CWD));
  if (o->hyperv && !json_is_object(json_object_get(win, "hyperv"))) json_object_set_new(win, "hyperv", json_object());
  return set_resources(win, o, err);
}

json_t *cli_spec_new(const cli_spec_opts *o, cs_err *err) {
  if (!o->id || !o->rootfs || !o->bundle || !o->bundle[0]) {
    cs_err_set(err, CS_INVALID_ARGUMENT, "spec: id, rootfs (the image's layer folder) and bundle are required");
    return NULL;
  }
  json_t *layers = json_array();
  json_array_append_new(layers, win_path(o->rootfs, NULL));
  json_array_append_new(layers, win_path(o->bundle, SCRATCH_NAME));
  json_t *spec = json_pack("{s:s, s:{s:b, s:[], s:[], s:s}, s:s, s:{s:o}}", "ociVersion", "1.0.2-dev", "process",
                           "terminal", o->terminal, "args", "env", "cwd", WIN_DEFAULT_CWD, "hostname", o->id,
                           "windows", "layerFolders", layers);
  if (!spec) {
    cs_err_set(err, CS_INTERNAL, "spec: cannot build config.json");
    return NULL;
  }
  if (cli_spec_apply(spec, o, NULL, err) < 0) {
    json_decref(spec);
    return NULL;
  }
  return spec;
}

/* The scratch layer is the last layer folder; one inside the bundle is ours to make. */
int cli_spec_bundle_prepare(const json_t *spec, const char *bundle, cs_err *err) {
  json_t *lf = json_object_get(json_object_get(spec, "windows"), "layerFolders");
  size_t n = json_array_size(lf);
  if (n == 0) return 0;
  json_t *mine = win_path(bundle, SCRATCH_NAME);
  int rc = 0;
  if (json_equal(json_array_get(lf, n - 1), mine) && cli_os_mkdir(json_string_value(mine), 0700) < 0 && errno != EEXIST)
    rc = cs_err_sys(err, errno, "create the scratch layer %s", json_string_value(mine));
  json_decref(mine);
  return rc;
}


json_t *cli_spec_resources(int64_t cpu_quota, uint64_t cpu_period, uint64_t memory_limit, cs_err *err) {
  (void)cpu_quota, (void)cpu_period, (void)memory_limit;
  cs_err_set(err, CS_UNIMPLEMENTED, "update: not supported by cshimctl on Windows yet (the shim's Update is; "
                                    "containerd sends it WindowsResources)");
  return NULL;
}
