/* A fake Host Compute Service and Host Network Service behind hcs_api / net_hns_api.
 *
 * It records every call with its key argument and every document it is given, answers like HCS
 * (operations complete on HcsWaitForOperationResult, results as UTF-16 documents, Statistics shaped like
 * HCS's own), and fires exit callbacks from its own threads, as HCS does. Failures are injected per call
 * name. The DLL functions take no context pointer, so the fake's state is one static object: test code. */
#ifndef FAKE_HCS_H
#define FAKE_HCS_H

#include <stdbool.h>

#include "hcs_api.h"
#include "net_hns_api.h"

void fake_hcs_init(hcs_api *api, net_hns_api *hns);
/* Joins the fake's threads and frees everything. */
void fake_hcs_reset(void);

/* The next call of `call` fails: its operation completes with hr and {"Error":hr,"ErrorMessage":msg}. Calls
 * without an operation (HcsSetComputeSystemCallback, HcsSetProcessCallback, HNSCall) return hr. */
void fake_hcs_fail(const char *call, hcs_hresult hr, const char *msg);
/* The same after `skip` calls of `call` have succeeded. */
void fake_hcs_fail_after(const char *call, int skip, hcs_hresult hr, const char *msg);
/* The next process created has already exited with this code before anyone could register a callback. */
void fake_hcs_exit_on_create(int code);
/* Exit events carry no ExitCode (the backend must ask HcsGetProcessProperties). */
void fake_hcs_events_without_code(bool on);
void fake_hcs_set_stats(const char *statistics_json);
/* Statistics queries of the system `id` never complete (NULL or "": none), until fake_hcs_release_hung, which
 * completes the held ones from the fake's threads and answers how many. Other operations with a completion
 * callback complete from a thread of the fake's, as HCS's do. */
void fake_hcs_hang_stats(const char *id);
int fake_hcs_release_hung(void);

int fake_hcs_count(const char *call);
/* The document given to the nth (0-based) call of `call`, UTF-8; NULL if none. Valid until reset. */
const char *fake_hcs_doc(const char *call, int nth);
/* The ids/args log, "call arg" lines joined with '\n'. */
const char *fake_hcs_log(void);
/* Layers activated (vmcompute ActivateLayer) and not deactivated. fake_hcs_fail("PrepareLayer", ...) etc.
 * fail a layer step; the log has "ActivateLayer <home>\\<id>" lines. */
int fake_hcs_active_layers(void);
/* HNS namespaces made (HNSCall POST /namespaces/) and not deleted; endpoints added to them and not removed. */
int fake_hcs_namespaces(void);
int fake_hcs_namespace_endpoints(void);
/* Systems, processes, operations and endpoints not closed. */
int fake_hcs_open_handles(void);

/* Fire from a new thread, as HCS would. */
void fake_hcs_fire_process_exit(int pid, int code);
void fake_hcs_fire_system_exit(const char *id);
/* Wait for the fake's event threads to finish. */
void fake_hcs_join(void);

#endif
