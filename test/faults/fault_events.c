/* fault_events: containerd's event endpoint is unavailable, then comes back.
 *
 * The shim starts with TTRPC_ADDRESS naming a socket nobody listens on (a stale socket file, as a dead
 * containerd leaves). N tasks in one shim (the first by `start`, the others joining it through the sandbox
 * annotation) are created, started, exit with distinct statuses and are deleted. After more than 5 s our
 * events server starts on that path: every TaskCreate/TaskStart/TaskExit/TaskDelete must arrive, each task's
 * in order create → start → exit → delete, with the right pids and exit statuses, none dropped, none
 * duplicated. Then the same across a mid-run outage (server closed and reopened) and while the server
 * answers Unavailable (containerd busy); finally Shutdown makes the shim exit and remove its socket. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "shimtest.h"

#define N_TASKS 6

static const int exit_codes[N_TASKS] = {3, 5, 7, 11, 13, 42};

static ttrpc_client *cl;
static pid_t shim_pid;

static int stale_socket(const char *path) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof sa.sun_path) return -1;
  memcpy(sa.sun_path, path, strlen(path) + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
  close(fd); /* bound, never listened on, closed: connect() gets ECONNREFUSED */
  return rc;
}

typedef struct want {
  const char *id;
  uint32_t pid;
  int status;
} want;

static bool have_events(st_env *e, void *data) { return e->n_events >= *(size_t *)data; }

/* The events of one task: exactly create, start, exit, delete, with its pid and exit status. */
static void check_task_events(st_env *e, const want *w) {
  const st_event *ev[16];
  size_t n = st_events_for(e, w->id, ev, 16);
  static const char *const topics[] = {"/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"};
  bool order = n == 4;
  for (size_t i = 0; order && i < 4; i++) order = !strcmp(ev[i]->topic, topics[i]);
  if (!st_check(e, order, "%s: events create → start → exit → delete, each once", w->id)) {
    for (size_t i = 0; i < n; i++) st_diag("got %s (pid %u, status %u)", ev[i]->topic, ev[i]->pid, ev[i]->exit_status);
    return;
  }
  st_check(e, ev[0]->pid == w->pid && ev[1]->pid == w->pid && ev[2]->pid == w->pid && ev[3]->pid == w->pid,
           "%s: every event carries pid %u (create %u start %u exit %u delete %u)", w->id, w->pid, ev[0]->pid,
           ev[1]->pid, ev[2]->pid, ev[3]->pid);
  st_check(e, ev[2]->exit_status == (uint32_t)w->status && ev[3]->exit_status == (uint32_t)w->status,
           "%s: TaskExit and TaskDelete carry exit status %d (got %u, %u)", w->id, w->status, ev[2]->exit_status,
           ev[3]->exit_status);
  st_check(e, !strcmp(ev[2]->exec_id, w->id), "%s: TaskExit.id is the container id (got \"%s\")", w->id, ev[2]->exec_id);
  bool ns_ok = true;
  for (size_t i = 0; i < 4; i++) ns_ok = ns_ok && !strcmp(ev[i]->ns, e->ns) && !strcmp(ev[i]->md_ns, e->ns);
  st_check(e, ns_ok, "%s: envelope namespace and call metadata are %s", w->id, e->ns);
}

/* Create, start, wait, delete one task in the shim; fills w. */
static void run_task(st_env *e, want *w, const char *cmd, int status) {
  char bundle[1024], msg[CS_ERR_MSG_MAX];
  snprintf(bundle, sizeof bundle, "%s/b-%s", e->work, w->id);
  const char *args[] = {"sh", "-c", cmd, NULL};
  w->status = status;
  if (st_bundle(e, bundle, w->id, args, "ev-0") < 0) {
    st_check(e, false, "%s: bundle written", w->id);
    return;
  }
  uint32_t pid = 0, spid = 0;
  int rc = st_create(e, cl, w->id, bundle, NULL, &pid, msg);
  if (!st_check(e, rc == CS_OK && pid > 0, "%s: Create with no events endpoint (code %d %s)", w->id, rc, msg)) return;
  rc = st_start(e, cl, w->id, &spid, msg);
  st_check(e, rc == CS_OK && spid == pid, "%s: Start (code %d %s, pid %u)", w->id, rc, msg, spid);
  w->pid = pid;
  uint32_t code = 9999;
  rc = st_wait(e, cl, w->id, 30 * ST_SEC, &code, msg);
  st_check(e, rc == CS_OK && code == (uint32_t)status, "%s: Wait returns exit status %d (code %d %s, got %u)", w->id,
           status, rc, msg, code);
  rc = st_delete(e, cl, w->id, &code, msg);
  st_check(e, rc == CS_OK && code == (uint32_t)status, "%s: Delete returns exit status %d (code %d %s, got %u)",
           w->id, status, rc, msg, code);
}

int main(int argc, char **argv) {
  st_env e;
  if (st_init(&e, argc, argv) < 0) return 2;
  char sock[512], msg[CS_ERR_MSG_MAX];
  want w[N_TASKS + 2];
  char ids[N_TASKS][16];
  memset(w, 0, sizeof w);

  st_check(&e, stale_socket(e.evsock) == 0, "a stale events socket (nobody listening) at TTRPC_ADDRESS");

  /* ---- phase 1: everything happens while nobody takes events */
  const char *args0[] = {"sh", "-c", "exit 3", NULL};
  snprintf(ids[0], sizeof ids[0], "ev-0");
  char bundle0[1024];
  snprintf(bundle0, sizeof bundle0, "%s/b-ev-0", e.work);
  if (st_bundle(&e, bundle0, ids[0], args0, NULL) < 0 || st_shim_start_ok(&e, bundle0, ids[0], sock, sizeof sock) < 0) {
    st_check(&e, false, "shim starts with the events endpoint down");
    return st_finish(&e);
  }
  st_check(&e, true, "shim starts with the events endpoint down");
  cs_err err;
  cl = st_connect(&e, sock, &err);
  if (!st_check(&e, cl != NULL, "connect to the shim (%s)", cl ? "" : err.msg)) return st_finish(&e);

  for (int i = 0; i < N_TASKS; i++) {
    if (i > 0) {
      snprintf(ids[i], sizeof ids[i], "ev-%d", i);
      /* A second task of the pod: `start` in its bundle must answer with the pod shim's socket. */
      char b[1024], out[1024];
      snprintf(b, sizeof b, "%s/b-%s", e.work, ids[i]);
      const char *a[] = {"true", NULL};
      st_bundle(&e, b, ids[i], a, "ev-0");
      int rc = st_shim_start(&e, b, ids[i], NULL, out, sizeof out);
      st_check(&e, rc == 0 && !strncmp(out, "unix://", 7) && !strcmp(out + 7, sock),
               "%s: start joins the pod's shim (exit %d, \"%s\")", ids[i], rc, out);
    }
    w[i].id = ids[i];
    char cmd[64];
    /* even tasks exit at once (the exit races Start's reply), odd ones after a moment */
    snprintf(cmd, sizeof cmd, i % 2 ? "sleep 0.3; exit %d" : "exit %d", exit_codes[i]);
    run_task(&e, &w[i], cmd, exit_codes[i]);
    if (i == 0) {
      /* the task is deleted by now: find the shim by its command line */
      shim_pid = st_shim_pid(&e, "ev-0", 5000);
      pid_t pids[4];
      size_t n = st_shim_pids(&e, pids, 4);
      st_check(&e, shim_pid > 0 && n == 1, "exactly one shim process serves the pod (found %zu)", n);
    }
  }
  st_check(&e, e.n_events == 0, "no events delivered while the endpoint is down (%zu)", e.n_events);
  int status = 0;
  int rc = st_state(&e, cl, "ev-0", &status, NULL, msg);
  st_check(&e, rc == CS_NOT_FOUND, "the shim still answers (State of a deleted task: NotFound, got %d)", rc);

  /* ≥ 5 s of outage after the last event was queued (containerd's publisher would give up by now). */
  st_sleep(&e, 5500);
  st_check(&e, shim_pid > 0 && st_pid_alive(shim_pid), "shim alive after 5.5 s of undeliverable events");

  if (!st_check(&e, st_events_listen(&e, NULL) == 0, "events server starts on the stale socket's path"))
    return st_finish(&e);
  size_t want_n = 4 * N_TASKS;
  bool all = st_wait_until(&e, 30000, have_events, &want_n);
  st_check(&e, all, "all %zu events arrive once the endpoint is back (got %zu)", want_n, e.n_events);
  st_sleep(&e, 2500); /* anything duplicated or late shows up now */
  st_check(&e, e.n_events == want_n, "exactly %zu events, no duplicates (got %zu)", want_n, e.n_events);
  for (int i = 0; i < N_TASKS; i++) check_task_events(&e, &w[i]);
  for (size_t i = 0; i < e.n_events; i++) {
    bool known = false;
    for (int k = 0; k < N_TASKS; k++) known = known || !strcmp(e.events[i].container_id, ids[k]);
    if (!known) st_diag("unexpected event %s for \"%s\"", e.events[i].topic, e.events[i].container_id);
  }

  /* ---- phase 2: containerd goes away mid-run (the shim's connection drops) and comes back */
  st_events_close(&e);
  size_t before = e.n_events;
  w[N_TASKS].id = "ev-outage";
  run_task(&e, &w[N_TASKS], "exit 99", 99);
  st_sleep(&e, 3000);
  st_check(&e, e.n_events == before, "nothing delivered while the events server is closed");
  st_check(&e, st_events_listen(&e, NULL) == 0, "events server reopened");
  want_n = before + 4;
  bool got = st_wait_until(&e, 30000, have_events, &want_n);
  st_check(&e, got, "the outage's 4 events arrive after reconnect (got %zu)", e.n_events - before);
  st_sleep(&e, 1000);
  check_task_events(&e, &w[N_TASKS]);

  /* ---- phase 3: containerd answers Unavailable for a while (busy): retried, not dropped */
  before = e.n_events;
  e.ev_reject = true;
  w[N_TASKS + 1].id = "ev-busy";
  run_task(&e, &w[N_TASKS + 1], "exit 77", 77);
  st_sleep(&e, 4000);
  st_check(&e, e.n_events == before, "nothing recorded while the server answers Unavailable");
  e.ev_reject = false;
  want_n = before + 4;
  got = st_wait_until(&e, 30000, have_events, &want_n);
  st_check(&e, got, "the 4 events refused with Unavailable arrive when it accepts again (got %zu)", e.n_events - before);
  st_sleep(&e, 1000);
  check_task_events(&e, &w[N_TASKS + 1]);
  st_check(&e, e.n_events == 4 * (N_TASKS + 2), "total %d events, none duplicated (got %zu)", 4 * (N_TASKS + 2),
           e.n_events);

  /* ---- Shutdown with no task left: the shim exits and removes its socket */
  rc = st_shutdown(&e, cl, msg);
  /* containerd takes ttrpc.ErrClosed as success: the shim may exit before its reply is out */
  st_check(&e, rc == CS_OK || rc == CS_UNAVAILABLE, "Shutdown accepted (code %d %s)", rc, msg);
  if (rc == CS_UNAVAILABLE) st_diag("the shim closed the connection before Shutdown's reply went out");
  st_close(&e, cl);
  cl = NULL;
  bool gone = false;
  for (int i = 0; i < 150 && !gone; i++) {
    gone = !st_pid_alive(shim_pid);
    if (!gone) st_sleep(&e, 100);
  }
  st_check(&e, gone, "shim %d exits after Shutdown", (int)shim_pid);
  struct stat sst;
  st_check(&e, stat(sock, &sst) < 0 && errno == ENOENT, "its socket %s is removed", sock);
  st_events_close(&e);
  printf("# fault_events: %.1f s\n", st_elapsed(&e));
  return st_finish(&e);
}
