/* What `start` prints, by what the host understands (containerd's "bootstrap parameters").
 *
 *  - containerd 1.6 sets no MAX_SHIM_VERSION and reads only a bare address: answer "unix://...".
 *  - containerd 1.7, 2.0 and 2.1 all set MAX_SHIM_VERSION=2 (pkg/shim/util.go: Command); 1.7 accepts the JSON
 *    `{"version":2,"address":...,"protocol":"ttrpc"}` and rejects version 3; 2.x accepts 2 and 3 and talks
 *    containerd.task.v3.Task to a version-3 shim. The environment cannot tell 1.7 from 2.x, so version 3 is
 *    answered only when the runtime's own config says the host takes it: `BootstrapVersion = 3` in the
 *    runtime options (runtimeoptions.v1.Options: its config_path file, else its config_body; what CRI sends a
 *    non-runc runtime, and what `ctr --runtime-config-path` sends). See README "Bootstrap and task API v3".
 *  - An address that is not a unix socket (Windows' named pipe) keeps the bare form: hosts parse it on every
 *    version.
 * The serving process registers the Task service under both names, so either answer is served. */
#ifndef SHIM_BOOTSTRAP_H
#define SHIM_BOOTSTRAP_H

#include <stddef.h>
#include <stdint.h>

#include "cs_err.h"

#define SHIM_OPTS_MAX (1u << 20)

/* 1 (bare address), 2 or 3. max_env: MAX_SHIM_VERSION's value or NULL; opts: start's stdin (a marshalled
 * google.protobuf.Any, may be empty). */
int shim_bootstrap_version(const char *max_env, const uint8_t *opts, size_t len);
/* The line start prints for address at that version. */
int shim_bootstrap_answer(int version, const char *address, char *out, size_t len, cs_err *err);

#endif
