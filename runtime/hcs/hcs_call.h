/* One HCS call run to completion: create an operation, issue the call, wait for its result, close the
 * operation, and turn a failure into a cs_err carrying HCS's own ErrorMessage. These block, so the backend
 * calls them only from uv_queue_work worker threads; stats queries, which must not hold a worker each, use
 * operations with a completion callback instead (hcs_async.h). Strings in and out are UTF-8. */
#ifndef HCS_CALL_H
#define HCS_CALL_H

#include "cs_err.h"
#include "hcs_api.h"

/* timeout_ms: HCS_INFINITE or a bound; an expired bound is DeadlineExceeded. *result (if non-NULL) gets the
 * result document (malloc'd, may be NULL when HCS returned none). */
int hcs_call_system_create(const hcs_api *api, const char *id, const char *doc, hcs_dword timeout_ms,
                           hcs_system *out, cs_err *err);
/* Start, ShutDown, Terminate, Pause, Resume: fn and its name for the message. */
int hcs_call_system_op(const hcs_api *api, hcs_fn_system_op fn, const char *name, hcs_system system,
                       const char *options, hcs_dword timeout_ms, cs_err *err);
int hcs_call_system_properties(const hcs_api *api, hcs_system system, const char *query, hcs_dword timeout_ms,
                               char **result, cs_err *err);
int hcs_call_system_modify(const hcs_api *api, hcs_system system, const char *doc, hcs_dword timeout_ms,
                           cs_err *err);
int hcs_call_process_create(const hcs_api *api, hcs_system system, const char *params, hcs_dword timeout_ms,
                            hcs_process *out, hcs_process_information *info, cs_err *err);
/* Terminate, Signal, GetProcessProperties, ModifyProcess. */
int hcs_call_process_op(const hcs_api *api, hcs_fn_process_op fn, const char *name, hcs_process process,
                        const char *doc, hcs_dword timeout_ms, char **result, cs_err *err);

#endif
