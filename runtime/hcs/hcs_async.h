/* HCS operations that complete on the loop: an operation is created with a completion callback, HCS calls it on
 * one of its own threads when the call is done, and the helper hands it to the loop through a uv_async_t. No
 * thread waits for HCS, so a query that hangs holds no worker and delays no other container's query.
 *
 * Each operation has a bound: when it passes, the caller's callback gets DeadlineExceeded at once and the
 * operation is left to HCS; its late completion only closes and frees it. The caller's callback runs exactly
 * once, on the loop, never from inside hcs_async_start, and never after hcs_async_close (which answers what is
 * still pending with Cancelled). Loop thread only, except the HCS completion callback inside. */
#ifndef HCS_ASYNC_H
#define HCS_ASYNC_H

#include <stdint.h>
#include <uv.h>

#include "cs_err.h"
#include "hcs_api.h"

typedef struct hcs_async hcs_async;

/* err NULL: the call succeeded and result is its document (UTF-8, may be NULL; the callback's to free). */
typedef void (*hcs_async_cb)(void *data, char *result, const cs_err *err);
/* Issues the HCS call on op (e.g. HcsGetComputeSystemProperties(system, op, query)); returns its HRESULT. */
typedef hcs_hresult (*hcs_async_issue)(void *arg, hcs_operation op);

int hcs_async_new(uv_loop_t *loop, const hcs_api *api, hcs_async **out, cs_err *err);
/* Pending callbacks get Cancelled (before this returns); then none. Operations HCS has not completed yet are
 * closed and freed when it does. */
void hcs_async_close(hcs_async *h);

/* name: the HCS function, for messages; what: the object (e.g. "container c1"), named by a DeadlineExceeded.
 * 0, or -1 with err (the call failed at once; cb is never called). */
int hcs_async_start(hcs_async *h, const char *name, const char *what, uint64_t timeout_ms, hcs_async_issue issue,
                    void *arg, hcs_async_cb cb, void *data, cs_err *err);

/* Operations started and not yet completed by HCS (answered or not): for tests. */
unsigned hcs_async_in_hcs(hcs_async *h);

#endif
