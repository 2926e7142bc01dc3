/* `delete`: containerd's cleanup after a shim that died. Force-delete the container in the runtime,
 * unmount the rootfs, print DeleteResponse{pid, exit_status 137, exited_at} (as runc-v2 does) on stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "containerd/task/v2/shim.pb-c.h"
#include "cs_log.h"
#include "shim_backend.h"
#include "shim_start.h"
#include "task_mount.h"

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
  snprintf(path, sizeof path, "%s/init.pid", bundle);
  FILE *f = fopen(path, "re");
  if (!f) return 0;
  int pid = 0;
  if (fscanf(f, "%d", &pid) != 1) pid = 0;
  fclose(f);
  return pid;
}

int shim_delete(const shim_args *a, cs_err *err) {
  char cwd[4096];
  const char *bundle = a->bundle;
  if (!bundle || !*bundle) bundle = getcwd(cwd, sizeof cwd);
  if (!bundle) return cs_err_set(err, CS_INTERNAL, "delete: no bundle");
  if (!a->id || task_validate_id("task id", a->id, err) < 0) return -1;

  char binary[256], root[4096];
  shim_backend_load_opts(bundle, binary, sizeof binary, root, sizeof root);
  task_runtime_opts o = {.ns = a->ns, .bundle = NULL, .binary_name = binary, .root = root};
  rt_events ev = {.exit = ignore_exit};
  uv_loop_t loop;
  uv_loop_init(&loop);
  cs_err derr;
  rt_backend *rt = shim_backend_new(NULL, &loop, &o, &ev, &derr);
  int pid = read_pid(bundle);
  if (rt && shim_backend_adopt(rt, a->id, bundle, pid, &derr) < 0) CS_WARN("delete %s: %s", a->id, derr.msg);
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

  char rootfs[4200];
  snprintf(rootfs, sizeof rootfs, "%s/rootfs", bundle);
  if (task_unmount_all(rootfs, &derr) < 0) CS_WARN("delete %s: %s", a->id, derr.msg);

  Containerd__Task__V2__DeleteResponse resp = CONTAINERD__TASK__V2__DELETE_RESPONSE__INIT;
  Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  ts.seconds = now.tv_sec;
  ts.nanos = (int32_t)now.tv_nsec;
  resp.pid = (uint32_t)pid;
  resp.exit_status = 128 + 9;
  resp.exited_at = &ts;
  uint8_t buf[64];
  size_t len = containerd__task__v2__delete_response__pack(&resp, buf);
  if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0) return cs_err_set(err, CS_INTERNAL, "write response");
  return 0;
}
