/* Starting and cleaning up shims the way containerd does (runtime/v2 shim binary contract):
 *
 *   start:  <shim> -namespace NS -address ADDR -publish-binary SELF -id ID [-debug] start
 *           cwd = bundle, stdin = the runtime options (marshalled Any, may be empty), stdout+stderr read
 *           together and trimmed: that is the socket address (plain, or 1.7's JSON {"address": ...}).
 *   delete: <shim> -namespace NS -address ADDR -publish-binary SELF -id ID -bundle B delete
 *           stdout = a DeleteResponse; used when the shim died.
 *
 * Environment: TTRPC_ADDRESS is set empty. No containerd listens for events; a shim only logs them. */
#ifndef CLI_SHIM_H
#define CLI_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cs_err.h"

#define CLI_SHIM_NAME "containerd-shim-cshim-v2"
#define CLI_SHIM_START_TIMEOUT_MS 10000
#define CLI_SHIM_PATH_MAX 4096

typedef struct cli_shim_cmd {
  const char *shim;            /* binary */
  const char *ns;
  const char *address;         /* the "containerd" address (names the socket) */
  const char *publish_binary;  /* cshimctl itself */
  const char *id;
  const char *bundle;          /* cwd */
  const uint8_t *stdin_data;   /* runtime options Any, may be NULL */
  size_t stdin_len;
  bool debug;
} cli_shim_cmd;

/* The shim binary: override if given (must be executable), else CLI_SHIM_NAME next to self_exe, else on
 * PATH. */
int cli_shim_find(const char *self_exe, const char *override, char *out, size_t len, cs_err *err);
/* Run `start`; on success the socket address is in out ("unix:///..."). */
int cli_shim_start(const cli_shim_cmd *c, char *out, size_t len, cs_err *err);
/* Run `delete` for a dead shim; *exit_status from its DeleteResponse (may be NULL). */
int cli_shim_delete(const cli_shim_cmd *c, uint32_t *exit_status, cs_err *err);
/* The address in a `start` output: trimmed text, or the "address" of a JSON object. Pure. */
int cli_shim_parse_address(const char *output, char *out, size_t len, cs_err *err);
/* "unix:///x" or "/x" → "/x" (the filesystem path of a socket address), pointer into addr. */
const char *cli_socket_path(const char *addr);

#endif
