/* The events publisher on its own (task_events.c): events with nowhere to go, a drain that times out while
 * containerd is away, a rejection retried (in order) and one rejected for good after its retries, and a
 * drain that ends once the queue is delivered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "containerd/events/task.pb-c.h"
#include "containerd/services/events/ttrpc_events.pb-c.h"
#include "task_events.h"
#include "ttrpc.h"

typedef struct fx {
  uv_loop_t loop;
  char dir[32], sock[64];
  ttrpc_server *server;
  task_events *ev;
  char ids[16][32];
  int n;
  int reject;      /* reject this many calls first ... */
  int reject_code; /* ... with this code */
  int calls;
  bool drained;
} fx;

static fx *F;

static void forward(ttrpc_call *call, const uint8_t *p, size_t n, void *data) {
  fx *f = data;
  f->calls++;
  if (f->reject > 0) {
    f->reject--;
    ttrpc_call_reply_error(call, f->reject_code, "test: not now");
    return;
  }
  Containerd__Services__Events__Ttrpc__V1__ForwardRequest *r =
      containerd__services__events__ttrpc__v1__forward_request__unpack(NULL, n, p);
  assert_non_null(r);
  Containerd__Events__TaskExit *e = containerd__events__task_exit__unpack(NULL, r->envelope->event->value.len,
                                                                          r->envelope->event->value.data);
  assert_non_null(e);
  assert_string_equal(r->envelope->namespace_, "ns1");
  if (f->n < 16) snprintf(f->ids[f->n++], 32, "%s", e->container_id);
  containerd__events__task_exit__free_unpacked(e, NULL);
  containerd__services__events__ttrpc__v1__forward_request__free_unpacked(r, NULL);
  ttrpc_call_reply(call, NULL, 0);
}

static const ttrpc_method methods[] = {{"Forward", forward, false}};

static int setup(void **state) {
  fx *f = calloc(1, sizeof *f);
  assert_int_equal(uv_loop_init(&f->loop), 0);
  snprintf(f->dir, sizeof f->dir, "/tmp/cshim-ev-XXXXXX");
  assert_non_null(mkdtemp(f->dir));
  snprintf(f->sock, sizeof f->sock, "%s/ev.sock", f->dir);
  F = f;
  *state = f;
  return 0;
}

static void listen_(fx *f) {
  cs_err err;
  f->server = ttrpc_server_new(&f->loop);
  assert_int_equal(ttrpc_server_register(f->server, "containerd.services.events.ttrpc.v1.Events", methods, 1, f, &err), 0);
  assert_int_equal(ttrpc_server_listen(f->server, f->sock, &err), 0);
}

static void closed(void *data) { *(bool *)data = true; }

static int teardown(void **state) {
  fx *f = *state;
  if (f->ev) task_events_free(f->ev);
  bool done = f->server == NULL;
  if (f->server) ttrpc_server_close(f->server, closed, &done);
  while (!done) uv_run(&f->loop, UV_RUN_ONCE);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  unlink(f->sock);
  rmdir(f->dir);
  free(f);
  return 0;
}

static void publish(fx *f, const char *id) {
  Containerd__Events__TaskExit e = CONTAINERD__EVENTS__TASK_EXIT__INIT;
  e.container_id = (char *)id;
  e.exit_status = 3;
  task_events_publish(f->ev, "/tasks/exit", "containerd.events.TaskExit", &e.base);
}

static void on_drained(void *data) { ((fx *)data)->drained = true; }

static void run_until(fx *f, bool (*cond)(fx *)) {
  for (int i = 0; i < 100000 && !cond(f); i++) uv_run(&f->loop, UV_RUN_ONCE);
  assert_true(cond(f));
}
static bool is_drained(fx *f) { return f->drained; }
static bool queue_empty(fx *f) { return task_events_pending(f->ev) == 0; }

/* Without containerd (cshimctl): events go to the log only; a drain ends at once. */
static void test_no_address(void **state) {
  fx *f = *state;
  f->ev = task_events_new(&f->loop, "", "ns1");
  publish(f, "a");
  assert_int_equal(task_events_pending(f->ev), 0);
  task_events_drain(f->ev, 10000, on_drained, f);
  assert_true(f->drained);
}

/* containerd away: the drain gives up after its timeout with the events still queued. */
static void test_drain_times_out(void **state) {
  fx *f = *state;
  f->ev = task_events_new(&f->loop, f->sock, "ns1");
  publish(f, "a");
  publish(f, "b");
  task_events_drain(f->ev, 200, on_drained, f);
  run_until(f, is_drained);
  assert_int_equal(task_events_pending(f->ev), 2);
}

/* A busy containerd (Unavailable) and one that refuses (InvalidArgument) a few times: retried in order. */
static void test_rejections_retried_in_order(void **state) {
  fx *f = *state;
  listen_(f);
  f->ev = task_events_new(&f->loop, f->sock, "ns1");
  f->reject = 2;
  f->reject_code = CS_UNAVAILABLE;
  publish(f, "a");
  publish(f, "b");
  run_until(f, queue_empty);
  f->reject = 3;
  f->reject_code = CS_INVALID_ARGUMENT;
  publish(f, "c");
  publish(f, "d");
  task_events_drain(f->ev, 60000, on_drained, f);
  run_until(f, is_drained);
  assert_int_equal(f->n, 4);
  assert_string_equal(f->ids[0], "a");
  assert_string_equal(f->ids[1], "b");
  assert_string_equal(f->ids[2], "c");
  assert_string_equal(f->ids[3], "d");
  assert_int_equal(f->calls, 4 + 2 + 3);
}

/* An event containerd refuses (not a transient code) every time is dropped after its retries: the queue
 * behind it moves on. */
static void test_rejected_for_good(void **state) {
  fx *f = *state;
  listen_(f);
  f->ev = task_events_new(&f->loop, f->sock, "ns1");
  f->reject = 1000;
  f->reject_code = CS_INVALID_ARGUMENT;
  publish(f, "poison");
  for (int i = 0; i < 100000 && f->calls < 10; i++) uv_run(&f->loop, UV_RUN_ONCE);
  f->reject = 0;
  publish(f, "next");
  run_until(f, queue_empty);
  assert_int_equal(f->n, 1);
  assert_string_equal(f->ids[0], "next");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_no_address, setup, teardown),
    cmocka_unit_test_setup_teardown(test_drain_times_out, setup, teardown),
    cmocka_unit_test_setup_teardown(test_rejections_retried_in_order, setup, teardown),
    cmocka_unit_test_setup_teardown(test_rejected_for_good, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
