/* The -info action: stdin in, RuntimeInfo out (shim_info.h). */
#include <stdio.h>
#include <stdlib.h>

#include "shim_bootstrap.h"
#include "shim_info.h"
#include "shim_os.h"

int shim_info(const char *version, cs_err *err) {
  uint8_t *opts = malloc(SHIM_OPTS_MAX);
  if (!opts) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "-info: out of memory");
  size_t n = shim_os_read_stdin(opts, SHIM_OPTS_MAX);
  char binary[256];
  shim_info_binary(opts, n, binary, sizeof binary);
  char *features = shim_os_runtime_features(binary);
  uint8_t *out = NULL;
  size_t len = 0;
  int rc = shim_info_encode(version, opts, n, features, &out, &len, err);
  free(features);
  free(opts);
  if (rc < 0) return -1;
  shim_os_binary_stdout();
  if (fwrite(out, 1, len, stdout) != len || fflush(stdout) != 0) rc = cs_err_set(err, CS_INTERNAL, "-info: write stdout");
  free(out);
  return rc;
}
