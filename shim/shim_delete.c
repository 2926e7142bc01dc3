/* `delete`: containerd's cleanup after a shim that died. Force-delete the container in the backend (runc
 * delete --force; HCS: terminate the compute system), unmount the rootfs, print DeleteResponse{pid,
 * exit_status, exited_at} on stdout: 137 after runc's SIGKILL (as runc-v2), 255 on Windows (as runhcs). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "containerd/task/v2/shim.pb-c.h"
#include "cs_id.h"
#include "cs_log.h"
#include "shim_backend.h"
#include "shim_os.h"
#include "shim_start.h"
#include "task_mount.h"
#include "task_os.h"

typedef struct delete_wait {
  bool done;
  cs_err err;
  bool failed;
} delete_wait;

static void delete_cb(void *data, const rt_result *res, const cs_err *rerr) {
  (void)res;
  delete_wait *w = data;
  w->done = true;
  if (rerr) {
    w->failed = true;
    w->err = *rerr;
  }
}

static void ignore_exit(void *data, int pid, int status, int64_t at) {
  (void)data, (void)pid, (void)status, (void)at;
}

static int read_pid(const char *bundle) {
  char path[4096];
  int n = snprintf(path, sizeof path, "%s/init.pid", bundle);
  if (n < 0 || (size_t)n >= sizeof path) return 0;
  FILE *f = fopen(path, "re");
  if (!f) return 0;
  int pid = 0;
  if (fscanf(f, "%d", &pid) != 1) pid = 0;
  fclose(f);
  return pid;
}

int shim_delete(const shim_args *a, cs_err *err) {
  char cwd[4096];
  size_t cwd_len = sizeof cwd;
  const char *bundle = a->bundle;
  if (!bundle || !*bundle) bundle = uv_cwd(cwd, &cwd_len) == 0 ? cwd : NULL;
  if (!bundle) return cs_err_set(err, CS_INTERNAL, "delete: no bundle");
  if (cs_id_check("task id", a->id, err) < 0) return -1;

  char binary[256], root[4096];
  shim_backend_load_opts(bundle, binary, sizeof binary, root, sizeof root);
  task_runtime_opts o = {.ns = a->ns, .bundle = NULL, .binary_name = binary, .root = root};
  rt_events ev = {.exit = ignore_exit};
  uv_loop_t loop;
  uv_loop_init(&loop);
  cs_err derr;
  shim_platform *pl = shim_platform_new(&derr);
  rt_backend *rt = pl ? shim_backend_new(pl, &loop, &o, &ev, &derr) : NULL;
  int pid = read_pid(bundle);
  if (rt && shim_backend_adopt(pl, rt, a->id, bundle, pid, &derr) < 0) CS_WARN("delete %s: %s", a->id, derr.msg);
  if (rt) {
    delete_wait w = {0};
    if (rt->ops->delete(rt, a->id, true, delete_cb, &w, &derr) == 0) {
      while (!w.done && uv_run(&loop, UV_RUN_ONCE)) {
      }
      if (w.failed && w.err.code != CS_NOT_FOUND) CS_WARN("delete %s: %s", a->id, w.err.msg);
    } else {
      CS_WARN("delete %s: %s", a->id, derr.msg);
    }
    rt->ops->destroy(rt);
  } else {
    CS_WARN("delete %s: %s", a->id, derr.msg);
  }
  uv_run(&loop, UV_RUN_NOWAIT);
  uv_loop_close(&loop);
  shim_platform_free(pl);

  if (task_rootfs_unmount(bundle, &derr) < 0) CS_WARN("delete %s: %s", a->id, derr.msg);

  Containerd__Task__V2__DeleteResponse resp = CONTAINERD__TASK__V2__DELETE_RESPONSE__INIT;
  Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
  int64_t now = task_os_now_ns();
  ts.seconds = now / 1000000000LL;
  ts.nanos = (int32_t)(now % 1000000000LL);
  resp.pid = (uint32_t)pid;
  resp.exit_status = (uint32_t)shim_backend_dead_exit_status();
  resp.exited_at = &ts;
  uint8_t buf[64];
  size_t len = containerd__task__v2__delete_response__pack(&resp, buf);
  shim_os_binary_stdout();
  if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0) return cs_err_set(err, CS_INTERNAL, "write response");
  return 0;
}
