/* Runtime options as containerd sends them — a protobuf Any, on `start`'s stdin and with Create — decoded by
 * the Any's type URL into task_runtime_opts:
 *   containerd.runc.v1.Options             io.containerd.runc.* runtimes' options (ctr, cshimctl)
 *   containerd.linux.runc.CreateOptions    containerd's Go client, for any other runtime name (this shim's):
 *                                          WithShimCgroup, WithUIDOwner/GIDOwner, WithNoNewKeyring, ...
 *   containerd.linux.runc.RuncOptions      CRI, for the io.containerd.runtime.v1.linux runtime type
 *   runtimeoptions.v1.Options              CRI, for any runtime type not runc's: the handler's options table as
 *                                          TOML in config_body (containerd 2.x), or the TOML file at config_path
 * The TOML keys are runc-v2's option names (BinaryName, Root, SystemdCgroup, ShimCgroup, IoUid, ...). Anything
 * else is InvalidArgument naming the type. */
#ifndef TASK_OPTS_H
#define TASK_OPTS_H

#include <stddef.h>
#include <stdint.h>

#include "cs_err.h"
#include "task_service.h"

#define TASK_OPTS_MAX_STRINGS 8

typedef struct task_opts {
  task_runtime_opts o;                 /* ns and bundle are the caller's to set */
  char *owned[TASK_OPTS_MAX_STRINGS];  /* the strings o points to */
  int n_owned;
} task_opts;

/* type_url: the Any's (a "host/" prefix is allowed); data/len its value. Empty Any: the defaults. t must be
 * released even when this fails. */
int task_opts_decode(task_opts *t, const char *type_url, const uint8_t *data, size_t len, cs_err *err);
void task_opts_release(task_opts *t);

#endif
