/* The Task API's controls of a task and of the shim: Pause/Resume, Checkpoint, Update, ResizePty, CloseIO,
 * Shutdown. */
#include <stdlib.h>
#include <string.h>

#include "containerd/runc/options.pb-c.h"
#include "cs_log.h"
#include "task_service_int.h"

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
  cs_err err;
  task_proc *p = NULL;
  /* PauseRequest and ResumeRequest are both {1 id}. */
  Containerd__Task__V2__PauseRequest *r = task_unpack(&containerd__task__v2__pause_request__descriptor, payload, n, &err);
  if (!r || !(p = task_lookup(svc, r->id, NULL, &err))) goto fail;
  if (p->status != (pause ? TASK_RUNNING : TASK_PAUSED)) {
    cs_err_set(&err, CS_FAILED_PRECONDITION, "task %s is %s: cannot %s: failed precondition", p->ct->id,
               task_status_name(p->status), pause ? "pause" : "resume");
    goto fail;
  }
  task_op *op = task_op_new(svc, call, p, pause ? OP_PAUSE : OP_RESUME, &err);
  if (!op) goto fail;
  if ((pause ? svc->rt->ops->pause : svc->rt->ops->resume)(svc->rt, p->ct->id, simple_done, op, &err) == 0) goto done;
  task_op_free(op);
fail:
  ttrpc_call_reply_err(call, &err);
done:
  if (r) containerd__task__v2__pause_request__free_unpacked(r, NULL);
}

void task_h_pause(ttrpc_call *call, const uint8_t *p, size_t n, void *data) { pause_resume(call, p, n, data, true); }
void task_h_resume(ttrpc_call *call, const uint8_t *p, size_t n, void *data) { pause_resume(call, p, n, data, false); }

/* ------------------------------------------------------------------ Checkpoint */
/* No TaskCheckpointed event: runc-v2 sends none and containerd does not expect one from a v2 shim. */

void task_h_checkpoint(ttrpc_call *call, const uint8_t *payload, size_t n, void *data) {
  task_service *svc = data;
  cs_err err;
  task_proc *p = NULL;
  Containerd__Runc__V1__CheckpointOptions *o = NULL;
  Containerd__Task__V2__CheckpointTaskRequest *r =
      task_unpack(&containerd__task__v2__checkpoint_task_request__descriptor, payload, n, &err);
  if (!r || !(p = task_lookup(svc, r->id, NULL, &err))) goto fail;
  if (r->options && r->options->value.len) {
    o = containerd__runc__v1__checkpoint_options__unpack(NULL, r->options->value.len, r->options->value.data);
    if (!o) {
      cs_err_set(&err, CS_INVALID_ARGUMENT, "checkpoint options (%s) do not decode", r->options->type_url);
      goto fail;
    }
  }
  const char *image = o && o->image_path && *o->image_path ? o->image_path : r->path;
  if (!image || !*image) {
    cs_err_set(&err, CS_INVALID_ARGUMENT, "checkpoint of %s: no image path", p->ct->id);
    goto fail;
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
  task_op *op = task_op_new(svc, call, p, OP_PLAIN, &err);
  if (!op) goto fail;
  if (svc->rt->ops->checkpoint(svc->rt, &req, simple_done, op, &err) == 0) goto done;
  task_op_free(op);
fail:
  ttrpc_call_reply_err(call, &err);
done:
  if (o) containerd__runc__v1__checkpoint_options__free_unpacked(o, NULL);
  if (r) containerd__task__v2__checkpoint_task_request__free_unpacked(r, NULL);
}

/* ------------------------------------------------------------------ Update */

void task_h_update(ttrpc_call *call, const uint8_t *payload, size_t n, void *data) {
  task_service *svc = data;
  cs_err err;
  task_proc *p = NULL;
  Containerd__Task__V2__UpdateTaskRequest *r =
      task_unpack(&containerd__task__v2__update_task_request__descriptor, payload, n, &err);
  if (!r || !(p = task_lookup(svc, r->id, NULL, &err))) goto fail;
  if (!r->resources || r->resources->value.len == 0) {
    cs_err_set(&err, CS_INVALID_ARGUMENT, "update of %s: no resources", p->ct->id);
    goto fail;
  }
  if (p->exited) {
    cs_err_set(&err, CS_NOT_FOUND, "process already finished: not found");
    goto fail;
  }
  /* containerd marshals specs.LinuxResources (not a protobuf type) as JSON inside the Any. */
  task_op *op = task_op_new(svc, call, p, OP_PLAIN, &err);
  if (!op) goto fail;
  if (svc->rt->ops->update(svc->rt, p->ct->id, (const char *)r->resources->value.data, r->resources->value.len,
                           simple_done, op, &err) == 0)
    goto done;
  task_op_free(op);
fail:
  ttrpc_call_reply_err(call, &err);
done:
  if (r) containerd__task__v2__update_task_request__free_unpacked(r, NULL);
}

/* ------------------------------------------------------------------ ResizePty, CloseIO */

void task_h_resize(ttrpc_call *call, const uint8_t *payload, size_t n, void *data) {
  task_service *svc = data;
  cs_err err;
  task_proc *p = NULL;
  Containerd__Task__V2__ResizePtyRequest *r =
      task_unpack(&containerd__task__v2__resize_pty_request__descriptor, payload, n, &err);
  if (!r || !(p = task_lookup(svc, r->id, r->exec_id, &err))) goto fail;
  int rc = task_io_has_console(p->io) ? task_io_resize(p->io, r->width, r->height, &err)
                                      : svc->rt->ops->resize(svc->rt, p->ct->id, p->pid, r->width, r->height, &err);
  if (rc < 0) goto fail;
  task_reply_empty(call);
  goto done;
fail:
  ttrpc_call_reply_err(call, &err);
done:
  if (r) containerd__task__v2__resize_pty_request__free_unpacked(r, NULL);
}

void task_h_closeio(ttrpc_call *call, const uint8_t *payload, size_t n, void *data) {
  task_service *svc = data;
  cs_err err;
  task_proc *p = NULL;
  Containerd__Task__V2__CloseIORequest *r =
      task_unpack(&containerd__task__v2__close_iorequest__descriptor, payload, n, &err);
  if (!r || !(p = task_lookup(svc, r->id, r->exec_id, &err))) goto fail;
  if (r->stdin_) task_io_close_stdin(p->io);
  task_reply_empty(call);
  goto done;
fail:
  ttrpc_call_reply_err(call, &err);
done:
  if (r) containerd__task__v2__close_iorequest__free_unpacked(r, NULL);
}

/* ------------------------------------------------------------------ Shutdown */

void task_h_shutdown(ttrpc_call *call, const uint8_t *payload, size_t n, void *data) {
  task_service *svc = data;
  cs_err err;
  Containerd__Task__V2__ShutdownRequest *r =
      task_unpack(&containerd__task__v2__shutdown_request__descriptor, payload, n, &err);
  if (!r) {
    ttrpc_call_reply_err(call, &err);
    return;
  }
  task_reply_empty(call);
  /* Like runc-v2: a no-op while any task remains (a pod's shim serves several). */
  if (svc->n_containers == 0 && !svc->shutting_down) {
    svc->shutting_down = true;
    CS_INFO("shutdown: no task left, exiting");
    if (svc->cfg.on_shutdown) svc->cfg.on_shutdown(svc->cfg.shutdown_data);
  }
  containerd__task__v2__shutdown_request__free_unpacked(r, NULL);
}
