/* The Sandbox API (shim/sandbox_service.c) through the transport: a real TTRPC socket beside the Task
 * service (svc_env.c, fake backend). The bad-request and idle-exit cases need no privilege; the pod's own
 * process (new IPC/UTS/PID namespaces, setns into a netns) needs root and is skipped without it. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "containerd/runtime/sandbox/v1/sandbox.pb-c.h"
#include "cshim/podconfig.pb-c.h"
#include "sandbox_service.h"
#include "shim_idle.h"
#include "svc_env.h"

#define SB SANDBOX_SERVICE_NAME

static sandbox_service *S;
static bool sb_shutdown;

static void on_sb_shutdown(void *data) { (void)data, sb_shutdown = true; }

static int sb_setup(void **state) {
  setup(state);
  cs_err err;
  sandbox_service_config cfg = {.loop = &E->loop, .tasks = E->svc, .on_shutdown = on_sb_shutdown};
  S = sandbox_service_new(&cfg, &err);
  assert_non_null(S);
  assert_int_equal(sandbox_service_register(S, E->server, &err), 0);
  sb_shutdown = false;
  return 0;
}

static int sb_teardown(void **state) {
  sandbox_service_free(S);
  S = NULL;
  return teardown(state);
}

/* One unary Sandbox call: the status code (msg gets its message), the reply unpacked into *out. */
static int sbcall(const char *method, const ProtobufCMessage *req, const ProtobufCMessageDescriptor *desc, void **out,
                  char *msg) {
  uint8_t buf[4096];
  size_t len = req ? protobuf_c_message_pack(req, buf) : 0;
  uint8_t *reply = NULL;
  size_t rlen = 0;
  cs_err err;
  if (msg) msg[0] = '\0';
  if (ttrpc_client_call_sync(E->client, SB, method, buf, len, NULL, 0, 0, &reply, &rlen, &err) < 0) {
    if (msg) snprintf(msg, CS_ERR_MSG_MAX, "%s", err.msg);
    return err.code;
  }
  if (desc && out) *out = protobuf_c_message_unpack(desc, NULL, rlen, reply);
  free(reply);
  return 0;
}

/* The {sandbox_id} requests share one shape: StartSandboxRequest's. */
static int sbsimple(const char *method, const char *id, char *msg) {
  Containerd__Runtime__Sandbox__V1__StartSandboxRequest r = CONTAINERD__RUNTIME__SANDBOX__V1__START_SANDBOX_REQUEST__INIT;
  r.sandbox_id = (char *)id;
  return sbcall(method, &r.base, NULL, NULL, msg);
}

static uint8_t cfg_buf[256];

static int sbcreate(const char *id, const char *netns, const char *hostname, char *msg) {
  Containerd__Runtime__Sandbox__V1__CreateSandboxRequest r = CONTAINERD__RUNTIME__SANDBOX__V1__CREATE_SANDBOX_REQUEST__INIT;
  Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
  Cshim__Cri__V1__PodSandboxConfig pc = CSHIM__CRI__V1__POD_SANDBOX_CONFIG__INIT;
  r.sandbox_id = (char *)id;
  r.bundle_path = E->dir;
  r.netns_path = (char *)(netns ? netns : "");
  if (hostname) {
    pc.hostname = (char *)hostname;
    any.type_url = "runtime.v1.PodSandboxConfig";
    any.value.len = cshim__cri__v1__pod_sandbox_config__pack(&pc, cfg_buf);
    any.value.data = cfg_buf;
    r.options = &any;
  }
  return sbcall("CreateSandbox", &r.base, NULL, NULL, msg);
}

static void test_bad_requests(void **state) {
  (void)state;
  char msg[CS_ERR_MSG_MAX];
  assert_int_equal(sbcreate("", NULL, NULL, msg), CS_INVALID_ARGUMENT);
  assert_non_null(strstr(msg, "sandbox_id"));
  assert_int_equal(sbcreate("a/b", NULL, NULL, msg), CS_INVALID_ARGUMENT);
  assert_int_equal(sbcreate("pod1", "relative/netns", NULL, msg), CS_INVALID_ARGUMENT);
  assert_non_null(strstr(msg, "netns_path"));
  assert_int_equal(sbcreate("pod1", "/nonexistent/netns", NULL, msg), CS_NOT_FOUND);
  assert_non_null(strstr(msg, "/nonexistent/netns"));
  assert_int_equal(sbcreate("pod1", "/proc/self/status", NULL, msg), CS_INVALID_ARGUMENT);
  assert_non_null(strstr(msg, "not a network namespace"));
  /* Malformed payload: a truncated varint. */
  uint8_t junk[] = {0x0a, 0xff};
  uint8_t *reply = NULL;
  size_t rlen = 0;
  cs_err err;
  assert_int_equal(ttrpc_client_call_sync(E->client, SB, "CreateSandbox", junk, sizeof junk, NULL, 0, 0, &reply, &rlen, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  /* Nothing was created by any of them. */
  assert_false(sandbox_service_busy(S));
  assert_int_equal(sbsimple("SandboxStatus", "pod1", msg), CS_NOT_FOUND);
  assert_non_null(strstr(msg, "pod1"));
  assert_int_equal(sbsimple("StartSandbox", "pod1", msg), CS_NOT_FOUND);
  assert_int_equal(sbsimple("WaitSandbox", "pod1", msg), CS_NOT_FOUND);
  assert_int_equal(sbsimple("SandboxMetrics", "pod1", msg), CS_NOT_FOUND);
  /* containerd shuts the shim down after a failed CreateSandbox: no task, so it exits. */
  assert_int_equal(sbsimple("ShutdownSandbox", "pod1", msg), 0);
  assert_true(sb_shutdown);
}

static void idle_fired(void *data) { *(bool *)data = true; }
static bool idle_done;
static bool is_idle_done(void) { return idle_done; }

/* A failed CreateSandbox and a host that goes away without Shutdown: the idle exit still comes. */
static void test_idle_after_failed_create(void **state) {
  (void)state;
  char msg[CS_ERR_MSG_MAX];
  idle_done = false;
  shim_idle *idle = shim_idle_start(&E->loop, E->svc, E->server, 50, idle_fired, &idle_done);
  shim_idle_also_busy(idle, sandbox_service_busy, S);
  assert_int_equal(sbcreate("pod1", "/nonexistent/netns", NULL, msg), CS_NOT_FOUND);
  ttrpc_client_close(E->client);
  E->client = ttrpc_client_new(&E->loop); /* teardown closes one */
  for (int i = 0; i < 100000 && !idle_done; i++) uv_run(&E->loop, UV_RUN_ONCE);
  run_until(is_idle_done);
  assert_true(idle_done);
  shim_idle_free(idle);
}

static bool need_root(void) {
  if (geteuid() == 0) return true;
  print_message("skipped: the pod's namespaces need root\n");
  return false;
}

static Containerd__Runtime__Sandbox__V1__SandboxStatusResponse *status_verbose(const char *id, bool verbose) {
  Containerd__Runtime__Sandbox__V1__SandboxStatusRequest r = CONTAINERD__RUNTIME__SANDBOX__V1__SANDBOX_STATUS_REQUEST__INIT;
  r.sandbox_id = (char *)id;
  r.verbose = verbose;
  void *out = NULL;
  assert_int_equal(sbcall("SandboxStatus", &r.base, &containerd__runtime__sandbox__v1__sandbox_status_response__descriptor, &out, NULL), 0);
  return out;
}
static Containerd__Runtime__Sandbox__V1__SandboxStatusResponse *status_of(const char *id) { return status_verbose(id, false); }

static ino_t ns_ino(int pid, const char *ns) {
  char p[64];
  struct stat st;
  snprintf(p, sizeof p, "/proc/%d/ns/%s", pid, ns);
  if (stat(p, &st) < 0) return 0;
  return st.st_ino;
}

/* An asynchronous WaitSandbox: its reply lands here. */
static bool wait_done;
static uint32_t wait_status;
static void on_wait(void *data, int code, const char *msg, const uint8_t *p, size_t n) {
  (void)data, (void)msg;
  assert_int_equal(code, 0);
  Containerd__Runtime__Sandbox__V1__WaitSandboxResponse *r =
      containerd__runtime__sandbox__v1__wait_sandbox_response__unpack(NULL, n, p);
  assert_non_null(r);
  wait_status = r->exit_status;
  assert_non_null(r->exited_at);
  containerd__runtime__sandbox__v1__wait_sandbox_response__free_unpacked(r, NULL);
  wait_done = true;
}
static bool is_wait_done(void) { return wait_done; }

static void test_pod_lifecycle(void **state) {
  (void)state;
  if (!need_root()) return;
  /* The netns CRI would have made: a child of the test holds a new one. */
  int ready[2];
  assert_int_equal(pipe(ready), 0);
  pid_t holder = fork();
  if (holder == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failed assertion must not leave it behind */
    if (unshare(CLONE_NEWNET) < 0) _exit(1);
    if (write(ready[1], "x", 1) != 1) _exit(1);
    pause();
    _exit(0);
  }
  char c;
  assert_int_equal(read(ready[0], &c, 1), 1);
  close(ready[0]);
  close(ready[1]);
  /* As CRI hands it over: a bind mount of the namespace on a file of its netns dir, whose /proc/self/fd link
   * names the file, not "net:[...]". */
  char nsproc[64], netns[] = "/tmp/cshim-sbns-XXXXXX";
  snprintf(nsproc, sizeof nsproc, "/proc/%d/ns/net", (int)holder);
  int nsfile = mkstemp(netns);
  assert_true(nsfile >= 0);
  close(nsfile);
  assert_int_equal(mount(nsproc, netns, NULL, MS_BIND, NULL), 0);
  char plain[] = "/tmp/cshim-sbplain-XXXXXX", msg0[CS_ERR_MSG_MAX];
  int pf = mkstemp(plain);
  assert_true(pf >= 0);
  close(pf);
  assert_int_equal(sbcreate("pod-1", plain, NULL, msg0), CS_INVALID_ARGUMENT);
  assert_non_null(strstr(msg0, "not a network namespace"));
  unlink(plain);

  char msg[CS_ERR_MSG_MAX];
  assert_int_equal(sbcreate("pod-1", netns, "pod-host", msg), 0);
  assert_true(sandbox_service_busy(S));
  assert_int_equal(sbcreate("pod-1", NULL, NULL, msg), CS_ALREADY_EXISTS);
  assert_int_equal(sbcreate("pod-2", NULL, NULL, msg), CS_FAILED_PRECONDITION);
  assert_non_null(strstr(msg, "pod-1"));

  Containerd__Runtime__Sandbox__V1__StartSandboxRequest sr = CONTAINERD__RUNTIME__SANDBOX__V1__START_SANDBOX_REQUEST__INIT;
  sr.sandbox_id = "pod-1";
  Containerd__Runtime__Sandbox__V1__StartSandboxResponse *started = NULL;
  assert_int_equal(sbcall("StartSandbox", &sr.base, &containerd__runtime__sandbox__v1__start_sandbox_response__descriptor, (void **)&started, msg), 0);
  int pid = (int)started->pid;
  assert_true(pid > 0);
  assert_non_null(started->created_at);
  containerd__runtime__sandbox__v1__start_sandbox_response__free_unpacked(started, NULL);
  assert_int_equal(sbsimple("StartSandbox", "pod-1", msg), CS_FAILED_PRECONDITION);

  /* The namespaces containerd joins the pod's containers to. */
  assert_int_equal(ns_ino(pid, "net"), ns_ino(holder, "net"));
  assert_int_not_equal(ns_ino(pid, "net"), ns_ino(getpid(), "net"));
  assert_int_not_equal(ns_ino(pid, "uts"), ns_ino(getpid(), "uts"));
  assert_int_not_equal(ns_ino(pid, "ipc"), ns_ino(getpid(), "ipc"));

  Containerd__Runtime__Sandbox__V1__SandboxStatusResponse *st = status_of("pod-1");
  assert_int_equal(st->pid, (uint32_t)pid);
  assert_string_equal(st->state, "SANDBOX_READY");
  assert_string_equal(st->sandbox_id, "pod-1");
  assert_int_equal(st->n_info, 0);
  containerd__runtime__sandbox__v1__sandbox_status_response__free_unpacked(st, NULL);
  /* verbose: what CRI shows of a shim sandboxer (crictl inspectp), in its own pod controller's words */
  st = status_verbose("pod-1", true);
  assert_int_equal(st->n_info, 1);
  assert_string_equal(st->info[0]->key, "info");
  char want[256];
  snprintf(want, sizeof want, "{\"pid\":%d,\"processStatus\":\"running\",\"netNamespacePath\":\"%s\",\"netNamespaceClosed\":false}",
           pid, netns);
  assert_string_equal(st->info[0]->value, want);
  containerd__runtime__sandbox__v1__sandbox_status_response__free_unpacked(st, NULL);
  assert_int_equal(sbsimple("SandboxStatus", "other", msg), CS_NOT_FOUND);

  Containerd__Runtime__Sandbox__V1__PlatformResponse *pl = NULL;
  Containerd__Runtime__Sandbox__V1__PlatformRequest pr = CONTAINERD__RUNTIME__SANDBOX__V1__PLATFORM_REQUEST__INIT;
  pr.sandbox_id = "pod-1";
  assert_int_equal(sbcall("Platform", &pr.base, &containerd__runtime__sandbox__v1__platform_response__descriptor, (void **)&pl, NULL), 0);
  assert_string_equal(pl->platform->os, "linux");
  assert_true(strlen(pl->platform->architecture) > 0);
  containerd__runtime__sandbox__v1__platform_response__free_unpacked(pl, NULL);
  assert_int_equal(sbsimple("PingSandbox", "pod-1", msg), 0);

  Containerd__Runtime__Sandbox__V1__SandboxMetricsRequest mr = CONTAINERD__RUNTIME__SANDBOX__V1__SANDBOX_METRICS_REQUEST__INIT;
  mr.sandbox_id = "pod-1";
  Containerd__Runtime__Sandbox__V1__SandboxMetricsResponse *m = NULL;
  assert_int_equal(sbcall("SandboxMetrics", &mr.base, &containerd__runtime__sandbox__v1__sandbox_metrics_response__descriptor, (void **)&m, msg), 0);
  assert_non_null(m->metrics);
  assert_string_equal(m->metrics->id, "pod-1");
  assert_non_null(strstr(m->metrics->data->type_url, "io.containerd.cgroups.v"));
  containerd__runtime__sandbox__v1__sandbox_metrics_response__free_unpacked(m, NULL);

  /* Wait parked, then Stop: both answer at the pod's exit. */
  Containerd__Runtime__Sandbox__V1__WaitSandboxRequest wr = CONTAINERD__RUNTIME__SANDBOX__V1__WAIT_SANDBOX_REQUEST__INIT;
  wr.sandbox_id = "pod-1";
  uint8_t wbuf[64];
  size_t wlen = protobuf_c_message_pack(&wr.base, wbuf);
  cs_err err;
  wait_done = false;
  assert_int_equal(ttrpc_client_call(E->client, SB, "WaitSandbox", wbuf, wlen, NULL, 0, 0, on_wait, NULL, &err), 0);
  assert_int_equal(sbsimple("StopSandbox", "pod-1", msg), 0);
  run_until(is_wait_done);
  assert_true(wait_done);
  assert_int_equal(wait_status, 128 + SIGKILL);
  assert_int_equal(kill(pid, 0), -1); /* gone, not a zombie either: waited for through its pidfd */
  assert_int_equal(errno, ESRCH);
  st = status_of("pod-1");
  assert_string_equal(st->state, "SANDBOX_NOTREADY");
  assert_non_null(st->exited_at);
  containerd__runtime__sandbox__v1__sandbox_status_response__free_unpacked(st, NULL);
  assert_false(sandbox_service_busy(S));
  assert_int_equal(sbsimple("SandboxMetrics", "pod-1", msg), CS_FAILED_PRECONDITION);
  assert_int_equal(sbsimple("ShutdownSandbox", "pod-1", msg), 0);
  assert_true(sb_shutdown);

  kill(holder, SIGKILL);
  waitpid(holder, NULL, 0);
  umount2(netns, MNT_DETACH);
  unlink(netns);
}

/* Stopped between Create and Start: no process ever, nothing held, Wait answers at once. */
static void test_stop_mid_create(void **state) {
  (void)state;
  char msg[CS_ERR_MSG_MAX];
  assert_int_equal(sbcreate("pod-3", NULL, "h", msg), 0);
  assert_true(sandbox_service_busy(S));
  assert_int_equal(sbsimple("StopSandbox", "pod-3", msg), 0);
  assert_false(sandbox_service_busy(S));
  assert_int_equal(sbsimple("WaitSandbox", "pod-3", msg), 0);
  assert_int_equal(sbsimple("StartSandbox", "pod-3", msg), CS_FAILED_PRECONDITION);
  assert_non_null(strstr(msg, "stopped"));
  assert_int_equal(sbsimple("ShutdownSandbox", "pod-3", msg), 0);
  assert_true(sb_shutdown);
}

/* hostNetwork/hostIPC/hostPID (CRI's NamespaceMode NODE): the pod's process stays in the host's. */
static void test_host_namespaces(void **state) {
  (void)state;
  if (!need_root()) return;
  Containerd__Runtime__Sandbox__V1__CreateSandboxRequest r = CONTAINERD__RUNTIME__SANDBOX__V1__CREATE_SANDBOX_REQUEST__INIT;
  Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
  Cshim__Cri__V1__PodSandboxConfig pc = CSHIM__CRI__V1__POD_SANDBOX_CONFIG__INIT;
  Cshim__Cri__V1__LinuxPodSandboxConfig lx = CSHIM__CRI__V1__LINUX_POD_SANDBOX_CONFIG__INIT;
  Cshim__Cri__V1__LinuxSandboxSecurityContext sc = CSHIM__CRI__V1__LINUX_SANDBOX_SECURITY_CONTEXT__INIT;
  Cshim__Cri__V1__NamespaceOption nso = CSHIM__CRI__V1__NAMESPACE_OPTION__INIT;
  nso.network = nso.ipc = nso.pid = 2;
  sc.namespace_options = &nso;
  lx.security_context = &sc;
  pc.linux = &lx;
  pc.hostname = "ignored-on-host-net";
  any.type_url = "type.googleapis.com/runtime.v1.PodSandboxConfig";
  any.value.len = cshim__cri__v1__pod_sandbox_config__pack(&pc, cfg_buf);
  any.value.data = cfg_buf;
  r.sandbox_id = "pod-host";
  r.netns_path = "/proc/self/ns/net";
  r.options = &any;
  char msg[CS_ERR_MSG_MAX];
  assert_int_equal(sbcall("CreateSandbox", &r.base, NULL, NULL, msg), CS_INVALID_ARGUMENT);
  assert_non_null(strstr(msg, "host's network"));
  r.netns_path = "";
  assert_int_equal(sbcall("CreateSandbox", &r.base, NULL, NULL, msg), 0);
  Containerd__Runtime__Sandbox__V1__StartSandboxRequest sr = CONTAINERD__RUNTIME__SANDBOX__V1__START_SANDBOX_REQUEST__INIT;
  sr.sandbox_id = "pod-host";
  Containerd__Runtime__Sandbox__V1__StartSandboxResponse *started = NULL;
  assert_int_equal(sbcall("StartSandbox", &sr.base, &containerd__runtime__sandbox__v1__start_sandbox_response__descriptor, (void **)&started, msg), 0);
  int pid = (int)started->pid;
  containerd__runtime__sandbox__v1__start_sandbox_response__free_unpacked(started, NULL);
  const char *kinds[] = {"net", "uts", "ipc", "pid"};
  for (size_t i = 0; i < 4; i++) assert_int_equal(ns_ino(pid, kinds[i]), ns_ino(getpid(), kinds[i]));
  assert_int_equal(sbsimple("ShutdownSandbox", "pod-host", msg), 0);
}

/* Shutdown while the pod runs: its process is killed and waited for, the shim told to exit. */
static void test_shutdown_running(void **state) {
  (void)state;
  if (!need_root()) return;
  char msg[CS_ERR_MSG_MAX];
  assert_int_equal(sbcreate("pod-4", NULL, NULL, msg), 0);
  Containerd__Runtime__Sandbox__V1__StartSandboxRequest sr = CONTAINERD__RUNTIME__SANDBOX__V1__START_SANDBOX_REQUEST__INIT;
  sr.sandbox_id = "pod-4";
  Containerd__Runtime__Sandbox__V1__StartSandboxResponse *started = NULL;
  assert_int_equal(sbcall("StartSandbox", &sr.base, &containerd__runtime__sandbox__v1__start_sandbox_response__descriptor, (void **)&started, msg), 0);
  int pid = (int)started->pid;
  containerd__runtime__sandbox__v1__start_sandbox_response__free_unpacked(started, NULL);
  assert_int_equal(sbsimple("ShutdownSandbox", "pod-4", msg), 0);
  assert_true(sb_shutdown);
  assert_int_equal(kill(pid, 0), -1);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_bad_requests, sb_setup, sb_teardown),
    cmocka_unit_test_setup_teardown(test_idle_after_failed_create, sb_setup, sb_teardown),
    cmocka_unit_test_setup_teardown(test_pod_lifecycle, sb_setup, sb_teardown),
    cmocka_unit_test_setup_teardown(test_stop_mid_create, sb_setup, sb_teardown),
    cmocka_unit_test_setup_teardown(test_shutdown_running, sb_setup, sb_teardown),
    cmocka_unit_test_setup_teardown(test_host_namespaces, sb_setup, sb_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
