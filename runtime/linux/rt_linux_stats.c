/* Counters and OOM watch per container: opened once the init's pid is known, sampled synchronously. */
#include "rt_linux_int.h"

#include "cs_log.h"

/* The container's counters, opened on first use (the pid must be known). */
static rt_linux_counters *counters_of(rt_backend *b, const char *id, cs_err *err) {
  rt_linux *be = (rt_linux *)b;
  rt_linux_ctr *c = id ? rt_linux_ctr_find(be, id) : NULL;
  if (!c) return cs_err_set(err, CS_NOT_FOUND, "stats: container %s: not found", id ? id : "(null)"), NULL;
  if (!c->counters) {
    if (c->pid <= 0) return cs_err_set(err, CS_FAILED_PRECONDITION, "stats: container %s: not created", id), NULL;
    if (!(c->counters = rt_linux_counters_open(c->pid, &be->counters, err))) return cs_err_wrap(err, "stats %s", id), NULL;
  }
  return c->counters;
}

static int sample(rt_backend *b, const char *id, rt_sample *out, bool lean, cs_err *err) {
  rt_linux_counters *k = counters_of(b, id, err);
  if (!k) return -1;
  if (rt_linux_counters_sample(k, out, lean, err) != 0) return cs_err_wrap(err, "stats %s", id);
  return 0;
}

int rt_linux_stats(rt_backend *b, const char *id, rt_sample *out, cs_err *err) {
  return sample(b, id, out, false, err);
}

int rt_linux_stats_lean(rt_backend *b, const char *id, rt_sample *out, cs_err *err) {
  return sample(b, id, out, true, err);
}

int rt_linux_stats_quick(rt_backend *b, const char *id, rt_quick *out, cs_err *err) {
  rt_linux_counters *k = counters_of(b, id, err);
  if (!k) return -1;
  if (rt_linux_counters_quick(k, out, err) != 0) return cs_err_wrap(err, "stats %s", id);
  return 0;
}

static void on_oom(void *data) {
  rt_linux_ctr *c = data;
  CS_INFO("container %s: OOM", c->id);
  if (c->be->base.events.oom) c->be->base.events.oom(c->be->base.events.data, c->id);
}

void rt_linux_watch_ctr(rt_linux_ctr *c) {
  cs_err err;
  if (!c->counters && !(c->counters = rt_linux_counters_open(c->pid, &c->be->counters, &err))) {
    /* A process already gone (the dead-shim cleanup adopts containers whose init exited) is no news. */
    if (err.code == CS_NOT_FOUND) CS_DEBUG("container %s: counters: %s", c->id, err.msg);
    else CS_WARN("container %s: counters: %s", c->id, err.msg);
    return;
  }
  if (c->oom) return;
  c->oom = rt_linux_oom_start(c->be->base.loop, rt_linux_counters_version(c->counters),
                              rt_linux_counters_memory_dir(c->counters), on_oom, c, &err);
  if (!c->oom) CS_WARN("container %s: OOM events: %s", c->id, err.msg);
}

void rt_linux_unwatch_ctr(rt_linux_ctr *c) {
  rt_linux_oom_stop(c->oom);
  c->oom = NULL;
  rt_linux_counters_close(c->counters);
  c->counters = NULL;
}

/* A few preads of files kept open: answered before it returns (rt.h allows it), never deferred. */
int rt_linux_stats_async(rt_backend *be, const char *id, rt_stats_req *req, rt_stats_cb cb, cs_err *err) {
  int rc = req->lean ? rt_linux_stats_lean(be, id, req->out, err) : rt_linux_stats(be, id, req->out, err);
  if (rc < 0) return -1;
  req->cb = cb;
  cb(req, NULL);
  return 0;
}
