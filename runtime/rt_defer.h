/* Deferred completion, shared by the backends: a result known at once (runc exec's pid already recorded,
 * an HCS question with no call to make) is still delivered from the loop, later and in order, never from
 * inside the rt_ops call that produced it (rt.h); and after the backend is destroyed, nothing queued is
 * delivered: each item gets its function with `dropped` set, to free what it holds without calling anyone.
 *
 * Items are embedded in the owner's operation (libuv style); the queue is embedded in the backend. Loop
 * thread only. */
#ifndef RT_DEFER_H
#define RT_DEFER_H

#include <stdbool.h>
#include <uv.h>

typedef struct rt_defer_item rt_defer_item;
struct rt_defer_item {
  rt_defer_item *next;
  /* dropped: the queue is being closed; free, do not deliver. */
  void (*fn)(rt_defer_item *it, bool dropped);
};

typedef struct rt_defer {
  uv_idle_t idle; /* idle.data is the owner's (e.g. for its close callback) */
  rt_defer_item *head, *tail;
  bool closing;
} rt_defer;

void rt_defer_init(rt_defer *d, uv_loop_t *loop);
/* Deliver it (fn(it, false)) from the loop after the current callback returns. */
void rt_defer_push(rt_defer *d, rt_defer_item *it);
/* Drop everything queued (fn(it, true), in order), deliver nothing more, and close the handle: close_cb
 * runs once the loop has closed it; d's memory must stay until then. An item being delivered when this
 * is called (a callback destroying its backend) finishes; the rest are dropped. */
void rt_defer_close(rt_defer *d, uv_close_cb close_cb);

#endif
