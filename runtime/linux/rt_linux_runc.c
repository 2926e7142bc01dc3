#include "rt_linux_runc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "rt_linux_cmd.h"
#include "rt_linux_log.h"

#define RT_LINUX_RUNC_MAX_ARGS 64

struct rt_linux_runc_call {
  rt_linux_cmd *cmd;
  char log_path[PATH_MAX];
  off_t log_from;
  rt_linux_runc_cb cb;
  void *data;
};

/* A runtime that fails on a full filesystem cannot write its JSON log there either (its stderr is the
 * container's stdio): say what the failure most likely was rather than only its exit status. */
static void explain_silent_failure(const char *log_path, char *msg, size_t len) {
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", log_path);
  char *slash = strrchr(dir, '/');
  if (!slash || slash == dir) return;
  *slash = '\0';
  struct statvfs st;
  if (statvfs(dir, &st) != 0) return;
  if ((unsigned long long)st.f_bavail * st.f_frsize >= 64 * 1024 && (st.f_favail > 0 || st.f_files == 0)) return;
  size_t n = strlen(msg);
  if (n < len) snprintf(msg + n, len - n, ": no space left on device in %.200s (the runtime could not write its log)", dir);
}

static void on_done(void *data, const rt_linux_cmd_result *r) {
  rt_linux_runc_call *call = data;
  rt_linux_runc_result res = {.status = r->status, .out = r->out, .out_len = r->out_len};
  if (r->status != 0) {
    if (!rt_linux_log_read_error(call->log_path, call->log_from, res.msg, sizeof res.msg) &&
        !rt_linux_log_last_line(r->err, r->err_len, res.msg, sizeof res.msg) &&
        !rt_linux_log_last_line(r->out, r->out_len, res.msg, sizeof res.msg)) {
      if (r->status > 128)
        snprintf(res.msg, sizeof res.msg, "signal: %s", strsignal(r->status - 128));
      else
        snprintf(res.msg, sizeof res.msg, "exit status %d", r->status);
      explain_silent_failure(call->log_path, res.msg, sizeof res.msg);
    }
  }
  call->cb(call->data, &res);
  free(call);
}

rt_linux_runc_call *rt_linux_runc_run(rt_linux_runc *rc, const char *log_path, const char *const *args,
                                      const int *stdio, const char *input, size_t input_len,
                                      rt_linux_runc_cb cb, void *data, cs_err *err) {
  const char *argv[RT_LINUX_RUNC_MAX_ARGS];
  size_t n = 0;
  argv[n++] = rc->name;
  argv[n++] = "--root";
  argv[n++] = rc->root;
  argv[n++] = "--log";
  argv[n++] = log_path;
  argv[n++] = "--log-format";
  argv[n++] = "json";
  if (rc->systemd_cgroup) argv[n++] = "--systemd-cgroup";
  if (rc->criu[0]) {
    argv[n++] = "--criu";
    argv[n++] = rc->criu;
  }
  for (size_t i = 0; args[i]; i++) {
    if (n + 1 >= RT_LINUX_RUNC_MAX_ARGS) {
      cs_err_set(err, CS_INVALID_ARGUMENT, "%s: too many arguments", rc->name);
      return NULL;
    }
    argv[n++] = args[i];
  }
  argv[n] = NULL;

  rt_linux_runc_call *call = calloc(1, sizeof *call);
  if (!call) {
    cs_err_sys(err, ENOMEM, "%s %s", rc->name, args[0]);
    return NULL;
  }
  snprintf(call->log_path, sizeof call->log_path, "%s", log_path);
  call->log_from = rt_linux_log_offset(log_path);
  call->cb = cb;
  call->data = data;
  rt_linux_cmd_spec spec = {
      .path = rc->path,
      .argv = (char *const *)argv,
      .fd = {RT_LINUX_CMD_NULL, RT_LINUX_CMD_CAPTURE, RT_LINUX_CMD_CAPTURE},
      .input = input,
      .input_len = input_len,
      .capture_max = 1 << 20, /* ps output of a large container */
  };
  if (stdio)
    for (int i = 0; i < 3; i++) spec.fd[i] = stdio[i] >= 0 ? stdio[i] : RT_LINUX_CMD_NULL;
  call->cmd = rt_linux_cmd_start(rc->loop, rc->reaper, &spec, on_done, call, err);
  if (!call->cmd) {
    free(call);
    return NULL;
  }
  return call;
}

void rt_linux_runc_cancel(rt_linux_runc_call *call) {
  if (!call) return;
  rt_linux_cmd_cancel(call->cmd);
  free(call);
}
