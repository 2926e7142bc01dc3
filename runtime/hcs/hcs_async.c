#include "hcs_async.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hcs_err.h"
#include "hcs_wstr.h"

typedef struct hcs_async_op hcs_async_op;
struct hcs_async_op {
  hcs_async *h;
  hcs_operation op;
  hcs_async_op *done_next;             /* the completed queue (under h->lock) */
  hcs_async_op *next, **pprev;         /* pending: not answered yet (loop only) */
  uint64_t deadline, timeout_ms;       /* uv_now() ms */
  hcs_async_cb cb;
  void *data;
  char name[48];
  char *what;
};

struct hcs_async {
  /* Copies of the table's entries: a completion may come after the backend (and its table) is gone. */
  hcs_fn_create_operation create_op;
  hcs_fn_close_operation close_op;
  hcs_fn_get_result get_result;
  void (*free_document)(hcs_pwstr doc);
  uv_loop_t *loop;
  uv_async_t async;
  uv_timer_t timer;
  uv_mutex_t lock;                     /* guards open, done, in_hcs, handles_closed */
  bool open;
  hcs_async_op *done;                  /* completed by HCS, not yet seen by the loop (LIFO: order does not matter) */
  unsigned in_hcs;                     /* operations HCS has not completed */
  int handles_closed;                  /* of async and timer: the struct goes when both are closed and in_hcs is 0 */
  hcs_async_op *pending;
};

static void op_free(hcs_async *h, hcs_async_op *o) {
  if (o->op) h->close_op(o->op);
  free(o->what);
  free(o);
}

static void unlink_pending(hcs_async_op *o) {
  if (!o->pprev) return;
  *o->pprev = o->next;
  if (o->next) o->next->pprev = o->pprev;
  o->pprev = NULL;
  o->next = NULL;
}

/* The next expiry: the earliest deadline of what is pending. */
static void rearm(hcs_async *h);

/* ------------------------------------------------------------------ HCS's thread */

static void HCS_CALLBACK on_complete(hcs_operation op, void *ctx) {
  (void)op;
  hcs_async_op *o = ctx;
  hcs_async *h = o->h;
  bool drop, last = false;
  uv_mutex_lock(&h->lock);
  h->in_hcs--;
  drop = !h->open;
  if (!drop) {
    o->done_next = h->done;
    h->done = o;
    uv_async_send(&h->async);
  } else {
    last = h->handles_closed == 2 && h->in_hcs == 0;
  }
  uv_mutex_unlock(&h->lock);
  if (!drop) return;
  /* The helper is closed: nobody on the loop will look at it any more. Nothing of the loop's is touched. */
  op_free(h, o);
  if (last) {
    uv_mutex_destroy(&h->lock);
    free(h);
  }
}

/* ------------------------------------------------------------------ the loop */

static void answer(hcs_async_op *o, char *result, const cs_err *err) {
  hcs_async_cb cb = o->cb;
  o->cb = NULL;
  unlink_pending(o);
  cb(o->data, result, err);
}

/* A failed operation's result document carries HCS's own ErrorMessage: keep it. */
static void fail_from_doc(cs_err *err, const char *name, hcs_hresult hr, const char *doc) {
  json_t *j = doc ? json_loads(doc, 0, NULL) : NULL;
  json_t *m = j ? json_object_get(j, "ErrorMessage") : NULL;
  hcs_err_set(err, name, hr, json_is_string(m) ? json_string_value(m) : NULL);
  json_decref(j);
}

static void on_async(uv_async_t *a) {
  hcs_async *h = a->data;
  uv_mutex_lock(&h->lock);
  hcs_async_op *o = h->done;
  h->done = NULL;
  uv_mutex_unlock(&h->lock);
  bool answered = false;
  while (o) {
    hcs_async_op *n = o->done_next;
    if (o->cb) {
      hcs_pwstr wdoc = NULL;
      hcs_hresult hr = h->get_result(o->op, &wdoc);
      char *doc = wdoc ? hcs_wide_to_utf8(wdoc, NULL) : NULL;
      if (wdoc) h->free_document(wdoc);
      if (HCS_FAILED(hr)) {
        cs_err err;
        fail_from_doc(&err, o->name, hr, doc);
        cs_err_wrap(&err, "%s", o->what);
        free(doc);
        answer(o, NULL, &err);
      } else {
        answer(o, doc, NULL);
      }
      answered = true;
    }
    /* Answered now, or long ago by its deadline: either way HCS is done with it. */
    op_free(h, o);
    o = n;
  }
  if (answered) rearm(h);
}

static void on_timer(uv_timer_t *t) {
  hcs_async *h = t->data;
  uint64_t now = uv_now(h->loop);
  for (hcs_async_op *o = h->pending, *n; o; o = n) {
    n = o->next;
    if (o->deadline > now) continue;
    cs_err err;
    cs_err_set(&err, CS_DEADLINE_EXCEEDED, "%s: %s did not complete within %llu ms", o->what, o->name,
               (unsigned long long)o->timeout_ms);
    answer(o, NULL, &err); /* the operation stays with HCS: its completion frees it */
    n = h->pending;        /* the callback may have started or answered others */
  }
  rearm(h);
}

static void rearm(hcs_async *h) {
  if (!h->open) return;
  uint64_t first = UINT64_MAX;
  for (hcs_async_op *o = h->pending; o; o = o->next)
    if (o->deadline < first) first = o->deadline;
  if (first == UINT64_MAX) {
    uv_timer_stop(&h->timer);
    return;
  }
  uint64_t now = uv_now(h->loop);
  uv_timer_start(&h->timer, on_timer, first > now ? first - now : 0, 0);
}

int hcs_async_start(hcs_async *h, const char *name, const char *what, uint64_t timeout_ms, hcs_async_issue issue,
                    void *arg, hcs_async_cb cb, void *data, cs_err *err) {
  if (!h->open) return cs_err_set(err, CS_UNAVAILABLE, "%s: %s: the backend is closing", what, name);
  hcs_async_op *o = calloc(1, sizeof *o);
  if (!o || !(o->what = strdup(what))) {
    free(o);
    return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
  }
  o->h = h;
  snprintf(o->name, sizeof o->name, "%s", name);
  o->op = h->create_op(o, on_complete);
  if (!o->op) {
    op_free(h, o);
    return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "%s: %s: HcsCreateOperation failed", what, name);
  }
  uv_mutex_lock(&h->lock);
  h->in_hcs++; /* before the call: its completion may run before the call returns */
  uv_mutex_unlock(&h->lock);
  hcs_hresult hr = issue(arg, o->op);
  if (HCS_FAILED(hr)) {
    /* Not started: HCS calls no completion for it. */
    uv_mutex_lock(&h->lock);
    h->in_hcs--;
    uv_mutex_unlock(&h->lock);
    op_free(h, o);
    hcs_err_set(err, name, hr, NULL);
    return cs_err_wrap(err, "%s", what);
  }
  o->cb = cb;
  o->data = data;
  o->timeout_ms = timeout_ms;
  o->deadline = uv_now(h->loop) + timeout_ms;
  o->next = h->pending;
  if (o->next) o->next->pprev = &o->next;
  h->pending = o;
  o->pprev = &h->pending;
  rearm(h);
  return 0;
}

/* ------------------------------------------------------------------ lifecycle */

static void handle_closed(uv_handle_t *hd) {
  hcs_async *h = hd->data;
  uv_mutex_lock(&h->lock);
  bool last = ++h->handles_closed == 2 && h->in_hcs == 0;
  uv_mutex_unlock(&h->lock);
  if (last) {
    uv_mutex_destroy(&h->lock);
    free(h);
  }
}

void hcs_async_close(hcs_async *h) {
  uv_mutex_lock(&h->lock);
  h->open = false; /* from here completions free their operation on HCS's thread */
  hcs_async_op *o = h->done;
  h->done = NULL;
  uv_mutex_unlock(&h->lock);
  while (h->pending) {
    cs_err err;
    hcs_async_op *p = h->pending;
    cs_err_set(&err, CS_CANCELLED, "%s: %s: the backend is closing", p->what, p->name);
    answer(p, NULL, &err);
  }
  while (o) { /* completed, not yet seen: answered just above, or by a deadline */
    hcs_async_op *n = o->done_next;
    op_free(h, o);
    o = n;
  }
  uv_timer_stop(&h->timer);
  uv_close((uv_handle_t *)&h->timer, handle_closed);
  uv_close((uv_handle_t *)&h->async, handle_closed);
}

unsigned hcs_async_in_hcs(hcs_async *h) {
  uv_mutex_lock(&h->lock);
  unsigned n = h->in_hcs;
  uv_mutex_unlock(&h->lock);
  return n;
}

int hcs_async_new(uv_loop_t *loop, const hcs_api *api, hcs_async **out, cs_err *err) {
  hcs_async *h = calloc(1, sizeof *h);
  if (!h) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
  h->create_op = api->HcsCreateOperation;
  h->close_op = api->HcsCloseOperation;
  h->get_result = api->HcsGetOperationResult;
  h->free_document = api->free_document;
  h->loop = loop;
  h->open = true;
  if (uv_mutex_init(&h->lock) < 0) {
    free(h);
    return cs_err_set(err, CS_INTERNAL, "uv_mutex_init failed");
  }
  int rc = uv_async_init(loop, &h->async, on_async);
  if (rc < 0) {
    uv_mutex_destroy(&h->lock);
    free(h);
    return cs_err_sys(err, -rc, "uv_async_init");
  }
  h->async.data = h;
  uv_timer_init(loop, &h->timer);
  h->timer.data = h;
  *out = h;
  return 0;
}
