/* The Windows backend: rt_ops over the Host Compute Service.
 *
 * Mapping to containerd's task model (as hcsshim's runhcs shim does it):
 *   create   builds the compute system document from <bundle>/config.json, creates AND starts the compute
 *            system (for Hyper-V: first the utility VM, with the spec's HNS endpoints hot-added as NICs).
 *            No process exists yet: res.pid is 0.
 *   start    creates the init process (HcsCreateProcess) or a recorded exec; res.pid is its pid.
 *   exec     creates and starts an exec process at once (HCS starts a process when it creates it), as
 *            rt.h's exec (runc exec --detach) does; res.pid is its pid. start of a recorded exec is the
 *            same step, for callers that record first.
 *   kill     SIGKILL -> HcsTerminateProcess, SIGINT/SIGTERM -> HcsSignalProcess (CtrlC / CtrlShutdown).
 *            pid 0 before start (no init yet) with SIGKILL terminates the compute system.
 *   delete   HcsTerminateComputeSystem (+ the utility VM), then the handles are closed.
 *   stats    (stats_async) HcsGetComputeSystemProperties {"PropertyTypes":["Statistics"]} on an operation with a
 *            completion callback (hcs_async.h), bounded by stats_timeout_ms, + HNS endpoint counters.
 * Every other HCS wait runs on a uv_queue_work thread; results and exits come back to the loop. Exit
 * notifications and stats completions arrive on HCS's threads and are handed to the loop through uv_async_t. */
#ifndef RT_HCS_H
#define RT_HCS_H

#include "cs_err.h"
#include "hcs_api.h"
#include "net_hns_api.h"
#include "rt.h"
#include "win_rules.h"

typedef struct rt_hcs_config {
  const hcs_api *hcs;           /* required; outlives the backend */
  const net_hns_api *hns;       /* NULL: endpoints are neither hot-added nor counted */
  win_host host;
  int default_isolation;        /* enum win_isolation, e.g. from win_exec_opts_parse */
  const char *owner;            /* the Owner of the documents; NULL: "cshim" */
  hcs_dword op_timeout_ms;      /* bound on each wait on a worker thread; 0: 4 minutes */
  hcs_dword stats_timeout_ms;   /* bound on a stats query (past it: DeadlineExceeded); 0: 2 s */
} rt_hcs_config;

int rt_hcs_new(uv_loop_t *loop, const rt_hcs_config *cfg, const rt_events *events, rt_backend **out, cs_err *err);

/* The exit status reported for a process whose real code could not be learned (its container was
 * deleted or terminated under it): runhcs's own delete reports 255 too. */
#define RT_HCS_EXIT_UNKNOWN 255

#endif
