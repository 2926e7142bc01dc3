/* The command line containerd gives a v2 shim (Go flag syntax: -name value, -name=value, --name value):
 *   start:   -namespace NS -address GRPC -publish-binary BIN -id ID [-debug] start
 *   delete:  -namespace NS -address GRPC -publish-binary BIN -id ID -bundle PATH delete
 *   serving: -namespace NS -id ID -address GRPC [-debug]   (our own re-exec from start; listener on fd 3) */
#ifndef SHIM_ARGS_H
#define SHIM_ARGS_H

#include <stdbool.h>

#include "cs_err.h"

typedef struct shim_args {
  const char *ns;
  const char *id;
  const char *address;         /* containerd's gRPC socket path */
  const char *publish_binary;
  const char *bundle;          /* -bundle, else the working directory */
  const char *socket;          /* -socket: serve this socket path instead of the inherited fd 3 */
  const char *ttrpc_address;   /* $TTRPC_ADDRESS, else address + ".ttrpc" */
  bool debug;
  bool version;
  bool info;                   /* -info: print RuntimeInfo for the options on stdin */
  const char *action;          /* "start", "delete", or NULL (serve) */
} shim_args;

int shim_args_parse(shim_args *a, int argc, char **argv, cs_err *err);

#endif
