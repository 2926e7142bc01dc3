/* The Task API service over a real TTRPC socket, with a fake backend: the state machine, the exit/start
 * races, event order and delivery after an outage, and bad input. */
#include "svc_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "containerd/events/task.pb-c.h"
#include "containerd/runctypes/runc.pb-c.h"
#include "cshim/stats.pb.h"
#include "stats_stream.h"
#include <pb_decode.h>
#include <pb_encode.h>

/* ------------------------------------------------------------------ tests */

static void test_lifecycle(void **state) {
  env *e = *state;
  start_events_server(e);
  assert_int_equal(create("t1"), 0);
  assert_int_equal(state_of("t1", NULL, NULL), 1 /* CREATED */);
  assert_int_equal(simple("Start", "t1", NULL), 0);
  assert_int_equal(state_of("t1", NULL, NULL), 2 /* RUNNING */);
  assert_int_equal(simple("Delete", "t1", NULL), CS_FAILED_PRECONDITION);
  fake_rt_exit(e->rt, 1000, 7);
  uint32_t st;
  assert_int_equal(state_of("t1", NULL, &st), 3 /* STOPPED */);
  assert_int_equal(st, 7);
  Containerd__Task__V2__WaitRequest w = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;
  w.id = "t1";
  Containerd__Task__V2__WaitResponse *wr = NULL;
  assert_int_equal(call("Wait", &w.base, &containerd__task__v2__wait_response__descriptor, (void **)&wr, NULL), 0);
  assert_int_equal(wr->exit_status, 7);
  assert_int_equal(wr->exited_at->seconds, 1234);
  containerd__task__v2__wait_response__free_unpacked(wr, NULL);
  Containerd__Task__V2__DeleteRequest d = CONTAINERD__TASK__V2__DELETE_REQUEST__INIT;
  d.id = "t1";
  Containerd__Task__V2__DeleteResponse *dr = NULL;
  assert_int_equal(call("Delete", &d.base, &containerd__task__v2__delete_response__descriptor, (void **)&dr, NULL), 0);
  assert_int_equal(dr->exit_status, 7);
  assert_int_equal(dr->pid, 1000);
  containerd__task__v2__delete_response__free_unpacked(dr, NULL);
  /* the second Delete answers NotFound, the connection stays fine */
  assert_int_equal(simple("Delete", "t1", NULL), CS_NOT_FOUND);
  const char *want[] = {"/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"};
  assert_topics(want, 4);
  assert_int_equal(call("Shutdown", NULL, NULL, NULL, NULL), 0);
  assert_true(e->shutdown);
}

static int start_code;
static bool start_answered;
static void start_reply(void *data, int code, const char *msg, const uint8_t *p, size_t n) {
  start_code = code;
  start_answered = true;
}
static bool start_pending(void) { return E->rt->n_pending > 0; }
static bool start_done(void) { return start_answered; }

static void test_exit_before_start_returns(void **state) {
  env *e = *state;
  start_events_server(e);
  assert_int_equal(create("t2"), 0);
  e->rt->manual = true;
  Containerd__Task__V2__StartRequest r = CONTAINERD__TASK__V2__START_REQUEST__INIT;
  r.id = "t2";
  uint8_t buf[64];
  size_t len = containerd__task__v2__start_request__pack(&r, buf);
  cs_err err;
  start_answered = false;
  assert_int_equal(ttrpc_client_call(e->client, TASK, "Start", buf, len, NULL, 0, 0, start_reply, NULL, &err), 0);
  run_until(start_pending);
  fake_rt_exit(e->rt, 1000, 3); /* the process exits before the runtime's start returned */
  fake_rt_complete(e->rt);
  run_until(start_done);
  assert_int_equal(start_code, 0);
  uint32_t st;
  assert_int_equal(state_of("t2", NULL, &st), 3);
  assert_int_equal(st, 3);
  const char *want[] = {"/tasks/create", "/tasks/start", "/tasks/exit"};
  assert_topics(want, 3);
}

static void test_exec_exit_before_pid_known(void **state) {
  env *e = *state;
  assert_int_equal(create("t3"), 0);
  assert_int_equal(simple("Start", "t3", NULL), 0);
  Containerd__Task__V2__ExecProcessRequest x = CONTAINERD__TASK__V2__EXEC_PROCESS_REQUEST__INIT;
  Google__Protobuf__Any spec = GOOGLE__PROTOBUF__ANY__INIT;
  spec.type_url = "types.containerd.io/opencontainers/runtime-spec/1/Process";
  spec.value.data = (uint8_t *)"{\"args\":[\"true\"]}";
  spec.value.len = strlen((char *)spec.value.data);
  x.id = "t3";
  x.exec_id = "e1";
  x.spec = &spec;
  assert_int_equal(call("Exec", &x.base, NULL, NULL, NULL), 0);
  assert_int_equal(call("Exec", &x.base, NULL, NULL, NULL), CS_ALREADY_EXISTS);
  e->rt->manual = true;
  Containerd__Task__V2__StartRequest r = CONTAINERD__TASK__V2__START_REQUEST__INIT;
  r.id = "t3";
  r.exec_id = "e1";
  uint8_t buf[64];
  size_t len = containerd__task__v2__start_request__pack(&r, buf);
  cs_err err;
  start_answered = false;
  assert_int_equal(ttrpc_client_call(e->client, TASK, "Start", buf, len, NULL, 0, 0, start_reply, NULL, &err), 0);
  run_until(start_pending);
  fake_rt_exit(e->rt, 1001, 5); /* exec pid 1001 exits; the service does not know that pid yet */
  fake_rt_exit(e->rt, 4242, 0); /* an unrelated reparented process */
  fake_rt_complete(e->rt);
  run_until(start_done);
  e->rt->manual = false;
  uint32_t st;
  assert_int_equal(state_of("t3", "e1", &st), 3);
  assert_int_equal(st, 5);
  assert_int_equal(simple("Delete", "t3", "e1"), 0);
  assert_int_equal(state_of("t3", "e1", NULL), -CS_NOT_FOUND);
  assert_int_equal(state_of("t3", NULL, NULL), 2);
}

static void test_bad_input(void **state) {
  env *e = *state;
  char msg[CS_ERR_MSG_MAX];
  uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
  uint8_t *reply = NULL;
  size_t rlen;
  cs_err err;
  assert_int_equal(ttrpc_client_call_sync(e->client, TASK, "Create", garbage, sizeof garbage, NULL, 0, 0, &reply, &rlen, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  assert_int_equal(create("../evil"), CS_INVALID_ARGUMENT);
  assert_int_equal(create("a..b"), CS_INVALID_ARGUMENT);
  Containerd__Task__V2__CreateTaskRequest r = CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
  r.id = "rel";
  r.bundle = "relative/bundle";
  assert_int_equal(call("Create", &r.base, NULL, NULL, msg), CS_INVALID_ARGUMENT);
  assert_non_null(strstr(msg, "absolute"));
  assert_int_equal(simple("Start", "nosuch", NULL), CS_NOT_FOUND);
  assert_int_equal(create("t4"), 0);
  assert_int_equal(create("t4"), CS_ALREADY_EXISTS);
  assert_int_equal(simple("Start", "t4", "nosuch"), CS_NOT_FOUND);
  assert_int_equal(simple("Pause", "t4", NULL), CS_FAILED_PRECONDITION); /* created, not running */
  e->rt->fail_code = CS_UNKNOWN;
  assert_int_equal(simple("Start", "t4", NULL), CS_UNKNOWN);
  assert_int_equal(state_of("t4", NULL, NULL), 1); /* still created: nothing lost */
  assert_int_equal(simple("Start", "t4", NULL), 0);
  fake_rt_exit(e->rt, 1000, 0);
  Containerd__Task__V2__KillRequest k = CONTAINERD__TASK__V2__KILL_REQUEST__INIT;
  k.id = "t4";
  k.signal = 9;
  assert_int_equal(call("Kill", &k.base, NULL, NULL, msg), CS_NOT_FOUND);
  assert_non_null(strstr(msg, "process already finished"));
  assert_int_equal(call("Shutdown", NULL, NULL, NULL, NULL), 0);
  assert_false(e->shutdown); /* a task remains */
}

static void test_events_survive_outage(void **state) {
  env *e = *state;
  /* no events server yet: containerd is "down" */
  assert_int_equal(create("t5"), 0);
  assert_int_equal(simple("Start", "t5", NULL), 0);
  fake_rt_exit(e->rt, 1000, 1);
  assert_int_equal(simple("Delete", "t5", NULL), 0);
  for (int i = 0; i < 20; i++) uv_run(&e->loop, UV_RUN_NOWAIT);
  assert_int_equal(task_events_pending(e->events), 4);
  start_events_server(e);
  const char *want[] = {"/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"};
  assert_topics(want, 4);
}

static void test_stats_pids_pause(void **state) {
  env *e = *state;
  start_events_server(e);
  assert_int_equal(create("t6"), 0);
  assert_int_equal(simple("Start", "t6", NULL), 0);
  Containerd__Task__V2__StatsRequest s = CONTAINERD__TASK__V2__STATS_REQUEST__INIT;
  s.id = "t6";
  Containerd__Task__V2__StatsResponse *sr = NULL;
  assert_int_equal(call("Stats", &s.base, &containerd__task__v2__stats_response__descriptor, (void **)&sr, NULL), 0);
  assert_string_equal(sr->stats->type_url, "test.Sample");
  containerd__task__v2__stats_response__free_unpacked(sr, NULL);
  Containerd__Task__V2__PidsResponse *pr = NULL;
  Containerd__Task__V2__PidsRequest p = CONTAINERD__TASK__V2__PIDS_REQUEST__INIT;
  p.id = "t6";
  assert_int_equal(call("Pids", &p.base, &containerd__task__v2__pids_response__descriptor, (void **)&pr, NULL), 0);
  assert_int_equal(pr->n_processes, 2);
  containerd__task__v2__pids_response__free_unpacked(pr, NULL);
  assert_int_equal(simple("Pause", "t6", NULL), 0);
  assert_int_equal(state_of("t6", NULL, NULL), 4);
  assert_int_equal(simple("Resume", "t6", NULL), 0);
  assert_int_equal(state_of("t6", NULL, NULL), 2);
  Containerd__Task__V2__ConnectRequest c = CONTAINERD__TASK__V2__CONNECT_REQUEST__INIT;
  c.id = "t6";
  Containerd__Task__V2__ConnectResponse *cr = NULL;
  assert_int_equal(call("Connect", &c.base, &containerd__task__v2__connect_response__descriptor, (void **)&cr, NULL), 0);
  assert_int_equal(cr->shim_pid, (uint32_t)getpid());
  assert_int_equal(cr->task_pid, 1000);
  containerd__task__v2__connect_response__free_unpacked(cr, NULL);
  const char *want[] = {"/tasks/create", "/tasks/start", "/tasks/paused", "/tasks/resumed"};
  assert_topics(want, 4);
}

typedef struct watch_rx {
  int samples, gone;
  bool ended;
  int code;
  uint64_t last_seq;
  char last_id[80];
  uint64_t cpu, memory; /* of the last sample */
  int n_h1, n_b1;       /* samples of h1 and b1 (test_stats_held_read) */
} watch_rx;

static void watch_cb(void *data, bool last, int code, const char *msg, const uint8_t *p, size_t n) {
  watch_rx *rx = data;
  if (last) {
    rx->ended = true;
    rx->code = code;
    return;
  }
  cshim_stats_v1_Sample s = cshim_stats_v1_Sample_init_zero;
  pb_istream_t is = pb_istream_from_buffer(p, n);
  assert_true(pb_decode(&is, cshim_stats_v1_Sample_fields, &s));
  rx->samples++;
  rx->gone += s.task_gone;
  rx->last_seq = s.seq;
  snprintf(rx->last_id, sizeof rx->last_id, "%s", s.id);
  rx->n_h1 += strcmp(s.id, "h1") == 0;
  rx->n_b1 += strcmp(s.id, "b1") == 0;
  if (!s.task_gone) {
    /* the per-tick fields and the rest as last read (interfaces) make one Sample */
    rx->cpu = s.cpu.usage_ns;
    rx->memory = s.memory.usage;
    assert_int_equal(s.memory.limit, 1 << 20);
    assert_int_equal(s.net_count, 2);
    assert_string_equal(s.net[0].name, "eth0");
    /* a Windows HNS endpoint goes by its whole id, longer than rt_net_iface.name */
    assert_string_equal(s.net[1].name, "6e3a1f10-2b7c-4d55-9a0e-1c2d3e4f5a6b");
  }
  /* assembled from parts, yet the very bytes nanopb writes for the whole Sample */
  static uint8_t again[cshim_stats_v1_Sample_size];
  pb_ostream_t os = pb_ostream_from_buffer(again, sizeof again);
  assert_true(pb_encode(&os, cshim_stats_v1_Sample_fields, &s));
  assert_int_equal(os.bytes_written, n);
  assert_memory_equal(again, p, n);
}

static watch_rx *RX;
static bool rx_ended(void) { return RX->ended; }
static bool rx_two(void) { return RX->samples >= 2; }
static bool no_streams(void) { return stats_stream_count(E->svc) == 0; }

static uint32_t watch(ttrpc_client *c, const char *id, uint64_t ms, uint32_t count, watch_rx *rx) {
  uint8_t buf[256];
  size_t len = 0;
  buf[len++] = 0x0a; /* ids, field 1, length-delimited */
  buf[len++] = (uint8_t)strlen(id);
  memcpy(buf + len, id, strlen(id));
  len += strlen(id);
  buf[len++] = 0x10; /* interval_ms */
  buf[len++] = (uint8_t)ms;
  buf[len++] = 0x18; /* count */
  buf[len++] = (uint8_t)count;
  uint32_t sid = 0;
  cs_err err;
  assert_int_equal(ttrpc_client_stream(c, "cshim.stats.v1.Stats", "Watch", buf, len, NULL, 0, watch_cb, rx, &sid, &err), 0);
  return sid;
}

static void test_watch_stream(void **state) {
  env *e = *state;
  assert_int_equal(create("w1"), 0);
  e->rt->sample.memory.usage = 4096;
  e->rt->sample.memory.limit = 1 << 20;
  e->rt->sample.n_net = 2;
  snprintf(e->rt->sample.net[0].name, sizeof e->rt->sample.net[0].name, "eth0");
  snprintf(e->rt->sample.net[1].name, sizeof e->rt->sample.net[1].name, "6e3a1f10-2b7c-4d55-9a0e-1c2d3e4"); /* as much as fits */
  snprintf(e->rt->sample.net[1].endpoint_id, sizeof e->rt->sample.net[1].endpoint_id,
           "6e3a1f10-2b7c-4d55-9a0e-1c2d3e4f5a6b");
  assert_int_equal(simple("Start", "w1", NULL), 0);
  /* N samples at the interval, then a clean end */
  watch_rx rx = {0};
  RX = &rx;
  watch(e->client, "w1", 10, 3, &rx);
  run_until(rx_ended);
  assert_int_equal(rx.code, CS_OK);
  assert_int_equal(rx.samples, 3);
  assert_int_equal(rx.last_seq, 3);
  assert_string_equal(rx.last_id, "w1");
  assert_int_equal(rx.cpu, 42);
  assert_int_equal(rx.memory, 4096);
  /* usage moves between full reads: every tick has it (and a zero is left out, as nanopb would) */
  e->rt->sample.cpu.usage_ns = 1ull << 40;
  e->rt->sample.memory.usage = 0;
  rx = (watch_rx){0};
  watch(e->client, "w1", 10, 2, &rx);
  run_until(rx_ended);
  assert_int_equal(rx.samples, 2);
  assert_int_equal(rx.cpu, 1ull << 40);
  assert_int_equal(rx.memory, 0);
  /* an unknown task is NotFound */
  watch_rx bad = {0};
  RX = &bad;
  watch(e->client, "nosuch", 10, 1, &bad);
  run_until(rx_ended);
  assert_int_equal(bad.code, CS_NOT_FOUND);
  /* the client goes away: the shim's stream ends */
  ttrpc_client *c2 = ttrpc_client_new(&e->loop);
  cs_err err;
  assert_int_equal(ttrpc_client_connect_sync(c2, e->sock, &err), 0);
  watch_rx rx2 = {0};
  RX = &rx2;
  watch(c2, "w1", 10, 0, &rx2);
  run_until(rx_two);
  assert_int_equal(stats_stream_count(e->svc), 1);
  ttrpc_client_close(c2);
  run_until(no_streams);
  assert_int_equal(stats_stream_count(e->svc), 0);
  /* the task is deleted: a last task_gone sample, then the end */
  watch_rx rx3 = {0};
  RX = &rx3;
  watch(e->client, "w1", 20, 0, &rx3);
  run_until(rx_two);
  fake_rt_exit(e->rt, 1000, 0);
  assert_int_equal(simple("Delete", "w1", NULL), 0);
  run_until(rx_ended);
  assert_int_equal(rx3.code, CS_OK);
  assert_int_equal(rx3.gone, 1);
}

typedef struct stats_rx {
  int n, code;
} stats_rx;

static void stats_reply(void *data, int code, const char *msg, const uint8_t *p, size_t n) {
  stats_rx *r = data;
  r->n++;
  r->code = code;
}

static stats_rx *SRX;
static bool srx_done(void) { return SRX->n > 0 && RX->ended; }
static bool rx_five_b1(void) { return RX->n_b1 >= 5; }

/* A backend read that does not answer at once (HCS's): Stats of another task answers meanwhile, the stream
 * goes on sending the other task's samples, and when the held read answers, its Stats reply and its sample go
 * out on their own; a stream whose last tick is done waits for it before it ends. */
static void test_stats_held_read(void **state) {
  env *e = *state;
  assert_int_equal(create("h1"), 0);
  assert_int_equal(create("b1"), 0);
  e->rt->sample.memory.limit = 1 << 20;
  e->rt->sample.n_net = 2; /* what watch_cb checks: a Linux interface and a Windows endpoint */
  snprintf(e->rt->sample.net[0].name, sizeof e->rt->sample.net[0].name, "eth0");
  snprintf(e->rt->sample.net[1].endpoint_id, sizeof e->rt->sample.net[1].endpoint_id,
           "6e3a1f10-2b7c-4d55-9a0e-1c2d3e4f5a6b");
  snprintf(e->rt->stats_hold, sizeof e->rt->stats_hold, "h1");

  stats_rx held = {0};
  SRX = &held;
  Containerd__Task__V2__StatsRequest r = CONTAINERD__TASK__V2__STATS_REQUEST__INIT;
  r.id = "h1";
  uint8_t buf[64];
  size_t len = protobuf_c_message_pack(&r.base, buf);
  cs_err err;
  assert_int_equal(ttrpc_client_call(e->client, TASK, "Stats", buf, len, NULL, 0, 0, stats_reply, &held, &err), 0);
  r.id = "b1";
  assert_int_equal(call("Stats", &r.base, NULL, NULL, NULL), 0); /* answered while h1's read is held */
  assert_int_equal(held.n, 0);

  /* Watch h1 and b1, five ticks. */
  static const uint8_t req[] = {0x0a, 2, 'h', '1', 0x0a, 2, 'b', '1', 0x10, 10, 0x18, 5};
  watch_rx rx = {0};
  RX = &rx;
  uint32_t sid;
  assert_int_equal(ttrpc_client_stream(e->client, "cshim.stats.v1.Stats", "Watch", req, sizeof req, NULL, 0, watch_cb,
                                       &rx, &sid, &err), 0);
  run_until(rx_five_b1);
  assert_int_equal(rx.n_b1, 5);
  assert_int_equal(rx.n_h1, 0);
  assert_false(rx.ended); /* the last tick is done; h1's read is still out */
  assert_int_equal(held.n, 0);

  assert_int_equal(fake_rt_release_stats(e->rt, 0), 2); /* the Stats call's read and the stream's */
  run_until(srx_done);
  assert_int_equal(held.n, 1);
  assert_int_equal(held.code, CS_OK);
  assert_true(rx.ended);
  assert_int_equal(rx.code, CS_OK);
  assert_int_equal(rx.n_h1, 1);

  /* A held read failing: the Stats call gets the backend's error. */
  snprintf(e->rt->stats_hold, sizeof e->rt->stats_hold, "h1");
  held = (stats_rx){0};
  r.id = "h1";
  len = protobuf_c_message_pack(&r.base, buf);
  assert_int_equal(ttrpc_client_call(e->client, TASK, "Stats", buf, len, NULL, 0, 0, stats_reply, &held, &err), 0);
  for (int i = 0; i < 1000 && e->rt->n_held == 0; i++) uv_run(&e->loop, UV_RUN_ONCE);
  assert_int_equal(fake_rt_release_stats(e->rt, CS_DEADLINE_EXCEEDED), 1);
  for (int i = 0; i < 1000 && held.n == 0; i++) uv_run(&e->loop, UV_RUN_ONCE);
  assert_int_equal(held.code, CS_DEADLINE_EXCEEDED);
}

static bool some_dropped(void) { return stats_stream_dropped(E->svc) > 2; }

/* A client that never reads: the shim drops ticks instead of queueing them, so its memory stays bounded. */
static void test_watch_slow_client(void **state) {
  env *e = *state;
  char id[16];
  for (int i = 0; i < 20; i++) {
    snprintf(id, sizeof id, "s%d", i);
    assert_int_equal(create(id), 0);
  }
  e->rt->sample.n_net = 16;
  e->rt->sample.blkio.n = 32;
  for (int i = 0; i < 16; i++) snprintf(e->rt->sample.net[i].name, 32, "eth%d", i), e->rt->sample.net[i].rx_bytes = ~0ull;
  for (int i = 0; i < 32; i++) e->rt->sample.blkio.bytes[i].read = ~0ull, e->rt->sample.blkio.ops[i].write = ~0ull;
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof sa.sun_path, "%s", e->sock);
  assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  /* Request{service, method, payload{interval_ms:10}} as stream 1 with remote-closed */
  static const char svc[] = "cshim.stats.v1.Stats", method[] = "Watch";
  uint8_t req[128];
  size_t n = 0;
  req[n++] = 0x0a, req[n++] = sizeof svc - 1;
  memcpy(req + n, svc, sizeof svc - 1), n += sizeof svc - 1;
  req[n++] = 0x12, req[n++] = sizeof method - 1;
  memcpy(req + n, method, sizeof method - 1), n += sizeof method - 1;
  req[n++] = 0x1a, req[n++] = 2, req[n++] = 0x10, req[n++] = 10;
  uint8_t hdr[10] = {0, 0, 0, (uint8_t)n, 0, 0, 0, 1, 1, 1};
  assert_int_equal(write(fd, hdr, 10), 10);
  assert_int_equal(write(fd, req, n), (ssize_t)n);
  for (int i = 0; i < 3000 && !some_dropped(); i++) uv_run(&e->loop, UV_RUN_ONCE);
  assert_true(stats_stream_dropped(e->svc) > 2);
  close(fd);
  run_until(no_streams);
  assert_int_equal(stats_stream_count(e->svc), 0);
}

/* containerd's Go client sends containerd.linux.runc.CreateOptions to this shim (its runtime name is not
 * io.containerd.runc.*): decoded as that type, not as runc v1 Options (where field 9, shim_cgroup, read as
 * systemd_cgroup and io_uid/io_gid did not decode). An unknown type is InvalidArgument naming it. */
static void test_create_options_by_type(void **state) {
  env *e = *state;
  Containerd__Linux__Runc__CreateOptions o = CONTAINERD__LINUX__RUNC__CREATE_OPTIONS__INIT;
  o.shim_cgroup = "/shims";
  o.io_uid = 1000;
  o.io_gid = 1000;
  o.no_new_keyring = true;
  uint8_t obuf[128];
  Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
  any.type_url = "io.example.Unknown";
  any.value.data = obuf;
  any.value.len = containerd__linux__runc__create_options__pack(&o, obuf);
  Containerd__Task__V2__CreateTaskRequest r = CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
  r.id = "t1";
  r.bundle = e->dir;
  r.options = &any;
  char msg[CS_ERR_MSG_MAX] = "";
  assert_int_equal(call("Create", &r.base, NULL, NULL, msg), CS_INVALID_ARGUMENT);
  assert_non_null(strstr(msg, "io.example.Unknown"));
  any.type_url = "containerd.linux.runc.CreateOptions";
  assert_int_equal(call("Create", &r.base, NULL, NULL, msg), 0);
  assert_false(e->got.systemd_cgroup);
  assert_true(e->got.no_new_keyring);
  assert_string_equal(e->got_shim_cgroup, "/shims");
  assert_int_equal(e->got.io_uid, 1000);
  assert_int_equal(e->got.io_gid, 1000);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_create_options_by_type, setup, teardown),
    cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
    cmocka_unit_test_setup_teardown(test_exit_before_start_returns, setup, teardown),
    cmocka_unit_test_setup_teardown(test_exec_exit_before_pid_known, setup, teardown),
    cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
    cmocka_unit_test_setup_teardown(test_events_survive_outage, setup, teardown),
    cmocka_unit_test_setup_teardown(test_stats_pids_pause, setup, teardown),
    cmocka_unit_test_setup_teardown(test_watch_stream, setup, teardown),
    cmocka_unit_test_setup_teardown(test_stats_held_read, setup, teardown),
    cmocka_unit_test_setup_teardown(test_watch_slow_client, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
