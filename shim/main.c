/* containerd-shim-cshim-v2: a containerd runtime-v2 shim. See shim_args.h for the command line. */
#include <stdio.h>
#include <string.h>

#include "cs_log.h"
#include "cshim_version.h"
#include "shim_info.h"
#include "shim_os.h"
#include "shim_start.h"

int main(int argc, char **argv) {
  shim_args a;
  cs_err err;
  cs_err_clear(&err);
  if (shim_args_parse(&a, argc, argv, &err) < 0) {
    fprintf(stderr, "%s\n", err.msg);
    return 2;
  }
  if (a.version) {
    /* The lines containerd's own shims print (pkg/shim: os.Args[0], then Version, Revision, Go version). */
    printf("%s:\n  Version:  %s\n  Revision: %s\n  Go version: none (C11, %s)\n\n", argv[0], CSHIM_VERSION,
           CSHIM_REVISION, CSHIM_COMPILER);
    return 0;
  }
  if (a.info) {
    if (shim_info(CSHIM_VERSION, &err) < 0) {
      fprintf(stderr, "%s\n", err.msg);
      return 1;
    }
    return 0;
  }
  if (a.action && strcmp(a.action, "start") == 0) {
    char self[4096];
    if (shim_os_self_exe(self, sizeof self, &err) < 0 || shim_start(&a, self, &err) < 0) {
      fprintf(stderr, "%s\n", err.msg);
      return 1;
    }
    return 0;
  }
  if (a.action && strcmp(a.action, "delete") == 0) {
    /* stderr is logged by containerd as cleanup warnings (any of it, whatever its level; containerd passes
     * -debug when it runs at debug level): so only warnings go there, never the debug notes of a cleanup
     * that went as expected (a process already gone). stdout is the response only. */
    cs_log_setup(2, CS_LOG_WARN);
    if (shim_delete(&a, &err) < 0) {
      fprintf(stderr, "%s\n", err.msg);
      return 1;
    }
    return 0;
  }
  if (a.action) {
    fprintf(stderr, "unknown action %s (want start or delete)\n", a.action);
    return 2;
  }
  if (shim_serve(&a, &err) < 0) {
    cs_log(CS_LOG_ERROR, "serve: %s", err.msg);
    return 1;
  }
  return 0;
}
