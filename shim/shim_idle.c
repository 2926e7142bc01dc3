/* Idle exit: see shim_idle.h. The state is looked at on a short timer rather than hooked into every
 * place that changes it (task removal, connection close, stream end): a few loads every 250 ms cost
 * nothing, and no path that leaves the shim idle can be missed. */
#include "shim_idle.h"

#include <stdlib.h>

#include "cs_log.h"

#define IDLE_CHECK_MS 250

struct shim_idle {
  uv_timer_t timer;
  const task_service *svc;
  const ttrpc_server *srv;
  uint64_t grace_ms;
  uint64_t idle_since; /* uv_now when the shim was last seen busy; 0: busy now */
  void (*on_idle)(void *data);
  void *data;
  bool (*also_busy)(const void *data);
  const void *also_data;
};

static void idle_check(uv_timer_t *t) {
  shim_idle *idle = t->data;
  bool busy = task_service_count(idle->svc) > 0 || ttrpc_server_connections(idle->srv) > 0 ||
              (idle->also_busy && idle->also_busy(idle->also_data));
  uint64_t now = uv_now(t->loop);
  if (busy) {
    idle->idle_since = 0;
    return;
  }
  if (!idle->idle_since) idle->idle_since = now;
  if (now - idle->idle_since < idle->grace_ms) return;
  CS_INFO("no task and no client for %llu ms: exiting", (unsigned long long)idle->grace_ms);
  uv_timer_stop(t);
  idle->on_idle(idle->data);
}

uint64_t shim_idle_grace_ms(void) {
  const char *v = getenv("CSHIM_IDLE_EXIT_MS");
  if (!v || !*v) return SHIM_IDLE_GRACE_MS;
  char *end;
  unsigned long long ms = strtoull(v, &end, 10);
  return *end ? SHIM_IDLE_GRACE_MS : (uint64_t)ms;
}

shim_idle *shim_idle_start(uv_loop_t *loop, const task_service *svc, const ttrpc_server *srv, uint64_t grace_ms,
                           void (*on_idle)(void *data), void *data) {
  if (grace_ms == 0) return NULL;
  shim_idle *idle = calloc(1, sizeof *idle);
  if (!idle) return NULL;
  *idle = (shim_idle){.svc = svc, .srv = srv, .grace_ms = grace_ms, .on_idle = on_idle, .data = data};
  uv_timer_init(loop, &idle->timer);
  idle->timer.data = idle;
  /* The first look is one period in: containerd connects right after start prints the address. */
  idle->idle_since = uv_now(loop);
  uv_timer_start(&idle->timer, idle_check, IDLE_CHECK_MS, IDLE_CHECK_MS);
  return idle;
}

void shim_idle_also_busy(shim_idle *idle, bool (*busy)(const void *data), const void *data) {
  if (!idle) return;
  idle->also_busy = busy;
  idle->also_data = data;
}

static void idle_closed(uv_handle_t *h) { free(h->data); }

void shim_idle_free(shim_idle *idle) {
  if (!idle) return;
  uv_close((uv_handle_t *)&idle->timer, idle_closed);
}
