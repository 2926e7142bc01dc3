/* The long-lived serving process: the Task API on the address `start` claimed, until Shutdown. The same
 * on every platform; how it listens and what the process sets up first are shim_os_*.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_log.h"
#include "sandbox_service.h"
#include "shim_backend.h"
#include "shim_idle.h"
#include "shim_os.h"
#include "shim_start.h"
#include "stats_stream.h"
#include "task_events.h"
#include "task_os.h"
#include "task_service.h"
#include "ttrpc.h"

typedef struct shim_daemon {
  uv_loop_t *loop;
  shim_os_serve *os;
  shim_platform *platform;
  ttrpc_server *server;
  task_service *svc;
  sandbox_service *sandbox;
  task_events *events;
  uv_timer_t exit_timer;
  shim_idle *idle;
} shim_daemon;

static void daemon_server_closed(void *data) {
  shim_daemon *d = data;
  d->server = NULL;
  uv_stop(d->loop);
}

static void daemon_stop(shim_daemon *d) {
  shim_idle_free(d->idle); /* it looks at the server, which closing frees */
  d->idle = NULL;
  shim_os_unlisten(d->os);
  if (d->server) ttrpc_server_close(d->server, daemon_server_closed, d);
  else uv_stop(d->loop);
}

static void daemon_on_stop_timer(uv_timer_t *t) { daemon_stop(t->data); }

/* Stop on the next loop turn, not from inside a handler: the Shutdown reply is still in the connection's
 * buffer (replies of one read batch are written together after the batch) and must reach the client. */
static void daemon_events_drained(void *data) {
  shim_daemon *d = data;
  uv_timer_start(&d->exit_timer, daemon_on_stop_timer, 0, 0);
}

/* Shutdown with no task left (or a stop request): deliver what events remain (an exit must reach
 * containerd), then exit. */
static void daemon_on_shutdown(void *data) {
  shim_daemon *d = data;
  task_events_drain(d->events, 10000, daemon_events_drained, d);
}

int shim_serve(const shim_args *a, cs_err *err) {
  shim_daemon d;
  memset(&d, 0, sizeof d);
  d.loop = uv_default_loop();
  d.os = shim_os_serve_new(a, d.loop, err);
  if (!d.os) return -1;
  shim_os_on_stop(d.os, daemon_on_shutdown, &d);
  uv_timer_init(d.loop, &d.exit_timer);
  d.exit_timer.data = &d;

  char ttrpc_addr[4096];
  /* Set but empty (cshimctl, no containerd): events are only logged. Unset: containerd's convention. */
  if (a->ttrpc_address) snprintf(ttrpc_addr, sizeof ttrpc_addr, "%s", a->ttrpc_address);
  else if (a->address && *a->address) snprintf(ttrpc_addr, sizeof ttrpc_addr, "%s.ttrpc", a->address);
  else ttrpc_addr[0] = '\0';
  d.events = task_events_new(d.loop, ttrpc_addr, a->ns);

  task_service_config cfg = {
    .loop = d.loop,
    .ns = a->ns,
    .events = d.events,
    .backend_new = shim_backend_new,
    .backend_data = NULL,
    .encode_stats = shim_encode_stats,
    .on_shutdown = daemon_on_shutdown,
    .shutdown_data = &d,
    .save_opts = shim_backend_save_opts,
  };
  d.platform = shim_platform_new(err);
  cfg.backend_data = d.platform;
  d.svc = d.platform ? task_service_new(&cfg, err) : NULL;
  sandbox_service_config scfg = {
      .loop = d.loop, .tasks = d.svc, .on_shutdown = daemon_on_shutdown, .shutdown_data = &d};
  d.sandbox = d.svc ? sandbox_service_new(&scfg, err) : NULL;
  d.server = d.sandbox ? ttrpc_server_new(d.loop) : NULL;
  int rc = -1;
  if (!d.server || task_service_register(d.svc, d.server, err) < 0 || stats_stream_register(d.svc, d.server, err) < 0 ||
      sandbox_service_register(d.sandbox, d.server, err) < 0 || shim_os_listen(d.os, d.server, a, err) < 0)
    goto out;
  d.idle = shim_idle_start(d.loop, d.svc, d.server, shim_idle_grace_ms(), daemon_on_shutdown, &d);
  shim_idle_also_busy(d.idle, sandbox_service_busy, d.sandbox);
  CS_INFO("cshim serving %s (namespace %s, id %s, pid %u)", shim_os_served(d.os), a->ns, a->id ? a->id : "",
          (unsigned)task_os_pid());
  uv_run(d.loop, UV_RUN_DEFAULT);
  rc = 0;
out:
  if (rc < 0) shim_os_unlisten(d.os);
  shim_idle_free(d.idle);
  sandbox_service_free(d.sandbox); /* kills the pod's process if it still runs */
  task_service_free(d.svc); /* destroys the backend */
  shim_platform_free(d.platform);
  task_events_free(d.events);
  shim_os_serve_free(d.os);
  uv_close((uv_handle_t *)&d.exit_timer, NULL);
  uv_run(d.loop, UV_RUN_NOWAIT);
  return rc;
}
