/* Idle exit: a shim that holds no task and has no client left exits after its grace period
 * (CSHIM_IDLE_EXIT_MS, 1 s here) and removes its socket — after a failed first Create, after a failed
 * CreateSandbox, and after a connection that closed without any task. A shim that still holds a task or a
 * running pod (the Sandbox API) stays up without a client (containerd restarting must find it). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "containerd/runtime/sandbox/v1/sandbox.pb-c.h"
#include "shimtest.h"

#define GRACE_MS 1000

typedef struct gone_check {
  pid_t pid;
  const char *sock;
} gone_check;

static bool shim_gone(st_env *e, void *data) {
  (void)e;
  gone_check *g = data;
  return !st_pid_alive(g->pid) && access(g->sock, F_OK) < 0;
}

static int setup(st_env *e, const char *id, const char *const *args, char *bundle, size_t blen, char *sock,
                 size_t slen) {
  st_path(bundle, blen, "%s/%s", e->work, id);
  if (mkdir(bundle, 0700) < 0 && errno != EEXIST) return -1;
  if (st_bundle(e, bundle, id, args, NULL) < 0) return -1;
  return st_shim_start_ok(e, bundle, id, sock, slen);
}

/* Whatever led there, the shim must be gone (process and socket) well within a deadline. */
static void expect_exit(st_env *e, const char *what, pid_t pid, const char *sock) {
  gone_check g = {pid, sock};
  bool gone = pid > 0 && st_wait_until(e, 20 * GRACE_MS, shim_gone, &g);
  st_check(e, gone, "%s: shim %d exited and removed %s (alive %d, socket %s)", what, (int)pid, sock,
           st_pid_alive(pid), access(sock, F_OK) == 0 ? "left" : "gone");
}

static void test_failed_create(st_env *e) {
  char bundle[1024], sock[512], msg[CS_ERR_MSG_MAX];
  const char *args[] = {"true", NULL};
  if (!st_check(e, setup(e, "idle-fail", args, bundle, sizeof bundle, sock, sizeof sock) == 0,
                "failed create: shim started")) return;
  pid_t pid = st_shim_pid(e, "idle-fail", 5000);
  cs_err err;
  ttrpc_client *cl = st_connect(e, sock, &err);
  if (!st_check(e, cl != NULL, "failed create: connect %s", cl ? "" : err.msg)) return;
  st_create_opts o = {.binary_name = "/bin/false"}; /* an OCI runtime that fails every create */
  int rc = st_create(e, cl, "idle-fail", bundle, &o, NULL, msg);
  st_check(e, rc != CS_OK, "failed create: Create fails (%d %s)", rc, msg);
  st_check(e, st_pid_alive(pid), "failed create: shim up while the client is connected");
  st_close(e, cl); /* containerd gone, no Shutdown: what a failed RunPodSandbox retry leaves */
  expect_exit(e, "failed create", pid, sock);
}

/* One unary call on the Sandbox service: its status code (msg: its message). */
static int sb_rpc(st_env *e, ttrpc_client *c, const char *method, const ProtobufCMessage *req,
                  const ProtobufCMessageDescriptor *rdesc, ProtobufCMessage **resp, char *msg) {
  uint8_t buf[1024];
  size_t len = protobuf_c_message_pack(req, buf);
  ttrpc_kv md[1] = {{"containerd-namespace-ttrpc", e->ns}};
  uint8_t *out = NULL;
  size_t out_len = 0;
  cs_err err;
  cs_err_clear(&err);
  int rc = ttrpc_client_call_sync(c, "containerd.runtime.sandbox.v1.Sandbox", method, buf, len, md, 1, 30 * ST_SEC,
                                  &out, &out_len, &err);
  snprintf(msg, CS_ERR_MSG_MAX, "%s", rc < 0 ? err.msg : "");
  if (rc < 0) return err.code ? err.code : CS_UNKNOWN;
  if (rdesc && resp) *resp = protobuf_c_message_unpack(rdesc, NULL, out_len, out);
  free(out);
  return CS_OK;
}

static int sb_create(st_env *e, ttrpc_client *cl, const char *id, const char *bundle, const char *netns, char *msg) {
  Containerd__Runtime__Sandbox__V1__CreateSandboxRequest r = CONTAINERD__RUNTIME__SANDBOX__V1__CREATE_SANDBOX_REQUEST__INIT;
  r.sandbox_id = (char *)id;
  r.bundle_path = (char *)bundle;
  r.netns_path = (char *)netns;
  return sb_rpc(e, cl, "CreateSandbox", &r.base, NULL, NULL, msg);
}

/* What containerd 2.x does on a failed CreateSandbox when it cannot reach the shim to shut it down. */
static void test_failed_create_sandbox(st_env *e) {
  char bundle[1024], sock[512], msg[CS_ERR_MSG_MAX];
  const char *args[] = {"true", NULL};
  if (!st_check(e, setup(e, "idle-sbfail", args, bundle, sizeof bundle, sock, sizeof sock) == 0,
                "failed CreateSandbox: shim started")) return;
  pid_t pid = st_shim_pid(e, "idle-sbfail", 5000);
  cs_err err;
  ttrpc_client *cl = st_connect(e, sock, &err);
  if (!st_check(e, cl != NULL, "failed CreateSandbox: connect %s", cl ? "" : err.msg)) return;
  int rc = sb_create(e, cl, "idle-sbfail", bundle, "/nonexistent/netns", msg);
  st_check(e, rc == CS_NOT_FOUND && strstr(msg, "/nonexistent/netns"),
           "failed CreateSandbox: NotFound naming the netns path (%d %s)", rc, msg);
  st_close(e, cl);
  expect_exit(e, "failed CreateSandbox", pid, sock);
}

/* A running pod holds the shim like a task; ShutdownSandbox ends the pod's process and the shim. */
static void test_pod_keeps_shim(st_env *e) {
  char bundle[1024], sock[512], msg[CS_ERR_MSG_MAX];
  const char *args[] = {"true", NULL};
  if (!st_check(e, setup(e, "idle-pod", args, bundle, sizeof bundle, sock, sizeof sock) == 0,
                "pod: shim started")) return;
  pid_t pid = st_shim_pid(e, "idle-pod", 5000);
  cs_err err;
  ttrpc_client *cl = st_connect(e, sock, &err);
  if (!st_check(e, cl != NULL, "pod: connect %s", cl ? "" : err.msg)) return;
  int rc = sb_create(e, cl, "idle-pod", bundle, "", msg);
  Containerd__Runtime__Sandbox__V1__StartSandboxRequest sr = CONTAINERD__RUNTIME__SANDBOX__V1__START_SANDBOX_REQUEST__INIT;
  sr.sandbox_id = "idle-pod";
  Containerd__Runtime__Sandbox__V1__StartSandboxResponse *started = NULL;
  if (rc == CS_OK)
    rc = sb_rpc(e, cl, "StartSandbox", &sr.base, &containerd__runtime__sandbox__v1__start_sandbox_response__descriptor,
                (ProtobufCMessage **)&started, msg);
  pid_t pod = started ? (pid_t)started->pid : 0;
  if (started) protobuf_c_message_free_unpacked(&started->base, NULL);
  if (!st_check(e, rc == CS_OK && pod > 0 && st_pid_alive(pod), "pod: created and started (%d %s), pid %d", rc, msg,
                (int)pod)) {
    st_shutdown_exit(e, cl, pid, NULL);
    return;
  }
  st_close(e, cl);
  /* Not a synchronization: the shim must still be there well after its grace period has passed. */
  st_sleep(e, 3 * GRACE_MS);
  st_check(e, st_pid_alive(pid) && st_pid_alive(pod), "pod: shim %d and pod %d stay up, no client", (int)pid, (int)pod);
  cl = st_connect(e, sock, &err);
  if (!st_check(e, cl != NULL, "pod: reconnect %s", cl ? "" : err.msg)) return;
  rc = sb_rpc(e, cl, "ShutdownSandbox", &sr.base, NULL, NULL, msg); /* {sandbox_id}: the same shape */
  st_check(e, rc == CS_OK || rc == CS_UNAVAILABLE, "pod: ShutdownSandbox (%d %s)", rc, msg);
  st_close(e, cl);
  expect_exit(e, "pod: after ShutdownSandbox", pid, sock);
  st_check(e, !st_pid_alive(pod), "pod: its process %d is gone with the shim", (int)pod);
}

static void test_connection_without_task(st_env *e) {
  char bundle[1024], sock[512];
  const char *args[] = {"true", NULL};
  if (!st_check(e, setup(e, "idle-none", args, bundle, sizeof bundle, sock, sizeof sock) == 0,
                "no task: shim started")) return;
  pid_t pid = st_shim_pid(e, "idle-none", 5000);
  cs_err err;
  ttrpc_client *cl = st_connect(e, sock, &err);
  if (!st_check(e, cl != NULL, "no task: connect %s", cl ? "" : err.msg)) return;
  uint32_t shim_pid = 0, task_pid = 0;
  char msg[CS_ERR_MSG_MAX];
  st_connect_rpc(e, cl, "idle-none", &shim_pid, &task_pid, msg);
  st_close(e, cl);
  expect_exit(e, "no task", pid, sock);
}

static void test_task_keeps_shim(st_env *e) {
  char bundle[1024], sock[512], msg[CS_ERR_MSG_MAX];
  const char *args[] = {"sleep", "600", NULL};
  if (!st_check(e, setup(e, "idle-task", args, bundle, sizeof bundle, sock, sizeof sock) == 0,
                "task: shim started")) return;
  pid_t pid = st_shim_pid(e, "idle-task", 5000);
  cs_err err;
  ttrpc_client *cl = st_connect(e, sock, &err);
  if (!st_check(e, cl != NULL, "task: connect %s", cl ? "" : err.msg)) return;
  st_create_opts o = {0};
  int rc = st_create(e, cl, "idle-task", bundle, &o, NULL, msg);
  if (rc == CS_OK) rc = st_start(e, cl, "idle-task", NULL, msg);
  st_check(e, rc == CS_OK, "task: created and started (%d %s)", rc, msg);
  st_close(e, cl);
  /* Not a synchronization: the shim must still be there well after its grace period has passed. */
  st_sleep(e, 3 * GRACE_MS);
  st_check(e, st_pid_alive(pid) && access(sock, F_OK) == 0, "task: shim %d stays up holding a task, no client",
           (int)pid);
  cl = st_connect(e, sock, &err);
  if (!st_check(e, cl != NULL, "task: reconnect %s", cl ? "" : err.msg)) return;
  st_remove_task(e, cl, "idle-task");
  bool gone = st_shutdown_exit(e, cl, pid, &rc);
  st_check(e, gone, "task: shim exits after Shutdown (%d)", rc);
}

/* containerd logs any of delete's stderr as a warning ("warnings while cleaning up dead shim") and passes
 * -debug at its debug level: the cleanup of a process that is simply gone must write nothing there. */
static void test_delete_gone_quiet(st_env *e) {
  char bundle[1024], cmd[4096], errf[1024], outf[1024];
  const char *args[] = {"true", NULL};
  st_path(bundle, sizeof bundle, "%s/idle-del", e->work);
  if (!st_check(e, (mkdir(bundle, 0700) == 0 || errno == EEXIST) && st_bundle(e, bundle, "idle-del", args, NULL) == 0,
                "delete: bundle written")) return;
  /* init.pid of a process that has exited and been reaped */
  st_path(cmd, sizeof cmd, "cd '%s' && sh -c 'echo $$ > init.pid'", bundle);
  if (!st_check(e, system(cmd) == 0, "delete: init.pid of a gone process")) return;
  st_path(errf, sizeof errf, "%s/delete.err", e->work);
  st_path(outf, sizeof outf, "%s/delete.out", e->work);
  st_path(cmd, sizeof cmd, "cd '%s' && '%s' -namespace '%s' -address '%s' -publish-binary /bin/true -id idle-del "
          "-bundle '%s' -debug delete >'%s' 2>'%s'", bundle, e->shim, e->ns, e->address, bundle, outf, errf);
  int rc = system(cmd);
  struct stat st_err, st_out;
  bool quiet = stat(errf, &st_err) == 0 && st_err.st_size == 0;
  st_check(e, rc == 0, "delete: exits 0 (%d)", rc);
  st_check(e, stat(outf, &st_out) == 0 && st_out.st_size > 0, "delete: a DeleteResponse on stdout");
  if (!st_check(e, quiet, "delete -debug of a gone process: nothing on stderr")) {
    st_path(cmd, sizeof cmd, "sed 's/^/#   /' '%s'", errf);
    if (system(cmd) != 0) st_diag("could not show %s", errf);
  }
}

int main(int argc, char **argv) {
  st_env e;
  if (st_init(&e, argc, argv) < 0) return 2;
  char grace[16];
  snprintf(grace, sizeof grace, "%d", GRACE_MS);
  setenv("CSHIM_IDLE_EXIT_MS", grace, 1); /* inherited by start and the serving process it makes */
  st_events_listen(&e, NULL);
  test_failed_create(&e);
  test_failed_create_sandbox(&e);
  test_pod_keeps_shim(&e);
  test_connection_without_task(&e);
  test_task_keeps_shim(&e);
  test_delete_gone_quiet(&e);
  st_events_close(&e);
  printf("# fault_idle: %.1f s\n", st_elapsed(&e));
  return st_finish(&e);
}
