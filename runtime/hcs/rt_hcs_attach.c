/* The network and utility-VM steps of create and delete (declared in rt_hcs_int.h), run on a job's worker.
 *
 * Network, as hcsshim's hcsoci does: endpoints named in windows.network.endpointList must exist (a missing one is
 * NotFound naming it, before anything is made). With no windows.network.networkNamespace the backend makes an HNS
 * namespace, adds the endpoints to it, and names it in the container's Networking.Namespace; Delete removes them
 * and the namespace. With a namespace given (CRI), whoever made it owns the endpoints in it. Hyper-V: each
 * endpoint is also a NIC of the utility VM, with the MAC HNS gave it, removed before the VM goes. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cs_log.h"
#include "hcs_call.h"
#include "hcs_uvm_doc.h"
#include "net_hns.h"
#include "rt_hcs_int.h"

static int modify(rt_hcs_job *j, hcs_system s, json_t *req) {
  char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
  json_decref(req);
  if (!text) return cs_err_set(&j->err, CS_RESOURCE_EXHAUSTED, "out of memory");
  int rc = hcs_call_system_modify(j->be->cfg.hcs, s, text, j->be->cfg.op_timeout_ms, &j->err);
  free(text);
  return rc;
}

int rt_hcs_net_check(rt_hcs_job *j) {
  for (size_t i = 0; j->be->cfg.hns && i < j->n_endpoints; i++) {
    net_hns_endpoint ep;
    if (net_hns_endpoint_query(j->be->cfg.hns, j->endpoints[i], &ep, &j->err) < 0)
      return cs_err_wrap(&j->err, "endpoint %s", j->endpoints[i]);
  }
  return 0;
}

int rt_hcs_net_attach(rt_hcs_job *j) {
  const net_hns_api *hns = j->be->cfg.hns;
  if (!j->make_netns || !hns || !j->n_endpoints) return 0;
  char ns[HCS_GUID_STR_LEN];
  if (net_hns_namespace_create(hns, ns, &j->err) < 0) return -1;
  if (!(j->netns = strdup(ns))) {
    cs_err ignore;
    net_hns_namespace_delete(hns, ns, &ignore);
    return cs_err_set(&j->err, CS_RESOURCE_EXHAUSTED, "out of memory");
  }
  j->n_ns_endpoints = 0;
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < j->n_endpoints; i++) {
    rc = net_hns_namespace_endpoint(hns, ns, j->endpoints[i], true, &j->err);
    if (rc == 0) j->n_ns_endpoints++;
  }
  if (rc == 0) rc = hcs_doc_set_namespace(&j->doc, ns, &j->err);
  if (rc < 0) {
    rt_hcs_net_detach(j);
    free(j->netns);
    j->netns = NULL;
  }
  return rc;
}

void rt_hcs_net_detach(rt_hcs_job *j) {
  const net_hns_api *hns = j->be->cfg.hns;
  if (!j->netns || !hns) return;
  cs_err e;
  for (size_t i = j->n_ns_endpoints; i-- > 0;)
    if (net_hns_namespace_endpoint(hns, j->netns, j->endpoints[i], false, &e) < 0)
      CS_WARN("hcs: %s: %s", j->ctr->id, e.msg);
  j->n_ns_endpoints = 0;
  if (net_hns_namespace_delete(hns, j->netns, &e) < 0)
    CS_WARN("hcs: %s: namespace %s: %s", j->ctr->id, j->netns, e.msg);
}

int rt_hcs_uvm_attach(rt_hcs_job *j) {
  for (char **r = j->attach; r && *r; r++)
    if (hcs_call_system_modify(j->be->cfg.hcs, j->uvm, *r, j->be->cfg.op_timeout_ms, &j->err) < 0)
      return cs_err_wrap(&j->err, "utility VM %s", j->ctr->uvm_id);
  for (size_t i = 0; j->be->cfg.hns && i < j->n_endpoints; i++) {
    net_hns_endpoint ep;
    if (net_hns_endpoint_query(j->be->cfg.hns, j->endpoints[i], &ep, &j->err) < 0 ||
        modify(j, j->uvm, hcs_doc_nic_add(j->endpoints[i], ep.mac)) < 0)
      return cs_err_wrap(&j->err, "attach endpoint %s", j->endpoints[i]);
  }
  return 0;
}

void rt_hcs_uvm_detach(rt_hcs_job *j) {
  cs_err keep = j->err;
  for (size_t i = 0; j->uvm && j->be->cfg.hns && i < j->n_endpoints; i++)
    if (modify(j, j->uvm, hcs_doc_nic_remove(j->endpoints[i])) < 0)
      CS_WARN("hcs: %s: detach endpoint %s: %s", j->ctr->id, j->endpoints[i], j->err.msg);
  j->err = keep;
}
