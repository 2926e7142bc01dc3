/* The HCS backend through rt_ops against the fake HCS: lifecycle, exits from HCS threads, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_hcs.h"
#include "rt_hcs.h"

#define EP "7a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"

static const char spec_text[] =
    "{\"process\":{\"args\":[\"cmd\",\"/c\",\"ping -t localhost\"],\"env\":[\"K=a=b\"],\"cwd\":\"C:\\\\\"},"
    "\"root\":{\"path\":\"\\\\\\\\?\\\\Volume{aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee}\\\\\"},"
    "\"windows\":{\"layerFolders\":[\"C:\\\\layers\\\\base\",\"C:\\\\scratch\\\\c1\"],"
    "\"network\":{\"endpointList\":[\"" EP "\"]}}}";

static const char stats_json[] =
    "{\"Id\":\"c1\",\"Statistics\":{\"Timestamp\":\"2024-02-29T12:34:56Z\",\"ContainerStartTime\":\"2024-02-29T12:00:00Z\","
    "\"Uptime100ns\":100,\"Processor\":{\"TotalRuntime100ns\":30,\"RuntimeUser100ns\":20,\"RuntimeKernel100ns\":10},"
    "\"Memory\":{\"MemoryUsageCommitBytes\":1,\"MemoryUsageCommitPeakBytes\":2,\"MemoryUsagePrivateWorkingSetBytes\":3},"
    "\"Storage\":{\"ReadCountNormalized\":4,\"ReadSizeBytes\":5,\"WriteCountNormalized\":6,\"WriteSizeBytes\":7}}}";

typedef struct fixture {
  uv_loop_t loop;
  hcs_api api;
  net_hns_api hns;
  rt_backend *be;
  char bundle[64];
  /* what came back */
  int done;
  int last_pid;
  void *last_stdio[3];
  cs_err last_err;
  bool failed;
  char order[512];
  int n_exits;
  int exit_pid[8], exit_status[8];
  int pids[8];
  size_t n_pids;
} fixture;

static void note(fixture *f, const char *s) {
  size_t n = strlen(f->order);
  snprintf(f->order + n, sizeof f->order - n, "%s%s", n ? "," : "", s);
}

static void on_exit_ev(void *data, int pid, int status, int64_t at) {
  fixture *f = data;
  f->exit_pid[f->n_exits] = pid;
  f->exit_status[f->n_exits++] = status;
  char s[48];
  snprintf(s, sizeof s, "exit:%d:%d", pid, status);
  note(f, s);
  assert_true(at > 0);
}

static void on_done(void *data, const rt_result *res, const cs_err *err) {
  fixture *f = data;
  f->done++;
  f->failed = err != NULL;
  if (err) f->last_err = *err;
  f->last_pid = res ? res->pid : -1;
  for (int i = 0; i < 3; i++) f->last_stdio[i] = res ? res->stdio_handle[i] : NULL;
  note(f, err ? "fail" : "done");
}

static void on_pids(void *data, const int *pids, size_t n, const cs_err *err) {
  fixture *f = data;
  f->done++;
  f->failed = err != NULL;
  if (err) f->last_err = *err;
  f->n_pids = err ? 0 : n;
  if (!err && n) memcpy(f->pids, pids, n * sizeof *pids);
}

/* Run the loop until `count` of something reached `want` (the loop wakes on worker completions and on the
 * backend's async handle, so this never spins). */
static void run_until(fixture *f, int *count, int want) {
  for (int i = 0; *count < want && i < 100000; i++) uv_run(&f->loop, UV_RUN_ONCE);
  assert_int_equal(*count, want);
}

typedef struct stats_wait {
  rt_stats_req req;
  int n;
  bool failed;
  cs_err err;
} stats_wait;

static void on_stats(rt_stats_req *req, const cs_err *err) {
  stats_wait *w = req->data;
  w->n++;
  w->failed = err != NULL;
  if (err) w->err = *err;
}

/* stats_async run to its answer: 0, or -1 with err (refused at once, or answered with an error). */
static int stats_sync(fixture *f, const char *id, rt_sample *s, cs_err *err) {
  stats_wait w = {.req = {.out = s}};
  w.req.data = &w;
  if (f->be->ops->stats_async(f->be, id, &w.req, on_stats, err) < 0) return -1;
  assert_int_equal(w.n, 0); /* never from inside the call */
  for (int i = 0; w.n < 1 && i < 100000; i++) uv_run(&f->loop, UV_RUN_ONCE);
  assert_int_equal(w.n, 1);
  if (!w.failed) return 0;
  *err = w.err;
  return -1;
}

static void wait_done(fixture *f) {
  int want = f->done + 1;
  run_until(f, &f->done, want);
}

static void write_bundle(fixture *f, const char *spec) {
  snprintf(f->bundle, sizeof f->bundle, "/tmp/hcs-be-XXXXXX");
  assert_non_null(mkdtemp(f->bundle));
  char path[128];
  snprintf(path, sizeof path, "%s/config.json", f->bundle);
  FILE *fp = fopen(path, "w");
  fputs(spec, fp);
  fclose(fp);
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  assert_int_equal(uv_loop_init(&f->loop), 0);
  fake_hcs_init(&f->api, &f->hns);
  fake_hcs_set_stats(stats_json);
  rt_hcs_config cfg = {.hcs = &f->api, .hns = &f->hns, .host = {.ncpu = 4, .build = 20348},
                       .default_isolation = WIN_ISOLATION_PROCESS, .owner = "cshim-test"};
  rt_events ev = {.exit = on_exit_ev, .data = f};
  cs_err err;
  assert_int_equal(rt_hcs_new(&f->loop, &cfg, &ev, &f->be, &err), 0);
  write_bundle(f, spec_text);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  f->be->ops->destroy(f->be);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  fake_hcs_join();
  assert_int_equal(uv_loop_close(&f->loop), 0);
  assert_int_equal(fake_hcs_open_handles(), 0); /* every system, process and operation closed */
  assert_int_equal(fake_hcs_active_layers(), 0); /* and nothing left activated */
  fake_hcs_reset();
  char path[128];
  snprintf(path, sizeof path, "%s/config.json", f->bundle);
  unlink(path);
  rmdir(f->bundle);
  free(f);
  return 0;
}

static void create_start(fixture *f) {
  cs_err err;
  rt_create_req req = {.id = "c1", .bundle = f->bundle, .io = {.path = {"\\\\.\\pipe\\in", "\\\\.\\pipe\\out", NULL}}};
  assert_int_equal(f->be->ops->create(f->be, &req, on_done, f, &err), 0);
  wait_done(f);
  assert_false(f->failed);
  assert_int_equal(f->last_pid, 0);
  assert_int_equal(f->be->ops->start(f->be, "c1", NULL, on_done, f, &err), 0);
  wait_done(f);
  assert_false(f->failed);
  assert_int_equal(f->last_pid, 1000);
  /* HCS's std handles of the new process go up with the result (the shim relays them). */
  assert_ptr_equal(f->last_stdio[0], (void *)(uintptr_t)0x10);
  assert_ptr_equal(f->last_stdio[1], (void *)(uintptr_t)0x11);
  assert_null(f->last_stdio[2]);
}

static void test_lifecycle(void **state) {
  fixture *f = *state;
  cs_err err;
  create_start(f);
  /* Create builds the document, creates, registers the exit callback, then starts. */
  const char *log = fake_hcs_log();
  const char *c = strstr(log, "HcsCreateComputeSystem c1"), *cb = strstr(log, "HcsSetComputeSystemCallback c1"),
             *st = strstr(log, "HcsStartComputeSystem c1");
  assert_true(c && cb && st && c < cb && cb < st);
  const char *doc = fake_hcs_doc("HcsCreateComputeSystem", 0);
  assert_non_null(strstr(doc, "\"Owner\":\"cshim-test\""));
  assert_non_null(strstr(doc, "\"Container\":{"));
  const char *params = fake_hcs_doc("HcsCreateProcess", 0);
  assert_non_null(strstr(params, "\"CommandLine\":\"cmd /c \\\"ping -t localhost\\\"\""));
  assert_non_null(strstr(params, "\"K\":\"a=b\""));
  assert_non_null(strstr(params, "\"CreateStdInPipe\":true"));
  assert_non_null(strstr(params, "\"CreateStdErrPipe\":false"));

  /* Stats: HCS figures plus the endpoint's HNS counters. */
  rt_sample s;
  assert_int_equal(stats_sync(f, "c1", &s, &err), 0);
  assert_string_equal(fake_hcs_doc("HcsGetComputeSystemProperties", 0), "{\"PropertyTypes\":[\"Statistics\"]}");
  assert_int_equal(s.kind, RT_SAMPLE_WINDOWS);
  assert_int_equal(s.cpu.usage_ns, 3000);
  assert_int_equal(s.cpu.user_ns, 2000);
  assert_int_equal(s.cpu.kernel_ns, 1000);
  assert_int_equal(s.windows.uptime_ns, 10000);
  assert_int_equal(s.windows.write_size_bytes, 7);
  assert_int_equal(s.n_net, 1);
  assert_string_equal(s.net[0].endpoint_id, EP);
  assert_int_equal(s.net[0].rx_bytes, 8000); /* the fake derives counters from the id's first digit (7) */
  assert_int_equal(s.net[0].tx_bytes, 16000);
  assert_int_equal(s.net[0].rx_packets, 80);
  assert_int_equal(s.net[0].tx_packets, 160);
  assert_int_equal(s.net[0].rx_dropped, 8);
  assert_int_equal(s.net[0].tx_dropped, 16);

  /* A running container refuses a plain delete. */
  assert_int_equal(f->be->ops->delete(f->be, "c1", false, on_done, f, &err), -1);
  assert_int_equal(err.code, CS_FAILED_PRECONDITION);

  /* SIGKILL terminates the process; the exit arrives from an HCS thread. */
  assert_int_equal(f->be->ops->kill(f->be, "c1", 0, 9, false, on_done, f, &err), 0);
  wait_done(f);
  assert_false(f->failed);
  run_until(f, &f->n_exits, 1);
  assert_int_equal(f->exit_pid[0], 1000);
  assert_int_equal(f->exit_status[0], 1);
  assert_int_equal(fake_hcs_count("HcsTerminateProcess"), 1);
  /* Killing it again: already finished. */
  assert_int_equal(f->be->ops->kill(f->be, "c1", 1000, 9, false, on_done, f, &err), -1);
  assert_int_equal(err.code, CS_NOT_FOUND);

  assert_int_equal(f->be->ops->delete(f->be, "c1", false, on_done, f, &err), 0);
  wait_done(f);
  assert_false(f->failed);
  assert_int_equal(f->last_pid, 1000);
  assert_int_equal(fake_hcs_count("HcsTerminateComputeSystem"), 1);
  assert_non_null(strstr(fake_hcs_log(), "HcsCloseComputeSystem c1"));
  assert_int_equal(stats_sync(f, "c1", &s, &err), -1);
  assert_int_equal(err.code, CS_NOT_FOUND);
  assert_int_equal(f->n_exits, 1); /* reported once */
  /* The exit may overtake kill's reply (different threads), but never follows delete's. */
  assert_true(strncmp(f->order, "done,done,", 10) == 0);
  assert_non_null(strstr(f->order, "exit:1000:1"));
  assert_string_equal(f->order + strlen(f->order) - 5, ",done");
}

static void test_create_failure_maps_hresult(void **state) {
  fixture *f = *state;
  cs_err err;
  fake_hcs_fail("HcsStartComputeSystem", (hcs_hresult)0xC037010E, "The compute system was not found");
  rt_create_req req = {.id = "c1", .bundle = f->bundle};
  assert_int_equal(f->be->ops->create(f->be, &req, on_done, f, &err), 0);
  wait_done(f);
  assert_true(f->failed);
  assert_int_equal(f->last_err.code, CS_NOT_FOUND);
  assert_non_null(strstr(f->last_err.msg,
                         "HcsStartComputeSystem: 0x8037010E: system not found: The compute system was not found"));
  assert_non_null(strstr(f->last_err.msg, "create c1"));
  /* What was created is terminated and closed, and the id is free again. */
  assert_non_null(strstr(fake_hcs_log(), "HcsTerminateComputeSystem c1"));
  rt_sample s;
  assert_int_equal(stats_sync(f, "c1", &s, &err), -1);
  assert_int_equal(err.code, CS_NOT_FOUND);
  assert_int_equal(f->be->ops->create(f->be, &req, on_done, f, &err), 0);
  wait_done(f);
  assert_false(f->failed);
}

static void test_access_denied(void **state) {
  fixture *f = *state;
  cs_err err;
  fake_hcs_fail("HcsCreateComputeSystem", (hcs_hresult)0x80070005, "Access is denied.");
  rt_create_req req = {.id = "c1", .bundle = f->bundle};
  assert_int_equal(f->be->ops->create(f->be, &req, on_done, f, &err), 0);
  wait_done(f);
  assert_int_equal(f->last_err.code, CS_PERMISSION_DENIED);
  assert_non_null(strstr(f->last_err.msg, "HcsCreateComputeSystem: 0x80070005: access denied: Access is denied."));
}

static void test_exit_before_start_returns(void **state) {
  fixture *f = *state;
  fake_hcs_exit_on_create(7);
  create_start(f);
  /* Exited before any callback could exist: the backend asked, and reports it once it can name the pid,
   * before start's callback. Putting it after Start's reply is the service's rule (rt.h), not the backend's. */
  run_until(f, &f->n_exits, 1);
  assert_int_equal(f->exit_status[0], 7);
  assert_string_equal(f->order, "done,exit:1000:7,done");
  assert_int_equal(fake_hcs_count("HcsGetProcessProperties"), 1);
}

static void test_system_exit_reports_each_process(void **state) {
  fixture *f = *state;
  cs_err err;
  create_start(f);
  rt_exec_req ex = {.id = "c1", .exec_id = "e1", .process_json = "{\"args\":[\"whoami\"]}",
                    .process_json_len = strlen("{\"args\":[\"whoami\"]}")};
  /* exec creates and starts the process, as runc exec --detach does. */
  assert_int_equal(f->be->ops->exec(f->be, &ex, on_done, f, &err), 0);
  wait_done(f);
  assert_int_equal(f->last_pid, 1001);
  /* The container dies; its processes' real codes come from HcsGetProcessProperties. */
  fake_hcs_fire_system_exit("c1");
  run_until(f, &f->n_exits, 2);
  assert_int_equal(f->exit_status[0], 3);
  assert_int_equal(f->exit_status[1], 3);
  assert_int_equal(f->exit_pid[0] + f->exit_pid[1], 2001);
  /* A stopped container may be deleted without force; the terminate finds it stopped and carries on. */
  assert_int_equal(f->be->ops->delete(f->be, "c1", false, on_done, f, &err), 0);
  wait_done(f);
  assert_false(f->failed);
}

static void test_exit_event_without_code(void **state) {
  fixture *f = *state;
  cs_err err;
  fake_hcs_events_without_code(true);
  create_start(f);
  assert_int_equal(f->be->ops->kill(f->be, "c1", 1000, 15, false, on_done, f, &err), 0);
  wait_done(f);
  assert_string_equal(fake_hcs_doc("HcsSignalProcess", 0), "{\"Signal\":\"CtrlShutdown\"}");
  run_until(f, &f->n_exits, 1);
  assert_int_equal((uint32_t)f->exit_status[0], 0xC000013Au);
}

static void test_exec_pids_and_signals(void **state) {
  fixture *f = *state;
  cs_err err;
  create_start(f);
  const char *pj = "{\"args\":[\"ping\",\"-t\",\"localhost\"],\"env\":[\"X=1=2\"]}";
  rt_exec_req ex = {.id = "c1", .exec_id = "e1", .process_json = pj, .process_json_len = strlen(pj)};
  assert_int_equal(f->be->ops->exec(f->be, &ex, on_done, f, &err), 0);
  wait_done(f);
  assert_int_equal(f->be->ops->exec(f->be, &ex, on_done, f, &err), -1);
  assert_int_equal(err.code, CS_ALREADY_EXISTS);
  assert_non_null(strstr(fake_hcs_doc("HcsCreateProcess", 1), "\"X\":\"1=2\""));
  assert_int_equal(f->be->ops->start(f->be, "c1", "e1", on_done, f, &err), -1);
  assert_int_equal(err.code, CS_FAILED_PRECONDITION);

  assert_int_equal(f->be->ops->pids(f->be, "c1", on_pids, f, &err), 0);
  wait_done(f);
  assert_int_equal(f->n_pids, 2);
  assert_int_equal(f->pids[0] + f->pids[1], 2001);
  /* Asked of HCS (every process of the container), not the backend's own records. */
  assert_string_equal(fake_hcs_doc("HcsGetComputeSystemProperties", 0), "{\"PropertyTypes\":[\"ProcessList\"]}");
  fake_hcs_fail("HcsGetComputeSystemProperties", (hcs_hresult)0x8037010E, "gone");
  assert_int_equal(f->be->ops->pids(f->be, "c1", on_pids, f, &err), 0);
  wait_done(f);
  assert_true(f->failed);
  assert_non_null(strstr(f->last_err.msg, "pids c1"));

  assert_int_equal(f->be->ops->kill(f->be, "c1", 1001, 2, false, on_done, f, &err), 0);
  wait_done(f);
  assert_string_equal(fake_hcs_doc("HcsSignalProcess", 0), "{\"Signal\":\"CtrlC\"}");
  run_until(f, &f->n_exits, 1);
  assert_int_equal(f->exit_pid[0], 1001);

  assert_int_equal(f->be->ops->kill(f->be, "c1", 0, 10, false, on_done, f, &err), -1); /* SIGUSR1 */
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  assert_int_equal(f->be->ops->kill(f->be, "c1", 4242, 9, false, on_done, f, &err), -1);
  assert_int_equal(err.code, CS_NOT_FOUND);

  /* No console: a deliberate no-op success (containerd's Linux shims; runhcs says FailedPrecondition). */
  assert_int_equal(f->be->ops->resize(f->be, "c1", 1000, 100, 30, &err), 0);
  assert_int_equal(fake_hcs_count("HcsModifyProcess"), 0);
  /* With a console: HcsModifyProcess ConsoleSize. */
  rt_exec_req tx = {.id = "c1", .exec_id = "t1", .process_json = pj, .process_json_len = strlen(pj),
                    .io = {.terminal = true}};
  assert_int_equal(f->be->ops->exec(f->be, &tx, on_done, f, &err), 0);
  wait_done(f);
  assert_false(f->failed);
  assert_int_equal(f->be->ops->resize(f->be, "c1", f->last_pid, 100, 30, &err), 0);
  fake_hcs_join();
  for (int i = 0; i < 100 && fake_hcs_count("HcsModifyProcess") == 0; i++) uv_run(&f->loop, UV_RUN_ONCE);
  assert_string_equal(fake_hcs_doc("HcsModifyProcess", 0),
                      "{\"Operation\":\"ConsoleSize\",\"ConsoleSize\":{\"Height\":30,\"Width\":100}}");

  /* Force delete of a running container: the init's exit is reported before delete answers. */
  assert_int_equal(f->be->ops->delete(f->be, "c1", true, on_done, f, &err), 0);
  wait_done(f);
  assert_false(f->failed);
  assert_int_equal(f->n_exits, 3);
  assert_true(f->exit_pid[1] == 1000 || f->exit_pid[2] == 1000);
}

static void test_pause_resume_update(void **state) {
  fixture *f = *state;
  cs_err err;
  create_start(f);
  assert_int_equal(f->be->ops->resume(f->be, "c1", on_done, f, &err), -1);
  assert_int_equal(err.code, CS_FAILED_PRECONDITION);
  assert_int_equal(f->be->ops->pause(f->be, "c1", on_done, f, &err), 0);
  wait_done(f);
  assert_int_equal(fake_hcs_count("HcsPauseComputeSystem"), 1);
  assert_int_equal(f->be->ops->pause(f->be, "c1", on_done, f, &err), -1);
  assert_int_equal(f->be->ops->resume(f->be, "c1", on_done, f, &err), 0);
  wait_done(f);
  assert_int_equal(fake_hcs_count("HcsResumeComputeSystem"), 1);

  const char *res = "{\"memory\":{\"limit\":268435456},\"cpu\":{\"count\":1}}";
  assert_int_equal(f->be->ops->update(f->be, "c1", res, strlen(res), on_done, f, &err), 0);
  wait_done(f);
  assert_false(f->failed);
  assert_int_equal(fake_hcs_count("HcsModifyComputeSystem"), 2);
  assert_non_null(strstr(fake_hcs_doc("HcsModifyComputeSystem", 0), "\"Settings\":256"));
  /* Create's Windows rules apply: out of range is refused before HCS sees it, naming the field. */
  const char *bad = "{\"cpu\":{\"maximum\":20000}}";
  assert_int_equal(f->be->ops->update(f->be, "c1", bad, strlen(bad), on_done, f, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  assert_non_null(strstr(err.msg, "CPU maximum"));
  const char *none = "{\"storage\":{\"iops\":5}}";
  assert_int_equal(f->be->ops->update(f->be, "c1", none, strlen(none), on_done, f, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  assert_int_equal(fake_hcs_count("HcsModifyComputeSystem"), 2);
  fake_hcs_fail("HcsModifyComputeSystem", (hcs_hresult)0x8037010D, "bad json");
  assert_int_equal(f->be->ops->update(f->be, "c1", res, strlen(res), on_done, f, &err), 0);
  wait_done(f);
  assert_true(f->failed);
  assert_int_equal(f->last_err.code, CS_INVALID_ARGUMENT);
}

static void test_request_errors(void **state) {
  fixture *f = *state;
  cs_err err;
  /* Ids are the service's to check (cs_id.h, rt.h): the backend is given valid ones only. */
  rt_create_req nob = {.id = "c2", .bundle = "/nonexistent"};
  assert_int_equal(f->be->ops->create(f->be, &nob, on_done, f, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  assert_int_equal(f->be->ops->start(f->be, "nope", NULL, on_done, f, &err), -1);
  assert_int_equal(err.code, CS_NOT_FOUND);
  assert_int_equal(f->be->ops->start(f->be, "c1", NULL, on_done, f, &err), -1);
  create_start(f);
  rt_create_req dup = {.id = "c1", .bundle = f->bundle};
  assert_int_equal(f->be->ops->create(f->be, &dup, on_done, f, &err), -1);
  assert_int_equal(err.code, CS_ALREADY_EXISTS);
  rt_checkpoint_req ck = {.id = "c1"};
  assert_int_equal(f->be->ops->checkpoint(f->be, &ck, on_done, f, &err), -1);
  assert_int_equal(err.code, CS_UNIMPLEMENTED);
  assert_int_equal(f->be->ops->start(f->be, "c1", "missing", on_done, f, &err), -1);
  assert_int_equal(err.code, CS_NOT_FOUND);
  /* Stats failing in HCS: the call and the code are named. */
  fake_hcs_fail("HcsGetComputeSystemProperties", (hcs_hresult)0x80070006, NULL);
  rt_sample s;
  assert_int_equal(stats_sync(f, "c1", &s, &err), -1);
  assert_non_null(strstr(err.msg, "HcsGetComputeSystemProperties: 0x80070006"));
  /* Destroy with a live container: handles are closed (checked in teardown), no callback afterwards. */
}

static void test_kill_before_start_terminates_system(void **state) {
  fixture *f = *state;
  cs_err err;
  rt_create_req req = {.id = "c1", .bundle = f->bundle};
  assert_int_equal(f->be->ops->create(f->be, &req, on_done, f, &err), 0);
  wait_done(f);
  assert_int_equal(f->be->ops->kill(f->be, "c1", 0, 15, false, on_done, f, &err), -1);
  assert_int_equal(err.code, CS_FAILED_PRECONDITION);
  assert_int_equal(f->be->ops->kill(f->be, "c1", 0, 9, false, on_done, f, &err), 0);
  wait_done(f);
  assert_false(f->failed);
  assert_int_equal(fake_hcs_count("HcsTerminateComputeSystem"), 1);
  assert_int_equal(f->n_exits, 0); /* no process ever existed */
}

/* Destroy while a create is on a worker thread: no callback afterwards, and the compute system the job
 * created is still closed once the job completes. */
static void test_destroy_with_job_in_flight(void **state) {
  fixture *f = *state;
  cs_err err;
  rt_create_req req = {.id = "c1", .bundle = f->bundle};
  assert_int_equal(f->be->ops->create(f->be, &req, on_done, f, &err), 0);
  f->be->ops->destroy(f->be);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  assert_int_equal(f->done, 0);
  assert_int_equal(fake_hcs_count("HcsCreateComputeSystem"), 1);
  assert_non_null(strstr(fake_hcs_log(), "HcsCloseComputeSystem c1"));
  /* teardown's destroy must not run twice: give it a fresh backend. */
  rt_hcs_config cfg = {.hcs = &f->api};
  assert_int_equal(rt_hcs_new(&f->loop, &cfg, NULL, &f->be, &err), 0);
}

/* ---------------------------------------------------------------- error paths of rt_hcs.c */

/* HcsCreateProcess failing: start fails with HCS's code, the init can be started again. */
static void test_start_failure(void **state) {
  fixture *f = *state;
  cs_err err;
  rt_create_req req = {.id = "c1", .bundle = f->bundle};
  assert_int_equal(f->be->ops->create(f->be, &req, on_done, f, &err), 0);
  wait_done(f);
  fake_hcs_fail("HcsCreateProcess", (hcs_hresult)0x80070002, "The system cannot find the file specified.");
  assert_int_equal(f->be->ops->start(f->be, "c1", NULL, on_done, f, &err), 0);
  wait_done(f);
  assert_true(f->failed);
  assert_int_equal(f->last_err.code, CS_NOT_FOUND);
  assert_non_null(strstr(f->last_err.msg, "start c1"));
  assert_non_null(strstr(f->last_err.msg, "HcsCreateProcess: 0x80070002"));
  assert_int_equal(f->be->ops->start(f->be, "c1", NULL, on_done, f, &err), 0);
  wait_done(f);
  assert_false(f->failed);
  assert_true(f->last_pid > 0);
}

/* Without its exit callback a system or process would never be seen to exit: registration failing fails the
 * create or start, and what was made is stopped and closed (teardown counts the open handles). */
static void test_callback_registration_fails(void **state) {
  fixture *f = *state;
  cs_err err;
  fake_hcs_fail("HcsSetComputeSystemCallback", (hcs_hresult)0x80004005, NULL);
  rt_create_req req = {.id = "c1", .bundle = f->bundle};
  assert_int_equal(f->be->ops->create(f->be, &req, on_done, f, &err), 0);
  wait_done(f);
  assert_true(f->failed);
  assert_non_null(strstr(f->last_err.msg, "HcsSetComputeSystemCallback"));
  assert_int_equal(fake_hcs_count("HcsStartComputeSystem"), 0); /* never started half-watched */
  assert_non_null(strstr(fake_hcs_log(), "HcsCloseComputeSystem c1"));
  assert_int_equal(f->be->ops->create(f->be, &req, on_done, f, &err), 0); /* the id is free again */
  wait_done(f);
  assert_false(f->failed);
  fake_hcs_fail("HcsSetProcessCallback", (hcs_hresult)0x80004005, NULL);
  assert_int_equal(f->be->ops->start(f->be, "c1", NULL, on_done, f, &err), 0);
  wait_done(f);
  assert_true(f->failed);
  assert_non_null(strstr(f->last_err.msg, "HcsSetProcessCallback"));
  assert_int_equal(fake_hcs_count("HcsTerminateProcess"), 1);
  assert_int_equal(f->be->ops->start(f->be, "c1", NULL, on_done, f, &err), 0);
  wait_done(f);
  assert_false(f->failed);
}

static void test_kill_paths(void **state) {
  fixture *f = *state;
  cs_err err;
  create_start(f);
  const char *pj = "{\"args\":[\"ping\",\"-t\",\"localhost\"]}";
  rt_exec_req ex = {.id = "c1", .exec_id = "e1", .process_json = pj, .process_json_len = strlen(pj)};
  assert_int_equal(f->be->ops->exec(f->be, &ex, on_done, f, &err), 0); /* exec starts it, as runc exec -d */
  wait_done(f);
  /* signal 0 probes: the process exists, nothing is sent */
  assert_int_equal(f->be->ops->kill(f->be, "c1", 0, 0, false, on_done, f, &err), 0);
  wait_done(f);
  assert_false(f->failed);
  assert_int_equal(fake_hcs_count("HcsSignalProcess") + fake_hcs_count("HcsTerminateProcess"), 0);
  assert_int_equal(f->be->ops->kill(f->be, "c1", 4242, 0, false, on_done, f, &err), -1);
  assert_int_equal(err.code, CS_NOT_FOUND);
  /* a kill racing the exit: HCS says the process already stopped; containerd reads NotFound as gone */
  fake_hcs_fail("HcsSignalProcess", (hcs_hresult)0x8037011F, NULL);
  assert_int_equal(f->be->ops->kill(f->be, "c1", 1001, 15, false, on_done, f, &err), 0);
  wait_done(f);
  assert_true(f->failed);
  assert_int_equal(f->last_err.code, CS_NOT_FOUND);
  assert_non_null(strstr(f->last_err.msg, "process already finished"));
  /* any other failure keeps its code */
  fake_hcs_fail("HcsSignalProcess", (hcs_hresult)0x80070005, NULL);
  assert_int_equal(f->be->ops->kill(f->be, "c1", 1001, 15, false, on_done, f, &err), 0);
  wait_done(f);
  assert_int_equal(f->last_err.code, CS_PERMISSION_DENIED);
  /* `all`: every running process of the container, here terminated (SIGKILL) */
  assert_int_equal(f->be->ops->kill(f->be, "c1", 0, 9, true, on_done, f, &err), 0);
  wait_done(f);
  assert_false(f->failed);
  assert_int_equal(fake_hcs_count("HcsTerminateProcess"), 2);
  run_until(f, &f->n_exits, 2);
  /* after the exits: the init is finished (NotFound), and no process is left to signal */
  assert_int_equal(f->be->ops->kill(f->be, "c1", 0, 15, false, on_done, f, &err), -1);
  assert_int_equal(err.code, CS_NOT_FOUND);
  assert_int_equal(f->be->ops->kill(f->be, "c1", 0, 15, true, on_done, f, &err), -1);
  assert_int_equal(err.code, CS_FAILED_PRECONDITION);
}

/* While the compute system is being created (on a worker thread) there is nothing to signal or count. */
static void test_kill_stats_during_create(void **state) {
  fixture *f = *state;
  cs_err err;
  rt_create_req req = {.id = "c1", .bundle = f->bundle};
  assert_int_equal(f->be->ops->create(f->be, &req, on_done, f, &err), 0);
  assert_int_equal(f->be->ops->kill(f->be, "c1", 0, 9, false, on_done, f, &err), -1);
  assert_int_equal(err.code, CS_FAILED_PRECONDITION);
  rt_sample s;
  assert_int_equal(stats_sync(f, "c1", &s, &err), -1);
  assert_int_equal(err.code, CS_FAILED_PRECONDITION);
  assert_int_equal(f->be->ops->delete(f->be, "c1", true, on_done, f, &err), -1); /* busy */
  assert_int_equal(err.code, CS_FAILED_PRECONDITION);
  wait_done(f);
  assert_false(f->failed);
  assert_int_equal(stats_sync(f, "c1", &s, &err), 0);
}

/* HCS refusing to terminate: delete fails with its code, the container is kept, a retry deletes it. */
static void test_delete_failure(void **state) {
  fixture *f = *state;
  cs_err err;
  create_start(f);
  fake_hcs_fail("HcsTerminateComputeSystem", (hcs_hresult)0x80070005, "Access is denied.");
  assert_int_equal(f->be->ops->delete(f->be, "c1", true, on_done, f, &err), 0);
  wait_done(f);
  assert_true(f->failed);
  assert_int_equal(f->last_err.code, CS_PERMISSION_DENIED);
  assert_non_null(strstr(f->last_err.msg, "delete c1"));
  rt_sample s;
  assert_int_equal(stats_sync(f, "c1", &s, &err), 0); /* still there */
  /* "already stopped" is what delete wants: not an error */
  fake_hcs_fail("HcsTerminateComputeSystem", (hcs_hresult)0x80370110, NULL);
  assert_int_equal(f->be->ops->delete(f->be, "c1", true, on_done, f, &err), 0);
  wait_done(f);
  assert_false(f->failed);
  assert_int_equal(stats_sync(f, "c1", &s, &err), -1);
  assert_int_equal(err.code, CS_NOT_FOUND);
}

/* Destroy while a start is on a worker thread: no callback afterwards, the process it made is closed. */
static void test_destroy_during_start(void **state) {
  fixture *f = *state;
  cs_err err;
  rt_create_req req = {.id = "c1", .bundle = f->bundle};
  assert_int_equal(f->be->ops->create(f->be, &req, on_done, f, &err), 0);
  wait_done(f);
  int done = f->done;
  assert_int_equal(f->be->ops->start(f->be, "c1", NULL, on_done, f, &err), 0);
  f->be->ops->destroy(f->be);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  fake_hcs_join();
  assert_int_equal(f->done, done);
  assert_int_equal(fake_hcs_open_handles(), 0);
  rt_hcs_config cfg = {.hcs = &f->api};
  assert_int_equal(rt_hcs_new(&f->loop, &cfg, NULL, &f->be, &err), 0);
}

/* A question answered without an HCS call (signal 0: does the process exist?) is answered from the loop,
 * not inside the call, and not at all once the backend is destroyed (rt_defer). */
static void test_deferred_answer_and_destroy(void **state) {
  fixture *f = *state;
  cs_err err;
  create_start(f);
  int done = f->done;
  assert_int_equal(f->be->ops->kill(f->be, "c1", 1000, 0, false, on_done, f, &err), 0);
  assert_int_equal(f->done, done);
  wait_done(f);
  assert_false(f->failed);
  assert_int_equal(f->be->ops->kill(f->be, "c1", 1000, 0, false, on_done, f, &err), 0);
  assert_int_equal(f->be->ops->pids(f->be, "c1", on_pids, f, &err), 0);
  f->be->ops->destroy(f->be);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  fake_hcs_join();
  assert_int_equal(f->done, done + 1);
  rt_hcs_config cfg = {.hcs = &f->api};
  assert_int_equal(rt_hcs_new(&f->loop, &cfg, NULL, &f->be, &err), 0);
}

/* The container stops while its init's start is on a worker thread: the exit is reported once, naming the
 * pid the start learned (never pid 0, which would be another not-yet-started task's), once the start has it. */
static void test_system_exit_during_start(void **state) {
  fixture *f = *state;
  cs_err err;
  rt_create_req req = {.id = "c1", .bundle = f->bundle};
  assert_int_equal(f->be->ops->create(f->be, &req, on_done, f, &err), 0);
  wait_done(f);
  assert_int_equal(f->be->ops->start(f->be, "c1", NULL, on_done, f, &err), 0);
  fake_hcs_fire_system_exit("c1");
  run_until(f, &f->n_exits, 1);
  assert_int_equal(f->done, 2);
  assert_int_equal(f->last_pid, 1000);
  assert_int_equal(f->exit_pid[0], 1000);
  uv_run(&f->loop, UV_RUN_NOWAIT);
  assert_int_equal(f->n_exits, 1);
}

/* One endpoint's counters failing leaves them out of the sample; the sample itself is fine. */
static void test_endpoint_stats_failure(void **state) {
  fixture *f = *state;
  cs_err err;
  create_start(f);
  rt_sample s;
  assert_int_equal(stats_sync(f, "c1", &s, &err), 0);
  assert_int_equal(s.n_net, 1);
  assert_string_equal(s.net[0].endpoint_id, EP);
  fake_hcs_fail("HNSCall", (hcs_hresult)0x80070490, NULL);
  assert_int_equal(stats_sync(f, "c1", &s, &err), 0);
  assert_int_equal(s.n_net, 0);
  assert_true(s.cpu.usage_ns > 0);
}

/* One container's Statistics query hangs in HCS: another container's Stats still answers, the hung one fails
 * DeadlineExceeded naming its container, and the late completion (after the answer, then after destroy) only
 * closes the operation. */
static void test_stats_hung_query(void **state) {
  fixture *f = *state;
  cs_err err;
  f->be->ops->destroy(f->be);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  rt_hcs_config cfg = {.hcs = &f->api, .hns = &f->hns, .host = {.ncpu = 4, .build = 20348},
                       .default_isolation = WIN_ISOLATION_PROCESS, .stats_timeout_ms = 100};
  assert_int_equal(rt_hcs_new(&f->loop, &cfg, NULL, &f->be, &err), 0);
  create_start(f);
  rt_create_req req = {.id = "c2", .bundle = f->bundle};
  assert_int_equal(f->be->ops->create(f->be, &req, on_done, f, &err), 0);
  wait_done(f);
  assert_false(f->failed);

  fake_hcs_hang_stats("c1");
  rt_sample s1, s2;
  stats_wait w1 = {.req = {.out = &s1}};
  w1.req.data = &w1;
  assert_int_equal(f->be->ops->stats_async(f->be, "c1", &w1.req, on_stats, &err), 0);
  assert_int_equal(stats_sync(f, "c2", &s2, &err), 0); /* answered while c1's query hangs */
  assert_int_equal(s2.cpu.usage_ns, 3000);
  assert_int_equal(w1.n, 0);
  for (int i = 0; w1.n < 1 && i < 100000; i++) uv_run(&f->loop, UV_RUN_ONCE);
  assert_int_equal(w1.n, 1);
  assert_true(w1.failed);
  assert_int_equal(w1.err.code, CS_DEADLINE_EXCEEDED);
  assert_non_null(strstr(w1.err.msg, "container c1"));
  assert_non_null(strstr(w1.err.msg, "HcsGetComputeSystemProperties"));

  /* The late completion: nothing more is answered, the operation gets closed. */
  assert_int_equal(fake_hcs_release_hung(), 1);
  fake_hcs_join();
  uv_run(&f->loop, UV_RUN_NOWAIT);
  assert_int_equal(w1.n, 1);

  /* A query hung at destroy is answered Cancelled by destroy; its completion after it frees it. */
  fake_hcs_hang_stats("c2");
  stats_wait w2 = {.req = {.out = &s2}};
  w2.req.data = &w2;
  assert_int_equal(f->be->ops->stats_async(f->be, "c2", &w2.req, on_stats, &err), 0);
  f->be->ops->destroy(f->be);
  assert_int_equal(w2.n, 1);
  assert_int_equal(w2.err.code, CS_CANCELLED);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  assert_int_equal(fake_hcs_release_hung(), 1);
  fake_hcs_join();
  assert_int_equal(w2.n, 1);
  assert_int_equal(fake_hcs_open_handles(), 0);
  rt_hcs_config cfg2 = {.hcs = &f->api};
  assert_int_equal(rt_hcs_new(&f->loop, &cfg2, NULL, &f->be, &err), 0);
}

/* ---------------------------------------------------------------- layers (process isolation, no root.path) */

/* containerd 1.6's Windows spec: no root.path, the layers come as a windows-layer rootfs mount. */
static const char spec_no_root[] =
    "{\"process\":{\"args\":[\"cmd\"],\"cwd\":\"C:\\\\\"},\"windows\":{}}";
static const char *const layer_opts[] = {"rw", "parentLayerPaths=[\"C:\\\\snap\\\\2\",\"C:\\\\snap\\\\1\"]"};
static const rt_mount layer_mount = {.type = "windows-layer", .source = "C:\\snap\\3", .options = layer_opts,
                                     .n_options = 2};

static void rewrite_spec(fixture *f, const char *spec) {
  char path[128];
  snprintf(path, sizeof path, "%s/config.json", f->bundle);
  FILE *fp = fopen(path, "w");
  fputs(spec, fp);
  fclose(fp);
}

static void test_layers_from_rootfs_mount(void **state) {
  fixture *f = *state;
  cs_err err;
  rewrite_spec(f, spec_no_root);
  rt_create_req req = {.id = "c1", .bundle = f->bundle, .rootfs = &layer_mount, .n_rootfs = 1};
  assert_int_equal(f->be->ops->create(f->be, &req, on_done, f, &err), 0);
  wait_done(f);
  assert_false(f->failed);
  /* hcsshim's order: activate, prepare over the parents, the mount path (asked twice), then the system. */
  const char *log = fake_hcs_log();
  const char *a = strstr(log, "ActivateLayer C:\\snap\\3"), *p = strstr(log, "PrepareLayer C:\\snap\\3"),
             *m = strstr(log, "GetLayerMountPath C:\\snap\\3"), *c = strstr(log, "HcsCreateComputeSystem c1");
  assert_true(a && p && m && c && a < p && p < m && m < c);
  assert_int_equal(fake_hcs_count("GetLayerMountPath"), 2);
  assert_int_equal(fake_hcs_active_layers(), 1);
  /* Storage: the parents by NameToGuid id and path, the volume as Storage.Path. */
  const char *doc = fake_hcs_doc("HcsCreateComputeSystem", 0);
  assert_non_null(strstr(doc, "\"Path\":\"C:\\\\snap\\\\2\""));
  assert_non_null(strstr(doc, "\"Path\":\"C:\\\\snap\\\\1\""));
  assert_non_null(strstr(doc, "\"Path\":\"\\\\\\\\?\\\\Volume{"));
  assert_non_null(strstr(doc, "-000000000001}\\\\\"")); /* the volume root, with its trailing backslash */
  assert_null(strstr(doc, "snap\\\\3")); /* the scratch is the volume, not a layer */

  assert_int_equal(f->be->ops->delete(f->be, "c1", false, on_done, f, &err), 0);
  wait_done(f);
  assert_false(f->failed);
  log = fake_hcs_log();
  const char *t = strstr(log, "HcsTerminateComputeSystem c1"), *u = strstr(log, "UnprepareLayer C:\\snap\\3"),
             *d = strstr(log, "DeactivateLayer C:\\snap\\3");
  assert_true(t && u && d && t < u && u < d);
  assert_int_equal(fake_hcs_active_layers(), 0);
}

/* Every step's failure fails Create naming the layer and the step, and leaves nothing activated. */
static void test_layer_step_failures(void **state) {
  fixture *f = *state;
  static const char *const steps[] = {"ActivateLayer", "PrepareLayer", "GetLayerMountPath", "HcsCreateComputeSystem",
                                      "HcsStartComputeSystem"};
  rewrite_spec(f, spec_no_root);
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    cs_err err;
    fake_hcs_fail(steps[i], (hcs_hresult)0x80070005, "Access is denied.");
    rt_create_req req = {.id = "c1", .bundle = f->bundle, .rootfs = &layer_mount, .n_rootfs = 1};
    assert_int_equal(f->be->ops->create(f->be, &req, on_done, f, &err), 0);
    wait_done(f);
    assert_true(f->failed);
    assert_non_null(strstr(f->last_err.msg, steps[i]));
    if (i < 3) assert_non_null(strstr(f->last_err.msg, "layer C:\\snap\\3"));
    assert_int_equal(fake_hcs_active_layers(), 0);
  }
  /* The layer calls were balanced: every activation was deactivated. */
  assert_int_equal(fake_hcs_count("ActivateLayer"), 5);
  assert_int_equal(fake_hcs_count("DeactivateLayer"), 4);
  assert_int_equal(fake_hcs_count("UnprepareLayer"), 3);
}

static void test_layer_unmount_failure_fails_delete(void **state) {
  fixture *f = *state;
  cs_err err;
  rewrite_spec(f, spec_no_root);
  rt_create_req req = {.id = "c1", .bundle = f->bundle, .rootfs = &layer_mount, .n_rootfs = 1};
  assert_int_equal(f->be->ops->create(f->be, &req, on_done, f, &err), 0);
  wait_done(f);
  assert_false(f->failed);
  fake_hcs_fail("UnprepareLayer", (hcs_hresult)0x80070020, "The process cannot access the file.");
  assert_int_equal(f->be->ops->delete(f->be, "c1", false, on_done, f, &err), 0);
  wait_done(f);
  assert_true(f->failed);
  assert_non_null(strstr(f->last_err.msg, "layer C:\\snap\\3"));
  assert_non_null(strstr(f->last_err.msg, "UnprepareLayer"));
  /* Still there: a retried delete finishes the job. */
  assert_int_equal(f->be->ops->delete(f->be, "c1", false, on_done, f, &err), 0);
  wait_done(f);
  assert_false(f->failed);
  assert_int_equal(fake_hcs_active_layers(), 0);
}

static void test_layer_teardown_unmounts(void **state) {
  fixture *f = *state;
  cs_err err;
  /* layerFolders in the spec (no mount), no root.path: mounted too; the backend goes away undeleted. */
  rewrite_spec(f, "{\"process\":{\"args\":[\"cmd\"]},\"windows\":{\"layerFolders\":[\"C:\\\\l\\\\base\",\"C:\\\\s\\\\c1\"]}}");
  rt_create_req req = {.id = "c1", .bundle = f->bundle};
  assert_int_equal(f->be->ops->create(f->be, &req, on_done, f, &err), 0);
  wait_done(f);
  assert_false(f->failed);
  assert_int_equal(fake_hcs_active_layers(), 1);
  /* teardown destroys the backend and checks fake_hcs_active_layers() == 0 */
}

static void test_layer_mount_errors(void **state) {
  fixture *f = *state;
  cs_err err;
  rewrite_spec(f, spec_no_root);
  static const char *const bad_opts[] = {"parentLayerPaths=[1]"};
  rt_mount bad = {.type = "windows-layer", .source = "C:\\snap\\3", .options = bad_opts, .n_options = 1};
  rt_create_req req = {.id = "c1", .bundle = f->bundle, .rootfs = &bad, .n_rootfs = 1};
  assert_int_equal(f->be->ops->create(f->be, &req, on_done, f, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  assert_non_null(strstr(err.msg, "parentLayerPaths="));
  rt_mount other = {.type = "bind", .source = "C:\\x"};
  req.rootfs = &other;
  assert_int_equal(f->be->ops->create(f->be, &req, on_done, f, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  /* The spec's layerFolders (setup's) differ from the mount's. */
  rewrite_spec(f, spec_text);
  req.rootfs = &layer_mount;
  assert_int_equal(f->be->ops->create(f->be, &req, on_done, f, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  assert_non_null(strstr(err.msg, "different layers"));
  /* root.path set: the layers are someone else's mount, no layer call. */
  req.rootfs = NULL;
  req.n_rootfs = 0;
  assert_int_equal(f->be->ops->create(f->be, &req, on_done, f, &err), 0);
  wait_done(f);
  assert_false(f->failed);
  assert_int_equal(fake_hcs_count("ActivateLayer"), 0);
  assert_int_equal(fake_hcs_count("HcsCreateComputeSystem"), 1);
}

/* An endpoint the spec names that HNS does not know fails Create with NotFound naming it; nothing is made. */
static void test_missing_endpoint(void **state) {
  fixture *f = *state;
  cs_err err;
  fake_hcs_fail("HcnOpenEndpoint", (hcs_hresult)0x803B0002, "endpoint not found");
  rt_create_req req = {.id = "c1", .bundle = f->bundle};
  assert_int_equal(f->be->ops->create(f->be, &req, on_done, f, &err), 0);
  wait_done(f);
  assert_true(f->failed);
  assert_int_equal(f->last_err.code, CS_NOT_FOUND);
  assert_non_null(strstr(f->last_err.msg, "endpoint " EP));
  assert_int_equal(fake_hcs_count("HcsCreateComputeSystem"), 0);
  /* Present: Create goes on (the check queried it once). */
  assert_int_equal(f->be->ops->create(f->be, &req, on_done, f, &err), 0);
  wait_done(f);
  assert_false(f->failed);
  assert_int_equal(fake_hcs_count("HcnOpenEndpoint"), 2); /* the failed check, then the good one */
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
    cmocka_unit_test_setup_teardown(test_create_failure_maps_hresult, setup, teardown),
    cmocka_unit_test_setup_teardown(test_access_denied, setup, teardown),
    cmocka_unit_test_setup_teardown(test_exit_before_start_returns, setup, teardown),
    cmocka_unit_test_setup_teardown(test_system_exit_reports_each_process, setup, teardown),
    cmocka_unit_test_setup_teardown(test_exit_event_without_code, setup, teardown),
    cmocka_unit_test_setup_teardown(test_exec_pids_and_signals, setup, teardown),
    cmocka_unit_test_setup_teardown(test_pause_resume_update, setup, teardown),
    cmocka_unit_test_setup_teardown(test_request_errors, setup, teardown),
    cmocka_unit_test_setup_teardown(test_kill_before_start_terminates_system, setup, teardown),
    cmocka_unit_test_setup_teardown(test_destroy_with_job_in_flight, setup, teardown),
    cmocka_unit_test_setup_teardown(test_start_failure, setup, teardown),
    cmocka_unit_test_setup_teardown(test_callback_registration_fails, setup, teardown),
    cmocka_unit_test_setup_teardown(test_kill_paths, setup, teardown),
    cmocka_unit_test_setup_teardown(test_kill_stats_during_create, setup, teardown),
    cmocka_unit_test_setup_teardown(test_delete_failure, setup, teardown),
    cmocka_unit_test_setup_teardown(test_destroy_during_start, setup, teardown),
    cmocka_unit_test_setup_teardown(test_system_exit_during_start, setup, teardown),
    cmocka_unit_test_setup_teardown(test_deferred_answer_and_destroy, setup, teardown),
    cmocka_unit_test_setup_teardown(test_endpoint_stats_failure, setup, teardown),
    cmocka_unit_test_setup_teardown(test_stats_hung_query, setup, teardown),
    cmocka_unit_test_setup_teardown(test_layers_from_rootfs_mount, setup, teardown),
    cmocka_unit_test_setup_teardown(test_layer_step_failures, setup, teardown),
    cmocka_unit_test_setup_teardown(test_layer_unmount_failure_fails_delete, setup, teardown),
    cmocka_unit_test_setup_teardown(test_layer_teardown_unmounts, setup, teardown),
    cmocka_unit_test_setup_teardown(test_layer_mount_errors, setup, teardown),
    cmocka_unit_test_setup_teardown(test_missing_endpoint, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
