/* The Task API's questions about a task: Pids, Stats, Connect. */
#include <stdlib.h>
#include <string.h>

#include "containerd/runc/options.pb-c.h"
#include "cs_log.h"
#include "task_os.h"
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
  cs_err err;
  task_proc *p = NULL;
  task_op *op = NULL;
  Containerd__Task__V2__PidsRequest *r = task_unpack(&containerd__task__v2__pids_request__descriptor, payload, n, &err);
  if (!r || !(p = task_lookup(svc, r->id, NULL, &err)) || !(op = task_op_new(svc, call, p, 0, &err))) goto fail;
  if (svc->rt->ops->pids(svc->rt, p->ct->id, pids_done, op, &err) == 0) goto done;
  task_op_free(op);
fail:
  ttrpc_call_reply_err(call, &err);
done:
  if (r) containerd__task__v2__pids_request__free_unpacked(r, NULL);
}

/* ------------------------------------------------------------------ Stats */

int task_stats_read(task_service *svc, const char *id, rt_stats_req *req, rt_stats_cb cb, cs_err *err) {
  rt_backend *rt = svc->rt;
  if (rt->ops->stats_async) return rt->ops->stats_async(rt, id, req, cb, err);
  /* A backend with only the synchronous read (cheap by its contract): answered before returning. */
  int (*read)(rt_backend *, const char *, rt_sample *, cs_err *) =
      req->lean && rt->ops->stats_lean ? rt->ops->stats_lean : rt->ops->stats;
  if (!read) return cs_err_set(err, CS_UNIMPLEMENTED, "stats: not supported by the %s backend", rt->ops->name);
  if (read(rt, id, req->out, err) < 0) return -1;
  req->cb = cb;
  cb(req, NULL);
  return 0;
}

/* One Stats call in flight: the backend answers on the loop, later (HCS) or at once (Linux). */
typedef struct stats_call {
  rt_stats_req req;
  rt_sample sample;
  task_op *op;
} stats_call;

static void stats_done(rt_stats_req *req, const cs_err *rerr) {
  stats_call *sc = req->data;
  task_service *svc = sc->op->svc;
  ttrpc_call *call = sc->op->call;
  uint8_t *buf = NULL;
  size_t len = 0;
  const char *type_url = NULL;
  cs_err err;
  if (rerr) {
    ttrpc_call_reply_err(call, rerr);
  } else if (svc->cfg.encode_stats(&sc->sample, &buf, &len, &type_url, &err) < 0) {
    ttrpc_call_reply_err(call, &err);
  } else {
    Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
    any.type_url = (char *)type_url;
    any.value.data = buf;
    any.value.len = len;
    Containerd__Task__V2__StatsResponse resp = CONTAINERD__TASK__V2__STATS_RESPONSE__INIT;
    resp.stats = &any;
    task_reply_msg(call, &resp.base);
  }
  free(buf);
  task_op_free(sc->op);
  free(sc);
}

void task_h_stats(ttrpc_call *call, const uint8_t *payload, size_t n, void *data) {
  task_service *svc = data;
  cs_err err;
  task_proc *p = NULL;
  stats_call *sc = NULL;
  Containerd__Task__V2__StatsRequest *r = task_unpack(&containerd__task__v2__stats_request__descriptor, payload, n, &err);
  if (!r || !(p = task_lookup(svc, r->id, NULL, &err))) goto fail;
  if (!(sc = calloc(1, sizeof *sc))) {
    cs_err_set(&err, CS_RESOURCE_EXHAUSTED, "stats: out of memory");
    goto fail;
  }
  if (!(sc->op = task_op_new(svc, call, p, 0, &err))) goto fail;
  sc->req.data = sc;
  sc->req.out = &sc->sample;
  if (task_stats_read(svc, p->ct->id, &sc->req, stats_done, &err) < 0) {
    task_op_free(sc->op);
    goto fail;
  }
  sc = NULL; /* stats_done's now: it answers the call and frees it */
  goto done;
fail:
  ttrpc_call_reply_err(call, &err);
done:
  free(sc);
  if (r) containerd__task__v2__stats_request__free_unpacked(r, NULL);
}

/* ------------------------------------------------------------------ Connect */

/* Like runc-v2 (and runhcs, which does not even look): the shim answers for any id; the task pid is 0 when
 * the task is unknown or gone. containerd calls it to learn the shim's pid, e.g. before Shutdown. */
void task_h_connect(ttrpc_call *call, const uint8_t *payload, size_t n, void *data) {
  task_service *svc = data;
  cs_err err;
  Containerd__Task__V2__ConnectRequest *r =
      task_unpack(&containerd__task__v2__connect_request__descriptor, payload, n, &err);
  if (!r) {
    ttrpc_call_reply_err(call, &err);
    return;
  }
  task_container *ct = task_find_container(svc, r->id ? r->id : "");
  Containerd__Task__V2__ConnectResponse resp = CONTAINERD__TASK__V2__CONNECT_RESPONSE__INIT;
  resp.shim_pid = task_os_pid();
  resp.task_pid = ct ? (uint32_t)ct->init.pid : 0;
  resp.version = "cshim";
  task_reply_msg(call, &resp.base);
  containerd__task__v2__connect_request__free_unpacked(r, NULL);
}
