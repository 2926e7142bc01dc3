#include "rt_defer.h"

#include <stddef.h>

static void on_idle(uv_idle_t *h) {
  rt_defer *d = (rt_defer *)((char *)h - offsetof(rt_defer, idle));
  /* One at a time from the live queue: a delivery may close the queue (its backend destroyed), which then
   * drops the rest without delivering them. */
  while (!d->closing && d->head) {
    rt_defer_item *it = d->head;
    d->head = it->next;
    if (!d->head) d->tail = NULL;
    it->next = NULL;
    it->fn(it, false);
  }
  if (!d->closing) uv_idle_stop(&d->idle);
}

void rt_defer_init(rt_defer *d, uv_loop_t *loop) {
  d->head = d->tail = NULL;
  d->closing = false;
  uv_idle_init(loop, &d->idle); /* cannot fail */
}

void rt_defer_push(rt_defer *d, rt_defer_item *it) {
  it->next = NULL;
  if (d->tail) d->tail->next = it;
  else d->head = it;
  d->tail = it;
  uv_idle_start(&d->idle, on_idle);
}

void rt_defer_close(rt_defer *d, uv_close_cb close_cb) {
  if (d->closing) return;
  d->closing = true;
  while (d->head) {
    rt_defer_item *it = d->head;
    d->head = it->next;
    it->next = NULL;
    it->fn(it, true);
  }
  d->tail = NULL;
  uv_close((uv_handle_t *)&d->idle, close_cb);
}
