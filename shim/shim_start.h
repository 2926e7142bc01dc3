/* The `start`, `delete` and serving entry points of the shim binary (common logic; the platform half is
 * shim_os.h). */
#ifndef SHIM_START_H
#define SHIM_START_H

#include "shim_args.h"

/* Prints the shim's address on stdout; nothing else may be printed (containerd reads stdout+stderr). */
int shim_start(const shim_args *a, const char *self_exe, cs_err *err);
/* Cleans up after a dead shim and prints a protobuf DeleteResponse on stdout. */
int shim_delete(const shim_args *a, cs_err *err);
/* Runs the Task API until Shutdown; returns the process exit code. */
int shim_serve(const shim_args *a, cs_err *err);

#endif
