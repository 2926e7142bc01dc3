/* OCI runtime-spec JSON that cshimctl hands to the shim (cli_spec.c: Linux containers; cli_spec_windows.c:
 * Windows containers, with the same functions): the container's config.json, the Process of an
 * exec and the LinuxResources of an update. Pure (jansson in, jansson out), unit-tested.
 *
 * The generated config follows containerd's default Unix spec (oci/spec.go, as `ctr run` uses it): the
 * default capability set, /proc /dev /dev/pts /dev/shm /dev/mqueue /sys /run mounts, runc's masked and
 * read-only paths, the pid/ipc/uts/mount/network namespaces, cgroupsPath "/<namespace>/<id>".
 * Network: a fresh network namespace that holds only `lo`, as `ctr run` without --net-host; --net (a real
 * interface from network/) is not supported yet. */
#ifndef CLI_SPEC_H
#define CLI_SPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli_state.h" /* cli_json_dump */
#include "cs_err.h"

#define CLI_SPEC_PROCESS_URL "types.containerd.io/opencontainers/runtime-spec/1/Process"
#define CLI_SPEC_RESOURCES_URL "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources"

typedef struct cli_spec_opts {
  const char *id;            /* hostname and cgroupsPath */
  const char *ns;            /* cgroupsPath parent */
  const char *rootfs;        /* root.path: absolute, or relative to the bundle */
  char *const *args;         /* NULL: keep the template's (bundle mode) */
  size_t nargs;
  const char *const *env;    /* KEY=VALUE, override the defaults (PATH, TERM) by key */
  size_t nenv;
  const char *cwd;           /* NULL: "/" */
  bool terminal;
  int64_t cpu_quota;         /* 0: unset */
  uint64_t cpu_period;
  uint64_t memory_limit;     /* 0: unset */
  bool hyperv;               /* Windows: Hyper-V isolation (Linux refuses it) */
  const char *bundle;        /* Windows: the scratch layer is made in <bundle>/scratch */
} cli_spec_opts;

/* A complete config.json for a new container. */
json_t *cli_spec_new(const cli_spec_opts *o, cs_err *err);
/* Apply the options to an existing config (--bundle): args, env, terminal, resources, and root.path made
 * absolute against bundle_dir (the config moves into cshimctl's own bundle). id/ns set hostname only if
 * the config has none, and cgroupsPath if absent. */
int cli_spec_apply(json_t *spec, const cli_spec_opts *o, const char *bundle_dir, cs_err *err);
/* An exec's Process: the container's process (env, cwd, user, capabilities, rlimits...) with args and
 * terminal replaced and extra env merged in. */
json_t *cli_spec_exec_process(const json_t *spec, char *const *args, size_t nargs, const char *const *env,
                              size_t nenv, bool terminal, cs_err *err);
/* LinuxResources for Update: only the fields given (quota 0 / limit 0 = leave alone). */
json_t *cli_spec_resources(int64_t cpu_quota, uint64_t cpu_period, uint64_t memory_limit, cs_err *err);

/* What the spec needs in the bundle besides config.json (Windows: the scratch layer folder; nothing on
 * Linux). */
int cli_spec_bundle_prepare(const json_t *spec, const char *bundle, cs_err *err);


#endif
