/* The platform half of the shim binary's entry points (start, serve, delete): where the shim listens and
 * how its serving process is made. shim_os_posix.c: a unix socket under /run/containerd/s, fork + exec with
 * the listener as fd 3, SO_PEERCRED. shim_os_windows.c: a named pipe
 * \\.\pipe\ProtectedPrefix\Administrators\containerd-shim-<ns>-<id>-pipe served by a detached process, its
 * DACL, the log pipe. The common logic (grouping, the address file, the daemon's loop) is written once in
 * shim_start.c, shim_serve.c and shim_delete.c. */
#ifndef SHIM_OS_H
#define SHIM_OS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shim_args.h"
#include "ttrpc.h"

/* ---------------------------------------------------------------- start */

/* What `start` holds between deciding that it serves the address and making the serving process. */
typedef struct shim_claim {
  intptr_t handle;   /* POSIX: the bound, listening socket; Windows: unused */
  char path[256];    /* what to remove if start fails */
} shim_claim;

/* The address containerd is told (stdout, the bundle's `address` file). group: the id, or the pod's
 * sandbox id. */
int shim_os_address(const shim_args *a, const char *group, char *out, size_t len, cs_err *err);
/* 1: a live shim already serves address (the caller answers it); 0: this start serves it (claim filled);
 * -1: error. */
int shim_os_claim(const char *address, shim_claim *c, cs_err *err);
void shim_os_unclaim(shim_claim *c);
/* Make the serving process, detached from the caller; returns once it serves the address. 1: another
 * shim won a race for the same address meanwhile (Windows; the caller answers that one). opts: the runtime
 * options start read on stdin (POSIX: a ShimCgroup there moves the serving process, as runc-v2's start). */
int shim_os_spawn(const shim_args *a, const char *self_exe, const char *address, shim_claim *c,
                  const uint8_t *opts, size_t opts_len, cs_err *err);
/* runc-v2's WriteAddress: write .address, then rename over `address`: a reader never sees half of it. */
int shim_os_write_address(const char *address, cs_err *err);
/* containerd writes the runtime options (a marshalled Any) on start's and -info's stdin: keep the first cap
 * bytes in buf (NULL/0: keep none), read the rest to EOF; returns the length kept. A console gives none. */
size_t shim_os_read_stdin(uint8_t *buf, size_t cap);

/* ---------------------------------------------------------------- serve */

typedef struct shim_os_serve shim_os_serve;

/* Process set-up of the serving process (signals, the log, reaping); log first so failures are seen. */
shim_os_serve *shim_os_serve_new(const shim_args *a, uv_loop_t *loop, cs_err *err);
/* Listen for containerd (the inherited socket, -socket, or the named pipe), refusing foreign peers. */
int shim_os_listen(shim_os_serve *s, ttrpc_server *srv, const shim_args *a, cs_err *err);
/* What is served, for the log line. */
const char *shim_os_served(const shim_os_serve *s);
/* Stop serving the address (remove the socket file) before the loop ends. */
void shim_os_unlisten(shim_os_serve *s);
/* Called on the loop before it is run for the last time; closes the handles the platform added. */
void shim_os_serve_free(shim_os_serve *s);
/* The process asks to stop (SIGTERM, a console close): cb runs on the loop. */
void shim_os_on_stop(shim_os_serve *s, void (*cb)(void *data), void *data);

/* ---------------------------------------------------------------- the rest */

/* stdout carries protobuf bytes (delete's response): no newline translation (Windows' text mode). */
void shim_os_binary_stdout(void);
/* This executable's path (re-exec for serving). */
int shim_os_self_exe(char *out, size_t len, cs_err *err);

#endif
