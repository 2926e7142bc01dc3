/* cshimctl's state directory: one bundle per container, and what cshimctl remembers about it.
 *
 *   <state>/cshimctl.sock          the containerd address handed to shims (-address); nothing listens:
 *                                  it only names the shim sockets (sha256 of address/namespace/id)
 *   <state>/<id>/                  the bundle (the shim's cwd): config.json, the shim's files (address,
 *                                  init.pid, log, ...)
 *   <state>/<id>/cshimctl.json     our record: namespace, rootfs, network, ... written once the bundle
 *                                  exists, completed with the shim's address and binary once it is up
 *   <state>/<id>/io/               stdio FIFOs stdin|stdout|stderr, per exec <exec-id>-stdin|..., and
 *                                  `output` (what a detached container prints)
 *   <state>/<id>/log               the shim's log, a plain file (no daemon drains a FIFO here) */
#ifndef CLI_STATE_H
#define CLI_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cs_err.h"

#define CLI_PATH_MAX 4096
#define CLI_ADDRESS_NAME "cshimctl.sock"
#define CLI_META_NAME "cshimctl.json"

typedef struct cli_meta {
  char id[80];
  char ns[80];
  char bundle[CLI_PATH_MAX];
  char address[512];        /* the shim's socket, "unix:///run/containerd/s/..." */
  char shim[CLI_PATH_MAX];  /* shim binary, for `delete` after the shim died */
  char ctd_address[CLI_PATH_MAX]; /* -address given to the shim (part of the socket name) */
  char rootfs[CLI_PATH_MAX];
  char runtime[64];         /* runc, crun or "" (the shim's default) */
  bool terminal;
  bool detached;
  int64_t created;          /* unix seconds */
  bool net_attached;        /* run --net attached a network that rm must detach */
  char net_id[160];         /* "<namespace>.<id>" */
  char net_config_dir[CLI_PATH_MAX], net_state_dir[CLI_PATH_MAX]; /* "" = network/cni's defaults */
  char ip[64];              /* first address of the interface, CIDR */
} cli_meta;

/* "<state>/<id>" (id must be validated). */
int cli_state_bundle(const char *state_dir, const char *id, char *out, size_t len, cs_err *err);
/* Make the state dir (0711) and the bundle with its io/ dir. AlreadyExists if the bundle exists: the id
 * is taken (mkdir is the lock; nothing of the existing container is touched). */
int cli_state_create(const char *state_dir, const char *id, char *bundle, size_t len, cs_err *err);
/* Record/read the container's cli_meta (written atomically: a reader sees all of it or none). */
int cli_meta_write(const cli_meta *m, cs_err *err);
int cli_meta_read(const char *state_dir, const char *id, cli_meta *m, cs_err *err);
/* Ids of the bundles that have a record, sorted; free with cli_state_list_free. */
int cli_state_list(const char *state_dir, char ***ids, size_t *n, cs_err *err);
void cli_state_list_free(char **ids, size_t n);
/* Remove a bundle: detach anything mounted on <bundle>/rootfs, then delete the tree without crossing into
 * other filesystems or following symlinks (a rootfs referenced by path is never inside it). */
int cli_state_remove(const char *bundle, cs_err *err);

/* Write a whole file atomically (tmp + rename). */
int cli_write_file(const char *path, const void *data, size_t len, int mode, cs_err *err);
/* Compact JSON text (malloc'd) or NULL with err. */
char *cli_json_dump(const json_t *j, cs_err *err);
/* Read a small file into a malloc'd NUL-terminated buffer. */
int cli_read_file(const char *path, char **out, size_t *len, cs_err *err);

#endif
