/* The pod on Windows: not supported yet (a pod there is an HCS compute system the containers share, a
 * change of runtime/hcs of its own). Every call says so, with Unimplemented, so containerd reports it. */
#include "sandbox_pod.h"

static int pod_unsupported(cs_err *err) {
  return cs_err_set(err, CS_UNIMPLEMENTED, "pod sandboxes (sandboxer = \"shim\") are not supported on Windows yet");
}

sandbox_pod *sandbox_pod_new(uv_loop_t *loop, const sandbox_pod_config *cfg, sandbox_pod_exit_cb on_exit, void *data,
                             cs_err *err) {
  (void)loop, (void)cfg, (void)on_exit, (void)data;
  pod_unsupported(err);
  return NULL;
}
int sandbox_pod_start(sandbox_pod *pod, sandbox_pod_started_cb cb, void *data, cs_err *err) {
  (void)pod, (void)cb, (void)data;
  return pod_unsupported(err);
}
int sandbox_pod_kill(sandbox_pod *pod, cs_err *err) {
  (void)pod, (void)err;
  return 0;
}
int sandbox_pod_metrics(sandbox_pod *pod, uint8_t **out, size_t *len, const char **type_url, cs_err *err) {
  (void)pod, (void)out, (void)len, (void)type_url;
  return pod_unsupported(err);
}
void sandbox_pod_platform(const char **os, const char **arch) {
  *os = "windows";
  *arch = "amd64";
}
void sandbox_pod_free(sandbox_pod *pod) { (void)pod; }
