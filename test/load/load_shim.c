/* load_shim: many clients hammer one shim with a mix of Task API calls.
 *
 * One shim serves two running busybox tasks (the second joins through the sandbox annotation). CLIENTS
 * connections (default 64), multiplexed on one libuv loop, each keep one call in flight until they have
 * made CALLS calls (default 10,000): State, Stats, Pids, and Wait with a short timeout (the tasks never
 * exit, so DeadlineExceeded is the expected answer to those Waits). Every other answer must be OK and
 * decode. The shim's VmRSS is measured after a warm-up round and after the run (connections still open):
 * it must grow by at most 64 KiB. Then connection churn: CHURN (default 2 × CALLS) short-lived connections
 * each leave a Wait pending (no timeout) and hang up, which the shim must clean up: RSS again within
 * 64 KiB, measured against the steady state reached by warm-up churn rounds. Before the churn, a third
 * round runs while 12 tasks and 12 execs are created, started, exit and are deleted beside it: no exit
 * may be lost (Wait, Delete and exactly one TaskExit each, with the right status, in order). Afterwards
 * the shim must still answer on a fresh connection.
 *
 * usage: load_shim SHIM WORK NS [CLIENTS [CALLS [CHURN]]] */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shimtest.h"

#define MAX_CLIENTS 256
#define WARMUP_CALLS 300
#define RSS_SLACK_KIB 64
#define WAIT_TIMEOUT_NS (10LL * 1000 * 1000)
#define CALL_TIMEOUT_NS (30LL * ST_SEC)
#define WATCHDOG_MS (300 * 1000)

enum { M_STATE, M_STATS, M_PIDS, M_WAIT, M_N };
static const char *const method_names[M_N] = {"State", "Stats", "Pids", "Wait"};
/* cumulative weights out of 100 */
static const int method_weight[M_N] = {35, 60, 90, 100};

static const char *const task_ids[] = {"load-a", "load-b"};
#define N_TASKS 2

typedef struct payload {
  uint8_t buf[128];
  size_t len;
} payload;

static payload payloads[M_N][N_TASKS];

typedef struct counts {
  uint64_t ok[M_N], deadline[M_N], other[M_N];
} counts;

typedef struct client {
  struct loadrun *run;
  ttrpc_client *c;
  int idx;
  uint64_t rng;
  int remaining;
  int method;
  bool busy;
} client;

typedef struct loadrun {
  st_env *e;
  client clients[MAX_CLIENTS];
  int n_clients;
  int active;
  counts cnt;
  char first_error[1024];
  uint64_t unexpected;
  char sock[512];
  bool endless, stop; /* a round that runs until stop is set (beside other work) */
} loadrun;

static uint64_t next_rand(uint64_t *s) {
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *s = x;
}

static void issue(client *cl);

static bool reply_decodes(int method, const uint8_t *p, size_t n) {
  switch (method) {
  case M_STATE: {
    Containerd__Task__V2__StateResponse *r = containerd__task__v2__state_response__unpack(NULL, n, p);
    bool ok = r && r->status == CONTAINERD__V1__TYPES__STATUS__RUNNING && r->pid > 0;
    if (r) containerd__task__v2__state_response__free_unpacked(r, NULL);
    return ok;
  }
  case M_STATS: {
    Containerd__Task__V2__StatsResponse *r = containerd__task__v2__stats_response__unpack(NULL, n, p);
    bool ok = r && r->stats && r->stats->type_url && *r->stats->type_url && r->stats->value.len > 0;
    if (r) containerd__task__v2__stats_response__free_unpacked(r, NULL);
    return ok;
  }
  case M_PIDS: {
    Containerd__Task__V2__PidsResponse *r = containerd__task__v2__pids_response__unpack(NULL, n, p);
    bool ok = r && r->n_processes >= 1;
    if (r) containerd__task__v2__pids_response__free_unpacked(r, NULL);
    return ok;
  }
  default:
    return false; /* a Wait that answers OK: the task exited, which it must not */
  }
}

static void on_reply(void *data, int code, const char *msg, const uint8_t *payload_, size_t len) {
  client *cl = data;
  loadrun *run = cl->run;
  int m = cl->method;
  cl->busy = false;
  bool expected;
  if (m == M_WAIT) {
    expected = code == CS_DEADLINE_EXCEEDED;
    if (expected) run->cnt.deadline[m]++;
  } else {
    expected = code == CS_OK && reply_decodes(m, payload_, len);
    if (expected) run->cnt.ok[m]++;
  }
  if (!expected) {
    run->cnt.other[m]++;
    if (run->unexpected++ == 0)
      snprintf(run->first_error, sizeof run->first_error, "client %d %s: code %d %s", cl->idx, method_names[m], code,
               code == CS_OK ? "(reply does not decode or is wrong)" : msg ? msg : "");
  }
  if (run->endless ? !run->stop : cl->remaining > 0) issue(cl);
  else run->active--;
}

static void issue(client *cl) {
  loadrun *run = cl->run;
  int r = (int)(next_rand(&cl->rng) % 100);
  int m = 0;
  while (r >= method_weight[m]) m++;
  int t = (int)(next_rand(&cl->rng) % N_TASKS);
  cl->method = m;
  cl->remaining--;
  cl->busy = true;
  ttrpc_kv md[1] = {{"containerd-namespace-ttrpc", run->e->ns}};
  cs_err err;
  if (ttrpc_client_call(cl->c, ST_TASK, method_names[m], payloads[m][t].buf, payloads[m][t].len, md, 1,
                        m == M_WAIT ? WAIT_TIMEOUT_NS : CALL_TIMEOUT_NS, on_reply, cl, &err) < 0) {
    cl->busy = false;
    run->cnt.other[m]++;
    if (run->unexpected++ == 0)
      snprintf(run->first_error, sizeof run->first_error, "client %d %s: %s", cl->idx, method_names[m], err.msg);
    run->active--;
  }
}

/* ---------------------------------------------------------------- churn: hang up with a Wait pending */
#define CHURN_SLOTS 32

typedef struct churn_slot {
  struct churn *ch;
  ttrpc_client *c;
  uv_timer_t closer;
  bool busy;
} churn_slot;

typedef struct churn {
  loadrun *run;
  churn_slot slots[CHURN_SLOTS];
  int to_start;
  int active;
  uint64_t completed, failed;
} churn;

static void churn_next(churn_slot *s);

static void churn_ignore(void *data, int code, const char *msg, const uint8_t *p, size_t n) {
  churn_slot *s = data;
  /* the pending Wait ends when we hang up (Cancelled) — any other answer means the task exited */
  if (code != CS_CANCELLED && code != CS_UNAVAILABLE) s->ch->failed++;
}

static void churn_close(uv_timer_t *t) {
  churn_slot *s = t->data;
  ttrpc_client_close(s->c);
  s->c = NULL;
  s->ch->completed++;
  churn_next(s);
}

static void churn_state(void *data, int code, const char *msg, const uint8_t *p, size_t n) {
  churn_slot *s = data;
  if (code != CS_OK) s->ch->failed++;
  /* the State answer proves the Wait before it was registered; hang up from a fresh loop turn */
  uv_timer_start(&s->closer, churn_close, 0, 0);
}

static void churn_connected(void *data, int status) {
  churn_slot *s = data;
  ttrpc_kv md[1] = {{"containerd-namespace-ttrpc", s->ch->run->e->ns}};
  cs_err err;
  if (status < 0 ||
      ttrpc_client_call(s->c, ST_TASK, "Wait", payloads[M_WAIT][0].buf, payloads[M_WAIT][0].len, md, 1, 0,
                        churn_ignore, s, &err) < 0 ||
      ttrpc_client_call(s->c, ST_TASK, "State", payloads[M_STATE][0].buf, payloads[M_STATE][0].len, md, 1,
                        CALL_TIMEOUT_NS, churn_state, s, &err) < 0) {
    s->ch->failed++;
    uv_timer_start(&s->closer, churn_close, 0, 0);
  }
}

static void churn_next(churn_slot *s) {
  churn *ch = s->ch;
  if (ch->to_start == 0) {
    s->busy = false;
    ch->active--;
    return;
  }
  ch->to_start--;
  cs_err err;
  s->c = ttrpc_client_new(ch->run->e->loop);
  if (!s->c || ttrpc_client_connect(s->c, ch->run->sock, churn_connected, s, &err) < 0) {
    ch->failed++;
    if (s->c) ttrpc_client_close(s->c);
    s->c = NULL;
    s->busy = false;
    ch->active--;
  }
}

static bool churn_done(st_env *e, void *data) {
  (void)e;
  return ((churn *)data)->active == 0;
}

static bool churn_run(loadrun *run, int n, uint64_t *failed) {
  static churn ch;
  memset(&ch, 0, sizeof ch);
  ch.run = run;
  ch.to_start = n;
  ch.active = CHURN_SLOTS;
  for (int i = 0; i < CHURN_SLOTS; i++) {
    ch.slots[i].ch = &ch;
    ch.slots[i].busy = true;
    uv_timer_init(run->e->loop, &ch.slots[i].closer);
    ch.slots[i].closer.data = &ch.slots[i];
  }
  for (int i = 0; i < CHURN_SLOTS; i++) churn_next(&ch.slots[i]);
  bool done = st_wait_until(run->e, WATCHDOG_MS, churn_done, &ch);
  for (int i = 0; i < CHURN_SLOTS; i++) {
    if (ch.slots[i].c) ttrpc_client_close(ch.slots[i].c);
    uv_close((uv_handle_t *)&ch.slots[i].closer, NULL);
  }
  st_sleep(run->e, 50);
  *failed = ch.failed;
  return done && ch.completed == (uint64_t)n;
}

static bool all_done(st_env *e, void *data) {
  (void)e;
  return ((loadrun *)data)->active == 0;
}

/* One round: every client makes `calls` calls. round_begin sends the first calls; the loop (any st_ call
 * turns it) carries the round on; round_end waits for it. round_end is false if the watchdog fired. */
static void round_begin(loadrun *run, int calls) {
  run->active = run->n_clients;
  for (int i = 0; i < run->n_clients; i++) {
    run->clients[i].remaining = calls;
    issue(&run->clients[i]);
  }
}

static bool round_end(loadrun *run) { return st_wait_until(run->e, WATCHDOG_MS, all_done, run); }

static bool round_run(loadrun *run, int calls) {
  round_begin(run, calls);
  return round_end(run);
}

/* ---------------------------------------------------------------- exits under load */
#define N_LIFE 12

/* While a round runs: N_LIFE tasks and N_LIFE execs (in load-a) that exit with distinct statuses. Each
 * exit must be reported by Wait and Delete, and by exactly one TaskExit event with that status. */
static void lifecycle_under_load(st_env *e, ttrpc_client *ctl) {
  char msg[CS_ERR_MSG_MAX];
  int task_ok = 0, exec_ok = 0;
  for (int i = 0; i < N_LIFE; i++) {
    char id[32], bundle[1024], cmd[64];
    snprintf(id, sizeof id, "life-%d", i);
    st_path(bundle, sizeof bundle, "%s/b-%s", e->work, id);
    snprintf(cmd, sizeof cmd, i % 2 ? "exit %d" : "sleep 0.1; exit %d", 100 + i);
    const char *args[] = {"sh", "-c", cmd, NULL};
    uint32_t code = 999;
    int rc = st_bundle(e, bundle, id, args, NULL) < 0 ? CS_INTERNAL : CS_OK;
    if (rc == CS_OK) rc = st_create(e, ctl, id, bundle, NULL, NULL, msg);
    if (rc == CS_OK) rc = st_start(e, ctl, id, NULL, msg);
    if (rc == CS_OK) rc = st_wait(e, ctl, id, 60 * ST_SEC, &code, msg);
    uint32_t dcode = 999;
    if (rc == CS_OK) rc = st_delete(e, ctl, id, &dcode, msg);
    if (rc == CS_OK && code == (uint32_t)(100 + i) && dcode == code) task_ok++;
    else st_diag("%s: code %d %s, wait %u, delete %u", id, rc, msg, code, dcode);
  }
  st_check(e, task_ok == N_LIFE, "under load: %d tasks created, started, exited (Wait and Delete statuses right): %d",
           N_LIFE, task_ok);

  Google__Protobuf__Any spec = GOOGLE__PROTOBUF__ANY__INIT;
  spec.type_url = "types.containerd.io/opencontainers/runtime-spec/1/Process";
  for (int i = 0; i < N_LIFE; i++) {
    char xid[32], proc[256];
    snprintf(xid, sizeof xid, "x-%d", i);
    snprintf(proc, sizeof proc,
             "{\"args\":[\"sh\",\"-c\",\"%sexit %d\"],\"cwd\":\"/\",\"env\":[\"PATH=/bin\"],"
             "\"user\":{\"uid\":0,\"gid\":0}}",
             i % 2 ? "" : "sleep 0.1; ", 150 + i);
    spec.value.data = (uint8_t *)proc;
    spec.value.len = strlen(proc);
    Containerd__Task__V2__ExecProcessRequest x = CONTAINERD__TASK__V2__EXEC_PROCESS_REQUEST__INIT;
    x.id = (char *)task_ids[0];
    x.exec_id = xid;
    x.spec = &spec;
    Containerd__Task__V2__StartRequest s = CONTAINERD__TASK__V2__START_REQUEST__INIT; /* {id, exec_id}: also Wait, Delete */
    s.id = (char *)task_ids[0];
    s.exec_id = xid;
    int rc = st_rpc(e, ctl, "Exec", &x.base, NULL, NULL, 60 * ST_SEC, msg);
    if (rc == CS_OK) rc = st_rpc(e, ctl, "Start", &s.base, NULL, NULL, 60 * ST_SEC, msg);
    Containerd__Task__V2__WaitResponse *wr = NULL;
    if (rc == CS_OK)
      rc = st_rpc(e, ctl, "Wait", &s.base, &containerd__task__v2__wait_response__descriptor, (ProtobufCMessage **)&wr,
                  60 * ST_SEC, msg);
    uint32_t code = wr ? wr->exit_status : 999;
    if (wr) containerd__task__v2__wait_response__free_unpacked(wr, NULL);
    Containerd__Task__V2__DeleteResponse *dr = NULL;
    if (rc == CS_OK)
      rc = st_rpc(e, ctl, "Delete", &s.base, &containerd__task__v2__delete_response__descriptor,
                  (ProtobufCMessage **)&dr, 60 * ST_SEC, msg);
    uint32_t dcode = dr ? dr->exit_status : 999;
    if (dr) containerd__task__v2__delete_response__free_unpacked(dr, NULL);
    if (rc == CS_OK && code == (uint32_t)(150 + i) && dcode == code) exec_ok++;
    else st_diag("exec %s: code %d %s, wait %u, delete %u", xid, rc, msg, code, dcode);
  }
  st_check(e, exec_ok == N_LIFE, "under load: %d execs started and exited (Wait and Delete statuses right): %d", N_LIFE,
           exec_ok);
}

static bool events_for_life(st_env *e, void *data) {
  (void)data;
  size_t exits = 0;
  for (size_t i = 0; i < e->n_events; i++) exits += !strcmp(e->events[i].topic, "/tasks/exit");
  return exits >= 2 * N_LIFE;
}

/* Every exit of the lifecycle phase reached the events server once, with its status, after its start. */
static void check_life_events(st_env *e) {
  st_wait_until(e, 30000, events_for_life, NULL);
  st_sleep(e, 500);
  int tasks_ok = 0, execs_ok = 0;
  for (int i = 0; i < N_LIFE; i++) {
    char id[32], xid[32];
    snprintf(id, sizeof id, "life-%d", i);
    snprintf(xid, sizeof xid, "x-%d", i);
    const st_event *ev[8];
    size_t n = st_events_for(e, id, ev, 8);
    if (n == 4 && !strcmp(ev[0]->topic, "/tasks/create") && !strcmp(ev[1]->topic, "/tasks/start") &&
        !strcmp(ev[2]->topic, "/tasks/exit") && !strcmp(ev[3]->topic, "/tasks/delete") &&
        ev[2]->exit_status == (uint32_t)(100 + i))
      tasks_ok++;
    else
      st_diag("%s: %zu events", id, n);
    /* exec: exec-added, exec-started, exit (id = exec id) — in that order, once each */
    int added = -1, started = -1, exited = -1, n_exit = 0;
    uint32_t status = 999;
    for (size_t k = 0; k < e->n_events; k++) {
      const st_event *v = &e->events[k];
      if (strcmp(v->container_id, task_ids[0]) || strcmp(v->exec_id, xid)) continue;
      if (!strcmp(v->topic, "/tasks/exec-added")) added = (int)k;
      if (!strcmp(v->topic, "/tasks/exec-started")) started = (int)k;
      if (!strcmp(v->topic, "/tasks/exit")) exited = (int)k, n_exit++, status = v->exit_status;
    }
    if (added >= 0 && added < started && started < exited && n_exit == 1 && status == (uint32_t)(150 + i)) execs_ok++;
    else st_diag("exec %s: added %d started %d exit %d (%d exits, status %u)", xid, added, started, exited, n_exit, status);
  }
  st_check(e, tasks_ok == N_LIFE, "under load: every task's events create → start → exit (status) → delete, once (%d)",
           tasks_ok);
  st_check(e, execs_ok == N_LIFE, "under load: every exec's events exec-added → exec-started → exit (status), once (%d)",
           execs_ok);
}

static void pack_payloads(void) {
  for (int t = 0; t < N_TASKS; t++) {
    Containerd__Task__V2__StateRequest s = CONTAINERD__TASK__V2__STATE_REQUEST__INIT;
    s.id = (char *)task_ids[t];
    payloads[M_STATE][t].len = containerd__task__v2__state_request__pack(&s, payloads[M_STATE][t].buf);
    Containerd__Task__V2__StatsRequest st = CONTAINERD__TASK__V2__STATS_REQUEST__INIT;
    st.id = (char *)task_ids[t];
    payloads[M_STATS][t].len = containerd__task__v2__stats_request__pack(&st, payloads[M_STATS][t].buf);
    Containerd__Task__V2__PidsRequest p = CONTAINERD__TASK__V2__PIDS_REQUEST__INIT;
    p.id = (char *)task_ids[t];
    payloads[M_PIDS][t].len = containerd__task__v2__pids_request__pack(&p, payloads[M_PIDS][t].buf);
    Containerd__Task__V2__WaitRequest w = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;
    w.id = (char *)task_ids[t];
    payloads[M_WAIT][t].len = containerd__task__v2__wait_request__pack(&w, payloads[M_WAIT][t].buf);
  }
}

static void report_counts(const loadrun *run, const counts *base) {
  for (int m = 0; m < M_N; m++)
    printf("#   %-5s ok %8llu  deadline-exceeded %8llu  unexpected %llu\n", method_names[m],
           (unsigned long long)(run->cnt.ok[m] - base->ok[m]),
           (unsigned long long)(run->cnt.deadline[m] - base->deadline[m]),
           (unsigned long long)(run->cnt.other[m] - base->other[m]));
}

int main(int argc, char **argv) {
  st_env e;
  if (st_init(&e, argc, argv) < 0) return 2;
  int n_clients = argc > 4 ? atoi(argv[4]) : 64;
  int calls = argc > 5 ? atoi(argv[5]) : 10000;
  if (n_clients < 1 || n_clients > MAX_CLIENTS || calls < 1) {
    fprintf(stderr, "bad CLIENTS/CALLS\n");
    return 2;
  }
  bool sanitized = getenv("ST_SHIM_SANITIZED") && !strcmp(getenv("ST_SHIM_SANITIZED"), "1");
  static loadrun run;
  run.e = &e;
  char sock[512], msg[CS_ERR_MSG_MAX], bundle[2][1024];
  ttrpc_client *ctl = NULL;
  pack_payloads();
  st_events_listen(&e, NULL);

  const char *sleeper[] = {"sleep", "3600", NULL};
  for (int t = 0; t < N_TASKS; t++) {
    st_path(bundle[t], sizeof bundle[t], "%s/b-%s", e.work, task_ids[t]);
    if (st_bundle(&e, bundle[t], task_ids[t], sleeper, t ? task_ids[0] : NULL) < 0) goto out;
  }
  if (!st_check(&e, st_shim_start_ok(&e, bundle[0], task_ids[0], sock, sizeof sock) == 0, "shim started")) goto out;
  cs_err err;
  ctl = st_connect(&e, sock, &err);
  if (!st_check(&e, ctl != NULL, "control connection %s", ctl ? "" : err.msg)) goto out;
  bool started = true;
  for (int t = 0; t < N_TASKS; t++) {
    int rc = st_create(&e, ctl, task_ids[t], bundle[t], NULL, NULL, msg);
    if (rc == CS_OK) rc = st_start(&e, ctl, task_ids[t], NULL, msg);
    started = started && st_check(&e, rc == CS_OK, "task %s running (%d %s)", task_ids[t], rc, msg);
  }
  uint32_t shim_pid = 0;
  st_connect_rpc(&e, ctl, task_ids[0], &shim_pid, NULL, msg);
  if (!started || !st_check(&e, shim_pid > 0, "shim pid %u from Connect", shim_pid)) goto out;

  run.n_clients = n_clients;
  int connected = 0;
  for (int i = 0; i < n_clients; i++) {
    client *cl = &run.clients[i];
    cl->run = &run;
    cl->idx = i;
    cl->rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1);
    cl->c = st_connect(&e, sock, &err);
    if (cl->c) connected++;
    else st_diag("client %d: %s", i, err.msg);
  }
  if (!st_check(&e, connected == n_clients, "%d clients connected (%d)", n_clients, connected)) goto out;

  /* warm-up: buffers, connection state and malloc arenas reach their working size */
  bool done = round_run(&run, WARMUP_CALLS);
  st_check(&e, done && run.unexpected == 0, "warm-up: %d × %d calls, no unexpected answer%s%s", n_clients,
           WARMUP_CALLS, run.unexpected ? ": " : "", run.first_error);
  st_sleep(&e, 300); /* server-side Wait deadlines fire and the answered calls are freed */
  long rss_before = st_rss_kib((pid_t)shim_pid);

  counts base = run.cnt;
  uint64_t unexpected_before = run.unexpected;
  uint64_t t0 = uv_hrtime();
  done = round_run(&run, calls);
  double secs = (double)(uv_hrtime() - t0) / 1e9;
  uint64_t total = (uint64_t)n_clients * (uint64_t)calls;
  st_check(&e, done, "all %d clients finished %d calls each (%llu calls in %.1f s, %.0f/s)", n_clients, calls,
           (unsigned long long)total, secs, (double)total / secs);
  report_counts(&run, &base);
  st_check(&e, run.unexpected == unexpected_before, "zero unexpected errors (%llu%s%s)",
           (unsigned long long)(run.unexpected - unexpected_before), run.unexpected ? "; first: " : "",
           run.first_error);
  uint64_t waits = run.cnt.deadline[M_WAIT] - base.deadline[M_WAIT];
  st_check(&e, waits > 0, "Waits answered DeadlineExceeded (%llu)", (unsigned long long)waits);

  st_sleep(&e, 300);
  long rss_after = st_rss_kib((pid_t)shim_pid);
  printf("# shim VmRSS: %ld KiB after warm-up, %ld KiB after the run (%+ld KiB)\n", rss_before, rss_after,
         rss_after - rss_before);
  /* A sanitizer build's allocator holds freed memory (quarantine): its RSS says nothing about leaks, and
   * LeakSanitizer judges that build instead. The plain build (the shipped one) runs these checks, and
   * load_shim_catches_leak shows they fail on a leaking shim. */
  if (sanitized)
    printf("# RSS growth is judged on the plain build (a sanitizer's allocator holds freed memory)\n");
  else
    st_check(&e, rss_before > 0 && rss_after > 0 && rss_after - rss_before <= RSS_SLACK_KIB,
             "shim RSS after the run within %d KiB of after warm-up (%ld → %ld KiB)", RSS_SLACK_KIB, rss_before,
             rss_after);

  /* exits under load: a third round while tasks and execs come and go */
  base = run.cnt;
  unexpected_before = run.unexpected;
  run.endless = true;
  run.stop = false;
  round_begin(&run, 1);
  lifecycle_under_load(&e, ctl);
  run.stop = true;
  done = round_end(&run);
  run.endless = false;
  uint64_t beside = 0;
  for (int m = 0; m < M_N; m++)
    beside += run.cnt.ok[m] + run.cnt.deadline[m] + run.cnt.other[m] - base.ok[m] - base.deadline[m] - base.other[m];
  st_check(&e, done && run.unexpected == unexpected_before,
           "the load beside them (%d clients, %llu calls until the last delete) had no unexpected answer (%llu)",
           n_clients, (unsigned long long)beside, (unsigned long long)(run.unexpected - unexpected_before));
  check_life_events(&e);

  /* the clients go away */
  for (int i = 0; i < n_clients; i++) st_close(&e, run.clients[i].c), run.clients[i].c = NULL;
  st_sleep(&e, 200);

  /* churn: connections that hang up with a Wait pending */
  snprintf(run.sock, sizeof run.sock, "%s", sock);
  uint64_t failed = 0;
  /* warm-up until the RSS is steady: the first rounds still grow the heap to its working size */
  long rss_churn0 = -1, prev = -1;
  int rounds = 0;
  bool warm_ok = true;
  for (; rounds < 6; rounds++) {
    done = churn_run(&run, 2000, &failed);
    warm_ok = warm_ok && done && failed == 0;
    st_sleep(&e, 300);
    rss_churn0 = st_rss_kib((pid_t)shim_pid);
    if (prev >= 0 && labs(rss_churn0 - prev) <= 8) break;
    prev = rss_churn0;
  }
  st_check(&e, warm_ok, "churn warm-up: %d × 2000 connections hang up with a Wait pending (RSS steady at %ld KiB)",
           rounds + 1, rss_churn0);
  int n_churn = argc > 6 ? atoi(argv[6]) : calls * 2 > 2000 ? calls * 2 : 2000;
  done = churn_run(&run, n_churn, &failed);
  st_check(&e, done && failed == 0, "churn: %d connections hang up with a Wait pending (%llu failed)", n_churn,
           (unsigned long long)failed);
  st_sleep(&e, 300);
  long rss_churn1 = st_rss_kib((pid_t)shim_pid);
  printf("# shim VmRSS: %ld KiB after churn warm-up, %ld KiB after churn (%+ld KiB)\n", rss_churn0, rss_churn1,
         rss_churn1 - rss_churn0);
  if (sanitized)
    printf("# RSS growth after churn is judged on the plain build\n");
  else
    st_check(&e, rss_churn0 > 0 && rss_churn1 > 0 && rss_churn1 - rss_churn0 <= RSS_SLACK_KIB,
             "shim RSS after churn within %d KiB of after its warm-up (%ld → %ld KiB)", RSS_SLACK_KIB, rss_churn0,
             rss_churn1);

  /* the shim keeps answering */
  ttrpc_client *fresh = st_connect(&e, sock, &err);
  int status = 0;
  int rc = fresh ? st_state(&e, fresh, task_ids[0], &status, NULL, msg) : CS_UNAVAILABLE;
  uint32_t spid2 = 0;
  int rc2 = fresh ? st_connect_rpc(&e, fresh, task_ids[1], &spid2, NULL, msg) : CS_UNAVAILABLE;
  st_check(&e, rc == CS_OK && status == 2 && rc2 == CS_OK && spid2 == shim_pid,
           "after the run a fresh connection gets State (running) and Connect (same shim %u)", spid2);
  st_check(&e, st_pid_alive((pid_t)shim_pid), "shim %u alive", shim_pid);
  st_close(&e, fresh);

out:
  for (int i = 0; i < n_clients && i < MAX_CLIENTS; i++)
    if (run.clients[i].c) st_close(&e, run.clients[i].c);
  if (ctl) {
    for (int t = 0; t < N_TASKS; t++) st_remove_task(&e, ctl, task_ids[t]);
    int sd = 0;
    bool gone = st_shutdown_exit(&e, ctl, (pid_t)shim_pid, &sd);
    st_check(&e, gone, "shim %u exits after Shutdown (%d)", shim_pid, sd);
  }
  st_events_close(&e);
  printf("# load_shim: %.1f s\n", st_elapsed(&e));
  return st_finish(&e);
}
