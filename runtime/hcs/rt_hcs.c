/* rt_ops over HCS: each op checks state on the loop, builds its documents, and hands the blocking HCS
 * calls to a job (rt_hcs_core.c). */
#include "rt_hcs.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_log.h"
#include "hcs_call.h"
#include "hcs_doc.h"
#include "hcs_err.h"
#include "hcs_layers.h"
#include "hcs_stats.h"
#include "hcs_uvm_doc.h"
#include "net_hns.h"
#include "rt_hcs_int.h"

#define BE(b) ((rt_hcs *)(b))

static char *dump(json_t *doc) {
  char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
  json_decref(doc);
  return s;
}

static rt_hcs_ctr *need_ctr(rt_hcs *be, const char *id, cs_err *err) {
  rt_hcs_ctr *c = id ? rt_hcs_find(be, id) : NULL;
  if (!c) cs_err_set(err, CS_NOT_FOUND, "container %s not found", id ? id : "(null)");
  return c;
}

static void proc_discard(rt_hcs_proc *p) {
  free(p->params);
  free(p->exec_id);
  for (int i = 0; i < 3; i++) free(p->path[i]);
  if (p->src) free(p->src->ctr_id);
  free(p->src);
  free(p);
}

/* A process record with its parameters document; not linked yet. */
static rt_hcs_proc *proc_new(rt_hcs *be, const char *ctr_id, const char *exec_id, json_t *process, const rt_stdio *io,
                             cs_err *err) {
  rt_hcs_proc *p = calloc(1, sizeof *p);
  if (!p) {
    cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
    return NULL;
  }
  p->seq = be->next_seq++;
  p->terminal = io && io->terminal;
  p->params = dump(hcs_doc_process(process, io && io->terminal, io ? io->path : NULL, err));
  bool ok = p->params && (!exec_id || (p->exec_id = strdup(exec_id)));
  for (int i = 0; ok && i < 3; i++)
    if (io && io->path[i] && !(p->path[i] = strdup(io->path[i]))) ok = false;
  if (ok && !(p->src = rt_hcs_src_new(be, ctr_id, p->seq))) ok = false;
  if (!ok) {
    if (p->params) cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
    proc_discard(p);
    return NULL;
  }
  return p;
}

/* ------------------------------------------------------------------ create */

/* Terminate what a failed create left running, then close it; errors here add nothing to the first one. */
static void undo_system(const hcs_api *api, hcs_system *s, hcs_dword timeout) {
  if (!*s) return;
  cs_err ignore;
  hcs_call_system_op(api, api->HcsTerminateComputeSystem, "HcsTerminateComputeSystem", *s, NULL, timeout, &ignore);
  api->HcsCloseComputeSystem(*s);
  *s = NULL;
}

/* Process isolation without root.path: the layers become a volume first, the document's Storage.Path. */
static int mount_layers(rt_hcs_job *j) {
  size_t n = 0;
  while (j->docs[n]) n++;
  char *volume = NULL;
  if (hcs_layers_mount(j->be->cfg.hcs, (const char *const *)j->docs, n, &volume, &j->err) < 0) return -1;
  j->mounted = true;
  int rc = hcs_doc_set_storage_path(&j->doc, volume, &j->err);
  free(volume);
  return rc;
}

static int create_run(rt_hcs_job *j) {
  const hcs_api *api = j->be->cfg.hcs;
  hcs_dword t = j->be->cfg.op_timeout_ms;
  rt_hcs_ctr *c = j->ctr;
  /* Every endpoint the spec names must exist before anything is made: a missing one is NotFound naming it. */
  if (rt_hcs_net_check(j) < 0) return -1;
  if (j->docs && mount_layers(j) < 0) goto fail;
  if (rt_hcs_net_attach(j) < 0) goto fail;
  if (j->uvm_doc) {
    /* Hyper-V: the VM, then its share of the container's storage and network (hcs_uvm_doc.h), then the
     * container hosted in it. Any failure below terminates the VM, and what was attached goes with it. */
    if (hcs_call_system_create(api, c->uvm_id, j->uvm_doc, t, &j->uvm, &j->err) < 0) goto fail;
    if (hcs_call_system_op(api, api->HcsStartComputeSystem, "HcsStartComputeSystem", j->uvm, NULL, t, &j->err) < 0)
      goto fail;
    if (rt_hcs_uvm_attach(j) < 0) goto fail;
  }
  if (hcs_call_system_create(api, c->id, j->doc, t, &j->system, &j->err) < 0) goto fail;
  hcs_hresult hr = api->HcsSetComputeSystemCallback(j->system, HCS_EVENT_OPTION_NONE, c->src, rt_hcs_on_system_event);
  if (HCS_FAILED(hr)) {
    hcs_err_set(&j->err, "HcsSetComputeSystemCallback", hr, NULL);
    goto fail;
  }
  if (hcs_call_system_op(api, api->HcsStartComputeSystem, "HcsStartComputeSystem", j->system, NULL, t, &j->err) < 0)
    goto fail;
  return 0;
fail:
  undo_system(api, &j->system, t);
  undo_system(api, &j->uvm, t);
  rt_hcs_net_detach(j);
  free(j->netns);
  j->netns = NULL;
  if (j->mounted) {
    /* After the system is gone: nothing stays activated after a failed create. */
    cs_err e;
    if (hcs_layers_unmount(api, c->scratch, &e) < 0) CS_WARN("hcs: create %s: %s", c->id, e.msg);
    j->mounted = false;
  }
  return -1;
}

static void create_done(rt_hcs_job *j) {
  rt_hcs_ctr *c = j->ctr;
  c->busy = false;
  c->system = j->system;
  c->uvm = j->uvm;
  c->layers_mounted = j->mounted;
  c->netns = j->netns;
  j->netns = NULL;
  if (j->rc < 0) {
    cs_err_wrap(&j->err, "create %s", c->id);
    if (c->state != CTR_DELETED) rt_hcs_ctr_remove(j->be, c);
    return;
  }
  if (c->state == CTR_CREATING) c->state = CTR_CREATED;
  j->res.pid = 0; /* no process until start */
}

/* containerd's windows-layer rootfs mount names the layer folders: they become windows.layerFolders. A spec
 * that names them too must name the same ones. */
static int rootfs_layers(json_t *spec, const rt_create_req *req, cs_err *err) {
  json_t *mf = hcs_layers_from_mounts(req->rootfs, req->n_rootfs, err);
  if (!mf) return req->n_rootfs ? -1 : 0;
  json_t *win = json_object_get(spec, "windows");
  json_t *lf = json_object_get(win, "layerFolders");
  int rc = 0;
  if (json_array_size(lf) && !json_equal(lf, mf)) {
    rc = cs_err_set(err, CS_INVALID_ARGUMENT,
                    "rootfs: the windows-layer mount and windows.layerFolders name different layers");
  } else if (!json_is_object(win)) {
    rc = cs_err_set(err, CS_INVALID_ARGUMENT, "cannot create HCS container document - OCI spec Windows section is missing");
  } else {
    json_object_set(win, "layerFolders", mf);
  }
  json_decref(mf);
  return rc;
}

/* hcsshim's rule (hcsoci allocateWindowsResources): a process-isolated container whose spec has no root.path
 * gets its layers mounted by the runtime; with a root.path, whoever set it (docker) has mounted them. */
static bool runtime_mounts(json_t *spec, int isolation) {
  const char *root = hcs_json_str(json_object_get(spec, "root"), "path");
  return isolation == WIN_ISOLATION_PROCESS && !(root && *root);
}

/* The spec's layer folders (already checked by hcs_doc_container) as a NULL-terminated list for the job. */
static char **layers_to_mount(json_t *spec, cs_err *err) {
  json_t *lf = json_object_get(json_object_get(spec, "windows"), "layerFolders");
  char **v = calloc(json_array_size(lf) + 1, sizeof *v);
  for (size_t i = 0; v && i < json_array_size(lf); i++) {
    const char *s = json_string_value(json_array_get(lf, i));
    if (!s || !(v[i] = strdup(s))) {
      hcs_strv_free(v);
      v = NULL;
    }
  }
  if (!v) cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
  return v;
}

/* The utility VM's hot-adds for the hosted container, as JSON texts for the job. */
static char **uvm_attach_docs(json_t *spec, const char *ctr_doc, cs_err *err) {
  json_t *doc = json_loads(ctr_doc, 0, NULL);
  json_t *reqs = doc ? hcs_doc_uvm_attach(spec, doc, err) : NULL;
  json_decref(doc);
  if (!reqs) {
    if (!doc) cs_err_set(err, CS_INTERNAL, "hosted container document does not parse");
    return NULL;
  }
  char **v = calloc(json_array_size(reqs) + 1, sizeof *v);
  for (size_t i = 0; v && i < json_array_size(reqs); i++)
    if (!(v[i] = json_dumps(json_array_get(reqs, i), JSON_COMPACT))) {
      hcs_strv_free(v);
      v = NULL;
    }
  json_decref(reqs);
  if (!v) cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
  return v;
}

static int hcs_create(rt_backend *b, const rt_create_req *req, rt_done_cb cb, void *data, cs_err *err) {
  rt_hcs *be = BE(b);
  if (req->checkpoint) return cs_err_set(err, CS_UNIMPLEMENTED, "HCS: restore from a checkpoint is not supported");
  if (rt_hcs_find(be, req->id)) return cs_err_set(err, CS_ALREADY_EXISTS, "container %s already exists", req->id);
  json_t *spec = NULL;
  if (hcs_spec_load(req->bundle, &spec, err) < 0) return -1;
  if (rootfs_layers(spec, req, err) < 0) {
    json_decref(spec);
    return cs_err_wrap(err, "create %s", req->id);
  }

  int rc = -1;
  rt_hcs_job *j = NULL;
  rt_hcs_ctr *c = calloc(1, sizeof *c);
  if (!c || !(c->id = strdup(req->id))) {
    cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
    goto out;
  }
  if (hcs_spec_isolation(spec, be->cfg.default_isolation, &be->cfg.host, &c->isolation, err) < 0) goto out;
  if (!(c->endpoints = hcs_spec_endpoints(spec, &c->n_endpoints, err))) goto out;
  if (c->isolation == WIN_ISOLATION_HYPERV) {
    size_t n = strlen(req->id) + 4;
    if (!(c->uvm_id = malloc(n))) goto oom;
    snprintf(c->uvm_id, n, "%s@vm", req->id);
  }
  if (!(c->src = rt_hcs_src_new(be, req->id, 0))) goto oom;
  if (!(j = rt_hcs_job_new(be, c, NULL, err))) goto out;
  hcs_doc_ctx dc = {.id = c->id, .uvm_id = c->uvm_id, .owner = be->owner, .isolation = c->isolation,
                    .api = be->cfg.hcs, .host = &be->cfg.host,
                    .mount_layers = runtime_mounts(spec, c->isolation)};
  win_warnings w = {0};
  if (!(j->doc = dump(hcs_doc_container(spec, &dc, &w, err)))) goto out;
  for (size_t i = 0; i < w.n; i++) CS_WARN("hcs: create %s: %s", req->id, w.msg[i]);
  if (dc.mount_layers) {
    if (!(j->docs = layers_to_mount(spec, err))) goto out;
    size_t n = 0;
    while (j->docs[n]) n++;
    if (!(c->scratch = strdup(j->docs[n - 1]))) goto oom;
  }
  if (c->uvm_id &&
      (!(j->uvm_doc = dump(hcs_doc_uvm(spec, &dc, err))) || !(j->attach = uvm_attach_docs(spec, j->doc, err))))
    goto out;
  /* hcsshim's rule: endpoints and no namespace given -> the runtime makes the namespace. */
  const char *given_ns = hcs_json_str(json_object_get(json_object_get(spec, "windows"), "network"), "networkNamespace");
  j->make_netns = c->n_endpoints && !(given_ns && *given_ns);
  rt_hcs_proc *init = proc_new(be, req->id, NULL, json_object_get(spec, "process"), &req->io, err);
  if (!init) goto out;
  c->procs = init;
  c->state = CTR_CREATING;
  c->busy = true;
  j->endpoints = c->endpoints;
  j->n_endpoints = c->n_endpoints;
  j->run = create_run;
  j->done = create_done;
  j->cb = cb;
  j->data = data;
  c->next = be->ctrs;
  be->ctrs = c;
  if (rt_hcs_job_queue(j, err) < 0) {
    j = NULL;
    be->ctrs = c->next;
    goto out;
  }
  j = NULL;
  c = NULL;
  rc = 0;
  goto out;
oom:
  cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
out:
  if (j) {
    free(j->doc);
    free(j->uvm_doc);
    hcs_strv_free(j->docs);
    hcs_strv_free(j->attach);
    free(j);
  }
  if (c) rt_hcs_ctr_free(be, c);
  json_decref(spec);
  if (rc < 0) cs_err_wrap(err, "create %s", req->id ? req->id : "");
  return rc;
}

/* ------------------------------------------------------------------ start / exec */

static int start_run(rt_hcs_job *j) {
  const hcs_api *api = j->be->cfg.hcs;
  hcs_dword t = j->be->cfg.op_timeout_ms;
  if (hcs_call_process_create(api, j->system, j->doc, t, &j->process, &j->pi, &j->err) < 0) return -1;
  hcs_hresult hr = api->HcsSetProcessCallback(j->process, HCS_EVENT_OPTION_NONE, j->proc->src, rt_hcs_on_process_event);
  if (HCS_FAILED(hr)) {
    /* Without the callback its exit would never be seen: do not run it half-watched. */
    hcs_err_set(&j->err, "HcsSetProcessCallback", hr, NULL);
    cs_err ignore;
    hcs_call_process_op(api, api->HcsTerminateProcess, "HcsTerminateProcess", j->process, NULL, t, NULL, &ignore);
    api->HcsCloseProcess(j->process);
    j->process = NULL;
    return -1;
  }
  /* It may have exited before the callback was in place: ask once now. */
  char *status = NULL;
  cs_err ignore;
  if (hcs_call_process_op(api, api->HcsGetProcessProperties, "HcsGetProcessProperties", j->process, NULL, t, &status,
                          &ignore) == 0)
    j->exited = hcs_doc_exit_status(status, &j->exit_code) == 0;
  free(status);
  /* The std handles go up to the caller with the result (start_done): the service moves them to and from
   * the client's pipes on its loop, and CloseIO is its business. */
  return 0;
}

static void start_done(rt_hcs_job *j) {
  rt_hcs_proc *p = j->proc;
  rt_hcs_ctr *c = j->ctr;
  p->handle = j->process; /* kept even if the container went away meanwhile: its free closes it */
  if (j->rc < 0) {
    p->state = PROC_NEW;
    p->pending_exit = false;
    cs_err_wrap(&j->err, "start %s", c->id);
    return;
  }
  p->pid = (int)j->pi.ProcessId;
  j->res.pid = p->pid;
  j->res.stdio_handle[0] = j->pi.StdInput;
  j->res.stdio_handle[1] = j->pi.StdOutput;
  j->res.stdio_handle[2] = j->pi.StdError;
  p->state = PROC_RUNNING;
  if (!p->exec_id && c->state == CTR_CREATED) c->state = CTR_RUNNING;
  /* An exit seen before the pid was known (an event while starting, the container deleted or stopped under
   * the start, or start_run's own look) is reported now that it can name the pid: before the start's
   * callback. Ordering it after the start's reply is the service's rule (rt.h), not ours. */
  if (j->be->closing) return;
  if (p->pending_exit) {
    p->pending_exit = false;
    rt_hcs_proc_exited(j->be, c, p, p->pending_has_code, p->pending_code, rt_hcs_now_ns());
  } else if (j->exited) {
    rt_hcs_proc_exited(j->be, c, p, true, j->exit_code, rt_hcs_now_ns());
  }
}

static int hcs_start(rt_backend *b, const char *id, const char *exec_id, rt_done_cb cb, void *data, cs_err *err) {
  rt_hcs *be = BE(b);
  rt_hcs_ctr *c = need_ctr(be, id, err);
  if (!c) return -1;
  rt_hcs_proc *p = rt_hcs_find_exec(c, exec_id);
  if (!p) return cs_err_set(err, CS_NOT_FOUND, "process %s in %s not found", exec_id ? exec_id : "init", id);
  if (p->state != PROC_NEW)
    return cs_err_set(err, CS_FAILED_PRECONDITION, "process %s in %s already started", exec_id ? exec_id : "init", id);
  if (c->state != CTR_CREATED && c->state != CTR_RUNNING)
    return cs_err_set(err, CS_FAILED_PRECONDITION, "container %s is not running", id);
  if (exec_id && !rt_hcs_init_proc(c))
    return cs_err_set(err, CS_FAILED_PRECONDITION, "container %s has no init process", id);
  rt_hcs_job *j = rt_hcs_job_new(be, c, p, err);
  if (!j) return -1;
  if (!(j->doc = strdup(p->params))) {
    free(j);
    return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
  }
  j->system = c->system;
  j->run = start_run;
  j->done = start_done;
  j->cb = cb;
  j->data = data;
  p->state = PROC_STARTING;
  p->pending_exit = false;
  if (rt_hcs_job_queue(j, err) < 0) {
    p->state = PROC_NEW;
    return -1;
  }
  return 0;
}

static int hcs_exec(rt_backend *b, const rt_exec_req *req, rt_done_cb cb, void *data, cs_err *err) {
  rt_hcs *be = BE(b);
  rt_hcs_ctr *c = need_ctr(be, req->id, err);
  if (!c) return -1;
  if (rt_hcs_find_exec(c, req->exec_id))
    return cs_err_set(err, CS_ALREADY_EXISTS, "exec %s in %s already exists", req->exec_id, req->id);
  if (c->state != CTR_CREATED && c->state != CTR_RUNNING)
    return cs_err_set(err, CS_FAILED_PRECONDITION, "container %s is not running", req->id);
  json_error_t jerr;
  json_t *process = json_loadb(req->process_json ? req->process_json : "", req->process_json_len, 0, &jerr);
  if (!process) return cs_err_set(err, CS_INVALID_ARGUMENT, "exec %s: process spec: %s", req->exec_id, jerr.text);
  rt_hcs_proc *p = proc_new(be, req->id, req->exec_id, process, &req->io, err);
  json_decref(process);
  if (!p) return cs_err_wrap(err, "exec %s", req->exec_id);
  p->next = c->procs;
  c->procs = p;
  /* rt.h's exec is runc's `exec --detach`: the process exists and runs when it answers, with its pid. HCS
   * starts a process when it creates it, so exec is the start of the recorded process. */
  if (hcs_start(b, req->id, req->exec_id, cb, data, err) < 0) {
    for (rt_hcs_proc **pp = &c->procs; *pp; pp = &(*pp)->next) {
      if (*pp == p) {
        *pp = p->next;
        break;
      }
    }
    proc_discard(p);
    return -1;
  }
  return 0;
}

/* ------------------------------------------------------------------ kill */

static int kill_run(rt_hcs_job *j) {
  const hcs_api *api = j->be->cfg.hcs;
  hcs_dword t = j->be->cfg.op_timeout_ms;
  if (!j->n_handles) {
    /* No process yet (pid 0 before start): SIGKILL stops the compute system itself. */
    return hcs_call_system_op(api, api->HcsTerminateComputeSystem, "HcsTerminateComputeSystem", j->system, NULL, t,
                              &j->err);
  }
  int rc = 0;
  for (size_t i = 0; i < j->n_handles; i++) {
    cs_err e;
    int r = j->terminate
                ? hcs_call_process_op(api, api->HcsTerminateProcess, "HcsTerminateProcess", j->handles[i], NULL, t, NULL, &e)
                : hcs_call_process_op(api, api->HcsSignalProcess, "HcsSignalProcess", j->handles[i], j->doc, t, NULL, &e);
    /* A process that exited meanwhile is what kill wanted; containerd reads NotFound as "already gone". */
    if (r < 0 && rc == 0) {
      j->err = e;
      rc = -1;
      if (e.code == CS_FAILED_PRECONDITION || e.code == CS_NOT_FOUND) {
        j->err.code = CS_NOT_FOUND;
        cs_err_wrap(&j->err, "process already finished");
      }
    }
  }
  return rc;
}

static int hcs_kill(rt_backend *b, const char *id, int pid, int sig, bool all, rt_done_cb cb, void *data, cs_err *err) {
  rt_hcs *be = BE(b);
  rt_hcs_ctr *c = need_ctr(be, id, err);
  if (!c) return -1;
  if (c->state == CTR_CREATING || !c->system)
    return cs_err_set(err, CS_FAILED_PRECONDITION, "container %s is still being created", id);
  char *options = NULL;
  bool terminate = false;
  if (hcs_doc_signal(sig, &options, &terminate, err) < 0) return -1;
  rt_hcs_job *j = rt_hcs_job_new(be, c, NULL, err);
  if (!j) {
    free(options);
    return -1;
  }
  j->doc = options;
  j->terminate = terminate;
  j->system = c->system;
  j->cb = cb;
  j->data = data;
  rt_hcs_proc *target = pid ? rt_hcs_find_pid(c, pid) : rt_hcs_init_proc(c);
  if (all) {
    for (rt_hcs_proc *p = c->procs; p && j->n_handles < RT_HCS_MAX_KILL; p = p->next)
      if (p->state == PROC_RUNNING) j->handles[j->n_handles++] = p->handle;
  } else if (target && target->state == PROC_RUNNING) {
    j->handles[j->n_handles++] = target->handle;
  } else if (pid || (target && target->state == PROC_EXITED)) {
    free(j->doc);
    free(j);
    return cs_err_set(err, CS_NOT_FOUND, "process %d in %s: %s", pid, id,
                      target && target->state == PROC_EXITED ? "process already finished" : "not found");
  }
  if (sig == 0) {
    j->n_handles = 0; /* a probe: the process exists, nothing to send */
  } else if (j->n_handles || terminate) {
    j->run = kill_run; /* no handles + SIGKILL: terminate the system (pid 0, not started) */
  } else {
    free(j->doc);
    free(j);
    return cs_err_set(err, CS_FAILED_PRECONDITION, "container %s has no running process to signal", id);
  }
  return rt_hcs_job_queue(j, err);
}

/* ------------------------------------------------------------------ delete */

static int ignore_stopped(cs_err *err) {
  /* Already stopped or already gone is the state delete wants. */
  return err->code == CS_NOT_FOUND || err->code == CS_FAILED_PRECONDITION ? 0 : -1;
}

static int delete_run(rt_hcs_job *j) {
  const hcs_api *api = j->be->cfg.hcs;
  hcs_dword t = j->be->cfg.op_timeout_ms;
  if (j->system && hcs_call_system_op(api, api->HcsTerminateComputeSystem, "HcsTerminateComputeSystem", j->system,
                                      NULL, t, &j->err) < 0 && ignore_stopped(&j->err) < 0)
    return -1;
  rt_hcs_uvm_detach(j); /* the NICs leave the VM before it goes */
  if (j->uvm && hcs_call_system_op(api, api->HcsTerminateComputeSystem, "HcsTerminateComputeSystem", j->uvm, NULL, t,
                                   &j->err) < 0 && ignore_stopped(&j->err) < 0)
    return -1;
  rt_hcs_net_detach(j);
  /* The system is stopped: its volume can go. A failure fails the delete (naming the layer and the step),
   * and the container stays, so a retried Delete unmounts again. */
  if (j->mounted && hcs_layers_unmount(api, j->doc, &j->err) < 0) return -1;
  return 0;
}

static void delete_done(rt_hcs_job *j) {
  rt_hcs_ctr *c = j->ctr;
  c->busy = false;
  if (j->rc < 0) {
    cs_err_wrap(&j->err, "delete %s", c->id);
    return;
  }
  if (j->mounted) c->layers_mounted = false;
  free(c->netns); /* detached by delete_run */
  c->netns = NULL;
  rt_hcs_proc *init = rt_hcs_init_proc(c);
  j->res.pid = init ? init->pid : 0;
  if (c->state != CTR_DELETED) rt_hcs_ctr_remove(j->be, c); /* closes the handles once no job uses them */
}

static int hcs_delete(rt_backend *b, const char *id, bool force, rt_done_cb cb, void *data, cs_err *err) {
  rt_hcs *be = BE(b);
  rt_hcs_ctr *c = need_ctr(be, id, err);
  if (!c) return -1;
  if (c->busy) return cs_err_set(err, CS_FAILED_PRECONDITION, "container %s: create or delete in progress", id);
  rt_hcs_proc *init = rt_hcs_init_proc(c);
  if (!force && init && (init->state == PROC_RUNNING || init->state == PROC_STARTING) && c->state != CTR_STOPPED)
    return cs_err_set(err, CS_FAILED_PRECONDITION, "container %s is running: kill it first or delete with force", id);
  rt_hcs_job *j = rt_hcs_job_new(be, c, NULL, err);
  if (!j) return -1;
  j->system = c->system;
  j->uvm = c->uvm;
  j->endpoints = c->endpoints;
  j->n_endpoints = c->n_endpoints;
  if (c->netns && !(j->netns = strdup(c->netns))) {
    free(j);
    return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
  }
  j->n_ns_endpoints = c->n_endpoints;
  if (c->layers_mounted) {
    if (!(j->doc = strdup(c->scratch))) {
      free(j->netns);
      free(j);
      return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
    }
    j->mounted = true;
  }
  j->run = delete_run;
  j->done = delete_done;
  j->cb = cb;
  j->data = data;
  c->busy = true;
  if (rt_hcs_job_queue(j, err) < 0) {
    c->busy = false;
    return -1;
  }
  return 0;
}

/* ------------------------------------------------------------------ pause / resume / update / resize */

static int system_op_run(rt_hcs_job *j) {
  const hcs_api *api = j->be->cfg.hcs;
  bool pause = j->pause;
  return hcs_call_system_op(api, pause ? api->HcsPauseComputeSystem : api->HcsResumeComputeSystem,
                            pause ? "HcsPauseComputeSystem" : "HcsResumeComputeSystem", j->system, NULL,
                            j->be->cfg.op_timeout_ms, &j->err);
}

static void pause_done(rt_hcs_job *j) {
  if (j->rc < 0 || j->ctr->state == CTR_DELETED) return;
  rt_hcs_proc *init = rt_hcs_init_proc(j->ctr);
  j->ctr->state = j->pause ? CTR_PAUSED : (init && init->state == PROC_RUNNING ? CTR_RUNNING : CTR_CREATED);
}

static int pause_resume(rt_backend *b, const char *id, bool pause, rt_done_cb cb, void *data, cs_err *err) {
  rt_hcs *be = BE(b);
  rt_hcs_ctr *c = need_ctr(be, id, err);
  if (!c) return -1;
  if (pause && c->state != CTR_RUNNING && c->state != CTR_CREATED)
    return cs_err_set(err, CS_FAILED_PRECONDITION, "container %s is not running", id);
  if (!pause && c->state != CTR_PAUSED) return cs_err_set(err, CS_FAILED_PRECONDITION, "container %s is not paused", id);
  rt_hcs_job *j = rt_hcs_job_new(be, c, NULL, err);
  if (!j) return -1;
  j->system = c->system;
  j->pause = pause;
  j->run = system_op_run;
  j->done = pause_done;
  j->cb = cb;
  j->data = data;
  return rt_hcs_job_queue(j, err);
}

static int hcs_pause(rt_backend *b, const char *id, rt_done_cb cb, void *data, cs_err *err) {
  return pause_resume(b, id, true, cb, data, err);
}

static int hcs_resume(rt_backend *b, const char *id, rt_done_cb cb, void *data, cs_err *err) {
  return pause_resume(b, id, false, cb, data, err);
}

static int update_run(rt_hcs_job *j) {
  for (char **d = j->docs; d && *d; d++)
    if (hcs_call_system_modify(j->be->cfg.hcs, j->system, *d, j->be->cfg.op_timeout_ms, &j->err) < 0) return -1;
  return 0;
}

static int hcs_update(rt_backend *b, const char *id, const char *resources_json, size_t len, rt_done_cb cb, void *data,
                      cs_err *err) {
  rt_hcs *be = BE(b);
  rt_hcs_ctr *c = need_ctr(be, id, err);
  if (!c) return -1;
  if (!c->system) return cs_err_set(err, CS_FAILED_PRECONDITION, "container %s is still being created", id);
  json_error_t jerr;
  json_t *res = json_loadb(resources_json ? resources_json : "", len, 0, &jerr);
  if (!res) return cs_err_set(err, CS_INVALID_ARGUMENT, "update %s: %s", id, jerr.text);
  hcs_doc_ctx dc = {.id = c->id, .uvm_id = c->uvm_id, .owner = be->owner, .isolation = c->isolation,
                    .api = be->cfg.hcs, .host = &be->cfg.host};
  win_warnings w = {0};
  json_t *reqs = hcs_doc_update(res, &dc, &w, err);
  json_decref(res);
  if (!reqs) return cs_err_wrap(err, "update %s", id);
  for (size_t i = 0; i < w.n; i++) CS_WARN("hcs: update %s: %s", id, w.msg[i]);
  if (!json_array_size(reqs)) {
    json_decref(reqs);
    return cs_err_set(err, CS_INVALID_ARGUMENT, "update %s: no CPU or memory resource to update", id);
  }
  rt_hcs_job *j = rt_hcs_job_new(be, c, NULL, err);
  if (j && !(j->docs = calloc(json_array_size(reqs) + 1, sizeof *j->docs))) {
    free(j);
    j = NULL;
    cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
  }
  for (size_t i = 0; j && i < json_array_size(reqs); i++) j->docs[i] = json_dumps(json_array_get(reqs, i), JSON_COMPACT);
  json_decref(reqs);
  if (!j) return -1;
  j->system = c->system;
  j->run = update_run;
  j->cb = cb;
  j->data = data;
  return rt_hcs_job_queue(j, err);
}

static int resize_run(rt_hcs_job *j) {
  if (hcs_call_process_op(j->be->cfg.hcs, j->be->cfg.hcs->HcsModifyProcess, "HcsModifyProcess", j->process, j->doc,
                          j->be->cfg.op_timeout_ms, NULL, &j->err) < 0)
    CS_WARN("hcs: resize: %s", j->err.msg);
  return 0;
}

static int hcs_resize(rt_backend *b, const char *id, int pid, uint32_t width, uint32_t height, cs_err *err) {
  rt_hcs *be = BE(b);
  rt_hcs_ctr *c = need_ctr(be, id, err);
  if (!c) return -1;
  rt_hcs_proc *p = pid ? rt_hcs_find_pid(c, pid) : rt_hcs_init_proc(c);
  if (!p || p->state != PROC_RUNNING) return cs_err_set(err, CS_NOT_FOUND, "process %d in %s is not running", pid, id);
  /* Deliberately a success without a console, as containerd's Linux shims answer a ResizePty of a process with
   * no terminal (runhcs answers FailedPrecondition): a client resizing every task alike never sees an error. */
  if (!p->terminal) return 0;
  rt_hcs_job *j = rt_hcs_job_new(be, c, NULL, err);
  if (!j) return -1;
  if (!(j->doc = hcs_doc_resize(width, height))) {
    free(j);
    return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
  }
  j->process = p->handle;
  /* The vtable's resize is synchronous; the console follows a moment later, errors only logged. */
  j->run = resize_run;
  return rt_hcs_job_queue(j, err);
}

/* ------------------------------------------------------------------ pids / checkpoint (stats: rt_hcs_stats.c) */

/* Every process of the container as HCS lists it (ProcessList), not only those the shim started: a process the
 * init spawned is in the container too, as runc's ps shows on Linux. */
static int pids_run(rt_hcs_job *j) {
  char *json = NULL;
  if (hcs_call_system_properties(j->be->cfg.hcs, j->system, HCS_QUERY_PROCESS_LIST, j->be->cfg.op_timeout_ms, &json,
                                 &j->err) < 0)
    return cs_err_wrap(&j->err, "pids %s", j->ctr->id);
  free(j->pids);
  j->pids = NULL;
  j->n_pids = 0;
  int rc = hcs_doc_process_list(json, &j->pids, &j->n_pids, &j->err);
  free(json);
  return rc;
}

static int hcs_pids(rt_backend *b, const char *id, rt_pids_cb cb, void *data, cs_err *err) {
  rt_hcs *be = BE(b);
  rt_hcs_ctr *c = need_ctr(be, id, err);
  if (!c) return -1;
  rt_hcs_job *j = rt_hcs_job_new(be, c, NULL, err);
  if (!j) return -1;
  /* A system not there yet (create in flight) or gone has no HCS list: the processes the backend knows. */
  if (c->system && c->state != CTR_CREATING && c->state != CTR_STOPPED) {
    j->system = c->system;
    j->run = pids_run;
  }
  size_t n = 0;
  for (rt_hcs_proc *p = c->procs; p; p = p->next) n += p->state == PROC_RUNNING;
  if (n && !(j->pids = calloc(n, sizeof *j->pids))) {
    free(j);
    return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
  }
  for (rt_hcs_proc *p = c->procs; p; p = p->next)
    if (p->state == PROC_RUNNING) j->pids[j->n_pids++] = p->pid;
  j->pids_cb = cb;
  j->data = data; /* answered from the loop on the next turn, never from inside this call */
  return rt_hcs_job_queue(j, err);
}

static int hcs_checkpoint(rt_backend *b, const rt_checkpoint_req *req, rt_done_cb cb, void *data, cs_err *err) {
  return cs_err_set(err, CS_UNIMPLEMENTED, "HCS: checkpoint is not supported");
}

const rt_ops rt_hcs_ops = {
  .name = "hcs",
  .create = hcs_create,
  .start = hcs_start,
  .exec = hcs_exec,
  .kill = hcs_kill,
  .delete = hcs_delete,
  .pause = hcs_pause,
  .resume = hcs_resume,
  .update = hcs_update,
  .pids = hcs_pids,
  .checkpoint = hcs_checkpoint,
  .resize = hcs_resize,
  .stats_async = rt_hcs_stats_async,
  .destroy = rt_hcs_destroy,
};
