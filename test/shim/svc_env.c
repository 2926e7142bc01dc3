#include "svc_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "containerd/services/events/ttrpc_events.pb-c.h"
#include "stats_stream.h"

env *E;

static rt_backend *factory(void *data, uv_loop_t *loop, const task_runtime_opts *o, const rt_events *ev, cs_err *err) {
  env *e = data;
  e->got = *o;
  snprintf(e->got_shim_cgroup, sizeof e->got_shim_cgroup, "%s", o->shim_cgroup);
  e->rt = (fake_rt *)fake_rt_new(loop, ev);
  return &e->rt->base;
}

static int encode(const rt_sample *s, uint8_t **out, size_t *len, const char **type_url, cs_err *err) {
  *out = malloc(8);
  memcpy(*out, "sample", 6);
  *len = 6;
  *type_url = "test.Sample";
  return 0;
}

static void on_shutdown(void *data) { ((env *)data)->shutdown = true; }

static void ev_forward(ttrpc_call *call, const uint8_t *p, size_t n, void *data) {
  env *e = data;
  Containerd__Services__Events__Ttrpc__V1__ForwardRequest *r =
      containerd__services__events__ttrpc__v1__forward_request__unpack(NULL, n, p);
  if (r && r->envelope && e->n_topics < 64) snprintf(e->topics[e->n_topics++], 32, "%s", r->envelope->topic);
  if (r) containerd__services__events__ttrpc__v1__forward_request__free_unpacked(r, NULL);
  ttrpc_call_reply(call, NULL, 0);
}

static const ttrpc_method ev_methods[] = {{"Forward", ev_forward, false}};

void start_events_server(env *e) {
  cs_err err;
  e->evserver = ttrpc_server_new(&e->loop);
  assert_int_equal(ttrpc_server_register(e->evserver, "containerd.services.events.ttrpc.v1.Events", ev_methods, 1, e, &err), 0);
  assert_int_equal(ttrpc_server_listen(e->evserver, e->evsock, &err), 0);
}

int setup(void **state) {
  env *e = calloc(1, sizeof *e);
  uv_loop_init(&e->loop);
  snprintf(e->dir, sizeof e->dir, "/tmp/cshim-svc-XXXXXX");
  assert_non_null(mkdtemp(e->dir));
  snprintf(e->sock, sizeof e->sock, "%s/shim.sock", e->dir);
  snprintf(e->evsock, sizeof e->evsock, "%s/events.sock", e->dir);
  e->events = task_events_new(&e->loop, e->evsock, "testns");
  cs_err err;
  task_service_config cfg = {.loop = &e->loop, .ns = "testns", .events = e->events, .backend_new = factory,
                             .backend_data = e, .encode_stats = encode, .on_shutdown = on_shutdown, .shutdown_data = e};
  e->svc = task_service_new(&cfg, &err);
  e->server = ttrpc_server_new(&e->loop);
  assert_int_equal(task_service_register(e->svc, e->server, &err), 0);
  assert_int_equal(stats_stream_register(e->svc, e->server, &err), 0);
  assert_int_equal(ttrpc_server_listen(e->server, e->sock, &err), 0);
  e->client = ttrpc_client_new(&e->loop);
  assert_int_equal(ttrpc_client_connect_sync(e->client, e->sock, &err), 0);
  E = e;
  *state = e;
  return 0;
}

static void closed(void *data) { (*(int *)data)--; }

int teardown(void **state) {
  env *e = *state;
  ttrpc_client_close(e->client);
  task_service_free(e->svc);
  task_events_free(e->events);
  int open = 1 + (e->evserver != NULL);
  ttrpc_server_close(e->server, closed, &open);
  if (e->evserver) ttrpc_server_close(e->evserver, closed, &open);
  while (open > 0) uv_run(&e->loop, UV_RUN_ONCE);
  uv_run(&e->loop, UV_RUN_NOWAIT);
  assert_int_equal(uv_loop_close(&e->loop), 0);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", e->dir);
  if (system(cmd) != 0) {
  }
  free(e);
  return 0;
}

/* One unary call; returns the status code, the reply unpacked into *out if desc is given. */
int call(const char *method, const ProtobufCMessage *req, const ProtobufCMessageDescriptor *desc, void **out,
                char *msg) {
  uint8_t buf[4096];
  size_t len = req ? protobuf_c_message_pack(req, buf) : 0;
  uint8_t *reply = NULL;
  size_t rlen = 0;
  cs_err err;
  int rc = ttrpc_client_call_sync(E->client, TASK, method, buf, len, NULL, 0, 0, &reply, &rlen, &err);
  if (rc < 0) {
    if (msg) snprintf(msg, CS_ERR_MSG_MAX, "%s", err.msg);
    return err.code;
  }
  if (desc && out) *out = protobuf_c_message_unpack(desc, NULL, rlen, reply);
  free(reply);
  return 0;
}

void run_until(bool (*cond)(void)) {
  for (int i = 0; i < 1000 && !cond(); i++) uv_run(&E->loop, UV_RUN_ONCE);
}

int create(const char *id) {
  Containerd__Task__V2__CreateTaskRequest r = CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
  r.id = (char *)id;
  r.bundle = E->dir;
  return call("Create", &r.base, NULL, NULL, NULL);
}

int simple(const char *method, const char *id, const char *exec_id) {
  Containerd__Task__V2__StartRequest r = CONTAINERD__TASK__V2__START_REQUEST__INIT; /* {id, exec_id} shape */
  r.id = (char *)id;
  r.exec_id = (char *)(exec_id ? exec_id : "");
  return call(method, &r.base, NULL, NULL, NULL);
}

int state_of(const char *id, const char *exec_id, uint32_t *exit_status) {
  Containerd__Task__V2__StateRequest r = CONTAINERD__TASK__V2__STATE_REQUEST__INIT;
  r.id = (char *)id;
  r.exec_id = (char *)(exec_id ? exec_id : "");
  Containerd__Task__V2__StateResponse *resp = NULL;
  int rc = call("State", &r.base, &containerd__task__v2__state_response__descriptor, (void **)&resp, NULL);
  if (rc) return -rc;
  int st = resp->status;
  if (exit_status) *exit_status = resp->exit_status;
  containerd__task__v2__state_response__free_unpacked(resp, NULL);
  return st;
}

bool events_done(void) { return task_events_pending(E->events) == 0; }

void assert_topics(const char *const *want, int n) {
  run_until(events_done);
  assert_int_equal(E->n_topics, n);
  for (int i = 0; i < n; i++) assert_string_equal(E->topics[i], want[i]);
}
