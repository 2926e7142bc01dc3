#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cs_id.h"
#include "cs_log.h"
#include "task_mount.h"
#include "task_os.h"
#include "task_opts.h"
#include "task_service_int.h"

/* ------------------------------------------------------------------ small helpers */

int64_t task_now_ns(void) { return task_os_now_ns(); }

void task_timestamp(Google__Protobuf__Timestamp *ts, int64_t ns) {
  google__protobuf__timestamp__init(ts);
  ts->seconds = ns / 1000000000LL;
  ts->nanos = (int32_t)(ns % 1000000000LL);
}

void task_reply_msg(ttrpc_call *call, const ProtobufCMessage *m) {
  size_t len = protobuf_c_message_get_packed_size(m);
  uint8_t stackbuf[512];
  uint8_t *buf = len <= sizeof stackbuf ? stackbuf : malloc(len);
  if (!buf) {
    ttrpc_call_reply_error(call, CS_RESOURCE_EXHAUSTED, "reply: out of memory");
    return;
  }
  protobuf_c_message_pack(m, buf);
  ttrpc_call_reply(call, buf, len);
  if (buf != stackbuf) free(buf);
}

void task_reply_empty(ttrpc_call *call) { ttrpc_call_reply(call, NULL, 0); }

void task_publish(task_service *svc, const char *topic, const char *type, const ProtobufCMessage *m) {
  if (svc->cfg.events) task_events_publish(svc->cfg.events, topic, type, m);
}

void *task_unpack(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n, cs_err *err) {
  ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, n, p);
  if (!m) cs_err_set(err, CS_INVALID_ARGUMENT, "%s: payload does not decode", d->name);
  return m;
}

/* ------------------------------------------------------------------ lifetime */

static void container_free(task_container *ct) {
  task_proc_free_fields(&ct->init);
  stats_stream_cache_free(ct->stream_cache);
  free(ct->id);
  free(ct->bundle);
  free(ct);
}

static void container_unref(task_container *ct) {
  if (--ct->refs == 0 && ct->removed) container_free(ct);
}

void task_proc_ref(task_proc *p) {
  p->refs++;
  p->ct->refs++;
}

/* An exec leaves its container: freed now, or by the last operation still holding it. */
static void exec_release(task_proc *e) {
  e->removed = true;
  if (e->refs == 0) {
    task_proc_free_fields(e);
    free(e);
  }
}

void task_proc_unref(task_proc *p) {
  task_container *ct = p->ct;
  if (--p->refs == 0 && p->removed && p != &ct->init) {
    task_proc_free_fields(p);
    free(p);
  }
  container_unref(ct);
}

task_op *task_op_new(task_service *svc, ttrpc_call *call, task_proc *p, int kind, cs_err *err) {
  task_op *op = calloc(1, sizeof *op);
  if (!op) {
    cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
    return NULL;
  }
  op->svc = svc;
  op->call = call;
  op->proc = p;
  op->kind = kind;
  if (p) task_proc_ref(p);
  return op;
}

void task_op_free(task_op *op) {
  if (op->proc) task_proc_unref(op->proc);
  free(op);
}

static void container_remove(task_service *svc, task_container *ct) {
  for (task_container **pp = &svc->containers; *pp; pp = &(*pp)->next) {
    if (*pp == ct) {
      *pp = ct->next;
      svc->n_containers--;
      break;
    }
  }
  ct->removed = true;
  for (task_proc *e = ct->execs, *next; e; e = next) {
    next = e->next;
    task_proc_fail_waiters(e, CS_NOT_FOUND, "process deleted with its container: not found");
    exec_release(e);
  }
  ct->execs = NULL;
  ct->init.removed = true;
  if (ct->refs == 0) container_free(ct);
}

/* ------------------------------------------------------------------ lookups */

task_container *task_find_container(task_service *svc, const char *id) {
  for (task_container *ct = svc->containers; ct; ct = ct->next)
    if (strcmp(ct->id, id) == 0) return ct;
  return NULL;
}

static task_proc *find_exec(task_container *ct, const char *exec_id) {
  for (task_proc *e = ct->execs; e; e = e->next)
    if (strcmp(e->exec_id, exec_id) == 0) return e;
  return NULL;
}

task_proc *task_lookup(task_service *svc, const char *id, const char *exec_id, cs_err *err) {
  if (cs_id_check("task id", id, err) < 0) return NULL;
  if (exec_id && *exec_id && cs_id_check("exec id", exec_id, err) < 0) return NULL;
  task_container *ct = task_find_container(svc, id);
  if (!ct) {
    cs_err_set(err, CS_NOT_FOUND, "container %s: not found", id);
    return NULL;
  }
  if (!exec_id || !*exec_id) return &ct->init;
  task_proc *e = find_exec(ct, exec_id);
  if (!e) cs_err_set(err, CS_NOT_FOUND, "process does not exist %s: not found", exec_id);
  return e;
}

static task_proc *find_pid(task_service *svc, int pid) {
  for (task_container *ct = svc->containers; ct; ct = ct->next) {
    if (ct->init.pid == pid && !ct->init.exited) return &ct->init;
    for (task_proc *e = ct->execs; e; e = e->next)
      if (e->pid == pid && !e->exited) return e;
  }
  return NULL;
}

/* ------------------------------------------------------------------ exits */

void task_apply_exit(task_service *svc, task_proc *p, int status, int64_t at_ns) {
  if (!task_proc_record_exit(p, status, at_ns)) return;
  CS_INFO("process %s/%s pid %d exited with status %d", p->ct->id, p->exec_id ? p->exec_id : "init", p->pid,
          status);
  Containerd__Events__TaskExit ev = CONTAINERD__EVENTS__TASK_EXIT__INIT;
  Google__Protobuf__Timestamp ts;
  task_timestamp(&ts, at_ns);
  ev.container_id = p->ct->id;
  ev.id = p->exec_id ? p->exec_id : p->ct->id;
  ev.pid = (uint32_t)p->pid;
  ev.exit_status = (uint32_t)status;
  ev.exited_at = &ts;
  task_publish(svc, "/tasks/exit", "containerd.events.TaskExit", &ev.base);
  task_proc_answer_waiters(p);
}

static void on_rt_exit(void *data, int pid, int status, int64_t at_ns) {
  task_service *svc = data;
  task_proc *p = find_pid(svc, pid);
  if (p) {
    if (p->starting) {
      /* Start has not answered yet: the exit waits so that TaskStart is published before TaskExit. */
      p->exit_parked = true;
      p->exit_status = (uint32_t)status;
      p->exited_at_ns = at_ns;
      return;
    }
    task_apply_exit(svc, p, status, at_ns);
    return;
  }
  if (svc->starting > 0) {
    /* An exec can exit before the runtime tells us its pid: keep the exit until the start completes. */
    task_exit_note *n = malloc(sizeof *n);
    if (!n) return;
    n->pid = pid;
    n->status = status;
    n->at_ns = at_ns;
    n->next = svc->unclaimed;
    svc->unclaimed = n;
  }
}

static void on_rt_oom(void *data, const char *id) {
  task_service *svc = data;
  Containerd__Events__TaskOOM ev = CONTAINERD__EVENTS__TASK_OOM__INIT;
  ev.container_id = (char *)id;
  CS_WARN("container %s: OOM", id);
  task_publish(svc, "/tasks/oom", "containerd.events.TaskOOM", &ev.base);
}

/* A start/exec finished (either way): claim a parked or unclaimed exit for p, forget old notes. */
void task_starting_done(task_service *svc, task_proc *p) {
  p->starting = false;
  svc->starting--;
  bool have = false;
  int status = 0;
  int64_t at = 0;
  if (p->exit_parked) {
    have = true;
    status = (int)p->exit_status;
    at = p->exited_at_ns;
    p->exit_parked = false;
  }
  for (task_exit_note **pp = &svc->unclaimed; *pp;) {
    task_exit_note *n = *pp;
    if (p->pid > 0 && n->pid == p->pid) {
      have = true;
      status = n->status;
      at = n->at_ns;
      *pp = n->next;
      free(n);
    } else pp = &n->next;
  }
  if (svc->starting == 0) {
    while (svc->unclaimed) {
      task_exit_note *n = svc->unclaimed;
      svc->unclaimed = n->next;
      free(n);
    }
  }
  if (have) task_apply_exit(svc, p, status, at);
}

/* ------------------------------------------------------------------ backend */

/* The Create's runtime options, decoded by their type URL (task_opts.c). t is released by the caller. */
static int decode_opts(task_service *svc, const Google__Protobuf__Any *options, const char *bundle, task_opts *t,
                       task_runtime_opts *o, cs_err *err) {
  int rc = task_opts_decode(t, options ? options->type_url : NULL, options ? options->value.data : NULL,
                            options ? options->value.len : 0, err);
  t->o.ns = svc->cfg.ns;
  t->o.bundle = bundle;
  *o = t->o;
  return rc;
}

int task_ensure_backend(task_service *svc, const task_runtime_opts *o, cs_err *err) {
  if (svc->rt) return 0;
  rt_events ev = {.exit = on_rt_exit, .oom = on_rt_oom, .data = svc};
  svc->rt = svc->cfg.backend_new(svc->cfg.backend_data, svc->cfg.loop, o, &ev, err);
  return svc->rt ? 0 : -1;
}

/* ------------------------------------------------------------------ Create */

static void create_done(void *data, const rt_result *res, const cs_err *rerr) {
  task_op *op = data;
  task_service *svc = op->svc;
  task_proc *p = op->proc;
  task_container *ct = p->ct;
  p->busy = false;
  cs_err err;
  if (!rerr && task_io_attach(p->io, res, &err) < 0) rerr = &err;
  if (!rerr && task_io_started(p->io, &err) < 0) rerr = &err;
  if (rerr) {
    CS_ERROR("create %s: %s", ct->id, rerr->msg);
    ttrpc_call_reply_err(op->call, rerr);
    if (ct->rootfs_mounted) task_rootfs_unmount(ct->bundle, NULL);
    container_remove(svc, ct);
    task_op_free(op);
    return;
  }
  p->pid = res->pid;
  p->status = TASK_CREATED;

  Containerd__Events__TaskCreate ev = CONTAINERD__EVENTS__TASK_CREATE__INIT;
  Containerd__Events__TaskIO tio = CONTAINERD__EVENTS__TASK_IO__INIT;
  tio.stdin_ = p->stdin_path;
  tio.stdout_ = p->stdout_path;
  tio.stderr_ = p->stderr_path;
  tio.terminal = p->terminal;
  ev.container_id = ct->id;
  ev.bundle = ct->bundle;
  ev.io = &tio;
  ev.pid = (uint32_t)p->pid;
  task_publish(svc, "/tasks/create", "containerd.events.TaskCreate", &ev.base);

  Containerd__Task__V2__CreateTaskResponse resp = CONTAINERD__TASK__V2__CREATE_TASK_RESPONSE__INIT;
  resp.pid = (uint32_t)p->pid;
  task_reply_msg(op->call, &resp.base);
  task_op_free(op);
}

/* CreateTaskRequest.rootfs as the backend and the mount code see it (pointers into r). */
static rt_mount *rootfs_mounts(const Containerd__Task__V2__CreateTaskRequest *r, cs_err *err) {
  rt_mount *ms = calloc(r->n_rootfs ? r->n_rootfs : 1, sizeof *ms);
  if (!ms) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory"), NULL;
  for (size_t i = 0; i < r->n_rootfs; i++) {
    ms[i].type = r->rootfs[i]->type;
    ms[i].source = r->rootfs[i]->source;
    ms[i].options = (const char *const *)r->rootfs[i]->options;
    ms[i].n_options = r->rootfs[i]->n_options;
  }
  return ms;
}

static char *dup_or_null(const char *s) { return s && *s ? strdup(s) : NULL; }

static void h_create(ttrpc_call *call, const uint8_t *payload, size_t n, void *data) {
  task_service *svc = data;
  cs_err err;
  task_container *ct = NULL;
  task_runtime_opts opts;
  task_opts topts = {0};
  rt_mount *mounts = NULL;
  Containerd__Task__V2__CreateTaskRequest *r =
      task_unpack(&containerd__task__v2__create_task_request__descriptor, payload, n, &err);
  if (!r || cs_id_check("task id", r->id, &err) < 0) goto fail;
  if (!r->bundle || !task_os_path_is_absolute(r->bundle)) {
    cs_err_set(&err, CS_INVALID_ARGUMENT, "bundle path \"%s\" must be absolute", r->bundle ? r->bundle : "");
    goto fail;
  }
  if (task_find_container(svc, r->id)) {
    cs_err_set(&err, CS_ALREADY_EXISTS, "container %s: already exists", r->id);
    goto fail;
  }
  if (r->checkpoint && *r->checkpoint && access(r->checkpoint, R_OK) < 0) {
    cs_err_sys(&err, errno, "checkpoint %s", r->checkpoint);
    goto fail;
  }
  if (decode_opts(svc, r->options, r->bundle, &topts, &opts, &err) < 0 || task_ensure_backend(svc, &opts, &err) < 0 ||
      (svc->cfg.save_opts && svc->cfg.save_opts(r->bundle, &opts, &err) < 0))
    goto fail;

  ct = calloc(1, sizeof *ct);
  if (!ct) {
    cs_err_set(&err, CS_RESOURCE_EXHAUSTED, "out of memory");
    goto fail;
  }
  ct->svc = svc;
  ct->id = strdup(r->id);
  ct->bundle = strdup(r->bundle);
  task_proc *p = &ct->init;
  p->ct = ct;
  p->terminal = r->terminal;
  p->stdin_path = dup_or_null(r->stdin_);
  p->stdout_path = dup_or_null(r->stdout_);
  p->stderr_path = dup_or_null(r->stderr_);
  ct->next = svc->containers;
  svc->containers = ct;
  svc->n_containers++;

  ct->io_uid = opts.io_uid;
  ct->io_gid = opts.io_gid;
  task_op *op = NULL;
  if (!(mounts = rootfs_mounts(r, &err)) ||
      task_rootfs_mount(ct->bundle, mounts, r->n_rootfs, &ct->rootfs_mounted, &err) < 0 ||
      task_io_open(&p->io, svc->cfg.loop, r->stdin_, r->stdout_, r->stderr_, r->terminal, &err) < 0 ||
      task_io_set_owner(p->io, ct->io_uid, ct->io_gid, &err) < 0 || !(op = task_op_new(svc, call, p, 0, &err)))
    goto undo;
  rt_create_req req = {
    .id = ct->id,
    .bundle = ct->bundle,
    .checkpoint = r->checkpoint && *r->checkpoint ? r->checkpoint : NULL,
    .runtime = opts.binary_name,
    .runtime_root = opts.root,
    .rootfs = mounts,
    .n_rootfs = r->n_rootfs,
  };
  task_io_child_stdio(p->io, &req.io);
  p->busy = true;
  if (svc->rt->ops->create(svc->rt, &req, create_done, op, &err) < 0) {
    p->busy = false;
    task_op_free(op);
    goto undo;
  }
  goto done;
undo:
  if (ct->rootfs_mounted) task_rootfs_unmount(ct->bundle, NULL);
  container_remove(svc, ct);
fail:
  CS_WARN("create %s: %s", r && r->id ? r->id : "", err.msg);
  ttrpc_call_reply_err(call, &err);
done:
  free(mounts);
  task_opts_release(&topts);
  if (r) containerd__task__v2__create_task_request__free_unpacked(r, NULL);
}

/* ------------------------------------------------------------------ Start */

/* An exec whose start failed never ran: it is stopped with no exit status (waiters learn that now), and its
 * stdio goes, so the client's copy of its stdout/stderr FIFOs ends: containerd's client waits for that
 * before it reports the failed Start (it would wait forever while we hold the FIFOs open). */
static void exec_never_ran(task_proc *p) {
  task_proc_record_exit(p, 255, task_now_ns());
  task_proc_answer_waiters(p);
  task_io_close(&p->io);
}

static void start_done(void *data, const rt_result *res, const cs_err *rerr) {
  task_op *op = data;
  task_service *svc = op->svc;
  task_proc *p = op->proc;
  task_container *ct = p->ct;
  cs_err err;
  /* An exec's pid comes with its start; so does the init's where the backend makes the process only at
   * start (HCS: create makes the compute system, res.pid 0). */
  if (!rerr && res->pid > 0 && (p->exec_id || p->pid == 0)) p->pid = res->pid;
  /* Also the init's: HCS creates the init process (and its std handles) at start, not at create. */
  if (!rerr && task_io_attach(p->io, res, &err) < 0) rerr = &err;
  if (!rerr && p->exec_id && task_io_started(p->io, &err) < 0) rerr = &err;
  if (rerr) {
    ttrpc_call_reply_err(op->call, rerr);
    if (p->exec_id && p->pid == 0) exec_never_ran(p);
    task_starting_done(svc, p);
    task_op_free(op);
    return;
  }
  if (!p->exited) p->status = TASK_RUNNING;
  if (p->exec_id) {
    Containerd__Events__TaskExecStarted ev = CONTAINERD__EVENTS__TASK_EXEC_STARTED__INIT;
    ev.container_id = ct->id;
    ev.exec_id = p->exec_id;
    ev.pid = (uint32_t)p->pid;
    task_publish(svc, "/tasks/exec-started", "containerd.events.TaskExecStarted", &ev.base);
  } else {
    Containerd__Events__TaskStart ev = CONTAINERD__EVENTS__TASK_START__INIT;
    ev.container_id = ct->id;
    ev.pid = (uint32_t)p->pid;
    task_publish(svc, "/tasks/start", "containerd.events.TaskStart", &ev.base);
  }
  Containerd__Task__V2__StartResponse resp = CONTAINERD__TASK__V2__START_RESPONSE__INIT;
  resp.pid = (uint32_t)p->pid;
  task_reply_msg(op->call, &resp.base);
  task_starting_done(svc, p); /* publishes a parked exit after TaskStart */
  task_op_free(op);
}

static void h_start(ttrpc_call *call, const uint8_t *payload, size_t n, void *data) {
  task_service *svc = data;
  cs_err err;
  task_proc *p = NULL;
  bool never_ran = false;
  Containerd__Task__V2__StartRequest *r = task_unpack(&containerd__task__v2__start_request__descriptor, payload, n, &err);
  if (!r || !(p = task_lookup(svc, r->id, r->exec_id, &err))) goto fail;
  if (p->status != TASK_CREATED || p->starting || p->busy) {
    cs_err_set(&err, CS_FAILED_PRECONDITION, "process %s is %s, not created: failed precondition",
               p->exec_id ? p->exec_id : p->ct->id, p->starting ? "starting" : task_status_name(p->status));
    goto fail;
  }
  if (p->exec_id && (p->ct->init.exited || p->ct->init.status != TASK_RUNNING)) {
    cs_err_set(&err, CS_FAILED_PRECONDITION, "container %s is %s: cannot start exec %s", p->ct->id,
               task_status_name(p->ct->init.status), p->exec_id);
    never_ran = true;
    goto fail;
  }
  task_op *op = task_op_new(svc, call, p, 0, &err);
  if (!op) goto fail;
  p->starting = true;
  svc->starting++;
  int rc;
  if (p->exec_id) {
    rt_exec_req req = {
      .id = p->ct->id,
      .exec_id = p->exec_id,
      .process_json = p->spec_json,
      .process_json_len = p->spec_len,
    };
    task_io_child_stdio(p->io, &req.io);
    rc = svc->rt->ops->exec(svc->rt, &req, start_done, op, &err);
  } else {
    rc = svc->rt->ops->start(svc->rt, p->ct->id, NULL, start_done, op, &err);
  }
  if (rc == 0) goto done;
  p->starting = false;
  svc->starting--;
  task_op_free(op);
fail:
  ttrpc_call_reply_err(call, &err);
  if (never_ran) exec_never_ran(p); /* after the reply, as the completion's failure path does */
done:
  if (r) containerd__task__v2__start_request__free_unpacked(r, NULL);
}

/* ------------------------------------------------------------------ Delete */

static void delete_reply(task_op *op) {
  task_proc *p = op->proc;
  Containerd__Task__V2__DeleteResponse resp = CONTAINERD__TASK__V2__DELETE_RESPONSE__INIT;
  Google__Protobuf__Timestamp ts;
  task_timestamp(&ts, p->exited_at_ns);
  resp.pid = (uint32_t)p->pid;
  resp.exit_status = p->exit_status;
  resp.exited_at = &ts;
  task_reply_msg(op->call, &resp.base);
}

static void delete_done(void *data, const rt_result *res, const cs_err *rerr) {
  task_op *op = data;
  task_service *svc = op->svc;
  task_proc *p = op->proc;
  task_container *ct = p->ct;
  p->busy = false;
  if (rerr && rerr->code != CS_NOT_FOUND) {
    CS_ERROR("delete %s: %s", ct->id, rerr->msg);
    ttrpc_call_reply_err(op->call, rerr);
    task_op_free(op);
    return;
  }
  if (!p->exited) {
    /* Deleted while created (never started): the runtime killed it. */
    p->exited = true;
    p->exit_status = 128 + 9;
    p->exited_at_ns = task_now_ns();
    p->status = TASK_STOPPED;
    task_proc_answer_waiters(p);
  }
  cs_err err;
  if (ct->rootfs_mounted) {
    if (task_rootfs_unmount(ct->bundle, &err) < 0) CS_WARN("delete %s: %s", ct->id, err.msg);
    ct->rootfs_mounted = false;
  }
  task_io_close(&p->io);
  Containerd__Events__TaskDelete ev = CONTAINERD__EVENTS__TASK_DELETE__INIT;
  Google__Protobuf__Timestamp ts;
  task_timestamp(&ts, p->exited_at_ns);
  ev.container_id = ct->id;
  ev.pid = (uint32_t)p->pid;
  ev.exit_status = p->exit_status;
  ev.exited_at = &ts;
  task_publish(svc, "/tasks/delete", "containerd.events.TaskDelete", &ev.base);
  delete_reply(op);
  container_remove(svc, ct);
  task_op_free(op);
}

static void h_delete(ttrpc_call *call, const uint8_t *payload, size_t n, void *data) {
  task_service *svc = data;
  cs_err err;
  task_proc *p = NULL;
  Containerd__Task__V2__DeleteRequest *r = task_unpack(&containerd__task__v2__delete_request__descriptor, payload, n, &err);
  if (!r || !(p = task_lookup(svc, r->id, r->exec_id, &err))) goto fail;
  if (p->busy || p->starting) {
    cs_err_set(&err, CS_FAILED_PRECONDITION, "process %s has an operation in progress",
               p->exec_id ? p->exec_id : p->ct->id);
    goto fail;
  }
  if (p->exec_id) {
    if (p->status != TASK_STOPPED && p->status != TASK_CREATED) {
      cs_err_set(&err, CS_FAILED_PRECONDITION, "cannot delete a running process %s: failed precondition", p->exec_id);
      goto fail;
    }
    task_op op = {.svc = svc, .call = call, .proc = p};
    delete_reply(&op);
    task_proc_fail_waiters(p, CS_NOT_FOUND, "process deleted: not found");
    task_container *ct = p->ct;
    for (task_proc **pp = &ct->execs; *pp; pp = &(*pp)->next) {
      if (*pp == p) {
        *pp = p->next;
        break;
      }
    }
    exec_release(p);
    goto done;
  }
  if (p->status == TASK_RUNNING || p->status == TASK_PAUSED) {
    cs_err_set(&err, CS_FAILED_PRECONDITION, "cannot delete running task %s: failed precondition", p->ct->id);
    goto fail;
  }
  for (task_proc *e = p->ct->execs; e; e = e->next) {
    if (e->status == TASK_RUNNING) {
      cs_err_set(&err, CS_FAILED_PRECONDITION, "task %s has running exec %s: failed precondition", p->ct->id,
                 e->exec_id);
      goto fail;
    }
  }
  task_op *op = task_op_new(svc, call, p, 0, &err);
  if (!op) goto fail;
  p->busy = true;
  /* A created (never started) container needs --force: its init is parked in runc's exec fifo. */
  if (svc->rt->ops->delete(svc->rt, p->ct->id, p->status == TASK_CREATED, delete_done, op, &err) == 0) goto done;
  p->busy = false;
  task_op_free(op);
fail:
  ttrpc_call_reply_err(call, &err);
done:
  if (r) containerd__task__v2__delete_request__free_unpacked(r, NULL);
}

/* ------------------------------------------------------------------ Exec */

static void h_exec(ttrpc_call *call, const uint8_t *payload, size_t n, void *data) {
  task_service *svc = data;
  cs_err err;
  task_proc *init = NULL;
  Containerd__Task__V2__ExecProcessRequest *r =
      task_unpack(&containerd__task__v2__exec_process_request__descriptor, payload, n, &err);
  if (!r || !(init = task_lookup(svc, r->id, NULL, &err)) || cs_id_check("exec id", r->exec_id, &err) < 0) goto fail;
  task_container *ct = init->ct;
  if (find_exec(ct, r->exec_id)) {
    cs_err_set(&err, CS_ALREADY_EXISTS, "id %s: already exists", r->exec_id);
    goto fail;
  }
  if (ct->init.exited || ct->init.status == TASK_STOPPED) {
    cs_err_set(&err, CS_FAILED_PRECONDITION, "container %s is stopped: cannot exec", ct->id);
    goto fail;
  }
  /* As runc-v2: refused before any stdio is opened (a frozen container could not start it anyway). */
  if (ct->init.status == TASK_PAUSED) {
    cs_err_set(&err, CS_FAILED_PRECONDITION, "cannot exec in a paused state: container %s is paused", ct->id);
    goto fail;
  }
  if (!r->spec || r->spec->value.len == 0) {
    cs_err_set(&err, CS_INVALID_ARGUMENT, "exec %s: no process spec", r->exec_id);
    goto fail;
  }
  task_proc *p = calloc(1, sizeof *p);
  if (!p) {
    cs_err_set(&err, CS_RESOURCE_EXHAUSTED, "out of memory");
    goto fail;
  }
  p->ct = ct;
  p->exec_id = strdup(r->exec_id);
  p->status = TASK_CREATED;
  p->terminal = r->terminal;
  p->stdin_path = dup_or_null(r->stdin_);
  p->stdout_path = dup_or_null(r->stdout_);
  p->stderr_path = dup_or_null(r->stderr_);
  p->spec_json = malloc(r->spec->value.len + 1);
  if (p->spec_json) {
    memcpy(p->spec_json, r->spec->value.data, r->spec->value.len);
    p->spec_json[r->spec->value.len] = '\0';
    p->spec_len = r->spec->value.len;
  }
  if (!p->spec_json || task_io_open(&p->io, svc->cfg.loop, r->stdin_, r->stdout_, r->stderr_, r->terminal, &err) < 0 ||
      task_io_set_owner(p->io, ct->io_uid, ct->io_gid, &err) < 0) {
    if (!p->spec_json) cs_err_set(&err, CS_RESOURCE_EXHAUSTED, "out of memory");
    task_proc_free_fields(p);
    free(p);
    goto fail;
  }
  p->next = ct->execs;
  ct->execs = p;
  Containerd__Events__TaskExecAdded ev = CONTAINERD__EVENTS__TASK_EXEC_ADDED__INIT;
  ev.container_id = ct->id;
  ev.exec_id = p->exec_id;
  task_publish(svc, "/tasks/exec-added", "containerd.events.TaskExecAdded", &ev.base);
  task_reply_empty(call);
  goto done;
fail:
  ttrpc_call_reply_err(call, &err);
done:
  if (r) containerd__task__v2__exec_process_request__free_unpacked(r, NULL);
}

/* ------------------------------------------------------------------ Wait, State */

static void h_wait(ttrpc_call *call, const uint8_t *payload, size_t n, void *data) {
  task_service *svc = data;
  cs_err err;
  task_proc *p = NULL;
  Containerd__Task__V2__WaitRequest *r = task_unpack(&containerd__task__v2__wait_request__descriptor, payload, n, &err);
  if (!r || !(p = task_lookup(svc, r->id, r->exec_id, &err)) || task_proc_add_waiter(p, call, &err) < 0) goto fail;
  /* The call is the waiter's now: answered with the exit, or on cancel/delete. */
  if (p->exited) task_proc_answer_waiters(p);
  goto done;
fail:
  ttrpc_call_reply_err(call, &err);
done:
  if (r) containerd__task__v2__wait_request__free_unpacked(r, NULL);
}

static void h_state(ttrpc_call *call, const uint8_t *payload, size_t n, void *data) {
  task_service *svc = data;
  cs_err err;
  task_proc *p = NULL;
  Containerd__Task__V2__StateRequest *r = task_unpack(&containerd__task__v2__state_request__descriptor, payload, n, &err);
  if (!r || !(p = task_lookup(svc, r->id, r->exec_id, &err))) goto fail;
  Containerd__Task__V2__StateResponse resp = CONTAINERD__TASK__V2__STATE_RESPONSE__INIT;
  Google__Protobuf__Timestamp ts;
  task_timestamp(&ts, p->exited_at_ns);
  resp.id = p->exec_id ? p->exec_id : p->ct->id;
  resp.bundle = p->ct->bundle;
  resp.pid = (uint32_t)p->pid;
  resp.status = (Containerd__V1__Types__Status)p->status;
  resp.stdin_ = p->stdin_path ? p->stdin_path : "";
  resp.stdout_ = p->stdout_path ? p->stdout_path : "";
  resp.stderr_ = p->stderr_path ? p->stderr_path : "";
  resp.terminal = p->terminal;
  resp.exit_status = p->exit_status;
  if (p->exited) resp.exited_at = &ts;
  resp.exec_id = p->exec_id ? p->exec_id : "";
  task_reply_msg(call, &resp.base);
  goto done;
fail:
  ttrpc_call_reply_err(call, &err);
done:
  if (r) containerd__task__v2__state_request__free_unpacked(r, NULL);
}

/* ------------------------------------------------------------------ Kill */

static void kill_done(void *data, const rt_result *res, const cs_err *rerr) {
  task_op *op = data;
  if (rerr) ttrpc_call_reply_err(op->call, rerr);
  else task_reply_empty(op->call);
  task_op_free(op);
}

static void h_kill(ttrpc_call *call, const uint8_t *payload, size_t n, void *data) {
  task_service *svc = data;
  cs_err err;
  task_proc *p = NULL;
  Containerd__Task__V2__KillRequest *r = task_unpack(&containerd__task__v2__kill_request__descriptor, payload, n, &err);
  if (!r || !(p = task_lookup(svc, r->id, r->exec_id, &err))) goto fail;
  if (r->signal == 0 || r->signal > 64) {
    cs_err_set(&err, CS_INVALID_ARGUMENT, "signal %u is not valid", r->signal);
    goto fail;
  }
  if (p->exited && !(r->all && !p->exec_id)) {
    cs_err_set(&err, CS_NOT_FOUND, "process already finished: not found");
    goto fail;
  }
  if (p->exec_id && p->pid <= 0) {
    cs_err_set(&err, CS_FAILED_PRECONDITION, "process %s has not started: failed precondition", p->exec_id);
    goto fail;
  }
  task_op *op = task_op_new(svc, call, p, 0, &err);
  if (!op) goto fail;
  if (svc->rt->ops->kill(svc->rt, p->ct->id, p->exec_id ? p->pid : 0, (int)r->signal, r->all, kill_done, op, &err) == 0)
    goto done;
  task_op_free(op);
fail:
  ttrpc_call_reply_err(call, &err);
done:
  if (r) containerd__task__v2__kill_request__free_unpacked(r, NULL);
}

/* ------------------------------------------------------------------ registration */

static const ttrpc_method task_methods[] = {
  {"State", h_state, false},          {"Create", h_create, false},
  {"Start", h_start, false},          {"Delete", h_delete, false},
  {"Pids", task_h_pids, false},       {"Pause", task_h_pause, false},
  {"Resume", task_h_resume, false},   {"Checkpoint", task_h_checkpoint, false},
  {"Kill", h_kill, false},            {"Exec", h_exec, false},
  {"ResizePty", task_h_resize, false}, {"CloseIO", task_h_closeio, false},
  {"Update", task_h_update, false},   {"Wait", h_wait, false},
  {"Stats", task_h_stats, false},     {"Connect", task_h_connect, false},
  {"Shutdown", task_h_shutdown, false},
};

task_service *task_service_new(const task_service_config *cfg, cs_err *err) {
  task_service *svc = calloc(1, sizeof *svc);
  if (!svc) {
    cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
    return NULL;
  }
  svc->cfg = *cfg;
  return svc;
}

/* containerd 2.x talks containerd.task.v3.Task (the same messages) to a shim whose start answered bootstrap
 * version 3 (shim_bootstrap.h); 1.6/1.7 and a version-2 answer use v2. Serving both names keeps every answer
 * good. */
int task_service_register(task_service *svc, ttrpc_server *srv, cs_err *err) {
  size_t n = sizeof task_methods / sizeof task_methods[0];
  if (ttrpc_server_register(srv, TASK_SERVICE_NAME, task_methods, n, svc, err) < 0) return -1;
  return ttrpc_server_register(srv, TASK_SERVICE_NAME_V3, task_methods, n, svc, err);
}

size_t task_service_count(const task_service *svc) { return svc->n_containers; }

void task_service_free(task_service *svc) {
  if (!svc) return;
  stats_stream_close_all(svc);
  while (svc->containers) {
    task_container *ct = svc->containers;
    task_proc_fail_waiters(&ct->init, CS_UNAVAILABLE, "shim exiting");
    container_remove(svc, ct);
  }
  while (svc->unclaimed) {
    task_exit_note *n = svc->unclaimed;
    svc->unclaimed = n->next;
    free(n);
  }
  if (svc->rt) svc->rt->ops->destroy(svc->rt);
  free(svc);
}
