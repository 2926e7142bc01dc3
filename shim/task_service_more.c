/* The Task API handlers beyond the lifecycle: Pids, Pause/Resume, Checkpoint, Update, ResizePty, CloseIO,
 * Stats, Connect, Shutdown. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "containerd/runc/options.pb-c.h"
#include "cs_log.h"
#include "task_service_int.h"

/* ------------------------------------------------------------------ Pids */

static void pids_done(void *data, const int *pids, size_t n, const cs_err *rerr) {
  task_op *op = data;
  if (rerr) {
    ttrpc_call_reply_err(op->call, rerr);
    task_op_free(op);
    return;
  }
  task_container *ct = op->proc->ct;
  Containerd__V1__Types__ProcessInfo *infos = calloc(n ? n : 1, sizeof *infos);
  Containerd__V1__Types__ProcessInfo **ptrs = calloc(n ? n : 1, sizeof *ptrs);
  Google__Protobuf__Any *anys = calloc(n ? n : 1, sizeof *anys);
  uint8_t(*details)[128] = calloc(n ? n : 1, sizeof *details);
  if (!infos || !ptrs || !anys || !details) {
    ttrpc_call_reply_error(op->call, CS_RESOURCE_EXHAUSTED, "pids: out of memory");
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    containerd__v1__types__process_info__init(&infos[i]);
    infos[i].pid = (uint32_t)pids[i];
    ptrs[i] = &infos[i];
    for (task_proc *e = ct->execs; e; e = e->next) {
      if (e->pid != pids[i] || strlen(e->exec_id) > 100) continue;
      Containerd__Runc__V1__ProcessDetails d = CONTAINERD__RUNC__V1__PROCESS_DETAILS__INIT;
      d.exec_id = e->exec_id;
      google__protobuf__any__init(&anys[i]);
      anys[i].type_url = "containerd.runc.v1.ProcessDetails";
      anys[i].value.data = details[i];
      anys[i].value.len = containerd__runc__v1__process_details__pack(&d, details[i]);
      infos[i].info = &anys[i];
      break;
    }
  }
  Containerd__Task__V2__PidsResponse resp = CONTAINERD__TASK__V2__PIDS_RESPONSE__INIT;
  resp.n_processes = n;
  resp.processes = ptrs;
  task_reply_msg(op->call, &resp.base);
out:
  free(infos);
  free(ptrs);
  free(anys);
  free(details);
  task_op_free(op);
}

void task_h_pids(ttrpc_call *call, const uint8_t *payload, size_t n, void *data) {
  task_service *svc = data;
  Containerd__Task__V2__PidsRequest *r = task_unpack(call, &containerd__task__v2__pids_request__descriptor, payload, n);
  if (!r) return;
  task_proc *p = task_lookup(svc, call, r->id, NULL);
  if (p) {
    task_op *op = task_op_new(svc, call, p, 0);
    cs_err err;
    if (op && svc->rt->ops->pids(svc->rt, p->ct->id, pids_done, op, &err) < 0) {
      task_op_free(op);
      ttrpc_call_reply_err(call, &err);
    }
  }
  containerd__task__v2__pids_request__free_unpacked(r, NULL);
}

/* ------------------------------------------------------------------ Pause, Resume */

enum { OP_PAUSE = 1, OP_RESUME, OP_PLAIN };

static void simple_done(void *data, const rt_result *res, const cs_err *rerr) {
  task_op *op = data;
  task_proc *p = op->proc;
  if (rerr) {
    ttrpc_call_reply_err(op->call, rerr);
    task_op_free(op);
    return;
  }
  if (op->kind == OP_PAUSE || op->kind == OP_RESUME) {
    bool pause = op->kind == OP_PAUSE;
    if (!p->exited) p->status = pause ? TASK_PAUSED : TASK_RUNNING;
    Containerd__Events__TaskPaused ev = CONTAINERD__EVENTS__TASK_PAUSED__INIT;
    ev.container_id = p->ct->id;
    /* TaskPaused and TaskResumed have the same shape */
    task_publish(op->svc, pause ? "/tasks/paused" : "/tasks/resumed",
                 pause ? "containerd.events.TaskPaused" : "containerd.events.TaskResumed", &ev.base);
  }
  task_reply_empty(op->call);
  task_op_free(op);
}

static void pause_resume(ttrpc_call *call, const uint8_t *payload, size_t n, task_service *svc, bool pause) {
  /* PauseRequest and ResumeRequest are both {1 id}. */
  Containerd__Task__V2__PauseRequest *r = task_unpack(call, &containerd__task__v2__pause_request__descriptor, payload, n);
  if (!r) return;
  task_proc *p = task_lookup(svc, call, r->id, NULL);
  if (!p) goto done;
  if (p->status != (pause ? TASK_RUNNING : TASK_PAUSED)) {
    ttrpc_call_reply_error(call, CS_FAILED_PRECONDITION, "task %s is %s: cannot %s: failed precondition", p->ct->id,
                           task_status_name(p->status), pause ? "pause" : "resume");
    goto done;
  }
  task_op *op = task_op_new(svc, call, p, pause ? OP_PAUSE : OP_RESUME);
  cs_err err;
  if (op && (pause ? svc->rt->ops->pause : svc->rt->ops->resume)(svc->rt, p->ct->id, simple_done, op, &err) < 0) {
    task_op_free(op);
    ttrpc_call_reply_err(call, &err);
  }
done:
  containerd__task__v2__pause_request__free_unpacked(r, NULL);
}

void task_h_pause(ttrpc_call *call, const uint8_t *p, size_t n, void *data) { pause_resume(call, p, n, data, true); }
void task_h_resume(ttrpc_call *call, const uint8_t *p, size_t n, void *data) { pause_resume(call, p, n, data, false); }

/* ------------------------------------------------------------------ Checkpoint */
/* No TaskCheckpointed event: runc-v2 sends none and containerd does not expect one from a v2 shim. */

void task_h_checkpoint(ttrpc_call *call, const uint8_t *payload, size_t n, void *data) {
  task_service *svc = data;
  Containerd__Task__V2__CheckpointTaskRequest *r =
      task_unpack(call, &containerd__task__v2__checkpoint_task_request__descriptor, payload, n);
  if (!r) return;
  Containerd__Runc__V1__CheckpointOptions *o = NULL;
  task_proc *p = task_lookup(svc, call, r->id, NULL);
  if (!p) goto done;
  if (r->options && r->options->value.len) {
    o = containerd__runc__v1__checkpoint_options__unpack(NULL, r->options->value.len, r->options->value.data);
    if (!o) {
      ttrpc_call_reply_error(call, CS_INVALID_ARGUMENT, "checkpoint options (%s) do not decode", r->options->type_url);
      goto done;
    }
  }
  const char *image = o && o->image_path && *o->image_path ? o->image_path : r->path;
  if (!image || !*image) {
    ttrpc_call_reply_error(call, CS_INVALID_ARGUMENT, "checkpoint of %s: no image path", p->ct->id);
    goto done;
  }
  rt_checkpoint_req req = {
    .id = p->ct->id,
    .image_path = image,
    .work_path = o && o->work_path && *o->work_path ? o->work_path : NULL,
    .exit = o && o->exit,
    .open_tcp = o && o->open_tcp,
    .external_unix_sockets = o && o->external_unix_sockets,
    .terminal = o && o->terminal,
    .file_locks = o && o->file_locks,
  };
  task_op *op = task_op_new(svc, call, p, OP_PLAIN);
  cs_err err;
  if (op && svc->rt->ops->checkpoint(svc->rt, &req, simple_done, op, &err) < 0) {
    task_op_free(op);
    ttrpc_call_reply_err(call, &err);
  }
done:
  if (o) containerd__runc__v1__checkpoint_options__free_unpacked(o, NULL);
  containerd__task__v2__checkpoint_task_request__free_unpacked(r, NULL);
}

/* ------------------------------------------------------------------ Update */

void task_h_update(ttrpc_call *call, const uint8_t *payload, size_t n, void *data) {
  task_service *svc = data;
  Containerd__Task__V2__UpdateTaskRequest *r =
      task_unpack(call, &containerd__task__v2__update_task_request__descriptor, payload, n);
  if (!r) return;
  task_proc *p = task_lookup(svc, call, r->id, NULL);
  if (!p) goto done;
  if (!r->resources || r->resources->value.len == 0) {
    ttrpc_call_reply_error(call, CS_INVALID_ARGUMENT, "update of %s: no resources", p->ct->id);
    goto done;
  }
  if (p->exited) {
    ttrpc_call_reply_error(call, CS_NOT_FOUND, "process already finished: not found");
    goto done;
  }
  /* containerd marshals specs.LinuxResources (not a protobuf type) as JSON inside the Any. */
  task_op *op = task_op_new(svc, call, p, OP_PLAIN);
  cs_err err;
  if (op && svc->rt->ops->update(svc->rt, p->ct->id, (const char *)r->resources->value.data, r->resources->value.len,
                                 simple_done, op, &err) < 0) {
    task_op_free(op);
    ttrpc_call_reply_err(call, &err);
  }
done:
  containerd__task__v2__update_task_request__free_unpacked(r, NULL);
}

/* ------------------------------------------------------------------ ResizePty, CloseIO */

void task_h_resize(ttrpc_call *call, const uint8_t *payload, size_t n, void *data) {
  task_service *svc = data;
  Containerd__Task__V2__ResizePtyRequest *r =
      task_unpack(call, &containerd__task__v2__resize_pty_request__descriptor, payload, n);
  if (!r) return;
  task_proc *p = task_lookup(svc, call, r->id, r->exec_id);
  if (p) {
    cs_err err;
    int rc = p->io.console_fd >= 0 ? task_io_resize(&p->io, r->width, r->height, &err)
                                   : svc->rt->ops->resize(svc->rt, p->ct->id, p->pid, r->width, r->height, &err);
    if (rc < 0) ttrpc_call_reply_err(call, &err);
    else task_reply_empty(call);
  }
  containerd__task__v2__resize_pty_request__free_unpacked(r, NULL);
}

void task_h_closeio(ttrpc_call *call, const uint8_t *payload, size_t n, void *data) {
  task_service *svc = data;
  Containerd__Task__V2__CloseIORequest *r = task_unpack(call, &containerd__task__v2__close_iorequest__descriptor, payload, n);
  if (!r) return;
  task_proc *p = task_lookup(svc, call, r->id, r->exec_id);
  if (p) {
    if (r->stdin) task_io_close_stdin(&p->io);
    task_reply_empty(call);
  }
  containerd__task__v2__close_iorequest__free_unpacked(r, NULL);
}

/* ------------------------------------------------------------------ Stats */

void task_h_stats(ttrpc_call *call, const uint8_t *payload, size_t n, void *data) {
  task_service *svc = data;
  Containerd__Task__V2__StatsRequest *r = task_unpack(call, &containerd__task__v2__stats_request__descriptor, payload, n);
  if (!r) return;
  task_proc *p = task_lookup(svc, call, r->id, NULL);
  rt_sample *s = NULL;
  uint8_t *buf = NULL;
  if (!p) goto done;
  cs_err err;
  s = malloc(sizeof *s);
  if (!s) {
    ttrpc_call_reply_error(call, CS_RESOURCE_EXHAUSTED, "stats: out of memory");
    goto done;
  }
  size_t len = 0;
  const char *type_url = NULL;
  if (svc->rt->ops->stats(svc->rt, p->ct->id, s, &err) < 0 || svc->cfg.encode_stats(s, &buf, &len, &type_url, &err) < 0) {
    ttrpc_call_reply_err(call, &err);
    goto done;
  }
  Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
  any.type_url = (char *)type_url;
  any.value.data = buf;
  any.value.len = len;
  Containerd__Task__V2__StatsResponse resp = CONTAINERD__TASK__V2__STATS_RESPONSE__INIT;
  resp.stats = &any;
  task_reply_msg(call, &resp.base);
done:
  free(buf);
  free(s);
  containerd__task__v2__stats_request__free_unpacked(r, NULL);
}

/* ------------------------------------------------------------------ Connect, Shutdown */

void task_h_connect(ttrpc_call *call, const uint8_t *payload, size_t n, void *data) {
  task_service *svc = data;
  Containerd__Task__V2__ConnectRequest *r = task_unpack(call, &containerd__task__v2__connect_request__descriptor, payload, n);
  if (!r) return;
  task_proc *p = task_lookup(svc, call, r->id, NULL);
  if (p) {
    Containerd__Task__V2__ConnectResponse resp = CONTAINERD__TASK__V2__CONNECT_RESPONSE__INIT;
    resp.shim_pid = (uint32_t)getpid();
    resp.task_pid = (uint32_t)p->pid;
    resp.version = "cshim";
    task_reply_msg(call, &resp.base);
  }
  containerd__task__v2__connect_request__free_unpacked(r, NULL);
}

void task_h_shutdown(ttrpc_call *call, const uint8_t *payload, size_t n, void *data) {
  task_service *svc = data;
  Containerd__Task__V2__ShutdownRequest *r = task_unpack(call, &containerd__task__v2__shutdown_request__descriptor, payload, n);
  if (!r) return;
  task_reply_empty(call);
  /* Like runc-v2: a no-op while any task remains (a pod's shim serves several). */
  if (svc->n_containers == 0 && !svc->shutting_down) {
    svc->shutting_down = true;
    CS_INFO("shutdown: no task left, exiting");
    if (svc->cfg.on_shutdown) svc->cfg.on_shutdown(svc->cfg.shutdown_data);
  }
  containerd__task__v2__shutdown_request__free_unpacked(r, NULL);
}
