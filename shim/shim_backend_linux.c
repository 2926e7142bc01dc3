#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_log.h"
#include "rt_linux.h"
#include "shim_backend.h"
#include "stats_linux.h"

#define OPTS_FILE "cshim-runtime"

int shim_backend_save_opts(const char *bundle, const task_runtime_opts *o, cs_err *err) {
  char path[4096], tmp[4096];
  snprintf(path, sizeof path, "%s/" OPTS_FILE, bundle);
  snprintf(tmp, sizeof tmp, "%s/." OPTS_FILE, bundle);
  FILE *f = fopen(tmp, "we");
  if (!f) return cs_err_sys(err, errno, "save runtime options in %s", bundle);
  fprintf(f, "%s\n%s\n", o->binary_name && *o->binary_name ? o->binary_name : "runc", o->root ? o->root : "");
  if (fclose(f) != 0 || rename(tmp, path) < 0) return cs_err_sys(err, errno, "save runtime options in %s", bundle);
  return 0;
}

int shim_backend_load_opts(const char *bundle, char *binary, size_t blen, char *root, size_t rlen) {
  char path[4096];
  snprintf(path, sizeof path, "%s/" OPTS_FILE, bundle);
  snprintf(binary, blen, "runc");
  root[0] = '\0';
  FILE *f = fopen(path, "re");
  if (!f) return -1;
  if (fgets(binary, (int)blen, f)) binary[strcspn(binary, "\n")] = '\0';
  if (fgets(root, (int)rlen, f)) root[strcspn(root, "\n")] = '\0';
  fclose(f);
  if (!*binary) snprintf(binary, blen, "runc");
  return 0;
}

/* runc needs nothing process-wide. */
struct shim_platform {
  int unused;
};

shim_platform *shim_platform_new(cs_err *err) {
  shim_platform *pl = calloc(1, sizeof *pl);
  if (!pl) cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
  return pl;
}

void shim_platform_free(shim_platform *pl) { free(pl); }

rt_backend *shim_backend_new(void *data, uv_loop_t *loop, const task_runtime_opts *o, const rt_events *ev,
                             cs_err *err) {
  (void)data;
  rt_linux_opts lo = {0};
  lo.ns = o->ns;
  if (o->binary_name && *o->binary_name) lo.binary = o->binary_name;
  if (o->root && *o->root) lo.root = o->root;
  if (o->criu_path && *o->criu_path) lo.criu = o->criu_path;
  lo.systemd_cgroup = o->systemd_cgroup;
  lo.no_pivot_root = o->no_pivot_root;
  lo.no_new_keyring = o->no_new_keyring;
  return rt_linux_new(loop, &lo, ev, err);
}

int shim_backend_adopt(shim_platform *pl, rt_backend *be, const char *id, const char *bundle, int pid, cs_err *err) {
  (void)pl;
  return rt_linux_adopt(be, id, bundle, pid, err);
}

int shim_encode_stats(const rt_sample *s, uint8_t **out, size_t *len, const char **type_url, cs_err *err) {
  return task_stats_encode_linux(s, out, len, type_url, err);
}

int shim_backend_dead_exit_status(void) { return 128 + 9; }
