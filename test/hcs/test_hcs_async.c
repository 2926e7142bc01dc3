/* hcs_async: HCS operations completed on the loop. A small fake operation table of its own: each test decides
 * when (and from which thread) an operation completes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "hcs_async.h"
#include "hcs_wstr.h"

typedef struct top {
  hcs_operation_completion cb;
  void *ctx;
  bool closed, started;
  hcs_hresult hr;
  const char *result;
} top;

#define MAX_OPS 16
static top ops[MAX_OPS];
static int n_ops;
static uv_thread_t threads[MAX_OPS];
static int n_threads;

static hcs_operation t_create(const void *ctx, hcs_operation_completion cb) {
  top *o = &ops[n_ops++];
  memset(o, 0, sizeof *o);
  o->cb = cb;
  o->ctx = (void *)ctx;
  return (hcs_operation)o;
}
static void t_close(hcs_operation op) { ((top *)op)->closed = true; }
static hcs_hresult t_get(hcs_operation op, hcs_pwstr *doc) {
  top *o = (top *)op;
  *doc = o->result ? hcs_utf8_to_wide(o->result, NULL) : NULL;
  return o->hr;
}
static void t_free_doc(hcs_pwstr d) { free(d); }

static void complete_thread(void *arg) {
  top *o = arg;
  o->cb((hcs_operation)o, o->ctx);
}
/* As HCS does: from a thread of its own. */
static void complete(top *o) { uv_thread_create(&threads[n_threads++], complete_thread, o); }
static void join_all(void) {
  while (n_threads) uv_thread_join(&threads[--n_threads]);
}

/* issue(): what the "HCS call" does with the operation, by arg. */
enum { ISSUE_COMPLETE, ISSUE_HOLD, ISSUE_REFUSE };
static hcs_hresult issue(void *arg, hcs_operation op) {
  top *o = (top *)op;
  o->started = true;
  int mode = *(int *)arg;
  if (mode == ISSUE_REFUSE) return (hcs_hresult)0x80070057; /* E_INVALIDARG */
  if (mode == ISSUE_COMPLETE) complete(o);
  return 0;
}

typedef struct answer {
  int n;
  bool failed;
  cs_err err;
  char *result;
} answer;

static void on_answer(void *data, char *result, const cs_err *err) {
  answer *a = data;
  a->n++;
  a->failed = err != NULL;
  if (err) a->err = *err;
  free(a->result);
  a->result = result;
}

typedef struct fixture {
  uv_loop_t loop;
  hcs_api api;
  hcs_async *h;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  uv_loop_init(&f->loop);
  f->api.HcsCreateOperation = t_create;
  f->api.HcsCloseOperation = t_close;
  f->api.HcsGetOperationResult = t_get;
  f->api.free_document = t_free_doc;
  n_ops = 0;
  cs_err err;
  assert_int_equal(hcs_async_new(&f->loop, &f->api, &f->h, &err), 0);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  if (f->h) hcs_async_close(f->h);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  join_all();
  assert_int_equal(uv_loop_close(&f->loop), 0);
  for (int i = 0; i < n_ops; i++) assert_true(ops[i].closed); /* every operation closed */
  free(f);
  return 0;
}

static void run_until(fixture *f, answer *a, int want) {
  for (int i = 0; a->n < want && i < 100000; i++) uv_run(&f->loop, UV_RUN_ONCE);
  assert_int_equal(a->n, want);
}

/* A completion from HCS's thread reaches the callback on the loop, never from inside start. */
static void test_completes_on_loop(void **state) {
  fixture *f = *state;
  answer a = {0};
  int mode = ISSUE_COMPLETE;
  cs_err err;
  ops[0].result = NULL;
  assert_int_equal(hcs_async_start(f->h, "HcsGetComputeSystemProperties", "container c1", 60000, issue, &mode,
                                   on_answer, &a, &err), 0);
  ops[0].result = "{\"Statistics\":{}}"; /* read only after the completion */
  assert_int_equal(a.n, 0);
  run_until(f, &a, 1);
  assert_false(a.failed);
  assert_string_equal(a.result, "{\"Statistics\":{}}");
  assert_true(ops[0].closed);
  free(a.result);
}

/* A failed operation: its HRESULT and HCS's ErrorMessage, with the object named. */
static void test_failure_carries_message(void **state) {
  fixture *f = *state;
  answer a = {0};
  int mode = ISSUE_HOLD;
  cs_err err;
  assert_int_equal(hcs_async_start(f->h, "HcsGetComputeSystemProperties", "container c1", 60000, issue, &mode,
                                   on_answer, &a, &err), 0);
  ops[0].hr = (hcs_hresult)0xC037010E;
  ops[0].result = "{\"Error\":-1070137074,\"ErrorMessage\":\"The compute system was not found\"}";
  complete(&ops[0]);
  run_until(f, &a, 1);
  assert_true(a.failed);
  assert_null(a.result);
  assert_int_equal(a.err.code, CS_NOT_FOUND);
  assert_non_null(strstr(a.err.msg, "container c1"));
  assert_non_null(strstr(a.err.msg, "The compute system was not found"));
}

/* The call refused at once: -1, no callback, the operation closed. */
static void test_refused_call(void **state) {
  fixture *f = *state;
  answer a = {0};
  int mode = ISSUE_REFUSE;
  cs_err err;
  assert_int_equal(hcs_async_start(f->h, "HcsGetComputeSystemProperties", "container c1", 60000, issue, &mode,
                                   on_answer, &a, &err), -1);
  assert_non_null(strstr(err.msg, "container c1"));
  assert_non_null(strstr(err.msg, "HcsGetComputeSystemProperties"));
  assert_true(ops[0].closed);
  uv_run(&f->loop, UV_RUN_NOWAIT);
  assert_int_equal(a.n, 0);
}

/* One operation hangs past its bound: DeadlineExceeded naming the object, while another completes normally;
 * the late completion answers nothing more and closes the operation. */
static void test_deadline_and_late_completion(void **state) {
  fixture *f = *state;
  answer hung = {0}, other = {0};
  int hold = ISSUE_HOLD, now = ISSUE_COMPLETE;
  cs_err err;
  assert_int_equal(hcs_async_start(f->h, "HcsGetComputeSystemProperties", "container slow", 50, issue, &hold,
                                   on_answer, &hung, &err), 0);
  assert_int_equal(hcs_async_start(f->h, "HcsGetComputeSystemProperties", "container fast", 60000, issue, &now,
                                   on_answer, &other, &err), 0);
  run_until(f, &other, 1);
  assert_false(other.failed);
  run_until(f, &hung, 1);
  assert_true(hung.failed);
  assert_int_equal(hung.err.code, CS_DEADLINE_EXCEEDED);
  assert_non_null(strstr(hung.err.msg, "container slow"));
  assert_false(ops[0].closed); /* still HCS's */
  assert_int_equal(hcs_async_in_hcs(f->h), 1);
  complete(&ops[0]);
  join_all();
  for (int i = 0; !ops[0].closed && i < 1000; i++) uv_run(&f->loop, UV_RUN_ONCE);
  assert_true(ops[0].closed);
  assert_int_equal(hung.n, 1);
  assert_int_equal(hcs_async_in_hcs(f->h), 0);
}

/* Close with an operation pending: Cancelled before close returns; HCS's completion afterwards closes the
 * operation on its own thread and frees the helper. */
static void test_close_with_pending(void **state) {
  fixture *f = *state;
  answer a = {0};
  int hold = ISSUE_HOLD;
  cs_err err;
  assert_int_equal(hcs_async_start(f->h, "HcsGetComputeSystemProperties", "container c1", 60000, issue, &hold,
                                   on_answer, &a, &err), 0);
  hcs_async_close(f->h);
  f->h = NULL;
  assert_int_equal(a.n, 1);
  assert_int_equal(a.err.code, CS_CANCELLED);
  uv_run(&f->loop, UV_RUN_DEFAULT); /* the helper's handles close */
  assert_false(ops[0].closed);
  complete(&ops[0]);
  join_all();
  assert_true(ops[0].closed);
  assert_int_equal(a.n, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_completes_on_loop, setup, teardown),
    cmocka_unit_test_setup_teardown(test_failure_carries_message, setup, teardown),
    cmocka_unit_test_setup_teardown(test_refused_call, setup, teardown),
    cmocka_unit_test_setup_teardown(test_deadline_and_late_completion, setup, teardown),
    cmocka_unit_test_setup_teardown(test_close_with_pending, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
