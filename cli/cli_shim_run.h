/* Run the shim binary once and capture its output: the platform half of cli_shim.c
 * (cli_shim_run_posix.c: fork/exec and poll; cli_shim_run_windows.c: CreateProcessW and anonymous pipes). */
#ifndef CLI_SHIM_RUN_H
#define CLI_SHIM_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "cs_err.h"

typedef struct cli_capture {
  char *buf;  /* NUL-terminated, malloc'd (free it); at most 1 MiB is kept */
  size_t len, cap;
} cli_capture;

/* Run the shim with argv in cwd, stdin from data, stdout (and stderr, combined if errout is NULL)
 * captured; env TTRPC_ADDRESS empty, GRPC_ADDRESS and NAMESPACE as containerd 1.7 sets them. Returns the
 * exit status (0..255, 128+sig) or -1 with err (DeadlineExceeded after timeout_ms: the shim is killed). */
int cli_shim_run(char *const argv[], const char *cwd, const uint8_t *data, size_t dlen, const char *ns,
                 const char *address, cli_capture *out, cli_capture *errout, int timeout_ms, cs_err *err);

#endif
