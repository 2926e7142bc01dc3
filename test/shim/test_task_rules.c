/* The rules the service owns alone (rt.h, cs_id.h, task_service_int.h), pinned at their owner:
 *   - an exit that arrives before Start has answered is reported after Start's reply and TaskStart, once;
 *   - an id that is not an identifier is refused with InvalidArgument by the one check, for every RPC that
 *     names a task or an exec, before the backend hears of it;
 *   - every handler answers each call exactly once, error paths included (counted on a raw socket). */
#include "svc_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tt_util.h"

/* ------------------------------------------------------------------ exit before Start returns */

static char order[256];
static void on_reply(void *data, int code, const char *msg, const uint8_t *p, size_t n) {
  (void)msg, (void)p, (void)n;
  size_t l = strlen(order);
  snprintf(order + l, sizeof order - l, "%s%s,", (const char *)data, code ? "!" : "");
}

static void async_call(const char *method, const ProtobufCMessage *m, const char *tag) {
  uint8_t buf[512];
  size_t len = protobuf_c_message_pack(m, buf);
  cs_err err;
  assert_int_equal(ttrpc_client_call(E->client, TASK, method, buf, len, NULL, 0, 0, on_reply, (void *)tag, &err), 0);
}

static bool pending(void) { return E->rt->n_pending > 0; }
static bool two_replies(void) {
  int commas = 0;
  for (const char *s = order; *s; s++) commas += *s == ',';
  return commas >= 2;
}

static int count_topic(const char *topic) {
  int n = 0;
  for (int i = 0; i < E->n_topics; i++) n += strcmp(E->topics[i], topic) == 0;
  return n;
}

/* Start and Wait in flight; the backend reports the exit before it completes the start, twice (a backend
 * must not, but the service records an exit once whatever it is told). */
static void start_racing_exit(const char *id, const char *exec_id, int pid, int status) {
  Containerd__Task__V2__WaitRequest w = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;
  w.id = (char *)id;
  w.exec_id = (char *)exec_id;
  Containerd__Task__V2__StartRequest s = CONTAINERD__TASK__V2__START_REQUEST__INIT;
  s.id = (char *)id;
  s.exec_id = (char *)exec_id;
  order[0] = '\0';
  E->rt->manual = true;
  async_call("Wait", &w.base, "wait");
  async_call("Start", &s.base, "start");
  run_until(pending);
  assert_int_equal(E->rt->n_pending, 1);
  fake_rt_exit(E->rt, pid, status);
  fake_rt_exit(E->rt, pid, status);
  uv_run(&E->loop, UV_RUN_NOWAIT);
  assert_string_equal(order, ""); /* nothing answered before the start completes */
  fake_rt_complete(E->rt);
  run_until(two_replies);
  E->rt->manual = false;
  assert_string_equal(order, "start,wait,");
  uint32_t st;
  assert_int_equal(state_of(id, exec_id, &st), 3);
  assert_int_equal(st, (uint32_t)status);
}

static void test_exit_before_start_reply(void **state) {
  env *e = *state;
  start_events_server(e);
  /* The init: its pid known since create (Linux: runc create). */
  assert_int_equal(create("r1"), 0); /* pid 1000 */
  start_racing_exit("r1", "", 1000, 3);
  /* An exec: its pid comes only with the start's completion (runc exec; HCS's init and execs alike). */
  assert_int_equal(create("r2"), 0); /* pid 1001 */
  assert_int_equal(simple("Start", "r2", NULL), 0);
  Containerd__Task__V2__ExecProcessRequest x = CONTAINERD__TASK__V2__EXEC_PROCESS_REQUEST__INIT;
  Google__Protobuf__Any spec = GOOGLE__PROTOBUF__ANY__INIT;
  spec.value.data = (uint8_t *)"{\"args\":[\"true\"]}";
  spec.value.len = strlen((char *)spec.value.data);
  x.id = "r2";
  x.exec_id = "e1";
  x.spec = &spec;
  assert_int_equal(call("Exec", &x.base, NULL, NULL, NULL), 0);
  start_racing_exit("r2", "e1", 1002, 5);
  const char *want[] = {"/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/create", "/tasks/start",
                        "/tasks/exec-added", "/tasks/exec-started", "/tasks/exit"};
  assert_topics(want, 8);
  assert_int_equal(count_topic("/tasks/exit"), 2);
}

/* ------------------------------------------------------------------ the one id rule */

static const char *const bad_ids[] = {"", "../x", "a/b", "a..b", "-a", "a-", "a b", "caf\xc3\xa9",
                                      "x12345678901234567890123456789012345678901234567890123456789012345678901234567"};
#define N_BAD (sizeof bad_ids / sizeof bad_ids[0])

/* Every method whose request starts {1: id, 2: exec_id or another string}. Connect answers for any id (as
 * runc-v2 does) and Shutdown ignores it: not in the list. */
static const char *const id_methods[] = {"Create", "Start",    "Delete",    "Pids",   "Pause", "Resume",
                                         "Kill",   "Exec",     "ResizePty", "CloseIO", "Wait", "State",
                                         "Stats",  "Checkpoint", "Update"};
static const char *const exec_methods[] = {"Start", "Delete", "Kill", "Exec", "ResizePty", "CloseIO", "Wait", "State"};

static void expect_bad_id(const char *method, const char *id, const char *exec_id) {
  Containerd__Task__V2__StartRequest r = CONTAINERD__TASK__V2__START_REQUEST__INIT; /* {1 id, 2 exec_id} */
  r.id = (char *)id;
  r.exec_id = (char *)exec_id;
  char msg[CS_ERR_MSG_MAX] = "";
  int rc = call(method, &r.base, NULL, NULL, msg);
  if (rc != CS_INVALID_ARGUMENT || !(strstr(msg, "id \"") || strstr(msg, "must not be empty") || strstr(msg, "longer than")))
    fail_msg("%s id=\"%s\" exec_id=\"%s\": %d %s", method, id, exec_id, rc, msg);
}

static void test_one_id_rule(void **state) {
  env *e = *state;
  assert_int_equal(create("ok1"), 0);
  int calls = e->rt->n_calls;
  for (size_t m = 0; m < sizeof id_methods / sizeof id_methods[0]; m++)
    for (size_t i = 0; i < N_BAD; i++) expect_bad_id(id_methods[m], bad_ids[i], "");
  for (size_t m = 0; m < sizeof exec_methods / sizeof exec_methods[0]; m++)
    for (size_t i = 1; i < N_BAD; i++) /* "" is the init */
      expect_bad_id(exec_methods[m], "ok1", bad_ids[i]);
  assert_int_equal(e->rt->n_calls, calls); /* the backend never heard of them */
  /* A valid id that names nothing is NotFound, as before. */
  assert_int_equal(simple("State", "nosuch", NULL), CS_NOT_FOUND);
  assert_int_equal(simple("State", "ok1", "nosuch"), CS_NOT_FOUND);
  /* 76 characters is still an id. */
  assert_int_equal(create("x123456789012345678901234567890123456789012345678901234567890123456789012345"), 0);
}

/* ------------------------------------------------------------------ one reply per call */

static const char *const all_methods[] = {"State", "Create", "Start",   "Delete",   "Pids",  "Pause",
                                          "Resume", "Checkpoint", "Kill", "Exec",   "ResizePty", "CloseIO",
                                          "Update", "Wait",  "Stats",   "Connect",  "Shutdown"};
#define N_ALL (sizeof all_methods / sizeof all_methods[0])

typedef struct sent {
  uint32_t id;
  const char *what;
  int want; /* expected code, -1: any */
} sent;

static int raw_fd;
static uint32_t next_stream = 1;
static sent log_[128];
static size_t n_log;

static void send_raw(const char *method, const void *p, size_t n, const char *what, int want) {
  assert_true(n_log < sizeof log_ / sizeof log_[0]);
  log_[n_log++] = (sent){next_stream, what, want};
  assert_int_equal(tt_send_request(raw_fd, next_stream, 0, TASK, method, p, n, 0, NULL, 0), 0);
  next_stream += 2;
}

static void send_msg(const char *method, const ProtobufCMessage *m, const char *what, int want) {
  uint8_t buf[512];
  send_raw(method, buf, protobuf_c_message_pack(m, buf), what, want);
}

static void send_simple(const char *method, const char *id, const char *exec_id, const char *what, int want) {
  Containerd__Task__V2__StartRequest r = CONTAINERD__TASK__V2__START_REQUEST__INIT;
  r.id = (char *)id;
  r.exec_id = (char *)exec_id;
  send_msg(method, &r.base, what, want);
}

/* Read responses until the one for stream `until`; every stream answered exactly once. */
static void collect(uint32_t until) {
  int seen[256] = {0};
  for (;;) {
    tt_resp r;
    assert_int_equal(tt_recv_response(raw_fd, &E->loop, &r), 0);
    assert_int_equal(r.type, TTRPC_RESPONSE);
    assert_true(r.id < 2 * 256);
    seen[r.id / 2]++;
    for (size_t i = 0; i < n_log; i++)
      if (log_[i].id == r.id && log_[i].want >= 0 && r.code != log_[i].want)
        fail_msg("%s: code %d (%s), want %d", log_[i].what, r.code, r.msg, log_[i].want);
    if (r.id == until) break;
  }
  for (size_t i = 0; i < n_log; i++)
    if (seen[log_[i].id / 2] != 1) fail_msg("%s: answered %d times", log_[i].what, seen[log_[i].id / 2]);
}

static void test_one_reply_per_call(void **state) {
  env *e = *state;
  assert_int_equal(create("c1"), 0);                      /* created */
  assert_int_equal(create("c2"), 0);
  assert_int_equal(simple("Start", "c2", NULL), 0);        /* running, pid 1001 */
  raw_fd = tt_raw_connect(e->sock);
  assert_true(raw_fd >= 0);
  n_log = 0;
  next_stream = 1;
  /* Requests that do not decode, to every method. */
  static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
  for (size_t m = 0; m < N_ALL; m++) send_raw(all_methods[m], garbage, sizeof garbage, all_methods[m], CS_INVALID_ARGUMENT);
  /* Refused by the lookup, by a precondition, or by the backend at once. */
  send_simple("State", "nosuch", "", "State unknown", CS_NOT_FOUND);
  send_simple("Wait", "c1", "nosuch", "Wait unknown exec", CS_NOT_FOUND);
  send_simple("Start", "c2", "", "Start running", CS_FAILED_PRECONDITION);
  send_simple("Pause", "c1", "", "Pause created", CS_FAILED_PRECONDITION);
  send_simple("Resume", "c2", "", "Resume running", CS_FAILED_PRECONDITION);
  send_simple("Delete", "c2", "", "Delete running", CS_FAILED_PRECONDITION);
  send_simple("Exec", "c2", "e1", "Exec without spec", CS_INVALID_ARGUMENT);
  Containerd__Task__V2__KillRequest k = CONTAINERD__TASK__V2__KILL_REQUEST__INIT;
  k.id = "c2";
  send_msg("Kill", &k.base, "Kill signal 0", CS_INVALID_ARGUMENT);
  Containerd__Task__V2__UpdateTaskRequest u = CONTAINERD__TASK__V2__UPDATE_TASK_REQUEST__INIT;
  u.id = "c2";
  send_msg("Update", &u.base, "Update without resources", CS_INVALID_ARGUMENT);
  Containerd__Task__V2__CheckpointTaskRequest cp = CONTAINERD__TASK__V2__CHECKPOINT_TASK_REQUEST__INIT;
  Google__Protobuf__Any bad_opts = GOOGLE__PROTOBUF__ANY__INIT;
  bad_opts.type_url = "containerd.runc.v1.CheckpointOptions";
  bad_opts.value.data = (uint8_t *)garbage;
  bad_opts.value.len = sizeof garbage;
  cp.id = "c2";
  cp.options = &bad_opts;
  send_msg("Checkpoint", &cp.base, "Checkpoint bad options", CS_INVALID_ARGUMENT);
  send_simple("Checkpoint", "c2", "", "Checkpoint no path", CS_INVALID_ARGUMENT);
  Containerd__Task__V2__CreateTaskRequest cr = CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
  cr.id = "c1";
  cr.bundle = e->dir;
  send_msg("Create", &cr.base, "Create existing", CS_ALREADY_EXISTS);
  cr.id = "c3";
  cr.bundle = "relative";
  send_msg("Create", &cr.base, "Create relative bundle", CS_INVALID_ARGUMENT);
  send_simple("Connect", "nosuch", "", "Connect unknown", CS_OK);
  collect(log_[n_log - 1].id);
  /* The backend refuses at once (-1), then through its callback. */
  n_log = 0;
  e->rt->fail_code = CS_UNKNOWN;
  e->rt->fail_op[0] = '\0';
  send_simple("Start", "c1", "", "Start, backend refuses", CS_UNKNOWN);
  collect(log_[n_log - 1].id);
  n_log = 0;
  e->rt->fail_code = CS_UNKNOWN;
  e->rt->fail_async = true;
  send_simple("Start", "c1", "", "Start, backend fails later", CS_UNKNOWN);
  collect(log_[n_log - 1].id);
  e->rt->fail_async = false;
  n_log = 0;
  e->rt->stats_fail_code = CS_INTERNAL;
  send_simple("Pids", "c2", "", "Pids, backend refuses", CS_INTERNAL);
  send_simple("Stats", "c2", "", "Stats, backend refuses", CS_INTERNAL);
  collect(log_[n_log - 1].id);
  e->rt->stats_fail_code = 0;
  /* Nothing more arrives: the next call's answer is the next frame. */
  n_log = 0;
  send_simple("Connect", "c1", "", "Connect", CS_OK);
  collect(log_[n_log - 1].id);
  close(raw_fd);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_exit_before_start_reply, setup, teardown),
    cmocka_unit_test_setup_teardown(test_one_id_rule, setup, teardown),
    cmocka_unit_test_setup_teardown(test_one_reply_per_call, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
