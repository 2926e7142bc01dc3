/* The Sandbox API: see sandbox_service.h. The pod goes NONE → CREATED (CreateSandbox: its network
 * namespace checked and held) → RUNNING (StartSandbox: its process) → STOPPED (StopSandbox, or the process
 * exited). Wait and Stop of a running pod answer when its exit arrives. */
#include "sandbox_service.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "containerd/runtime/sandbox/v1/sandbox.pb-c.h"
#include "cs_id.h"
#include "cs_log.h"
#include "cshim/podconfig.pb-c.h"
#include "sandbox_pod.h"
#include "task_service_int.h"
#include "task_os.h"

enum sandbox_state { SANDBOX_NONE, SANDBOX_CREATED, SANDBOX_RUNNING, SANDBOX_STOPPED };

#define SANDBOX_MAX_PENDING 64

struct sandbox_service {
  sandbox_service_config cfg;
  enum sandbox_state state;
  char id[80];
  char netns_path[4096]; /* as CreateSandbox named it ("": the host's), for SandboxStatus' verbose info */
  sandbox_pod *pod;
  uint32_t pid;
  uint32_t exit_status;
  int64_t created_ns, exited_ns;
  /* Wait and Stop calls waiting for the pod's exit. */
  ttrpc_call *pending[SANDBOX_MAX_PENDING];
  bool pending_is_stop[SANDBOX_MAX_PENDING];
  size_t n_pending;
  ttrpc_call *start_call; /* StartSandbox, until the pod's process is in its namespaces */
};

static void sb_timestamp(Google__Protobuf__Timestamp *ts, int64_t ns) {
  google__protobuf__timestamp__init(ts);
  ts->seconds = ns / 1000000000LL;
  ts->nanos = (int32_t)(ns % 1000000000LL);
}

static void sb_reply(ttrpc_call *call, const ProtobufCMessage *m) {
  size_t len = protobuf_c_message_get_packed_size(m);
  uint8_t *buf = malloc(len ? len : 1);
  if (!buf) {
    ttrpc_call_reply_error(call, CS_RESOURCE_EXHAUSTED, "reply: out of memory");
    return;
  }
  protobuf_c_message_pack(m, buf);
  ttrpc_call_reply(call, buf, len);
  free(buf);
}

static void sb_reply_empty(ttrpc_call *call) { ttrpc_call_reply(call, NULL, 0); }

/* The request names this shim's pod: InvalidArgument for a bad id, NotFound for another (or no) pod. */
static int sb_check(const sandbox_service *sb, const char *id, cs_err *err) {
  if (!id || !*id) return cs_err_set(err, CS_INVALID_ARGUMENT, "sandbox_id is empty");
  if (cs_id_check("sandbox_id", id, err) < 0) return -1;
  if (sb->state == SANDBOX_NONE) return cs_err_set(err, CS_NOT_FOUND, "sandbox %s not found: this shim has no pod", id);
  if (strcmp(sb->id, id) != 0)
    return cs_err_set(err, CS_NOT_FOUND, "sandbox %s not found: this shim serves sandbox %s", id, sb->id);
  return 0;
}

static void sb_reply_wait(const sandbox_service *sb, ttrpc_call *call) {
  Containerd__Runtime__Sandbox__V1__WaitSandboxResponse r = CONTAINERD__RUNTIME__SANDBOX__V1__WAIT_SANDBOX_RESPONSE__INIT;
  Google__Protobuf__Timestamp ts;
  sb_timestamp(&ts, sb->exited_ns);
  r.exit_status = sb->exit_status;
  r.exited_at = &ts;
  sb_reply(call, &r.base);
}

static void sb_pending_cancelled(ttrpc_call *call, void *data) {
  sandbox_service *sb = data;
  for (size_t i = 0; i < sb->n_pending; i++)
    if (sb->pending[i] == call) {
      sb->pending[i] = sb->pending[--sb->n_pending];
      sb->pending_is_stop[i] = sb->pending_is_stop[sb->n_pending];
      break;
    }
  ttrpc_call_reply_error(call, CS_CANCELLED, "Sandbox.%s: cancelled", ttrpc_call_method(call));
}

static void sb_park(sandbox_service *sb, ttrpc_call *call, bool is_stop) {
  if (sb->n_pending == SANDBOX_MAX_PENDING) {
    ttrpc_call_reply_error(call, CS_RESOURCE_EXHAUSTED, "sandbox %s: %d calls already wait for its exit", sb->id,
                           SANDBOX_MAX_PENDING);
    return;
  }
  sb->pending[sb->n_pending] = call;
  sb->pending_is_stop[sb->n_pending++] = is_stop;
  ttrpc_call_set_cancel(call, sb_pending_cancelled, sb);
}

/* The pod is over: record it once, then answer everyone waiting. */
static void sb_stopped(sandbox_service *sb, int status, int64_t at_ns) {
  sb->state = SANDBOX_STOPPED;
  sb->exit_status = (uint32_t)status;
  sb->exited_ns = at_ns;
  size_t n = sb->n_pending;
  sb->n_pending = 0;
  for (size_t i = 0; i < n; i++) {
    ttrpc_call_set_cancel(sb->pending[i], NULL, NULL);
    if (sb->pending_is_stop[i]) sb_reply_empty(sb->pending[i]);
    else sb_reply_wait(sb, sb->pending[i]);
  }
}

static void sb_on_pod_exit(void *data, int status, int64_t at_ns) {
  sandbox_service *sb = data;
  sb_stopped(sb, status, at_ns);
}

/* ------------------------------------------------------------------ handlers */

/* CreateSandboxRequest.options is CRI's PodSandboxConfig (type URL runtime.v1.PodSandboxConfig); another
 * caller may send something else, which is not ours to read. */
static int sb_decode_config(const Google__Protobuf__Any *opt, Cshim__Cri__V1__PodSandboxConfig **out, cs_err *err) {
  *out = NULL;
  if (!opt || !opt->type_url) return 0;
  const char *want = "runtime.v1.PodSandboxConfig";
  size_t l = strlen(opt->type_url), wl = strlen(want);
  if (l < wl || strcmp(opt->type_url + l - wl, want) != 0) {
    CS_INFO("CreateSandbox: options of type %s ignored", opt->type_url);
    return 0;
  }
  *out = cshim__cri__v1__pod_sandbox_config__unpack(NULL, opt->value.len, opt->value.data);
  if (!*out) return cs_err_set(err, CS_INVALID_ARGUMENT, "options: %s does not decode", opt->type_url);
  return 0;
}

static void sb_create(ttrpc_call *call, const uint8_t *p, size_t n, void *data) {
  sandbox_service *sb = data;
  cs_err err;
  Containerd__Runtime__Sandbox__V1__CreateSandboxRequest *r =
      task_unpack(&containerd__runtime__sandbox__v1__create_sandbox_request__descriptor, p, n, &err);
  if (!r) {
    ttrpc_call_reply_err(call, &err);
    return;
  }
  Cshim__Cri__V1__PodSandboxConfig *pc = NULL;
  if (!r->sandbox_id || !*r->sandbox_id) {
    cs_err_set(&err, CS_INVALID_ARGUMENT, "sandbox_id is empty");
    goto fail;
  }
  if (cs_id_check("sandbox_id", r->sandbox_id, &err) < 0) goto fail;
  if (sb->state != SANDBOX_NONE) {
    if (strcmp(sb->id, r->sandbox_id) == 0) cs_err_set(&err, CS_ALREADY_EXISTS, "sandbox %s already exists", sb->id);
    else cs_err_set(&err, CS_FAILED_PRECONDITION, "sandbox %s: this shim already serves sandbox %s", r->sandbox_id, sb->id);
    goto fail;
  }
  if (sb_decode_config(r->options, &pc, &err) < 0) goto fail;
  const Cshim__Cri__V1__NamespaceOption *nso =
      pc && pc->linux && pc->linux->security_context ? pc->linux->security_context->namespace_options : NULL;
  enum { NS_NODE = 2 }; /* CRI's NamespaceMode NODE: the host's namespace */
  sandbox_pod_config pcfg = {
    .id = r->sandbox_id,
    .netns_path = r->netns_path,
    .hostname = pc ? pc->hostname : NULL,
    .cgroup_parent = pc && pc->linux ? pc->linux->cgroup_parent : NULL,
    .host_net = nso && nso->network == NS_NODE,
    .host_ipc = nso && nso->ipc == NS_NODE,
    .host_pid = nso && nso->pid == NS_NODE,
  };
  sb->pod = sandbox_pod_new(sb->cfg.loop, &pcfg, sb_on_pod_exit, sb, &err);
  if (!sb->pod) {
    cs_err_wrap(&err, "create sandbox %s", r->sandbox_id);
    goto fail;
  }
  snprintf(sb->id, sizeof sb->id, "%s", r->sandbox_id);
  snprintf(sb->netns_path, sizeof sb->netns_path, "%s", r->netns_path ? r->netns_path : "");
  sb->state = SANDBOX_CREATED;
  sb->created_ns = task_os_now_ns();
  CS_INFO("sandbox %s created (netns %s)", sb->id, r->netns_path && *r->netns_path ? r->netns_path : "host");
  if (pc) cshim__cri__v1__pod_sandbox_config__free_unpacked(pc, NULL);
  containerd__runtime__sandbox__v1__create_sandbox_request__free_unpacked(r, NULL);
  sb_reply_empty(call);
  return;
fail:
  CS_WARN("CreateSandbox: %s", err.msg);
  if (pc) cshim__cri__v1__pod_sandbox_config__free_unpacked(pc, NULL);
  containerd__runtime__sandbox__v1__create_sandbox_request__free_unpacked(r, NULL);
  ttrpc_call_reply_err(call, &err);
}

static void sb_started(void *data, uint32_t pid, const cs_err *perr) {
  sandbox_service *sb = data;
  ttrpc_call *call = sb->start_call;
  sb->start_call = NULL;
  if (call) ttrpc_call_set_cancel(call, NULL, NULL);
  if (perr) {
    cs_err err = *perr;
    cs_err_wrap(&err, "start sandbox %s", sb->id);
    CS_WARN("%s", err.msg);
    if (call) ttrpc_call_reply_err(call, &err);
    return; /* the process's exit follows and stops the pod */
  }
  sb->pid = pid;
  if (sb->state == SANDBOX_CREATED) sb->state = SANDBOX_RUNNING;
  CS_INFO("sandbox %s started: pid %u", sb->id, pid);
  if (!call) return;
  Containerd__Runtime__Sandbox__V1__StartSandboxResponse resp = CONTAINERD__RUNTIME__SANDBOX__V1__START_SANDBOX_RESPONSE__INIT;
  Google__Protobuf__Timestamp ts;
  sb_timestamp(&ts, sb->created_ns);
  resp.pid = pid;
  resp.created_at = &ts;
  sb_reply(call, &resp.base);
}

static void sb_start_cancelled(ttrpc_call *call, void *data) {
  sandbox_service *sb = data;
  if (sb->start_call == call) sb->start_call = NULL;
  ttrpc_call_reply_error(call, CS_CANCELLED, "StartSandbox: cancelled");
}

static void sb_start(ttrpc_call *call, const uint8_t *p, size_t n, void *data) {
  sandbox_service *sb = data;
  cs_err err;
  Containerd__Runtime__Sandbox__V1__StartSandboxRequest *r =
      task_unpack(&containerd__runtime__sandbox__v1__start_sandbox_request__descriptor, p, n, &err);
  if (!r) {
    ttrpc_call_reply_err(call, &err);
    return;
  }
  int rc = sb_check(sb, r->sandbox_id, &err);
  containerd__runtime__sandbox__v1__start_sandbox_request__free_unpacked(r, NULL);
  if (rc == 0 && (sb->state != SANDBOX_CREATED || sb->start_call || sb->pid))
    rc = cs_err_set(&err, CS_FAILED_PRECONDITION, "sandbox %s: %s", sb->id,
                    sb->state == SANDBOX_STOPPED ? "stopped" : sb->state == SANDBOX_RUNNING ? "already started" : "start in progress");
  if (rc == 0) {
    sb->start_call = call;
    ttrpc_call_set_cancel(call, sb_start_cancelled, sb);
    if (sandbox_pod_start(sb->pod, sb_started, sb, &err) < 0) {
      sb->start_call = NULL;
      ttrpc_call_set_cancel(call, NULL, NULL);
      rc = cs_err_wrap(&err, "start sandbox %s", sb->id);
    }
  }
  if (rc < 0) ttrpc_call_reply_err(call, &err);
}

static void sb_platform(ttrpc_call *call, const uint8_t *p, size_t n, void *data) {
  sandbox_service *sb = data;
  cs_err err;
  Containerd__Runtime__Sandbox__V1__PlatformRequest *r =
      task_unpack(&containerd__runtime__sandbox__v1__platform_request__descriptor, p, n, &err);
  if (!r) {
    ttrpc_call_reply_err(call, &err);
    return;
  }
  int rc = sb_check(sb, r->sandbox_id, &err);
  containerd__runtime__sandbox__v1__platform_request__free_unpacked(r, NULL);
  if (rc < 0) {
    ttrpc_call_reply_err(call, &err);
    return;
  }
  Containerd__Types__Platform pl = CONTAINERD__TYPES__PLATFORM__INIT;
  const char *os, *arch;
  sandbox_pod_platform(&os, &arch);
  pl.os = (char *)os;
  pl.architecture = (char *)arch;
  Containerd__Runtime__Sandbox__V1__PlatformResponse resp = CONTAINERD__RUNTIME__SANDBOX__V1__PLATFORM_RESPONSE__INIT;
  resp.platform = &pl;
  sb_reply(call, &resp.base);
}

static void sb_stop(ttrpc_call *call, const uint8_t *p, size_t n, void *data) {
  sandbox_service *sb = data;
  cs_err err;
  Containerd__Runtime__Sandbox__V1__StopSandboxRequest *r =
      task_unpack(&containerd__runtime__sandbox__v1__stop_sandbox_request__descriptor, p, n, &err);
  if (!r) {
    ttrpc_call_reply_err(call, &err);
    return;
  }
  int rc = sb_check(sb, r->sandbox_id, &err);
  containerd__runtime__sandbox__v1__stop_sandbox_request__free_unpacked(r, NULL);
  if (rc < 0) {
    ttrpc_call_reply_err(call, &err);
    return;
  }
  if (sb->state == SANDBOX_CREATED && sb->start_call) {
    /* Stopped while the process is being set up: kill it; Start fails, Stop answers at its exit. */
    if (sandbox_pod_kill(sb->pod, &err) < 0) ttrpc_call_reply_err(call, &err);
    else sb_park(sb, call, true);
    return;
  }
  switch (sb->state) {
  case SANDBOX_CREATED: /* stopped before it started: release what Create took; there is no process */
    sandbox_pod_free(sb->pod);
    sb->pod = NULL;
    sb_stopped(sb, 0, task_os_now_ns());
    sb_reply_empty(call);
    return;
  case SANDBOX_RUNNING:
    /* The pod's process holds nothing worth a grace period: CRI has stopped the containers already. */
    if (sandbox_pod_kill(sb->pod, &err) < 0) {
      ttrpc_call_reply_err(call, &err);
      return;
    }
    sb_park(sb, call, true);
    return;
  default:
    sb_reply_empty(call);
  }
}

static void sb_wait(ttrpc_call *call, const uint8_t *p, size_t n, void *data) {
  sandbox_service *sb = data;
  cs_err err;
  Containerd__Runtime__Sandbox__V1__WaitSandboxRequest *r =
      task_unpack(&containerd__runtime__sandbox__v1__wait_sandbox_request__descriptor, p, n, &err);
  if (!r) {
    ttrpc_call_reply_err(call, &err);
    return;
  }
  int rc = sb_check(sb, r->sandbox_id, &err);
  containerd__runtime__sandbox__v1__wait_sandbox_request__free_unpacked(r, NULL);
  if (rc < 0) ttrpc_call_reply_err(call, &err);
  else if (sb->state == SANDBOX_STOPPED) sb_reply_wait(sb, call);
  else sb_park(sb, call, false);
}

static void sb_status(ttrpc_call *call, const uint8_t *p, size_t n, void *data) {
  sandbox_service *sb = data;
  cs_err err;
  Containerd__Runtime__Sandbox__V1__SandboxStatusRequest *r =
      task_unpack(&containerd__runtime__sandbox__v1__sandbox_status_request__descriptor, p, n, &err);
  if (!r) {
    ttrpc_call_reply_err(call, &err);
    return;
  }
  int rc = sb_check(sb, r->sandbox_id, &err);
  bool verbose = r->verbose;
  containerd__runtime__sandbox__v1__sandbox_status_request__free_unpacked(r, NULL);
  if (rc < 0) {
    ttrpc_call_reply_err(call, &err);
    return;
  }
  Containerd__Runtime__Sandbox__V1__SandboxStatusResponse resp =
      CONTAINERD__RUNTIME__SANDBOX__V1__SANDBOX_STATUS_RESPONSE__INIT;
  Google__Protobuf__Timestamp created, exited;
  sb_timestamp(&created, sb->created_ns);
  resp.sandbox_id = sb->id;
  resp.pid = sb->state == SANDBOX_RUNNING ? sb->pid : 0;
  /* The words of containerd's own pod controller (CRI shows them). */
  resp.state = (char *)(sb->state == SANDBOX_RUNNING ? "SANDBOX_READY" : "SANDBOX_NOTREADY");
  resp.created_at = &created;
  if (sb->state == SANDBOX_STOPPED) {
    sb_timestamp(&exited, sb->exited_ns);
    resp.exited_at = &exited;
  }
  /* CRI's PodSandboxStatus(verbose) shows a shim sandboxer's info map as it is (crictl inspectp): the
   * "info" entry in the words of containerd's own pod controller, for what this pod has. */
  Containerd__Runtime__Sandbox__V1__SandboxStatusResponse__InfoEntry entry, *entries[1] = {&entry};
  char *info = NULL;
  if (verbose) {
    static const char *const words[] = {[SANDBOX_NONE] = "unknown", [SANDBOX_CREATED] = "created",
                                        [SANDBOX_RUNNING] = "running", [SANDBOX_STOPPED] = "stopped"};
    json_t *o = json_pack("{s:i, s:s, s:s, s:b}", "pid", (json_int_t)resp.pid, "processStatus", words[sb->state],
                          "netNamespacePath", sb->netns_path, "netNamespaceClosed", sb->state == SANDBOX_STOPPED);
    info = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (info) {
      containerd__runtime__sandbox__v1__sandbox_status_response__info_entry__init(&entry);
      entry.key = "info";
      entry.value = info;
      resp.n_info = 1;
      resp.info = entries;
    }
  }
  sb_reply(call, &resp.base);
  free(info);
}

static void sb_ping(ttrpc_call *call, const uint8_t *p, size_t n, void *data) {
  sandbox_service *sb = data;
  cs_err err;
  Containerd__Runtime__Sandbox__V1__PingRequest *r =
      task_unpack(&containerd__runtime__sandbox__v1__ping_request__descriptor, p, n, &err);
  if (!r) {
    ttrpc_call_reply_err(call, &err);
    return;
  }
  int rc = sb_check(sb, r->sandbox_id, &err);
  containerd__runtime__sandbox__v1__ping_request__free_unpacked(r, NULL);
  if (rc < 0) ttrpc_call_reply_err(call, &err);
  else sb_reply_empty(call);
}

static void sb_shutdown(ttrpc_call *call, const uint8_t *p, size_t n, void *data) {
  sandbox_service *sb = data;
  cs_err err;
  Containerd__Runtime__Sandbox__V1__ShutdownSandboxRequest *r =
      task_unpack(&containerd__runtime__sandbox__v1__shutdown_sandbox_request__descriptor, p, n, &err);
  if (!r) {
    ttrpc_call_reply_err(call, &err);
    return;
  }
  /* containerd shuts a shim down after a failed CreateSandbox too: then there is no pod to match. */
  int rc = sb->state == SANDBOX_NONE ? cs_id_check("sandbox_id", r->sandbox_id, &err) : sb_check(sb, r->sandbox_id, &err);
  containerd__runtime__sandbox__v1__shutdown_sandbox_request__free_unpacked(r, NULL);
  if (rc < 0) {
    ttrpc_call_reply_err(call, &err);
    return;
  }
  if (sb->pod) {
    sandbox_pod_free(sb->pod); /* kills and waits for the process */
    sb->pod = NULL;
    if (sb->state != SANDBOX_STOPPED) sb_stopped(sb, 137, task_os_now_ns());
  }
  sb_reply_empty(call);
  size_t tasks = task_service_count(sb->cfg.tasks);
  if (tasks == 0 && sb->cfg.on_shutdown) sb->cfg.on_shutdown(sb->cfg.shutdown_data);
  else CS_INFO("ShutdownSandbox: %zu task(s) left; the shim exits once they are gone and no client is left", tasks);
}

static void sb_metrics(ttrpc_call *call, const uint8_t *p, size_t n, void *data) {
  sandbox_service *sb = data;
  cs_err err;
  Containerd__Runtime__Sandbox__V1__SandboxMetricsRequest *r =
      task_unpack(&containerd__runtime__sandbox__v1__sandbox_metrics_request__descriptor, p, n, &err);
  if (!r) {
    ttrpc_call_reply_err(call, &err);
    return;
  }
  int rc = sb_check(sb, r->sandbox_id, &err);
  containerd__runtime__sandbox__v1__sandbox_metrics_request__free_unpacked(r, NULL);
  if (rc == 0 && sb->state != SANDBOX_RUNNING)
    rc = cs_err_set(&err, CS_FAILED_PRECONDITION, "sandbox %s is not running", sb->id);
  uint8_t *buf = NULL;
  size_t len = 0;
  const char *url = NULL;
  if (rc == 0 && sandbox_pod_metrics(sb->pod, &buf, &len, &url, &err) < 0) rc = cs_err_wrap(&err, "sandbox %s metrics", sb->id);
  if (rc < 0) {
    ttrpc_call_reply_err(call, &err);
    return;
  }
  Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
  any.type_url = (char *)url;
  any.value.data = buf;
  any.value.len = len;
  Google__Protobuf__Timestamp ts;
  sb_timestamp(&ts, task_os_now_ns());
  Containerd__Types__Metric m = CONTAINERD__TYPES__METRIC__INIT;
  m.timestamp = &ts;
  m.id = sb->id;
  m.data = &any;
  Containerd__Runtime__Sandbox__V1__SandboxMetricsResponse resp =
      CONTAINERD__RUNTIME__SANDBOX__V1__SANDBOX_METRICS_RESPONSE__INIT;
  resp.metrics = &m;
  sb_reply(call, &resp.base);
  free(buf);
}

static const ttrpc_method sb_methods[] = {
  {"CreateSandbox", sb_create, false}, {"StartSandbox", sb_start, false},   {"Platform", sb_platform, false},
  {"StopSandbox", sb_stop, false},     {"WaitSandbox", sb_wait, false},     {"SandboxStatus", sb_status, false},
  {"PingSandbox", sb_ping, false},     {"ShutdownSandbox", sb_shutdown, false}, {"SandboxMetrics", sb_metrics, false},
};

sandbox_service *sandbox_service_new(const sandbox_service_config *cfg, cs_err *err) {
  sandbox_service *sb = calloc(1, sizeof *sb);
  if (!sb) return cs_err_sys(err, ENOMEM, "sandbox service"), NULL;
  sb->cfg = *cfg;
  return sb;
}

int sandbox_service_register(sandbox_service *sb, ttrpc_server *srv, cs_err *err) {
  return ttrpc_server_register(srv, SANDBOX_SERVICE_NAME, sb_methods, sizeof sb_methods / sizeof sb_methods[0], sb, err);
}

bool sandbox_service_busy(const void *data) {
  const sandbox_service *sb = data;
  return sb && (sb->state == SANDBOX_CREATED || sb->state == SANDBOX_RUNNING);
}

void sandbox_service_free(sandbox_service *sb) {
  if (!sb) return;
  if (sb->start_call) {
    ttrpc_call_set_cancel(sb->start_call, NULL, NULL);
    ttrpc_call_reply_error(sb->start_call, CS_UNAVAILABLE, "sandbox %s: the shim is exiting", sb->id);
  }
  for (size_t i = 0; i < sb->n_pending; i++) {
    ttrpc_call_set_cancel(sb->pending[i], NULL, NULL);
    ttrpc_call_reply_error(sb->pending[i], CS_UNAVAILABLE, "sandbox %s: the shim is exiting", sb->id);
  }
  sandbox_pod_free(sb->pod);
  free(sb);
}
