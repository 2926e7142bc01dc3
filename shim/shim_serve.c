/* The long-lived serving process: the Task API on the socket `start` created, until Shutdown. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cs_log.h"
#include "rt_linux.h"
#include "shim_backend.h"
#include "shim_start.h"
#include "stats_stream.h"
#include "task_events.h"
#include "task_service.h"
#include "ttrpc.h"

typedef struct shim_daemon {
  uv_loop_t *loop;
  ttrpc_server *server;
  task_service *svc;
  task_events *events;
  char socket_path[108];
  uv_signal_t sigterm;
  uv_timer_t exit_timer;
  int exit_code;
} shim_daemon;

static void daemon_server_closed(void *data) {
  shim_daemon *d = data;
  d->server = NULL;
  uv_stop(d->loop);
}

static void daemon_stop(shim_daemon *d) {
  if (d->socket_path[0]) unlink(d->socket_path);
  d->socket_path[0] = '\0';
  uv_signal_stop(&d->sigterm);
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

/* Shutdown with no task left: deliver what events remain (an exit must reach containerd), then exit. */
static void daemon_on_shutdown(void *data) {
  shim_daemon *d = data;
  task_events_drain(d->events, 10000, daemon_events_drained, d);
}

static void daemon_on_sigterm(uv_signal_t *s, int sig) {
  shim_daemon *d = s->data;
  CS_INFO("signal %d: exiting", sig);
  daemon_on_shutdown(d);
}

/* containerd creates the bundle's `log` FIFO and reads it; stderr goes there too (runtime diagnostics). */
static void open_log(bool debug) {
  int fd = open("log", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0 && errno == ENXIO) fd = open("log", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    cs_log_setup(-1, CS_LOG_INFO);
    return;
  }
  dup2(fd, 2);
  close(fd);
  cs_log_setup(2, debug ? CS_LOG_DEBUG : CS_LOG_INFO);
}

static int socket_path_of(int fd, char *out, size_t len) {
  struct sockaddr_un sa;
  socklen_t sl = sizeof sa;
  if (getsockname(fd, (struct sockaddr *)&sa, &sl) < 0 || sa.sun_family != AF_UNIX || sa.sun_path[0] == '\0')
    return -1;
  snprintf(out, len, "%s", sa.sun_path);
  return 0;
}

/* Every shim is one per container: its dirty pages are the per-container cost. Large transient buffers
 * (runtime output, JSON documents, frames) get their own mappings and go back to the kernel when freed,
 * and the heap top is given back instead of kept as a 128 KiB pad. */
static void tune_malloc(void) {
  mallopt(M_MMAP_THRESHOLD, 16 * 1024);
  mallopt(M_TRIM_THRESHOLD, 32 * 1024);
  mallopt(M_TOP_PAD, 0);
}

int shim_serve(const shim_args *a, cs_err *err) {
  signal(SIGPIPE, SIG_IGN);
  tune_malloc();
  /* Orphans of the container (its init once `runc create` exits) must be reparented to us to be reaped. */
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) return cs_err_sys(err, errno, "set child subreaper");
  open_log(a->debug);

  shim_daemon d;
  memset(&d, 0, sizeof d);
  d.loop = uv_default_loop();
  uv_signal_init(d.loop, &d.sigterm);
  d.sigterm.data = &d;
  uv_signal_start(&d.sigterm, daemon_on_sigterm, SIGTERM);
  uv_unref((uv_handle_t *)&d.sigterm);
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
  d.svc = task_service_new(&cfg, err);
  d.server = d.svc ? ttrpc_server_new(d.loop) : NULL;
  if (!d.server || task_service_register(d.svc, d.server, err) < 0 || stats_stream_register(d.svc, d.server, err) < 0)
    goto fail;
  shim_backend_set_peer_check(d.server);
  if (a->socket && *a->socket) {
    const char *p = strncmp(a->socket, "unix://", 7) == 0 ? a->socket + 7 : a->socket;
    snprintf(d.socket_path, sizeof d.socket_path, "%s", p);
    if (ttrpc_server_listen(d.server, d.socket_path, err) < 0) goto fail;
  } else {
    socket_path_of(3, d.socket_path, sizeof d.socket_path);
    if (ttrpc_server_listen_fd(d.server, 3, err) < 0) goto fail;
  }
  CS_INFO("cshim serving %s (namespace %s, id %s, pid %d)", d.socket_path, a->ns, a->id ? a->id : "", (int)getpid());
  uv_run(d.loop, UV_RUN_DEFAULT);

  task_service_free(d.svc);
  task_events_free(d.events);
  uv_close((uv_handle_t *)&d.sigterm, NULL);
  uv_close((uv_handle_t *)&d.exit_timer, NULL);
  uv_run(d.loop, UV_RUN_NOWAIT);
  return 0;
fail:
  if (d.socket_path[0]) unlink(d.socket_path);
  return -1;
}
