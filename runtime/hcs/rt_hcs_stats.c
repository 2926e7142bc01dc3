/* Stats of an HCS container without blocking the loop: HcsGetComputeSystemProperties on an operation that
 * completes through hcs_async.h, bounded by stats_timeout_ms. Each query is its own HCS operation, so a
 * container whose query hangs delays no other container's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_log.h"
#include "hcs_doc.h"
#include "hcs_stats.h"
#include "hcs_wstr.h"
#include "net_hns.h"
#include "rt_hcs_int.h"

/* What the completion needs, by value: the container may be deleted while HCS works on the query. */
typedef struct stats_query {
  rt_hcs *be;
  char *id;
  rt_stats_req *req;
  hcs_system system;
  hcs_pwstr wquery;
} stats_query;

static hcs_hresult issue(void *arg, hcs_operation op) {
  stats_query *q = arg;
  return q->be->cfg.hcs->HcsGetComputeSystemProperties(q->system, op, q->wquery);
}

static void query_free(stats_query *q) {
  free(q->wquery);
  free(q->id);
  free(q);
}

static void on_result(void *data, char *result, const cs_err *qerr) {
  stats_query *q = data;
  rt_stats_req *req = q->req;
  rt_hcs *be = q->be;
  cs_err err;
  const cs_err *e = qerr;
  if (!e) {
    memset(req->out, 0, sizeof *req->out);
    if (hcs_stats_parse(result, req->out, &err) < 0) {
      cs_err_wrap(&err, "stats %s", q->id);
      e = &err;
    }
  }
  /* Endpoint counters: only while the container is still known and the backend is not closing. */
  rt_hcs_ctr *c = !e && !be->closing ? rt_hcs_find(be, q->id) : NULL;
  for (size_t i = 0; c && be->cfg.hns && i < c->n_endpoints && req->out->n_net < RT_MAX_IFACES; i++) {
    cs_err ne;
    if (net_hns_endpoint_stats(be->cfg.hns, c->endpoints[i], &req->out->net[req->out->n_net], &ne) == 0)
      req->out->n_net++;
    else
      CS_WARN("hcs: stats %s: %s", q->id, ne.msg); /* one endpoint's counters missing is no reason to fail */
  }
  free(result);
  query_free(q);
  req->cb(req, e);
}

int rt_hcs_stats_async(rt_backend *b, const char *id, rt_stats_req *req, rt_stats_cb cb, cs_err *err) {
  rt_hcs *be = (rt_hcs *)b;
  rt_hcs_ctr *c = id ? rt_hcs_find(be, id) : NULL;
  if (!c) return cs_err_set(err, CS_NOT_FOUND, "container %s not found", id ? id : "(null)");
  if (!c->system || c->state == CTR_CREATING)
    return cs_err_set(err, CS_FAILED_PRECONDITION, "container %s is still being created", id);
  stats_query *q = calloc(1, sizeof *q);
  if (!q || !(q->id = strdup(id))) {
    free(q);
    return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
  }
  q->be = be;
  q->req = req;
  q->system = c->system;
  if (!(q->wquery = hcs_utf8_to_wide(HCS_QUERY_STATISTICS, err))) {
    query_free(q);
    return -1;
  }
  req->cb = cb;
  char what[320];
  snprintf(what, sizeof what, "stats of container %s", id);
  if (hcs_async_start(be->ops, "HcsGetComputeSystemProperties", what, be->cfg.stats_timeout_ms, issue, q, on_result,
                      q, err) < 0) {
    query_free(q);
    return -1;
  }
  return 0;
}
