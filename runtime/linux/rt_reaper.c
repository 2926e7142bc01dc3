#include "rt_reaper.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "rt_linux_clock.h"

typedef struct rt_reaper_watch_entry {
  int pid;
  rt_reaper_cb cb; /* NULL: unwatched, the exit is dropped */
  void *data;
} rt_reaper_watch_entry;

typedef struct rt_reaper_exit {
  int pid, status;
  int64_t at;
} rt_reaper_exit;

struct rt_reaper {
  uv_loop_t *loop;
  uv_signal_t sig;
  uv_timer_t first; /* the initial drain */
  int open_handles;
  bool closing, dispatching;
  rt_reaper_cb unclaimed;
  void *data;
  /* Few entries at a time (runtime invocations in flight): a flat array beats a hash here. */
  rt_reaper_watch_entry *w;
  size_t nw, capw;
  rt_reaper_exit *batch;
  size_t capb;
  rt_reaper_counts counts;
};

int rt_reaper_status(int wstatus) {
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
  return 255;
}

static ssize_t find(const rt_reaper *r, int pid) {
  for (size_t i = 0; i < r->nw; i++)
    if (r->w[i].pid == pid) return (ssize_t)i;
  return -1;
}

static void take(rt_reaper *r, size_t i, rt_reaper_watch_entry *out) {
  *out = r->w[i];
  r->w[i] = r->w[--r->nw];
}

/* Collect everything that has exited, then dispatch. Collecting first keeps the batch ordering promise
 * (watched before unclaimed) and means a callback that forks and watches a new child cannot be confused
 * with the exits already in hand. */
static void drain(rt_reaper *r) {
  if (r->closing || r->dispatching) return;
  size_t n = 0;
  for (;;) {
    int st;
    pid_t pid = waitpid(-1, &st, WNOHANG);
    if (pid < 0 && errno == EINTR) continue;
    if (pid <= 0) break; /* 0: children left, none exited; ECHILD: no children */
    if (n == r->capb) {
      size_t cap = r->capb ? r->capb * 2 : 16;
      rt_reaper_exit *b = realloc(r->batch, cap * sizeof *b);
      if (!b) {
        /* Out of memory with an exit in hand: deliver it alone rather than lose it. */
        r->counts.reaped++;
        ssize_t i = find(r, pid);
        rt_reaper_watch_entry e = {pid, r->unclaimed, r->data};
        if (i >= 0) take(r, (size_t)i, &e);
        if (e.cb) e.cb(e.data, pid, rt_reaper_status(st), rt_linux_clock_ns(CLOCK_REALTIME));
        if (r->closing) return;
        continue;
      }
      r->batch = b;
      r->capb = cap;
    }
    r->batch[n++] = (rt_reaper_exit){pid, rt_reaper_status(st), rt_linux_clock_ns(CLOCK_REALTIME)};
    r->counts.reaped++;
  }
  if (n == 0) return;
  r->dispatching = true;
  /* Pass 1: watched pids. Entries are removed before the callback runs, so callbacks may watch/unwatch. */
  for (size_t k = 0; k < n && !r->closing; k++) {
    ssize_t i = find(r, r->batch[k].pid);
    if (i < 0) continue;
    rt_reaper_watch_entry e;
    take(r, (size_t)i, &e);
    r->batch[k].pid = -r->batch[k].pid; /* mark handled */
    if (e.cb) {
      r->counts.watched_delivered++;
      e.cb(e.data, -r->batch[k].pid, r->batch[k].status, r->batch[k].at);
    } else {
      r->counts.ignored++;
    }
  }
  /* Pass 2: the rest. */
  for (size_t k = 0; k < n && !r->closing; k++) {
    if (r->batch[k].pid < 0) continue;
    r->counts.unclaimed_delivered++;
    if (r->unclaimed) r->unclaimed(r->data, r->batch[k].pid, r->batch[k].status, r->batch[k].at);
  }
  r->dispatching = false;
  if (r->closing) return;
  /* A callback may have forked children that exited meanwhile; their SIGCHLD woke the loop again, so the
   * next signal callback collects them — no need to loop here. */
}

static void on_sigchld(uv_signal_t *h, int signum) {
  (void)signum;
  drain(h->data);
}

static void on_first(uv_timer_t *t) {
  drain(t->data);
}

static void on_closed(uv_handle_t *h) {
  rt_reaper *r = h->data;
  if (--r->open_handles > 0) return;
  free(r->w);
  free(r->batch);
  free(r);
}

rt_reaper *rt_reaper_new(uv_loop_t *loop, rt_reaper_cb unclaimed, void *data, cs_err *err) {
  rt_reaper *r = calloc(1, sizeof *r);
  if (!r) {
    cs_err_sys(err, ENOMEM, "reaper");
    return NULL;
  }
  r->loop = loop;
  r->unclaimed = unclaimed;
  r->data = data;
  int rc = uv_signal_init(loop, &r->sig);
  if (rc != 0) {
    free(r);
    cs_err_set(err, CS_INTERNAL, "reaper: %s", uv_strerror(rc));
    return NULL;
  }
  uv_timer_init(loop, &r->first); /* cannot fail */
  r->sig.data = r->first.data = r;
  r->open_handles = 2;
  rc = uv_signal_start(&r->sig, on_sigchld, SIGCHLD);
  if (rc == 0) rc = uv_timer_start(&r->first, on_first, 0, 0);
  if (rc != 0) {
    cs_err_set(err, CS_INTERNAL, "reaper: watching SIGCHLD: %s", uv_strerror(rc));
    rt_reaper_close(r);
    return NULL;
  }
  return r;
}

int rt_reaper_watch(rt_reaper *r, int pid, rt_reaper_cb cb, void *data, cs_err *err) {
  if (pid <= 0) return cs_err_set(err, CS_INVALID_ARGUMENT, "reaper: bad pid %d", pid);
  ssize_t i = find(r, pid);
  if (i >= 0) { /* the pid of a child we have not reaped cannot be reused: replacing means re-routing */
    r->w[i].cb = cb;
    r->w[i].data = data;
    return 0;
  }
  if (r->nw == r->capw) {
    size_t cap = r->capw ? r->capw * 2 : 16;
    rt_reaper_watch_entry *w = realloc(r->w, cap * sizeof *w);
    if (!w) return cs_err_sys(err, ENOMEM, "reaper: watch %d", pid);
    r->w = w;
    r->capw = cap;
  }
  r->w[r->nw++] = (rt_reaper_watch_entry){pid, cb, data};
  return 0;
}

int rt_reaper_unwatch(rt_reaper *r, int pid) {
  ssize_t i = find(r, pid);
  if (i < 0) return -1;
  r->w[i].cb = NULL;
  r->w[i].data = NULL;
  return 0;
}

void rt_reaper_close(rt_reaper *r) {
  if (!r || r->closing) return;
  r->closing = true;
  uv_close((uv_handle_t *)&r->sig, on_closed);
  uv_close((uv_handle_t *)&r->first, on_closed);
}

void rt_reaper_get_counts(const rt_reaper *r, rt_reaper_counts *out) {
  *out = r->counts;
}
