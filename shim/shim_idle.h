/* The serving process exits once it holds no task and no client is left (containerd disconnected, no
 * stream open) for a grace period: whatever led there (a failed first Create, a host that connected and
 * went away, a sandbox request it could not serve) must not leave one shim process per retry. */
#ifndef SHIM_IDLE_H
#define SHIM_IDLE_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "task_service.h"
#include "ttrpc.h"

/* The grace period: CSHIM_IDLE_EXIT_MS if set (tests; 0 turns the exit off), else 5 s. */
#define SHIM_IDLE_GRACE_MS 5000

typedef struct shim_idle shim_idle;

/* on_idle runs once, on the loop, after grace_ms without a task and without a connection. */
shim_idle *shim_idle_start(uv_loop_t *loop, const task_service *svc, const ttrpc_server *srv, uint64_t grace_ms,
                           void (*on_idle)(void *data), void *data);
/* Another holder of the shim (the Sandbox API's pod): busy(data) true keeps the shim alive. */
void shim_idle_also_busy(shim_idle *idle, bool (*busy)(const void *data), const void *data);
/* The grace period from the environment (see above). */
uint64_t shim_idle_grace_ms(void);
/* Closes the timer; the loop must run once more to finish closing. */
void shim_idle_free(shim_idle *idle);

#endif
