#include "fake_rt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void record(fake_rt *f, const char *fmt, ...) CS_PRINTF(2, 3);
static void record(fake_rt *f, const char *fmt, ...) {
  if (f->n_calls >= 64) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(f->calls[f->n_calls++], sizeof f->calls[0], fmt, ap);
  va_end(ap);
}

static int pend(fake_rt *f, const char *op, rt_done_cb cb, void *data, int pid, cs_err *err) {
  if (f->fail_code) {
    int code = f->fail_code;
    f->fail_code = 0;
    return cs_err_set(err, code, "fake %s failed", op);
  }
  fake_pending *p = &f->pending[f->n_pending++];
  p->cb = cb;
  p->data = data;
  p->res.pid = pid;
  p->res.console_fd = -1;
  snprintf(p->op, sizeof p->op, "%s", op);
  if (!f->manual) fake_rt_complete(f);
  return 0;
}

void fake_rt_complete(fake_rt *f) {
  if (f->n_pending == 0) return;
  fake_pending p = f->pending[0];
  memmove(&f->pending[0], &f->pending[1], sizeof p * (size_t)(f->n_pending - 1));
  f->n_pending--;
  p.cb(p.data, &p.res, NULL);
}

void fake_rt_exit(fake_rt *f, int pid, int status) { f->base.events.exit(f->base.events.data, pid, status, 1234567890123LL); }

bool fake_rt_called(const fake_rt *f, const char *call) {
  for (int i = 0; i < f->n_calls; i++)
    if (strcmp(f->calls[i], call) == 0) return true;
  return false;
}

static int f_create(rt_backend *be, const rt_create_req *r, rt_done_cb cb, void *d, cs_err *e) {
  fake_rt *f = (fake_rt *)be;
  record(f, "create %s", r->id);
  return pend(f, "create", cb, d, f->next_pid++, e);
}
static int f_start(rt_backend *be, const char *id, const char *exec_id, rt_done_cb cb, void *d, cs_err *e) {
  fake_rt *f = (fake_rt *)be;
  record(f, "start %s", id);
  return pend(f, "start", cb, d, 0, e);
}
static int f_exec(rt_backend *be, const rt_exec_req *r, rt_done_cb cb, void *d, cs_err *e) {
  fake_rt *f = (fake_rt *)be;
  record(f, "exec %s/%s", r->id, r->exec_id);
  return pend(f, "exec", cb, d, f->next_pid++, e);
}
static int f_kill(rt_backend *be, const char *id, int pid, int sig, bool all, rt_done_cb cb, void *d, cs_err *e) {
  fake_rt *f = (fake_rt *)be;
  record(f, "kill %s %d %d", id, sig, pid);
  return pend(f, "kill", cb, d, 0, e);
}
static int f_delete(rt_backend *be, const char *id, bool force, rt_done_cb cb, void *d, cs_err *e) {
  fake_rt *f = (fake_rt *)be;
  record(f, "delete %s%s", id, force ? " force" : "");
  return pend(f, "delete", cb, d, 0, e);
}
static int f_pause(rt_backend *be, const char *id, rt_done_cb cb, void *d, cs_err *e) {
  fake_rt *f = (fake_rt *)be;
  record(f, "pause %s", id);
  return pend(f, "pause", cb, d, 0, e);
}
static int f_resume(rt_backend *be, const char *id, rt_done_cb cb, void *d, cs_err *e) {
  fake_rt *f = (fake_rt *)be;
  record(f, "resume %s", id);
  return pend(f, "resume", cb, d, 0, e);
}
static int f_update(rt_backend *be, const char *id, const char *json, size_t len, rt_done_cb cb, void *d, cs_err *e) {
  fake_rt *f = (fake_rt *)be;
  record(f, "update %s", id);
  return pend(f, "update", cb, d, 0, e);
}
static int f_pids(rt_backend *be, const char *id, rt_pids_cb cb, void *d, cs_err *e) {
  fake_rt *f = (fake_rt *)be;
  record(f, "pids %s", id);
  int pids[2] = {f->next_pid - 1, 1};
  cb(d, pids, 2, NULL);
  return 0;
}
static int f_checkpoint(rt_backend *be, const rt_checkpoint_req *r, rt_done_cb cb, void *d, cs_err *e) {
  return cs_err_set(e, CS_FAILED_PRECONDITION, "fake: criu not available");
}
static int f_resize(rt_backend *be, const char *id, int pid, uint32_t w, uint32_t h, cs_err *e) {
  return cs_err_set(e, CS_UNIMPLEMENTED, "fake resize");
}
static int f_stats(rt_backend *be, const char *id, rt_sample *out, cs_err *e) {
  fake_rt *f = (fake_rt *)be;
  *out = f->sample;
  return 0;
}
/* The usage the last full sample had, as it is now: a test moves it without a full read. */
static int f_stats_quick(rt_backend *be, const char *id, rt_quick *out, cs_err *e) {
  fake_rt *f = (fake_rt *)be;
  out->timestamp_ns = 1;
  out->cpu_usage_ns = f->sample.cpu.usage_ns;
  out->memory_usage = f->sample.memory.usage;
  return 0;
}
static void f_destroy(rt_backend *be) { free(be); }

static const rt_ops fake_ops = {
  .name = "fake", .create = f_create, .start = f_start, .exec = f_exec, .kill = f_kill, .delete = f_delete,
  .pause = f_pause, .resume = f_resume, .update = f_update, .pids = f_pids, .checkpoint = f_checkpoint,
  .resize = f_resize, .stats = f_stats, .stats_quick = f_stats_quick, .destroy = f_destroy,
};

rt_backend *fake_rt_new(uv_loop_t *loop, const rt_events *ev) {
  fake_rt *f = calloc(1, sizeof *f);
  f->base.ops = &fake_ops;
  f->base.loop = loop;
  f->base.events = *ev;
  f->next_pid = 1000;
  f->sample.kind = RT_SAMPLE_CGROUP_V1;
  f->sample.cpu.usage_ns = 42;
  return &f->base;
}
