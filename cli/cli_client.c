#include "cli_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_os.h"
#include "cli_parse.h"
#include "cli_shim.h"

int cli_conn_open(cli_conn *c, uv_loop_t *loop, const char *address, const char *ns, cs_err *err) {
  memset(c, 0, sizeof *c);
  c->loop = loop;
  snprintf(c->ns, sizeof c->ns, "%s", ns);
  c->md.key = CLI_NS_METADATA;
  c->md.value = c->ns;
  c->client = ttrpc_client_new(loop);
  if (!c->client) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
  if (ttrpc_client_connect_sync(c->client, cli_socket_path(address), err) < 0) {
    cli_conn_close(c);
    return -1;
  }
  return 0;
}

void cli_conn_close(cli_conn *c) {
  if (!c->client) return;
  ttrpc_client_close(c->client);
  c->client = NULL;
  /* The client frees itself from its close callback. */
  uv_run(c->loop, UV_RUN_NOWAIT);
}

static int pack(const ProtobufCMessage *req, uint8_t **buf, size_t *len, cs_err *err) {
  *len = protobuf_c_message_get_packed_size(req);
  *buf = malloc(*len ? *len : 1);
  if (!*buf) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
  protobuf_c_message_pack(req, *buf);
  return 0;
}

int cli_task_call(cli_conn *c, const char *method, const ProtobufCMessage *req,
                  const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp, int64_t timeout_ns,
                  cs_err *err) {
  if (!c->client) return cs_err_set(err, CS_UNAVAILABLE, "%s: not connected", method);
  uint8_t *buf, *out = NULL;
  size_t len, out_len = 0;
  if (pack(req, &buf, &len, err) < 0) return -1;
  int rc = ttrpc_client_call_sync(c->client, CLI_TASK_SERVICE, method, buf, len, &c->md, 1, timeout_ns, &out,
                                  &out_len, err);
  free(buf);
  if (rc < 0) return -1;
  if (resp_desc && resp) {
    *resp = protobuf_c_message_unpack(resp_desc, NULL, out_len, out);
    if (!*resp) rc = cs_err_set(err, CS_INTERNAL, "%s: cannot decode the reply", method);
  }
  free(out);
  return rc;
}

int cli_task_call_async(cli_conn *c, const char *method, const ProtobufCMessage *req, int64_t timeout_ns,
                        ttrpc_reply_cb cb, void *data, cs_err *err) {
  if (!c->client) return cs_err_set(err, CS_UNAVAILABLE, "%s: not connected", method);
  uint8_t *buf;
  size_t len;
  if (pack(req, &buf, &len, err) < 0) return -1;
  int rc = ttrpc_client_call(c->client, CLI_TASK_SERVICE, method, buf, len, &c->md, 1, timeout_ns, cb, data, err);
  free(buf);
  return rc;
}

static const char *nz(const char *s) { return s ? s : ""; }

int cli_task_state(cli_conn *c, const char *id, const char *exec_id, Containerd__Task__V2__StateResponse **resp,
                   cs_err *err) {
  Containerd__Task__V2__StateRequest req = CONTAINERD__TASK__V2__STATE_REQUEST__INIT;
  req.id = (char *)id;
  req.exec_id = (char *)nz(exec_id);
  return cli_task_call(c, "State", &req.base, &containerd__task__v2__state_response__descriptor,
                       (ProtobufCMessage **)resp, CLI_RPC_TIMEOUT_NS, err);
}

int cli_task_kill(cli_conn *c, const char *id, const char *exec_id, int sig, bool all, cs_err *err) {
  Containerd__Task__V2__KillRequest req = CONTAINERD__TASK__V2__KILL_REQUEST__INIT;
  req.id = (char *)id;
  req.exec_id = (char *)nz(exec_id);
  req.signal = (uint32_t)sig;
  req.all = all;
  return cli_task_call(c, "Kill", &req.base, NULL, NULL, CLI_RPC_TIMEOUT_NS, err);
}

int cli_task_start(cli_conn *c, const char *id, const char *exec_id, uint32_t *pid, cs_err *err) {
  Containerd__Task__V2__StartRequest req = CONTAINERD__TASK__V2__START_REQUEST__INIT;
  req.id = (char *)id;
  req.exec_id = (char *)nz(exec_id);
  Containerd__Task__V2__StartResponse *r = NULL;
  if (cli_task_call(c, "Start", &req.base, &containerd__task__v2__start_response__descriptor,
                    (ProtobufCMessage **)&r, CLI_RPC_SLOW_NS, err) < 0)
    return -1;
  if (pid) *pid = r->pid;
  containerd__task__v2__start_response__free_unpacked(r, NULL);
  return 0;
}

int cli_task_delete(cli_conn *c, const char *id, const char *exec_id, uint32_t *exit_status, cs_err *err) {
  Containerd__Task__V2__DeleteRequest req = CONTAINERD__TASK__V2__DELETE_REQUEST__INIT;
  req.id = (char *)id;
  req.exec_id = (char *)nz(exec_id);
  Containerd__Task__V2__DeleteResponse *r = NULL;
  if (cli_task_call(c, "Delete", &req.base, &containerd__task__v2__delete_response__descriptor,
                    (ProtobufCMessage **)&r, CLI_RPC_SLOW_NS, err) < 0)
    return -1;
  if (exit_status) *exit_status = r->exit_status;
  containerd__task__v2__delete_response__free_unpacked(r, NULL);
  return 0;
}

int cli_task_wait(cli_conn *c, const char *id, const char *exec_id, int64_t timeout_ns, uint32_t *exit_status,
                  cs_err *err) {
  Containerd__Task__V2__WaitRequest req = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;
  req.id = (char *)id;
  req.exec_id = (char *)nz(exec_id);
  Containerd__Task__V2__WaitResponse *r = NULL;
  if (cli_task_call(c, "Wait", &req.base, &containerd__task__v2__wait_response__descriptor,
                    (ProtobufCMessage **)&r, timeout_ns, err) < 0)
    return -1;
  if (exit_status) *exit_status = r->exit_status;
  containerd__task__v2__wait_response__free_unpacked(r, NULL);
  return 0;
}

int cli_task_connect(cli_conn *c, const char *id, uint32_t *shim_pid, uint32_t *task_pid, cs_err *err) {
  Containerd__Task__V2__ConnectRequest req = CONTAINERD__TASK__V2__CONNECT_REQUEST__INIT;
  req.id = (char *)id;
  Containerd__Task__V2__ConnectResponse *r = NULL;
  if (cli_task_call(c, "Connect", &req.base, &containerd__task__v2__connect_response__descriptor,
                    (ProtobufCMessage **)&r, CLI_RPC_TIMEOUT_NS, err) < 0)
    return -1;
  if (shim_pid) *shim_pid = r->shim_pid;
  if (task_pid) *task_pid = r->task_pid;
  containerd__task__v2__connect_response__free_unpacked(r, NULL);
  return 0;
}

int cli_task_shutdown(cli_conn *c, const char *id, cs_err *err) {
  Containerd__Task__V2__ShutdownRequest req = CONTAINERD__TASK__V2__SHUTDOWN_REQUEST__INIT;
  req.id = (char *)id;
  int rc = cli_task_call(c, "Shutdown", &req.base, NULL, NULL, CLI_RPC_TIMEOUT_NS, err);
  /* A shim may exit before its reply is out (runc-v2 does, with "ttrpc: closed"): that is success. */
  if (rc < 0 && err && err->code == CS_UNAVAILABLE) return 0;
  return rc;
}

const char *cli_status_name(int status) {
  switch (status) {
  case CONTAINERD__V1__TYPES__STATUS__CREATED: return "CREATED";
  case CONTAINERD__V1__TYPES__STATUS__RUNNING: return "RUNNING";
  case CONTAINERD__V1__TYPES__STATUS__STOPPED: return "STOPPED";
  case CONTAINERD__V1__TYPES__STATUS__PAUSED: return "PAUSED";
  case CONTAINERD__V1__TYPES__STATUS__PAUSING: return "PAUSING";
  default: return "UNKNOWN";
  }
}

int cli_target_resolve(const cli_globals *g, const char *id, cli_target *t, cs_err *err) {
  memset(t, 0, sizeof *t);
  if (g->address) {
    /* Any task-API shim, e.g. one containerd started: its ids follow containerd's rule too. */
    if (cli_validate_id("container id", id, err) < 0) return -1;
    t->direct = true;
    snprintf(t->meta.id, sizeof t->meta.id, "%s", id);
    snprintf(t->meta.ns, sizeof t->meta.ns, "%s", g->ns);
    if (cli_os_address_ok(g->address))
      snprintf(t->meta.address, sizeof t->meta.address, "%s", g->address);
    else
      return cs_err_set(err, CS_INVALID_ARGUMENT, "--address \"%s\": want %s", g->address, cli_os_address_form);
    return 0;
  }
  return cli_meta_read(g->state_dir, id, &t->meta, err);
}

int cli_target_open(const cli_globals *g, const char *id, uv_loop_t *loop, cli_target *t, cli_conn *c, cs_err *err) {
  if (cli_target_resolve(g, id, t, err) < 0) return -1;
  if (cli_conn_open(c, loop, t->meta.address, t->meta.ns, err) < 0) {
    if (err->code == CS_NOT_FOUND || err->code == CS_UNAVAILABLE) {
      char why[CS_ERR_MSG_MAX];
      snprintf(why, sizeof why, "%s", err->msg);
      return cs_err_set(err, CS_UNAVAILABLE, "container %s: its shim is not running (%s)", id, why);
    }
    return -1;
  }
  return 0;
}
