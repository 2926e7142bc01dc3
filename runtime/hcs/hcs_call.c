#include "hcs_call.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "hcs_err.h"
#include "hcs_wstr.h"

/* A failed operation's result document is {"Error": hr, "ErrorMessage": "...", "ErrorEvents": [...]}: keep
 * the message, which is what names the actual problem (a missing layer, a bad path). */
static int fail_with_result(cs_err *err, const char *name, hcs_hresult hr, const char *result) {
  const char *detail = NULL;
  json_t *doc = result ? json_loads(result, 0, NULL) : NULL;
  json_t *m = doc ? json_object_get(doc, "ErrorMessage") : NULL;
  if (json_is_string(m)) detail = json_string_value(m);
  else if (result && !doc) detail = result;
  hcs_err_set(err, name, hr, detail);
  json_decref(doc);
  return -1;
}

/* Everything after the call was issued: wait, collect the document, close the operation. */
static int finish(const hcs_api *api, hcs_operation op, hcs_hresult hr, const char *name, hcs_dword timeout_ms,
                  char **result, hcs_process_information *info, cs_err *err) {
  if (result) *result = NULL;
  if (HCS_FAILED(hr)) {
    api->HcsCloseOperation(op);
    return hcs_err_set(err, name, hr, NULL);
  }
  hcs_pwstr wdoc = NULL;
  hr = info ? api->HcsWaitForOperationResultAndProcessInfo(op, timeout_ms, info, &wdoc)
            : api->HcsWaitForOperationResult(op, timeout_ms, &wdoc);
  api->HcsCloseOperation(op);
  char *doc = wdoc ? hcs_wide_to_utf8(wdoc, NULL) : NULL;
  if (wdoc) api->free_document(wdoc);
  if (HCS_FAILED(hr)) {
    fail_with_result(err, name, hr, doc);
    free(doc);
    return -1;
  }
  if (result) *result = doc;
  else free(doc);
  return 0;
}

static hcs_operation begin(const hcs_api *api, const char *name, cs_err *err) {
  hcs_operation op = api->HcsCreateOperation(NULL, NULL);
  if (!op) cs_err_set(err, CS_RESOURCE_EXHAUSTED, "%s: HcsCreateOperation failed", name);
  return op;
}

/* Converts up to two UTF-8 arguments; NULL stays NULL (HCS takes NULL for "no options"). */
static int widen(const char *a, hcs_pwstr *wa, const char *b, hcs_pwstr *wb, const char *name, cs_err *err) {
  *wa = NULL;
  if (wb) *wb = NULL;
  if (a && !(*wa = hcs_utf8_to_wide(a, err))) return cs_err_wrap(err, "%s", name);
  if (wb && b && !(*wb = hcs_utf8_to_wide(b, err))) {
    free(*wa);
    *wa = NULL;
    return cs_err_wrap(err, "%s", name);
  }
  return 0;
}

int hcs_call_system_create(const hcs_api *api, const char *id, const char *doc, hcs_dword timeout_ms,
                           hcs_system *out, cs_err *err) {
  static const char name[] = "HcsCreateComputeSystem";
  hcs_pwstr wid, wdoc;
  *out = NULL;
  if (widen(id, &wid, doc, &wdoc, name, err) < 0) return -1;
  hcs_operation op = begin(api, name, err);
  int rc = -1;
  if (op) {
    hcs_system sys = NULL;
    hcs_hresult hr = api->HcsCreateComputeSystem(wid, wdoc, op, NULL, &sys);
    rc = finish(api, op, hr, name, timeout_ms, NULL, NULL, err);
    /* HCS hands out the handle even when the operation then fails; it is ours to close. */
    if (rc < 0 && sys) api->HcsCloseComputeSystem(sys);
    else if (rc == 0) *out = sys;
  }
  free(wid);
  free(wdoc);
  return rc;
}

int hcs_call_system_op(const hcs_api *api, hcs_fn_system_op fn, const char *name, hcs_system system,
                       const char *options, hcs_dword timeout_ms, cs_err *err) {
  hcs_pwstr wopt;
  if (widen(options, &wopt, NULL, NULL, name, err) < 0) return -1;
  hcs_operation op = begin(api, name, err);
  int rc = op ? finish(api, op, fn(system, op, wopt), name, timeout_ms, NULL, NULL, err) : -1;
  free(wopt);
  return rc;
}

int hcs_call_system_properties(const hcs_api *api, hcs_system system, const char *query, hcs_dword timeout_ms,
                               char **result, cs_err *err) {
  static const char name[] = "HcsGetComputeSystemProperties";
  hcs_pwstr wq;
  *result = NULL;
  if (widen(query, &wq, NULL, NULL, name, err) < 0) return -1;
  hcs_operation op = begin(api, name, err);
  int rc = op ? finish(api, op, api->HcsGetComputeSystemProperties(system, op, wq), name, timeout_ms, result, NULL, err)
              : -1;
  free(wq);
  return rc;
}

int hcs_call_system_modify(const hcs_api *api, hcs_system system, const char *doc, hcs_dword timeout_ms,
                           cs_err *err) {
  static const char name[] = "HcsModifyComputeSystem";
  hcs_pwstr wdoc;
  if (widen(doc, &wdoc, NULL, NULL, name, err) < 0) return -1;
  hcs_operation op = begin(api, name, err);
  int rc = op ? finish(api, op, api->HcsModifyComputeSystem(system, op, wdoc, NULL), name, timeout_ms, NULL, NULL, err)
              : -1;
  free(wdoc);
  return rc;
}

int hcs_call_process_create(const hcs_api *api, hcs_system system, const char *params, hcs_dword timeout_ms,
                            hcs_process *out, hcs_process_information *info, cs_err *err) {
  static const char name[] = "HcsCreateProcess";
  hcs_pwstr wp;
  *out = NULL;
  memset(info, 0, sizeof *info);
  if (widen(params, &wp, NULL, NULL, name, err) < 0) return -1;
  hcs_operation op = begin(api, name, err);
  int rc = -1;
  if (op) {
    hcs_process proc = NULL;
    hcs_hresult hr = api->HcsCreateProcess(system, wp, op, NULL, &proc);
    rc = finish(api, op, hr, name, timeout_ms, NULL, info, err);
    if (rc < 0 && proc) api->HcsCloseProcess(proc);
    else if (rc == 0) *out = proc;
  }
  free(wp);
  return rc;
}

int hcs_call_process_op(const hcs_api *api, hcs_fn_process_op fn, const char *name, hcs_process process,
                        const char *doc, hcs_dword timeout_ms, char **result, cs_err *err) {
  hcs_pwstr wdoc;
  if (result) *result = NULL;
  if (widen(doc, &wdoc, NULL, NULL, name, err) < 0) return -1;
  hcs_operation op = begin(api, name, err);
  int rc = op ? finish(api, op, fn(process, op, wdoc), name, timeout_ms, result, NULL, err) : -1;
  free(wdoc);
  return rc;
}
