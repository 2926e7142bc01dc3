/* The reaper: the one owner of child exits in the shim process.
 *
 * The shim is a child subreaper, so besides the processes it forks (runtime binary invocations) it inherits
 * every orphan of the container (the init after `runc create` exits, `runc exec --detach` processes, anything
 * reparented). One waitpid(-1) loop collects them all; each exit goes to the callback registered for that pid,
 * or else to the `unclaimed` callback given at creation.
 *
 * Why registration cannot race the reaping: SIGCHLD arrives through a uv_signal_t, whose handler only wakes
 * the loop; waitpid(-1) runs solely from that loop callback. A caller that forks from a loop callback and
 * calls rt_reaper_watch() before returning to the loop is therefore registered before any waitpid can see
 * the child, even if the child has already exited. The rule: fork and watch on the loop thread, in the same
 * callback. (Corollary: nobody else in the process may wait for children — in particular no uv_spawn.)
 *
 * Exits collected in one drain are dispatched watched-first, then unclaimed: a runtime invocation's
 * completion (which reads the pid file of the process it started) is delivered before the exit of that
 * process when both are reaped together. */
#ifndef RT_REAPER_H
#define RT_REAPER_H

#include <stdint.h>
#include <uv.h>

#include "cs_err.h"

typedef struct rt_reaper rt_reaper;

/* status: the exit code, or 128+signal. exited_at_ns: CLOCK_REALTIME when the exit was collected. */
typedef void (*rt_reaper_cb)(void *data, int pid, int status, int64_t exited_at_ns);

/* Starts watching SIGCHLD on loop; a first drain runs on the next loop iteration, to collect children that
 * exited before the reaper existed. */
rt_reaper *rt_reaper_new(uv_loop_t *loop, rt_reaper_cb unclaimed, void *data, cs_err *err);

/* Route the exit of pid (a child of this process) to cb, once. Call on the loop thread right after fork(). */
int rt_reaper_watch(rt_reaper *r, int pid, rt_reaper_cb cb, void *data, cs_err *err);

/* Forget pid: its exit, if it comes, goes to nobody (not to `unclaimed`). Returns 0 if pid was watched. */
int rt_reaper_unwatch(rt_reaper *r, int pid);

/* Stop; no callbacks after this. Memory is released once the loop has run the handle close callbacks. */
void rt_reaper_close(rt_reaper *r);

/* wait status → exit code or 128+signal. */
int rt_reaper_status(int wstatus);

/* Counters, for tests and debug logs. */
typedef struct rt_reaper_counts {
  uint64_t reaped, watched_delivered, unclaimed_delivered, ignored;
} rt_reaper_counts;
void rt_reaper_get_counts(const rt_reaper *r, rt_reaper_counts *out);

#endif
