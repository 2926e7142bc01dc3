/* State of the HCS backend: lookups, jobs on the thread pool, the exit path from HCS threads to the loop. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_log.h"
#include "hcs_call.h"
#include "hcs_doc.h"
#include "hcs_err.h"
#include "hcs_time.h"
#include "hcs_wstr.h"
#include "hcs_layers.h"
#include "rt_hcs_int.h"

int64_t rt_hcs_now_ns(void) { return hcs_time_now_ns(); }

rt_hcs_ctr *rt_hcs_find(rt_hcs *be, const char *id) {
  for (rt_hcs_ctr *c = be->ctrs; c; c = c->next)
    if (strcmp(c->id, id) == 0) return c;
  return NULL;
}

rt_hcs_proc *rt_hcs_find_pid(rt_hcs_ctr *c, int pid) {
  for (rt_hcs_proc *p = c->procs; p; p = p->next)
    if (p->pid == pid && p->state != PROC_NEW) return p;
  return NULL;
}

rt_hcs_proc *rt_hcs_find_exec(rt_hcs_ctr *c, const char *exec_id) {
  for (rt_hcs_proc *p = c->procs; p; p = p->next)
    if (exec_id ? p->exec_id && strcmp(p->exec_id, exec_id) == 0 : !p->exec_id) return p;
  return NULL;
}

rt_hcs_proc *rt_hcs_init_proc(rt_hcs_ctr *c) { return rt_hcs_find_exec(c, NULL); }

static rt_hcs_proc *find_seq(rt_hcs_ctr *c, unsigned long seq) {
  for (rt_hcs_proc *p = c->procs; p; p = p->next)
    if (p->seq == seq) return p;
  return NULL;
}

rt_hcs_src *rt_hcs_src_new(rt_hcs *be, const char *ctr_id, unsigned long seq) {
  rt_hcs_src *s = calloc(1, sizeof *s);
  if (!s || !(s->ctr_id = strdup(ctr_id))) {
    free(s);
    return NULL;
  }
  s->be = be;
  s->seq = seq;
  return s;
}

static void src_free(rt_hcs_src *s) {
  if (!s) return;
  free(s->ctr_id);
  free(s);
}

/* ------------------------------------------------------------------ references and teardown */

static void be_free(rt_hcs *be) {
  for (rt_hcs_event *e = be->evq_head, *n; e; e = n) {
    n = e->next;
    free(e->ctr_id);
    free(e);
  }
  uv_mutex_destroy(&be->lock);
  free(be);
}

static void be_unref(rt_hcs *be) {
  if (--be->refs == 0) be_free(be);
}

static void proc_free(rt_hcs *be, rt_hcs_proc *p) {
  /* Closing the handle ends its callbacks; only then may their context go. */
  if (p->handle) be->cfg.hcs->HcsCloseProcess(p->handle);
  src_free(p->src);
  free(p->exec_id);
  free(p->params);
  for (int i = 0; i < 3; i++) free(p->path[i]);
  free(p);
}

void rt_hcs_ctr_free(rt_hcs *be, rt_hcs_ctr *c) {
  for (rt_hcs_proc *p = c->procs, *n; p; p = n) {
    n = p->next;
    proc_free(be, p);
  }
  if (c->system) be->cfg.hcs->HcsCloseComputeSystem(c->system);
  if (c->uvm) be->cfg.hcs->HcsCloseComputeSystem(c->uvm);
  if (c->layers_mounted) {
    /* Only a teardown with the container never deleted gets here: its system is closed just above (HCS
     * terminates it, ShouldTerminateOnLastHandleClosed), so its volume can go; on the loop, once, at exit. */
    cs_err e;
    if (hcs_layers_unmount(be->cfg.hcs, c->scratch, &e) < 0) CS_WARN("hcs: teardown %s: %s", c->id, e.msg);
  }
  if (c->netns) {
    /* Teardown with the container never deleted, as for the layers: its endpoints leave the namespace. */
    rt_hcs_job j = {.be = be, .ctr = c, .netns = c->netns, .endpoints = c->endpoints,
                    .n_ns_endpoints = c->n_endpoints};
    rt_hcs_net_detach(&j);
  }
  free(c->netns);
  free(c->scratch);
  src_free(c->src);
  hcs_strv_free(c->endpoints);
  free(c->id);
  free(c->uvm_id);
  free(c);
}

void rt_hcs_ctr_remove(rt_hcs *be, rt_hcs_ctr *c) {
  for (rt_hcs_ctr **pp = &be->ctrs; *pp; pp = &(*pp)->next)
    if (*pp == c) {
      *pp = c->next;
      break;
    }
  /* A start still in flight has no pid yet: its completion reports this exit (rt_hcs_proc_exited). */
  if (!be->closing)
    for (rt_hcs_proc *p = c->procs; p; p = p->next)
      if (p->state == PROC_RUNNING || p->state == PROC_STARTING)
        rt_hcs_proc_exited(be, c, p, true, RT_HCS_EXIT_UNKNOWN, rt_hcs_now_ns());
  c->state = CTR_DELETED;
  if (c->jobs == 0) rt_hcs_ctr_free(be, c);
}

/* ------------------------------------------------------------------ jobs */

rt_hcs_job *rt_hcs_job_new(rt_hcs *be, rt_hcs_ctr *c, rt_hcs_proc *p, cs_err *err) {
  rt_hcs_job *j = calloc(1, sizeof *j);
  if (!j) {
    cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
    return NULL;
  }
  j->be = be;
  j->ctr = c;
  j->proc = p;
  j->res.console_fd = -1;
  return j;
}

static void job_free(rt_hcs_job *j) {
  free(j->doc);
  free(j->uvm_doc);
  hcs_strv_free(j->docs);
  hcs_strv_free(j->attach);
  free(j->netns);
  free(j->pids);
  free(j);
}

static void job_work(uv_work_t *w) {
  rt_hcs_job *j = w->data;
  j->rc = j->run ? j->run(j) : 0;
}

/* On the loop, once per job: its done(), the caller's callback unless the backend is closing, release. */
static void job_finish(rt_hcs_job *j) {
  rt_hcs *be = j->be;
  if (j->done) j->done(j);
  if (!be->closing) {
    if (j->cb) j->cb(j->data, &j->res, j->rc < 0 ? &j->err : NULL);
    if (j->pids_cb) j->pids_cb(j->data, j->pids, j->n_pids, j->rc < 0 ? &j->err : NULL);
  }
  rt_hcs_ctr *c = j->ctr;
  job_free(j);
  if (c && --c->jobs == 0 && c->state == CTR_DELETED) rt_hcs_ctr_free(be, c);
  be_unref(be);
}

static void job_after(uv_work_t *w, int status) {
  rt_hcs_job *j = w->data;
  if (status == UV_ECANCELED && j->rc == 0) j->rc = cs_err_set(&j->err, CS_CANCELLED, "cancelled");
  job_finish(j);
}

/* dropped: destroy has set closing, so job_finish calls nobody; it only releases. */
static void job_deferred(rt_defer_item *it, bool dropped) {
  (void)dropped;
  job_finish((rt_hcs_job *)((char *)it - offsetof(rt_hcs_job, deferred)));
}

int rt_hcs_job_queue(rt_hcs_job *j, cs_err *err) {
  if (!j->run) { /* nothing for a worker thread: answered from the loop, never from inside the call */
    j->deferred.fn = job_deferred;
    rt_defer_push(&j->be->defer, &j->deferred);
  } else {
    j->work.data = j;
    int rc = uv_queue_work(j->be->base.loop, &j->work, job_work, job_after);
    if (rc < 0) {
      job_free(j);
      return cs_err_sys(err, -rc, "uv_queue_work");
    }
  }
  j->be->refs++;
  if (j->ctr) j->ctr->jobs++;
  return 0;
}

/* ------------------------------------------------------------------ exits */

static int probe_run(rt_hcs_job *j) {
  char *status = NULL;
  cs_err e;
  if (hcs_call_process_op(j->be->cfg.hcs, j->be->cfg.hcs->HcsGetProcessProperties, "HcsGetProcessProperties",
                          j->process, NULL, j->be->cfg.op_timeout_ms, &status, &e) == 0)
    j->exited = hcs_doc_exit_status(status, &j->exit_code) == 0;
  free(status);
  return 0;
}

static void probe_done(rt_hcs_job *j) {
  rt_hcs_proc *p = j->proc;
  p->probing = false;
  if (j->ctr->state == CTR_DELETED || p->state == PROC_EXITED) return;
  /* An exit event without a status, and HCS could not tell either: the process is gone all the same. */
  rt_hcs_proc_exited(j->be, j->ctr, p, true, j->exited ? j->exit_code : RT_HCS_EXIT_UNKNOWN, rt_hcs_now_ns());
}

void rt_hcs_proc_exited(rt_hcs *be, rt_hcs_ctr *c, rt_hcs_proc *p, bool has_code, int code, int64_t at_ns) {
  if (p->state == PROC_EXITED || p->state == PROC_NEW) return;
  if (p->state == PROC_STARTING) {
    /* The start job has not reached the loop yet, so the pid is not known here: the job's completion
     * reports this exit as soon as it has the pid (rt_hcs.c start_done). */
    p->pending_exit = true;
    p->pending_has_code = has_code;
    p->pending_code = code;
    return;
  }
  if (!has_code) {
    if (p->probing) return;
    cs_err err;
    rt_hcs_job *j = rt_hcs_job_new(be, c, p, &err);
    if (j) {
      j->process = p->handle;
      j->run = probe_run;
      j->done = probe_done;
      p->probing = true;
      if (rt_hcs_job_queue(j, &err) == 0) return;
      p->probing = false;
    }
    CS_WARN("hcs: %s: exit status of pid %d unknown: %s", c->id, p->pid, err.msg);
    code = RT_HCS_EXIT_UNKNOWN;
  }
  p->state = PROC_EXITED;
  p->status = code;
  p->exited_at = at_ns;
  /* Store the exit before anyone is told. */
  if (be->base.events.exit) be->base.events.exit(be->base.events.data, p->pid, code, at_ns);
}

/* ------------------------------------------------------------------ HCS threads -> loop */

static void push_event(rt_hcs_src *src, int type, const hcs_wchar *data) {
  rt_hcs *be = src->be;
  rt_hcs_event *e = calloc(1, sizeof *e);
  if (!e || !(e->ctr_id = strdup(src->ctr_id))) {
    free(e);
    return; /* nothing to do on this thread; the probe on system exit still finds it */
  }
  e->type = type;
  e->seq = src->seq;
  e->at_ns = rt_hcs_now_ns();
  if (data) {
    char *json = hcs_wide_to_utf8(data, NULL);
    e->has_code = hcs_doc_exit_status(json, &e->code) == 0;
    free(json);
  }
  uv_mutex_lock(&be->lock);
  if (be->closing) {
    uv_mutex_unlock(&be->lock);
    free(e->ctr_id);
    free(e);
    return;
  }
  if (be->evq_tail) be->evq_tail->next = e;
  else be->evq_head = e;
  be->evq_tail = e;
  uv_async_send(&be->async);
  uv_mutex_unlock(&be->lock);
}

void HCS_CALLBACK rt_hcs_on_system_event(hcs_event *ev, void *ctx) {
  if (ev && (ev->Type == HCS_EVENT_SYSTEM_EXITED || ev->Type == HCS_EVENT_SERVICE_DISCONNECT))
    push_event(ctx, HCS_EVENT_SYSTEM_EXITED, NULL);
}

void HCS_CALLBACK rt_hcs_on_process_event(hcs_event *ev, void *ctx) {
  if (ev && ev->Type == HCS_EVENT_PROCESS_EXITED) push_event(ctx, HCS_EVENT_PROCESS_EXITED, ev->EventData);
}

void rt_hcs_on_async(uv_async_t *a) {
  rt_hcs *be = a->data;
  uv_mutex_lock(&be->lock);
  rt_hcs_event *e = be->evq_head;
  be->evq_head = be->evq_tail = NULL;
  uv_mutex_unlock(&be->lock);
  while (e) {
    rt_hcs_event *n = e->next;
    rt_hcs_ctr *c = rt_hcs_find(be, e->ctr_id);
    if (c && e->type == HCS_EVENT_PROCESS_EXITED) {
      rt_hcs_proc *p = find_seq(c, e->seq);
      if (p) rt_hcs_proc_exited(be, c, p, e->has_code, e->code, e->at_ns);
    } else if (c && e->type == HCS_EVENT_SYSTEM_EXITED) {
      if (c->state != CTR_CREATING) c->state = CTR_STOPPED;
      /* Every process dies with its container; ask HCS for each real status rather than guess. */
      for (rt_hcs_proc *p = c->procs; p; p = p->next)
        if (p->state == PROC_RUNNING || p->state == PROC_STARTING) rt_hcs_proc_exited(be, c, p, false, 0, e->at_ns);
    }
    free(e->ctr_id);
    free(e);
    e = n;
  }
}

/* ------------------------------------------------------------------ lifecycle */

static void handle_closed(uv_handle_t *h) { be_unref(h->data); }

void rt_hcs_destroy(rt_backend *b) {
  rt_hcs *be = (rt_hcs *)b;
  uv_mutex_lock(&be->lock);
  be->closing = true; /* from here HCS callbacks drop their events */
  uv_mutex_unlock(&be->lock);
  hcs_async_close(be->ops); /* queries still in flight are answered Cancelled now */
  while (be->ctrs) rt_hcs_ctr_remove(be, be->ctrs);
  rt_defer_close(&be->defer, handle_closed); /* queued jobs are released, not answered */
  uv_close((uv_handle_t *)&be->async, handle_closed);
  be_unref(be);
}

extern const rt_ops rt_hcs_ops;

int rt_hcs_new(uv_loop_t *loop, const rt_hcs_config *cfg, const rt_events *events, rt_backend **out, cs_err *err) {
  if (!cfg || !cfg->hcs) return cs_err_set(err, CS_INVALID_ARGUMENT, "hcs backend: no HCS function table");
  rt_hcs *be = calloc(1, sizeof *be);
  if (!be) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
  be->base.ops = &rt_hcs_ops;
  be->base.loop = loop;
  if (events) be->base.events = *events;
  be->cfg = *cfg;
  snprintf(be->owner, sizeof be->owner, "%s", cfg->owner ? cfg->owner : "cshim");
  be->cfg.owner = be->owner;
  if (!be->cfg.op_timeout_ms) be->cfg.op_timeout_ms = 4 * 60 * 1000;
  if (!be->cfg.stats_timeout_ms) be->cfg.stats_timeout_ms = 2000;
  be->next_seq = 1;
  if (uv_mutex_init(&be->lock) < 0) {
    free(be);
    return cs_err_set(err, CS_INTERNAL, "uv_mutex_init failed");
  }
  if (hcs_async_new(loop, be->cfg.hcs, &be->ops, err) < 0) {
    uv_mutex_destroy(&be->lock);
    free(be);
    return -1;
  }
  int rc = uv_async_init(loop, &be->async, rt_hcs_on_async);
  if (rc < 0) {
    hcs_async_close(be->ops); /* its handles close on the loop's next turn, then it frees itself */
    uv_mutex_destroy(&be->lock);
    free(be);
    return cs_err_sys(err, -rc, "uv_async_init");
  }
  be->async.data = be;
  rt_defer_init(&be->defer, loop);
  be->defer.idle.data = be;
  be->refs = 3; /* the owner, the async handle and the defer handle */
  *out = &be->base;
  return 0;
}
