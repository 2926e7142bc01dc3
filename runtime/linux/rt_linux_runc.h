/* One invocation of the OCI runtime binary, the way go-runc builds it:
 *   <binary> --root R --log <bundle>/log.json --log-format json [--systemd-cgroup] [--criu P] <args...>
 * On a non-zero exit the message is the runtime's last JSON log error written by this invocation, else
 * its last stderr line, else "exit status N". */
#ifndef RT_LINUX_RUNC_H
#define RT_LINUX_RUNC_H

#include <limits.h>
#include <stdbool.h>
#include <uv.h>

#include "cs_err.h"
#include "rt_reaper.h"

typedef struct rt_linux_runc {
  uv_loop_t *loop;
  rt_reaper *reaper;
  char path[PATH_MAX]; /* resolved binary */
  char name[64];       /* as configured: "runc", "crun" */
  char root[PATH_MAX];
  char criu[PATH_MAX];
  bool systemd_cgroup;
} rt_linux_runc;

typedef struct rt_linux_runc_result {
  int status;               /* exit code, 128+signal */
  const char *out;          /* captured stdout (empty when the caller passed stdio fds) */
  size_t out_len;
  char msg[CS_ERR_MSG_MAX]; /* status != 0: what the runtime said */
} rt_linux_runc_result;

typedef void (*rt_linux_runc_cb)(void *data, const rt_linux_runc_result *res);

typedef struct rt_linux_runc_call rt_linux_runc_call;

/* args: the subcommand and its arguments, NULL-terminated. stdio: NULL to capture stdout/stderr (stdin
 * /dev/null), else the three fds for the runtime (they pass on to the container for create/exec).
 * input: stdin contents (update --resources -). */
rt_linux_runc_call *rt_linux_runc_run(rt_linux_runc *rc, const char *log_path, const char *const *args,
                                      const int *stdio, const char *input, size_t input_len,
                                      rt_linux_runc_cb cb, void *data, cs_err *err);

/* Drop an invocation in flight: no callback. */
void rt_linux_runc_cancel(rt_linux_runc_call *call);

#endif
