/* Integration test fixture: a temp dir with a runtime state root and busybox bundles. */
#ifndef RT_TEST_BUNDLE_H
#define RT_TEST_BUNDLE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tb_env {
  char dir[PATH_MAX];   /* /tmp/cshim-rtl-XXXXXX */
  char state[PATH_MAX]; /* <dir>/state: --root of the runtime */
} tb_env;

typedef struct tb_spec {
  const char *const *args;
  bool terminal;
  int64_t memory_limit; /* bytes; 0: none */
} tb_spec;

int tb_env_init(tb_env *e);
/* <dir>/<name> with rootfs/ (busybox) and config.json; path into out. */
int tb_bundle(const tb_env *e, const char *name, const tb_spec *s, char *out, size_t outlen);
/* Force-delete whatever the runtime still has under the state root, remove the temp dir. Synchronous:
 * only for teardown, with no backend alive. */
void tb_env_cleanup(tb_env *e, const char *binary);
/* Run argv synchronously (waits for that pid only); exit status or -1. */
int tb_run(char *const *argv);
/* Read from fd until `want` appears or ms pass; returns true if seen. */
bool tb_read_until(int fd, const char *want, int ms, char *buf, size_t buflen);

#endif
