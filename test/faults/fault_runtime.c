/* fault_runtime: an OCI runtime that fails or hangs (WORK/fake-runc, selected through the runtime options'
 * binary_name; the bundle's `fake-mode` file picks the misbehaviour, anything else goes to runc).
 *
 *  fail  `create` exits 1 after writing a runc-style JSON error to its --log file: the Create RPC fails with
 *        that message, the shim stays up and runs the next task.
 *  hang  `create` never returns: a Create with a client timeout gets DeadlineExceeded, and while that
 *        runtime is stuck, State/Stats/Pids/Connect of another task of the same shim (a pod's second
 *        container, joined through the sandbox annotation) keep answering — the loop never blocks. Once
 *        the runtime is killed the stuck task is gone and the pod task is unharmed.
 *  per-task options  in a pod shim whose first task uses runc, a second task's Create naming the fake
 *        runtime must use it (containerd-shim-runc-v2 reads the options of every Create).
 *  killed  the pod shim dies (SIGKILL) with two tasks running: containerd's cleanup, `shim delete` per
 *        task, answers DeleteResponse{pid, 137}, removes each container, and runs the task's own runtime
 *        (runc-v2 keeps every task's options in its bundle for this). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "containerd/runc/options.pb-c.h"
#include "shimtest.h"

static char fake[1024];

static int write_mode(const char *bundle, const char *mode) {
  char path[1100];
  st_path(path, sizeof path, "%s/fake-mode", bundle);
  FILE *f = fopen(path, "we");
  if (!f) return -1;
  fprintf(f, "%s\n", mode);
  return fclose(f);
}

static int make_bundle(st_env *e, const char *id, const char *const *args, const char *sandbox, const char *mode,
                       char *out, size_t len) {
  st_path(out, len, "%s/b-%s", e->work, id);
  if (st_bundle(e, out, id, args, sandbox) < 0) return -1;
  return mode ? write_mode(out, mode) : 0;
}

static pid_t hung_runtime(st_env *e) {
  char path[1024], buf[64] = {0};
  st_path(path, sizeof path, "%s/fake.pids", e->work);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  return n > 0 ? (pid_t)atoi(buf) : 0;
}

typedef struct async_call {
  bool done;
  int code;
  char msg[CS_ERR_MSG_MAX];
} async_call;

static void async_done(void *data, int code, const char *msg, const uint8_t *payload, size_t len) {
  async_call *a = data;
  a->done = true;
  a->code = code;
  snprintf(a->msg, sizeof a->msg, "%s", msg ? msg : "");
}

static bool async_finished(st_env *e, void *data) { return ((async_call *)data)->done; }

/* ---------------------------------------------------------------- fail */
static void test_fail(st_env *e) {
  char b_fail[1024], b_ok[1024], sock[512], msg[CS_ERR_MSG_MAX];
  const char *t[] = {"true", NULL};
  const char *exit6[] = {"sh", "-c", "exit 6", NULL};
  if (make_bundle(e, "rt-fail", t, NULL, "fail", b_fail, sizeof b_fail) < 0 ||
      make_bundle(e, "rt-ok", exit6, "rt-fail", NULL, b_ok, sizeof b_ok) < 0 ||
      st_shim_start_ok(e, b_fail, "rt-fail", sock, sizeof sock) < 0) {
    st_check(e, false, "fail: shim started for rt-fail");
    return;
  }
  cs_err err;
  ttrpc_client *cl = st_connect(e, sock, &err);
  if (!st_check(e, cl != NULL, "fail: connect to the shim %s", cl ? "" : err.msg)) return;
  pid_t shim[1] = {st_shim_pid(e, "rt-fail", 5000)};

  st_create_opts o = {.binary_name = fake};
  int rc = st_create(e, cl, "rt-fail", b_fail, &o, NULL, msg);
  st_check(e, rc != CS_OK, "fail: Create through a failing runtime fails (code %d)", rc);
  st_check(e, strstr(msg, "boom: fake runtime refused to create rt-fail") != NULL,
           "fail: the error carries the runtime's log message (\"%s\")", msg);
  st_check(e, rc == CS_UNKNOWN, "fail: the code is the runtime's failure, Unknown (got %d)", rc);
  int status = 0;
  rc = st_state(e, cl, "rt-fail", &status, NULL, msg);
  st_check(e, rc == CS_NOT_FOUND, "fail: the failed task is not kept (State %d %s)", rc, msg);
  st_check(e, shim[0] > 0 && st_pid_alive(shim[0]), "fail: shim %d still up", (int)shim[0]);

  uint32_t code = 999;
  rc = st_create(e, cl, "rt-ok", b_ok, &o, NULL, msg);
  if (rc == CS_OK) rc = st_start(e, cl, "rt-ok", NULL, msg);
  if (rc == CS_OK) rc = st_wait(e, cl, "rt-ok", 30 * ST_SEC, &code, msg);
  if (rc == CS_OK) rc = st_delete(e, cl, "rt-ok", NULL, msg);
  st_check(e, rc == CS_OK && code == 6, "fail: the same shim then runs a task to exit 6 (%d %s, %u)", rc, msg, code);
  st_remove_task(e, cl, "rt-ok");
  bool gone = st_shutdown_exit(e, cl, shim[0], &rc);
  st_check(e, gone, "fail: shim %d exits after Shutdown with no task left (Shutdown: %d)", (int)shim[0], rc);
}

/* ---------------------------------------------------------------- hang */
static void test_hang(st_env *e) {
  char b_pod[1024], b_hang[1024], sock[512], out[1024], msg[CS_ERR_MSG_MAX];
  const char *sleeper[] = {"sleep", "600", NULL};
  const char *t[] = {"true", NULL};
  if (make_bundle(e, "rt-pod", sleeper, NULL, NULL, b_pod, sizeof b_pod) < 0 ||
      make_bundle(e, "rt-hang", t, "rt-pod", "hang", b_hang, sizeof b_hang) < 0 ||
      st_shim_start_ok(e, b_pod, "rt-pod", sock, sizeof sock) < 0) {
    st_check(e, false, "hang: shim started for the pod");
    return;
  }
  cs_err err;
  ttrpc_client *cl = st_connect(e, sock, &err);
  ttrpc_client *cl2 = cl ? st_connect(e, sock, &err) : NULL;
  if (!st_check(e, cl && cl2, "hang: two connections to the pod shim %s", cl && cl2 ? "" : err.msg)) {
    st_close(e, cl);
    return;
  }
  st_create_opts o = {.binary_name = fake};
  uint32_t pid = 0;
  int rc = st_create(e, cl, "rt-pod", b_pod, &o, &pid, msg);
  if (rc == CS_OK) rc = st_start(e, cl, "rt-pod", NULL, msg);
  st_check(e, rc == CS_OK, "hang: pod task created and started through the pass-through runtime (%d %s)", rc, msg);

  rc = st_shim_start(e, b_hang, "rt-hang", NULL, out, sizeof out);
  st_check(e, rc == 0 && !strncmp(out, "unix://", 7) && !strcmp(out + 7, sock),
           "hang: start of the second task joins the pod shim (\"%s\")", out);

  /* The Create that hangs, asynchronously, with a client timeout. */
  Containerd__Task__V2__CreateTaskRequest r = CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
  r.id = "rt-hang";
  r.bundle = b_hang;
  Containerd__Runc__V1__Options ro = CONTAINERD__RUNC__V1__OPTIONS__INIT;
  ro.binary_name = fake;
  uint8_t obuf[1200], rbuf[4096];
  Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
  any.type_url = "containerd.runc.v1.Options";
  any.value.data = obuf;
  any.value.len = containerd__runc__v1__options__pack(&ro, obuf);
  r.options = &any;
  size_t rlen = containerd__task__v2__create_task_request__pack(&r, rbuf);
  ttrpc_kv md[1] = {{"containerd-namespace-ttrpc", e->ns}};
  async_call create = {0};
  rc = ttrpc_client_call(cl, ST_TASK, "Create", rbuf, rlen, md, 1, 3 * ST_SEC, async_done, &create, &err);
  if (!st_check(e, rc == 0, "hang: Create sent with a 3 s timeout %s", rc ? err.msg : "")) goto out;

  /* Until the runtime has started and hangs. */
  pid_t hung = 0;
  for (int i = 0; i < 100 && !(hung = hung_runtime(e)); i++) st_sleep(e, 20);
  st_check(e, hung > 0 && !create.done, "hang: the runtime's create is hanging (pid %d), Create unanswered", (int)hung);

  /* Meanwhile the other task of the shim answers (liveness bounds: 5 s each). */
  int status = 0;
  int answered = 0, tries = 0;
  while (!create.done && tries < 20) {
    tries++;
    int s1 = st_state(e, cl2, "rt-pod", &status, NULL, msg);
    Containerd__Task__V2__StatsRequest sr = CONTAINERD__TASK__V2__STATS_REQUEST__INIT;
    sr.id = "rt-pod";
    int s2 = st_rpc(e, cl2, "Stats", &sr.base, NULL, NULL, 5 * ST_SEC, msg);
    Containerd__Task__V2__PidsRequest pr = CONTAINERD__TASK__V2__PIDS_REQUEST__INIT;
    pr.id = "rt-pod";
    int s3 = st_rpc(e, cl2, "Pids", &pr.base, NULL, NULL, 5 * ST_SEC, msg);
    uint32_t spid = 0, tpid = 0;
    int s4 = st_connect_rpc(e, cl2, "rt-pod", &spid, &tpid, msg);
    if (s1 == CS_OK && status == 2 && s2 == CS_OK && s3 == CS_OK && s4 == CS_OK && tpid == pid) answered++;
    else st_diag("during the hang: State %d (status %d) Stats %d Pids %d Connect %d (%s)", s1, status, s2, s3, s4, msg);
    if (!create.done) st_sleep(e, 50);
  }
  st_check(e, answered > 0 && answered == tries,
           "hang: State/Stats/Pids/Connect of the pod task answered %d of %d rounds while the create hung", answered,
           tries);
  rc = st_delete(e, cl2, "rt-hang", NULL, msg);
  if (!create.done)
    st_check(e, rc == CS_FAILED_PRECONDITION || rc == CS_NOT_FOUND,
             "hang: Delete of the task being created answers FailedPrecondition (%d %s)", rc, msg);

  st_wait_until(e, 30000, async_finished, &create);
  st_check(e, create.done && create.code == CS_DEADLINE_EXCEEDED, "hang: Create gets DeadlineExceeded (%d %s)",
           create.code, create.msg);
  rc = st_state(e, cl2, "rt-pod", &status, NULL, msg);
  st_check(e, rc == CS_OK && status == 2, "hang: pod task still running after the timeout (%d, status %d)", rc, status);

  /* The runtime dies: the stuck Create completes (as a failure) inside the shim, nothing is left of it. */
  if (hung > 0) kill(hung, SIGKILL);
  bool gone = false;
  for (int i = 0; i < 100 && !gone; i++) {
    gone = st_state(e, cl2, "rt-hang", &status, NULL, msg) == CS_NOT_FOUND;
    if (!gone) st_sleep(e, 50);
  }
  st_check(e, gone, "hang: once the runtime is killed the stuck task is gone (State NotFound)");
  rc = st_state(e, cl2, "rt-pod", &status, NULL, msg);
  st_check(e, rc == CS_OK && status == 2, "hang: pod task unharmed (%d, status %d)", rc, status);
  /* and the id can be used again: the runtime's fail mode now */
  write_mode(b_hang, "fail");
  st_create_opts o2 = {.binary_name = fake, .timeout_ns = 30 * ST_SEC};
  rc = st_create(e, cl2, "rt-hang", b_hang, &o2, NULL, msg);
  st_check(e, rc == CS_UNKNOWN && strstr(msg, "boom") != NULL, "hang: a new Create of that id reaches the runtime (%d %s)",
           rc, msg);
out:
  st_remove_task(e, cl2, "rt-hang");
  st_remove_task(e, cl2, "rt-pod");
  st_close(e, cl);
  pid_t shim = st_shim_pid(e, "rt-pod", 0);
  {
    bool gone_sd = st_shutdown_exit(e, cl2, shim, &rc);
    st_check(e, gone_sd, "hang: pod shim %d exits after Shutdown (%d)", (int)shim, rc);
  }
}

/* ---------------------------------------------------------------- options per task */
static void test_options_per_task(st_env *e) {
  char b_plain[1024], b_opt[1024], sock[512], msg[CS_ERR_MSG_MAX];
  const char *sleeper[] = {"sleep", "600", NULL};
  const char *t[] = {"true", NULL};
  if (make_bundle(e, "rt-plain", sleeper, NULL, NULL, b_plain, sizeof b_plain) < 0 ||
      make_bundle(e, "rt-opt", t, "rt-plain", "fail", b_opt, sizeof b_opt) < 0 ||
      st_shim_start_ok(e, b_plain, "rt-plain", sock, sizeof sock) < 0) {
    st_check(e, false, "options: shim started");
    return;
  }
  cs_err err;
  ttrpc_client *cl = st_connect(e, sock, &err);
  if (!st_check(e, cl != NULL, "options: connect %s", cl ? "" : err.msg)) return;
  int rc = st_create(e, cl, "rt-plain", b_plain, NULL, NULL, msg);
  if (rc == CS_OK) rc = st_start(e, cl, "rt-plain", NULL, msg);
  st_check(e, rc == CS_OK, "options: first task of the pod runs with the default runtime (%d %s)", rc, msg);
  st_create_opts o = {.binary_name = fake};
  rc = st_create(e, cl, "rt-opt", b_opt, &o, NULL, msg);
  st_check(e, rc != CS_OK && strstr(msg, "boom") != NULL,
           "options: a second task's Create naming another runtime binary uses it (code %d \"%s\")", rc, msg);
  if (rc == CS_OK) st_diag("the Create succeeded: the shim ran it with the pod's first runtime, not %s", fake);
  st_remove_task(e, cl, "rt-opt");
  st_remove_task(e, cl, "rt-plain");
  pid_t shim = st_shim_pid(e, "rt-plain", 0);
  {
    bool gone_sd = st_shutdown_exit(e, cl, shim, &rc);
    st_check(e, gone_sd, "options: shim %d exits after Shutdown (%d)", (int)shim, rc);
  }
}

/* ---------------------------------------------------------------- the shim is killed: `shim delete` */

static bool fake_called(st_env *e, const char *what) {
  char path[1024], buf[65536];
  st_path(path, sizeof path, "%s/fake.calls", e->work);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  buf[n > 0 ? n : 0] = '\0';
  for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n"))
    if (!strcmp(l, what)) return true;
  return false;
}

/* containerd's cleanup after a dead shim: `SHIM ... -id ID -bundle B delete`; stdout is a DeleteResponse. */
static int shim_delete(st_env *e, const char *id, const char *bundle, uint32_t *pid, uint32_t *status, char *err,
                       size_t errlen) {
  int out[2], errp[2];
  if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) return -1;
  pid_t child = fork();
  if (child == 0) {
    dup2(out[1], 1);
    dup2(errp[1], 2);
    if (chdir(bundle) < 0) _exit(126);
    execl(e->shim, e->shim, "-namespace", e->ns, "-address", e->address, "-publish-binary", "/bin/true", "-id", id,
          "-bundle", bundle, "delete", (char *)NULL);
    _exit(127);
  }
  close(out[1]);
  close(errp[1]);
  uint8_t buf[4096];
  size_t n = 0;
  ssize_t r;
  while (n < sizeof buf && (r = read(out[0], buf + n, sizeof buf - n)) > 0) n += (size_t)r;
  size_t m = 0;
  while (m < errlen - 1 && (r = read(errp[0], err + m, errlen - 1 - m)) > 0) m += (size_t)r;
  err[m] = '\0';
  close(out[0]);
  close(errp[0]);
  int st;
  waitpid(child, &st, 0);
  Containerd__Task__V2__DeleteResponse *d = containerd__task__v2__delete_response__unpack(NULL, n, buf);
  if (d) {
    *pid = d->pid;
    *status = d->exit_status;
    containerd__task__v2__delete_response__free_unpacked(d, NULL);
  }
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 && d ? 0 : -1;
}

static void test_shim_killed(st_env *e) {
  char b1[1024], b2[1024], sock[512], msg[CS_ERR_MSG_MAX], err[2048];
  const char *sleeper[] = {"sleep", "600", NULL};
  if (make_bundle(e, "rt-k1", sleeper, NULL, NULL, b1, sizeof b1) < 0 ||
      make_bundle(e, "rt-k2", sleeper, "rt-k1", NULL, b2, sizeof b2) < 0 ||
      st_shim_start_ok(e, b1, "rt-k1", sock, sizeof sock) < 0) {
    st_check(e, false, "killed: pod shim started");
    return;
  }
  pid_t shim = st_shim_pid(e, "rt-k1", 5000);
  cs_err cerr;
  ttrpc_client *cl = st_connect(e, sock, &cerr);
  st_create_opts o = {.binary_name = fake};
  uint32_t pid1 = 0, pid2 = 0;
  int rc = cl ? st_create(e, cl, "rt-k1", b1, &o, &pid1, msg) : CS_UNAVAILABLE;
  if (rc == CS_OK) rc = st_start(e, cl, "rt-k1", NULL, msg);
  if (rc == CS_OK) rc = st_create(e, cl, "rt-k2", b2, &o, &pid2, msg);
  if (rc == CS_OK) rc = st_start(e, cl, "rt-k2", NULL, msg);
  st_close(e, cl);
  if (!st_check(e, rc == CS_OK && shim > 0, "killed: two pod tasks running through %s (%d %s)", fake, rc, msg)) return;

  kill(shim, SIGKILL);
  for (int i = 0; i < 100 && st_pid_alive(shim); i++) st_sleep(e, 20);
  st_check(e, !st_pid_alive(shim) && st_pid_alive((pid_t)pid1) && st_pid_alive((pid_t)pid2),
           "killed: shim %d killed, its tasks %u and %u still running", (int)shim, pid1, pid2);

  const char *ids[] = {"rt-k1", "rt-k2"};
  const char *bundles[] = {b1, b2};
  const uint32_t pids[] = {pid1, pid2};
  for (int i = 0; i < 2; i++) {
    uint32_t dpid = 0, dstatus = 0;
    rc = shim_delete(e, ids[i], bundles[i], &dpid, &dstatus, err, sizeof err);
    st_check(e, rc == 0 && dpid == pids[i] && dstatus == 137,
             "killed: `shim delete` of %s answers DeleteResponse{pid %u, exit 137} (got %u, %u%s%s)", ids[i], pids[i],
             dpid, dstatus, *err ? "; stderr: " : "", err);
    bool gone = false;
    for (int k = 0; k < 100 && !gone; k++) {
      gone = !st_pid_alive((pid_t)pids[i]);
      if (!gone) st_sleep(e, 50);
    }
    char state[1024];
    st_path(state, sizeof state, "/run/containerd/runc/%s/%s", e->ns, ids[i]);
    st_check(e, gone && access(state, F_OK) < 0, "killed: %s's process is gone and the runtime forgot it", ids[i]);
    char call[64];
    snprintf(call, sizeof call, "delete %s", ids[i]);
    st_check(e, fake_called(e, call), "killed: `shim delete` of %s used the task's runtime (%s)", ids[i], fake);
  }
}

int main(int argc, char **argv) {
  st_env e;
  if (st_init(&e, argc, argv) < 0) return 2;
  st_path(fake, sizeof fake, "%s/fake-runc", e.work);
  if (access(fake, X_OK) < 0) {
    st_check(&e, false, "fake runtime %s installed by run.sh", fake);
    return st_finish(&e);
  }
  st_events_listen(&e, NULL);
  test_fail(&e);
  test_hang(&e);
  test_options_per_task(&e);
  test_shim_killed(&e);
  /* a Create that failed published nothing: containerd must not hear of a task that never existed */
  const st_event *ev[8];
  size_t n_fail = st_events_for(&e, "rt-fail", ev, 8), n_hang = st_events_for(&e, "rt-hang", ev, 8);
  st_check(&e, n_fail == 0 && n_hang == 0, "no event for the tasks whose Create failed (rt-fail %zu, rt-hang %zu)",
           n_fail, n_hang);
  size_t n_ok = st_events_for(&e, "rt-ok", ev, 8);
  st_check(&e, n_ok == 4, "the task after the failure published its 4 events (%zu)", n_ok);
  st_events_close(&e);
  printf("# fault_runtime: %.1f s\n", st_elapsed(&e));
  return st_finish(&e);
}
