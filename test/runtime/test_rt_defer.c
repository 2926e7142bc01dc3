/* rt_defer: delivered from the loop, in order, never inside push; closing drops the rest, in order,
 * without delivering them, also from inside a delivery (a callback destroying its backend). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "rt_defer.h"

typedef struct item {
  rt_defer_item it;
  char name;
} item;

static char seen[32];
static rt_defer *closing_from; /* set: the delivery of 'b' closes this queue */
static int closed;

static void on_closed(uv_handle_t *h) { (void)h, closed++; }

static void fn(rt_defer_item *it, bool dropped) {
  item *x = (item *)((char *)it - offsetof(item, it));
  size_t n = strlen(seen);
  snprintf(seen + n, sizeof seen - n, "%c%s", x->name, dropped ? "-" : "+");
  if (!dropped && x->name == 'b' && closing_from) rt_defer_close(closing_from, on_closed);
}

static void test_order_and_loop(void **state) {
  (void)state;
  uv_loop_t loop;
  uv_loop_init(&loop);
  rt_defer d;
  rt_defer_init(&d, &loop);
  item a = {.it.fn = fn, .name = 'a'}, b = {.it.fn = fn, .name = 'b'}, c = {.it.fn = fn, .name = 'c'};
  seen[0] = '\0';
  closing_from = NULL;
  rt_defer_push(&d, &a.it);
  rt_defer_push(&d, &b.it);
  assert_string_equal(seen, ""); /* never from inside the call that had the result */
  uv_run(&loop, UV_RUN_NOWAIT);
  assert_string_equal(seen, "a+b+");
  rt_defer_push(&d, &c.it);
  uv_run(&loop, UV_RUN_NOWAIT);
  assert_string_equal(seen, "a+b+c+");
  closed = 0;
  rt_defer_close(&d, on_closed);
  uv_run(&loop, UV_RUN_DEFAULT); /* the idle handle was stopped: the loop ends once it is closed */
  assert_int_equal(closed, 1);
  assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_close_drops(void **state) {
  (void)state;
  uv_loop_t loop;
  uv_loop_init(&loop);
  rt_defer d;
  rt_defer_init(&d, &loop);
  item a = {.it.fn = fn, .name = 'a'}, b = {.it.fn = fn, .name = 'b'}, c = {.it.fn = fn, .name = 'c'},
       e = {.it.fn = fn, .name = 'e'};
  seen[0] = '\0';
  closed = 0;
  closing_from = &d;
  rt_defer_push(&d, &a.it);
  rt_defer_push(&d, &b.it);
  rt_defer_push(&d, &c.it);
  rt_defer_push(&d, &e.it);
  uv_run(&loop, UV_RUN_DEFAULT);
  /* b's delivery closed the queue: c and e are released, not delivered; nothing after. */
  assert_string_equal(seen, "a+b+c-e-");
  assert_int_equal(closed, 1);
  assert_int_equal(uv_loop_close(&loop), 0);
  /* Closed with items queued and the loop never run: each is dropped at once. */
  uv_loop_init(&loop);
  rt_defer_init(&d, &loop);
  seen[0] = '\0';
  closing_from = NULL;
  rt_defer_push(&d, &a.it);
  rt_defer_close(&d, on_closed);
  assert_string_equal(seen, "a-");
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_string_equal(seen, "a-");
  assert_int_equal(closed, 2);
  assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_order_and_loop),
    cmocka_unit_test(test_close_drops),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
