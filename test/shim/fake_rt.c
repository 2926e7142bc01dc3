#include "fake_rt.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void record(fake_rt *f, const char *fmt, ...) CS_PRINTF(2, 3);
static void record(fake_rt *f, const char *fmt, ...) {
  if (f->n_calls >= 64) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(f->calls[f->n_calls++], sizeof f->calls[0], fmt, ap);
  va_end(ap);
}

static bool fails(fake_rt *f, const char *op) {
  return f->fail_code && (!f->fail_op[0] || strcmp(f->fail_op, op) == 0);
}

static int pend_io(fake_rt *f, const char *op, rt_done_cb cb, void *data, int pid, int console_fd, cs_err *err) {
  int fail = 0;
  if (fails(f, op)) {
    fail = f->fail_code;
    f->fail_code = 0;
    f->fail_op[0] = '\0';
    if (!f->fail_async) {
      if (console_fd >= 0) close(console_fd);
      return cs_err_set(err, fail, "fake %s failed", op);
    }
  }
  fake_pending *p = &f->pending[f->n_pending++];
  p->cb = cb;
  p->data = data;
  p->res.pid = fail ? 0 : pid;
  p->res.console_fd = fail ? -1 : console_fd;
  p->fail_code = fail;
  if (fail && console_fd >= 0) close(console_fd);
  snprintf(p->op, sizeof p->op, "%s", op);
  if (!f->manual) fake_rt_complete(f);
  return 0;
}

static int pend(fake_rt *f, const char *op, rt_done_cb cb, void *data, int pid, cs_err *err) {
  return pend_io(f, op, cb, data, pid, -1, err);
}

void fake_rt_complete(fake_rt *f) {
  if (f->n_pending == 0) return;
  fake_pending p = f->pending[0];
  memmove(&f->pending[0], &f->pending[1], sizeof p * (size_t)(f->n_pending - 1));
  f->n_pending--;
  if (p.fail_code) {
    cs_err err;
    cs_err_set(&err, p.fail_code, "fake %s failed", p.op);
    p.cb(p.data, &p.res, &err);
  } else {
    p.cb(p.data, &p.res, NULL);
  }
}

void fake_rt_close_stdio(fake_rt *f) {
  for (int i = 0; i < 3; i++) {
    if (f->io_fd[i] >= 0) close(f->io_fd[i]);
    f->io_fd[i] = -1;
  }
  if (f->tty >= 0) close(f->tty);
  f->tty = -1;
}

/* What a runtime does with the stdio it is given: the process gets the fds (a dup kept here), or a pty
 * whose master goes back to the caller (the test keeps the other end). Returns the console fd or -1. */
static int take_stdio(fake_rt *f, const rt_stdio *io) {
  if (f->keep_stdio && !io->terminal) {
    fake_rt_close_stdio(f);
    for (int i = 0; i < 3; i++) f->io_fd[i] = io->fd[i] >= 0 ? fcntl(io->fd[i], F_DUPFD_CLOEXEC, 0) : -1;
  }
  if (!f->give_console || !io->terminal) return -1;
  fake_rt_close_stdio(f);
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0) {
    if (master >= 0) close(master);
    return -1;
  }
  f->tty = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
  return master;
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
  int console = take_stdio(f, &r->io);
  return pend_io(f, "create", cb, d, f->next_pid++, console, e);
}
static int f_start(rt_backend *be, const char *id, const char *exec_id, rt_done_cb cb, void *d, cs_err *e) {
  fake_rt *f = (fake_rt *)be;
  record(f, "start %s", id);
  return pend(f, "start", cb, d, 0, e);
}
static int f_exec(rt_backend *be, const rt_exec_req *r, rt_done_cb cb, void *d, cs_err *e) {
  fake_rt *f = (fake_rt *)be;
  record(f, "exec %s/%s", r->id, r->exec_id);
  int console = take_stdio(f, &r->io);
  return pend_io(f, "exec", cb, d, f->next_pid++, console, e);
}
static int f_kill(rt_backend *be, const char *id, int pid, int sig, bool all, rt_done_cb cb, void *d, cs_err *e) {
  fake_rt *f = (fake_rt *)be;
  record(f, "kill %s %d %d%s", id, sig, pid, all ? " all" : "");
  f->last_kill_sig = sig;
  f->last_kill_pid = pid;
  f->last_kill_all = all;
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
  if (f->stats_fail_code) return cs_err_set(e, f->stats_fail_code, "fake pids failed");
  int pids[2] = {f->next_pid - 1, 1};
  cb(d, pids, 2, NULL);
  return 0;
}
static int f_checkpoint(rt_backend *be, const rt_checkpoint_req *r, rt_done_cb cb, void *d, cs_err *e) {
  fake_rt *f = (fake_rt *)be;
  record(f, "checkpoint %s %s%s", r->id, r->image_path, r->exit ? " exit" : "");
  return cs_err_set(e, CS_FAILED_PRECONDITION, "fake: criu not available");
}
static int f_resize(rt_backend *be, const char *id, int pid, uint32_t w, uint32_t h, cs_err *e) {
  return cs_err_set(e, CS_UNIMPLEMENTED, "fake resize");
}
static int f_stats(rt_backend *be, const char *id, rt_sample *out, cs_err *e) {
  fake_rt *f = (fake_rt *)be;
  if (f->stats_fail_code) return cs_err_set(e, f->stats_fail_code, "fake stats failed");
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
static int f_stats_async(rt_backend *be, const char *id, rt_stats_req *req, rt_stats_cb cb, cs_err *e) {
  fake_rt *f = (fake_rt *)be;
  req->cb = cb;
  if (f->stats_hold[0] && strcmp(f->stats_hold, id) == 0 && f->n_held < 8) {
    f->held[f->n_held].req = req;
    f->held[f->n_held++].cb = cb;
    return 0;
  }
  if (f_stats(be, id, req->out, e) < 0) return -1;
  cb(req, NULL);
  return 0;
}

int fake_rt_release_stats(fake_rt *f, int code) {
  int n = f->n_held;
  f->n_held = 0;
  f->stats_hold[0] = '\0';
  for (int i = 0; i < n; i++) {
    cs_err err;
    if (code) cs_err_set(&err, code, "fake stats of a held read failed");
    else *f->held[i].req->out = f->sample;
    f->held[i].cb(f->held[i].req, code ? &err : NULL);
  }
  return n;
}

static void f_destroy(rt_backend *be) {
  fake_rt_release_stats((fake_rt *)be, CS_CANCELLED); /* rt.h: answered before destroy returns */
  fake_rt_close_stdio((fake_rt *)be);
  free(be);
}

static const rt_ops fake_ops = {
  .name = "fake", .create = f_create, .start = f_start, .exec = f_exec, .kill = f_kill, .delete = f_delete,
  .pause = f_pause, .resume = f_resume, .update = f_update, .pids = f_pids, .checkpoint = f_checkpoint,
  .resize = f_resize, .stats = f_stats, .stats_async = f_stats_async, .stats_quick = f_stats_quick, .destroy = f_destroy,
};

rt_backend *fake_rt_new(uv_loop_t *loop, const rt_events *ev) {
  fake_rt *f = calloc(1, sizeof *f);
  f->base.ops = &fake_ops;
  f->base.loop = loop;
  f->base.events = *ev;
  f->next_pid = 1000;
  f->io_fd[0] = f->io_fd[1] = f->io_fd[2] = f->tty = -1;
  f->sample.kind = RT_SAMPLE_CGROUP_V1;
  f->sample.cpu.usage_ns = 42;
  return &f->base;
}
