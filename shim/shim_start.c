/* `start`: the same steps on every platform; where the shim listens and how its serving process is made
 * are shim_os_*.c's. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shim_bootstrap.h"
#include "shim_os.h"
#include "shim_start.h"

/* Annotations that put a container into an existing shim (a pod's sandbox shim), as runc-v2 groups them. */
static const char *const group_labels[] = {"io.containerd.runc.v2.group", "io.kubernetes.cri.sandbox-id"};

static const char *read_group(const char *id, json_t **spec) {
  json_error_t jerr;
  *spec = json_load_file("config.json", 0, &jerr);
  json_t *ann = *spec ? json_object_get(*spec, "annotations") : NULL;
  for (size_t i = 0; ann && i < sizeof group_labels / sizeof group_labels[0]; i++) {
    const char *g = json_string_value(json_object_get(ann, group_labels[i]));
    if (g && *g) return g;
  }
  return id;
}

/* What the host understands (shim_bootstrap.h); the address file keeps the bare address either way. */
static int print_answer(const char *address, const uint8_t *opts, size_t n, cs_err *err) {
  int version = shim_bootstrap_version(getenv("MAX_SHIM_VERSION"), opts, n);
  char line[1024];
  if (shim_bootstrap_answer(version, address, line, sizeof line, err) < 0) return -1;
  printf("%s", line);
  fflush(stdout);
  return 0;
}

static int answer(const char *address, const uint8_t *opts, size_t n, cs_err *err) {
  if (shim_os_write_address(address, err) < 0) return -1;
  return print_answer(address, opts, n, err);
}

static int start(const shim_args *a, const char *self_exe, const uint8_t *opts, size_t n, cs_err *err) {
  if (!a->id || !*a->id) return cs_err_set(err, CS_INVALID_ARGUMENT, "start: -id is required");
  if (!a->address || !*a->address) return cs_err_set(err, CS_INVALID_ARGUMENT, "start: -address is required");
  json_t *spec = NULL;
  const char *group = read_group(a->id, &spec);
  char address[512];
  int rc = shim_os_address(a, group, address, sizeof address, err);
  json_decref(spec);
  if (rc < 0) return -1;

  shim_claim claim;
  rc = shim_os_claim(address, &claim, err);
  if (rc < 0) return -1;
  if (rc == 1) return answer(address, opts, n, err); /* the pod's shim, or this id's shim already serving */
  /* The address file is written before the serving process exists, as runc-v2 does: a start that fails
   * here leaves no shim behind. */
  if (shim_os_write_address(address, err) < 0) {
    shim_os_unclaim(&claim);
    return -1;
  }
  rc = shim_os_spawn(a, self_exe, address, &claim, opts, n, err);
  if (rc < 0) {
    shim_os_unclaim(&claim);
    return -1;
  }
  return print_answer(address, opts, n, err);
}

int shim_start(const shim_args *a, const char *self_exe, cs_err *err) {
  /* The runtime options containerd writes on stdin, read once: they choose the bootstrap answer and may
   * name the shim's cgroup. */
  uint8_t *opts = malloc(SHIM_OPTS_MAX);
  size_t n = shim_os_read_stdin(opts, opts ? SHIM_OPTS_MAX : 0);
  int rc = start(a, self_exe, opts, n, err);
  free(opts);
  return rc;
}
