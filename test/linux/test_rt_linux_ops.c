/* Unit (no root, no runc): every rt_ops operation of the Linux backend against a stand-in OCI runtime, and
 * what the backend makes of the runtime's failures (its JSON log, its stderr, a silent exit), a console
 * handed over the console socket, a restore, a checkpoint's CRIU log.
 *
 * The stand-in runtime (fake_runc.h) is this test binary itself, run through a symlink named fake-runc. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake_runc.h"
#include "rt_linux.h"

/* ------------------------------------------------------------------ the test side */

typedef struct ctx {
  uv_loop_t loop;
  rt_backend *be;
  char dir[64], bin[96], bundle[96];
  int exits, exit_pid, exit_status;
} ctx;

typedef struct op_wait {
  int done, pid, console_fd;
  bool failed;
  cs_err err;
  int pids[8];
  size_t n_pids;
} op_wait;

static void on_exit_ev(void *data, int pid, int status, int64_t at) {
  ctx *c = data;
  (void)at;
  c->exits++;
  c->exit_pid = pid;
  c->exit_status = status;
}

static void on_done(void *data, const rt_result *res, const cs_err *err) {
  op_wait *w = data;
  w->done++;
  w->pid = res ? res->pid : 0;
  w->console_fd = res ? res->console_fd : -1;
  w->failed = err != NULL;
  if (err) w->err = *err;
}

static void on_pids(void *data, const int *pids, size_t n, const cs_err *err) {
  op_wait *w = data;
  w->done++;
  w->failed = err != NULL;
  if (err) w->err = *err;
  w->n_pids = n;
  for (size_t i = 0; i < n && i < 8; i++) w->pids[i] = pids[i];
}

static void spin(ctx *c) {
  uv_run(&c->loop, UV_RUN_NOWAIT);
  usleep(1000);
}

/* Wait for the callback, with a deadline. */
static void wait_op(ctx *c, op_wait *w) {
  for (int i = 0; i < 10000 && !w->done; i++) spin(c);
  assert_int_equal(w->done, 1);
}

static void put(ctx *c, const char *name, const char *text) {
  char p[160];
  snprintf(p, sizeof p, "%s/%s", c->dir, name);
  FILE *f = fopen(p, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static void drop(ctx *c, const char *name) {
  char p[160];
  snprintf(p, sizeof p, "%s/%s", c->dir, name);
  unlink(p);
}

static bool called(ctx *c, const char *needle) {
  char p[160], buf[16384] = {0};
  snprintf(p, sizeof p, "%s/calls", c->dir);
  FILE *f = fopen(p, "r");
  if (!f) return false;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return strstr(buf, needle) != NULL;
}

/* Every work dir of the run: main() kills what the stand-in left there and removes it, also after a failure. */
static char g_dirs[32][64];
static int n_dirs;

static void cleanup_dirs(void) {
  for (int i = 0; i < n_dirs; i++) {
    char p[2200];
    snprintf(p, sizeof p, "%s/spawned", g_dirs[i]);
    FILE *f = fopen(p, "r");
    int pid;
    while (f && fscanf(f, "%d", &pid) == 1)
      if (kill(pid, SIGKILL) == 0) waitpid(pid, NULL, 0);
    if (f) fclose(f);
    char cmd[2200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dirs[i]);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dirs[i]);
  }
  n_dirs = 0;
}

static ctx *new_ctx(const rt_linux_opts *extra) {
  ctx *c = calloc(1, sizeof *c);
  snprintf(c->dir, sizeof c->dir, "/tmp/rtops-XXXXXX");
  assert_non_null(mkdtemp(c->dir));
  if (n_dirs < 32) snprintf(g_dirs[n_dirs++], sizeof g_dirs[0], "%s", c->dir);
  snprintf(c->bin, sizeof c->bin, "%s/fake-runc", c->dir);
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  assert_true(n > 0);
  self[n] = '\0';
  assert_int_equal(symlink(self, c->bin), 0);
  snprintf(c->bundle, sizeof c->bundle, "%s/b", c->dir);
  assert_int_equal(mkdir(c->bundle, 0700), 0);
  char cfg[160];
  snprintf(cfg, sizeof cfg, "%s/config.json", c->bundle);
  FILE *f = fopen(cfg, "w");
  assert_non_null(f);
  fputs("{\"linux\":{\"namespaces\":[{\"type\":\"pid\"}]}}", f);
  fclose(f);
  uv_loop_init(&c->loop);
  rt_linux_opts o = extra ? *extra : (rt_linux_opts){0};
  o.binary = c->bin;
  o.root = c->dir;
  o.console_dir = c->dir;
  rt_events ev = {.exit = on_exit_ev, .data = c};
  cs_err err;
  c->be = rt_linux_new(&c->loop, &o, &ev, &err);
  assert_non_null(c->be);
  return c;
}

static void free_ctx(ctx *c) {
  if (c->be) c->be->ops->destroy(c->be);
  uv_run(&c->loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&c->loop), 0);
  free(c);
}

/* Kill a process the stand-in left and wait for the backend to report its exit. */
static void reap(ctx *c, int pid) {
  if (pid <= 0) return;
  int before = c->exits;
  kill(pid, SIGKILL);
  for (int i = 0; i < 10000 && !(c->exits > before && c->exit_pid == pid); i++) spin(c);
  assert_int_equal(c->exit_pid, pid);
}

static int create(ctx *c, const char *id, bool terminal, op_wait *w) {
  rt_create_req r = {.id = id, .bundle = c->bundle, .io = {.terminal = terminal, .fd = {-1, -1, -1}}};
  cs_err err;
  memset(w, 0, sizeof *w);
  int rc = c->be->ops->create(c->be, &r, on_done, w, &err);
  if (rc != 0) {
    w->failed = true;
    w->err = err;
    return rc;
  }
  wait_op(c, w);
  return 0;
}

/* Every operation on a created container: the runtime's arguments and the results handed up. */
static void test_lifecycle(void **state) {
  (void)state;
  rt_linux_opts o = {.no_pivot_root = true, .no_new_keyring = true, .systemd_cgroup = false};
  ctx *c = new_ctx(&o);
  cs_err err;
  op_wait w;
  assert_int_equal(create(c, "a", false, &w), 0);
  assert_false(w.failed);
  assert_true(w.pid > 0);
  int init = w.pid;
  assert_true(called(c, "create --bundle "));
  assert_true(called(c, " --no-pivot --no-new-keyring a\n"));
  /* a second create of the same id */
  rt_create_req again = {.id = "a", .bundle = c->bundle, .io = {.fd = {-1, -1, -1}}};
  assert_int_equal(c->be->ops->create(c->be, &again, on_done, &w, &err), -1);
  assert_int_equal(err.code, CS_ALREADY_EXISTS);
  rt_create_req nobundle = {.id = "z", .bundle = "", .io = {.fd = {-1, -1, -1}}};
  assert_int_equal(c->be->ops->create(c->be, &nobundle, on_done, &w, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  assert_non_null(strstr(err.msg, "empty bundle"));

  memset(&w, 0, sizeof w);
  assert_int_equal(c->be->ops->start(c->be, "a", NULL, on_done, &w, &err), 0);
  wait_op(c, &w);
  assert_false(w.failed);
  assert_int_equal(w.pid, init);
  assert_true(called(c, "start a\n"));

  const char *const simple_ops[] = {"pause", "resume"};
  for (int i = 0; i < 2; i++) {
    memset(&w, 0, sizeof w);
    int rc = i == 0 ? c->be->ops->pause(c->be, "a", on_done, &w, &err) : c->be->ops->resume(c->be, "a", on_done, &w, &err);
    assert_int_equal(rc, 0);
    wait_op(c, &w);
    assert_false(w.failed);
    char want[32];
    snprintf(want, sizeof want, "%s a\n", simple_ops[i]);
    assert_true(called(c, want));
  }

  /* update: the resources reach the runtime on stdin; bad JSON never does */
  const char *res = "{\"cpu\":{\"shares\":512}}";
  memset(&w, 0, sizeof w);
  assert_int_equal(c->be->ops->update(c->be, "a", res, strlen(res), on_done, &w, &err), 0);
  wait_op(c, &w);
  assert_false(w.failed);
  char got[256] = {0}, p[160];
  snprintf(p, sizeof p, "%s/resources", c->dir);
  FILE *f = fopen(p, "r");
  assert_non_null(f);
  assert_true(fread(got, 1, sizeof got - 1, f) > 0);
  fclose(f);
  assert_string_equal(got, res);
  assert_true(called(c, "update --resources - a\n"));
  assert_int_equal(c->be->ops->update(c->be, "a", "[1]", 3, on_done, &w, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  assert_non_null(strstr(err.msg, "not a JSON object"));
  assert_int_equal(c->be->ops->update(c->be, "a", NULL, 0, on_done, &w, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  assert_non_null(strstr(err.msg, "empty resources"));

  /* kill of the container through the runtime, with --all */
  memset(&w, 0, sizeof w);
  assert_int_equal(c->be->ops->kill(c->be, "a", 0, SIGTERM, true, on_done, &w, &err), 0);
  wait_op(c, &w);
  assert_false(w.failed);
  assert_true(called(c, "kill --all a 15\n"));
  assert_int_equal(c->be->ops->kill(c->be, "a", -4, SIGTERM, false, on_done, &w, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  assert_non_null(strstr(err.msg, "bad pid"));

  /* a kill the runtime refuses: its message decides the code */
  put(c, "fail-kill", "container not running");
  memset(&w, 0, sizeof w);
  assert_int_equal(c->be->ops->kill(c->be, "a", 0, SIGKILL, false, on_done, &w, &err), 0);
  wait_op(c, &w);
  assert_true(w.failed);
  assert_int_equal(w.err.code, CS_NOT_FOUND);
  assert_string_equal(w.err.msg, "process already finished");
  put(c, "fail-kill", "permission denied by a policy");
  memset(&w, 0, sizeof w);
  assert_int_equal(c->be->ops->kill(c->be, "a", 0, SIGKILL, false, on_done, &w, &err), 0);
  wait_op(c, &w);
  assert_int_equal(w.err.code, CS_UNKNOWN);
  assert_non_null(strstr(w.err.msg, "unknown error after kill: permission denied by a policy"));
  drop(c, "fail-kill");

  /* counters of the container's cgroup (here: the test's own), full, lean and quick */
  rt_sample smp;
  memset(&smp, 0, sizeof smp);
  if (c->be->ops->stats(c->be, "a", &smp, &err) == 0) {
    assert_true(smp.kind == RT_SAMPLE_CGROUP_V1 || smp.kind == RT_SAMPLE_CGROUP_V2);
    assert_true(smp.timestamp_ns > 0);
    memset(&smp, 0, sizeof smp);
    assert_int_equal(c->be->ops->stats_lean(c->be, "a", &smp, &err), 0);
    assert_true(smp.timestamp_ns > 0);
    rt_quick q = {0};
    assert_int_equal(c->be->ops->stats_quick(c->be, "a", &q, &err), 0);
    assert_true(q.timestamp_ns > 0);
  } else { /* a host without a readable cgroup: the failure names the container */
    assert_non_null(strstr(err.msg, "stats a"));
  }
  assert_int_equal(c->be->ops->stats(c->be, "zz", &smp, &err), -1);
  assert_int_equal(err.code, CS_NOT_FOUND);
  assert_int_equal(rt_linux_adopt(c->be, "nopid", c->bundle, 0, &err), 0);
  assert_int_equal(c->be->ops->stats(c->be, "nopid", &smp, &err), -1);
  assert_int_equal(err.code, CS_FAILED_PRECONDITION);
  assert_non_null(strstr(err.msg, "not created"));
  rt_quick q2;
  assert_int_equal(c->be->ops->stats_quick(c->be, "nopid", &q2, &err), -1);
  assert_int_equal(err.code, CS_FAILED_PRECONDITION);

  /* resize without a pty: nothing to do */
  assert_int_equal(c->be->ops->resize(c->be, "a", 0, 80, 25, &err), 0);

  /* delete: a refused one keeps the container, a "does not exist" one is a success */
  put(c, "fail-delete", "container is running: cannot delete");
  memset(&w, 0, sizeof w);
  assert_int_equal(c->be->ops->delete(c->be, "a", false, on_done, &w, &err), 0);
  wait_op(c, &w);
  assert_true(w.failed);
  assert_non_null(strstr(w.err.msg, "failed to delete task: container is running"));
  assert_true(called(c, "delete a\n"));
  reap(c, init);
  put(c, "fail-delete", "container does not exist");
  memset(&w, 0, sizeof w);
  assert_int_equal(c->be->ops->delete(c->be, "a", true, on_done, &w, &err), 0);
  /* a second delete while the first runs */
  op_wait w2 = {0};
  assert_int_equal(c->be->ops->delete(c->be, "a", true, on_done, &w2, &err), -1);
  assert_int_equal(err.code, CS_FAILED_PRECONDITION);
  assert_non_null(strstr(err.msg, "delete in progress"));
  wait_op(c, &w);
  assert_false(w.failed);
  assert_int_equal(w.pid, init);
  assert_true(called(c, "delete --force a\n"));
  assert_int_equal(c->be->ops->start(c->be, "a", NULL, on_done, &w, &err), -1);
  assert_int_equal(err.code, CS_NOT_FOUND);
  free_ctx(c);
}

/* The runtime's failure reaches the caller with the runtime's own words, wherever it said them. */
static void test_runtime_failures(void **state) {
  (void)state;
  ctx *c = new_ctx(NULL);
  cs_err err;
  op_wait w;
  /* create: the --log JSON's message; the record is dropped, so the id can be created again */
  put(c, "fail-create", "container_linux.go:380: starting container process caused: exec: \\\"nope\\\": not found");
  assert_int_equal(create(c, "a", false, &w), 0);
  assert_true(w.failed);
  assert_int_equal(w.err.code, CS_UNKNOWN);
  assert_non_null(strstr(w.err.msg, "OCI runtime create failed: "));
  assert_non_null(strstr(w.err.msg, "exec: \"nope\": not found"));
  /* nothing said at all: the exit status */
  put(c, "fail-create", "");
  assert_int_equal(create(c, "a", false, &w), 0);
  assert_true(w.failed);
  assert_non_null(strstr(w.err.msg, "exit status 3"));
  drop(c, "fail-create");

  assert_int_equal(create(c, "a", false, &w), 0);
  assert_false(w.failed);
  int init = w.pid;
  /* nothing in the log, the reason on stderr (its last line) */
  put(c, "stderr-start", "cgroup setup went wrong");
  memset(&w, 0, sizeof w);
  assert_int_equal(c->be->ops->start(c->be, "a", NULL, on_done, &w, &err), 0);
  wait_op(c, &w);
  assert_true(w.failed);
  assert_non_null(strstr(w.err.msg, "OCI runtime start failed: cgroup setup went wrong"));
  drop(c, "stderr-start");
  /* start, pause, exec, ps refused */
  put(c, "fail-start", "cannot start a container that has stopped");
  memset(&w, 0, sizeof w);
  assert_int_equal(c->be->ops->start(c->be, "a", NULL, on_done, &w, &err), 0);
  wait_op(c, &w);
  assert_true(w.failed);
  assert_int_equal(w.err.code, CS_FAILED_PRECONDITION);
  assert_non_null(strstr(w.err.msg, "OCI runtime start failed: cannot start a container that has stopped"));
  put(c, "fail-pause", "container not running");
  memset(&w, 0, sizeof w);
  assert_int_equal(c->be->ops->pause(c->be, "a", on_done, &w, &err), 0);
  wait_op(c, &w);
  assert_true(w.failed);
  assert_non_null(strstr(w.err.msg, "OCI runtime pause failed: container not running"));
  put(c, "fail-exec", "exec failed: no such file or directory");
  const char *spec = "{\"args\":[\"true\"],\"cwd\":\"/\"}";
  rt_exec_req ex = {.id = "a", .exec_id = "e1", .process_json = spec, .process_json_len = strlen(spec),
                    .io = {.fd = {-1, -1, -1}}};
  memset(&w, 0, sizeof w);
  assert_int_equal(c->be->ops->exec(c->be, &ex, on_done, &w, &err), 0);
  wait_op(c, &w);
  assert_true(w.failed);
  assert_non_null(strstr(w.err.msg, "OCI runtime exec failed: exec failed: no such file or directory"));
  drop(c, "fail-exec");
  /* exec argument errors (ids are the service's rule, rt.h: not checked here) */
  rt_exec_req bad = ex;
  bad.process_json_len = 0;
  assert_int_equal(c->be->ops->exec(c->be, &bad, on_done, &w, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  assert_non_null(strstr(err.msg, "empty process spec"));
  bad = ex;
  bad.id = "nope";
  assert_int_equal(c->be->ops->exec(c->be, &bad, on_done, &w, &err), -1);
  assert_int_equal(err.code, CS_NOT_FOUND);

  bad = ex;
  bad.process_json = "[1";
  bad.process_json_len = 2;
  assert_int_equal(c->be->ops->exec(c->be, &bad, on_done, &w, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  assert_non_null(strstr(err.msg, "not a JSON object"));
  /* a spec whose terminal flag already matches goes to the runtime as it is */
  const char *plain = "{\"args\":[\"true\"],\"terminal\":false}";
  bad = ex;
  bad.exec_id = "e3";
  bad.process_json = plain;
  bad.process_json_len = strlen(plain);
  memset(&w, 0, sizeof w);
  assert_int_equal(c->be->ops->exec(c->be, &bad, on_done, &w, &err), 0);
  wait_op(c, &w);
  assert_false(w.failed);
  reap(c, w.pid);

  /* an exec that works, started, then its id reused while it runs */
  memset(&w, 0, sizeof w);
  assert_int_equal(c->be->ops->exec(c->be, &ex, on_done, &w, &err), 0);
  wait_op(c, &w);
  assert_false(w.failed);
  int xpid = w.pid;
  assert_true(xpid > 0);
  assert_true(called(c, "exec --detach --process "));
  assert_int_equal(c->be->ops->exec(c->be, &ex, on_done, &w, &err), -1);
  assert_int_equal(err.code, CS_ALREADY_EXISTS);
  memset(&w, 0, sizeof w);
  assert_int_equal(c->be->ops->start(c->be, "a", "e1", on_done, &w, &err), 0);
  wait_op(c, &w);
  assert_int_equal(w.pid, xpid);
  assert_int_equal(c->be->ops->start(c->be, "a", "e9", on_done, &w, &err), -1);
  assert_int_equal(err.code, CS_NOT_FOUND);
  assert_non_null(strstr(err.msg, "process does not exist e9"));
  /* kill of an exec's pid goes to the process itself */
  memset(&w, 0, sizeof w);
  int before = c->exits;
  assert_int_equal(c->be->ops->kill(c->be, "a", xpid, SIGKILL, false, on_done, &w, &err), 0);
  wait_op(c, &w);
  assert_false(w.failed);
  for (int i = 0; i < 10000 && c->exits == before; i++) spin(c);
  assert_int_equal(c->exit_pid, xpid);
  assert_int_equal(c->exit_status, 128 + SIGKILL);

  /* pids through `ps` when there is no cgroup to read: its JSON, or its failure */
  put(c, "ps-out", "[7, 8, \"x\", 9]");
  memset(&w, 0, sizeof w);
  int prc = c->be->ops->pids(c->be, "a", on_pids, &w, &err);
  assert_int_equal(prc, 0);
  wait_op(c, &w);
  assert_false(w.failed);
  assert_true(w.n_pids >= 1);
  if (called(c, "ps --format json a")) { /* answered by the runtime, not the cgroup */
    assert_int_equal(w.n_pids, 3);
    assert_int_equal(w.pids[2], 9);
    put(c, "ps-out", "not json");
    memset(&w, 0, sizeof w);
    assert_int_equal(c->be->ops->pids(c->be, "a", on_pids, &w, &err), 0);
    wait_op(c, &w);
    assert_true(w.failed);
    assert_non_null(strstr(w.err.msg, "unexpected output of"));
    put(c, "fail-ps", "container does not exist");
    memset(&w, 0, sizeof w);
    assert_int_equal(c->be->ops->pids(c->be, "a", on_pids, &w, &err), 0);
    wait_op(c, &w);
    assert_true(w.failed);
    assert_int_equal(w.err.code, CS_NOT_FOUND);
    assert_non_null(strstr(w.err.msg, "failed to list processes"));
  }

  /* checkpoint: refused with CRIU's first error named and its log kept next to the bundle */
  put(c, "fail-checkpoint", "criu failed: type DUMP errno 0");
  rt_checkpoint_req ck = {.id = "a", .image_path = "/nonexistent/img", .open_tcp = true, .external_unix_sockets = true,
                          .terminal = true, .file_locks = true};
  memset(&w, 0, sizeof w);
  assert_int_equal(c->be->ops->checkpoint(c->be, &ck, on_done, &w, &err), 0);
  wait_op(c, &w);
  assert_true(w.failed);
  assert_int_equal(w.err.code, CS_FAILED_PRECONDITION);
  assert_non_null(strstr(w.err.msg, "checkpoint failed: criu failed: type DUMP errno 0"));
  assert_non_null(strstr(w.err.msg, "Connected TCP socket"));
  assert_non_null(strstr(w.err.msg, "criu-dump.log"));
  assert_true(called(c, "--tcp-established --ext-unix-sk --shell-job --file-locks --leave-running a\n"));
  char dump[160];
  snprintf(dump, sizeof dump, "%s/criu-dump.log", c->bundle);
  assert_int_equal(access(dump, F_OK), 0);
  drop(c, "fail-checkpoint");
  char work[160];
  snprintf(work, sizeof work, "%s/work", c->dir);
  ck = (rt_checkpoint_req){.id = "a", .image_path = "/nonexistent/img", .work_path = work, .exit = true};
  memset(&w, 0, sizeof w);
  assert_int_equal(c->be->ops->checkpoint(c->be, &ck, on_done, &w, &err), 0);
  wait_op(c, &w);
  assert_false(w.failed);
  ck.image_path = "";
  assert_int_equal(c->be->ops->checkpoint(c->be, &ck, on_done, &w, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  assert_non_null(strstr(err.msg, "empty image path"));

  reap(c, init);
  free_ctx(c);
}

/* A terminal create and exec: the pty master the runtime sent over the console socket is handed up; a
 * runtime that sends none fails the create (and the container is deleted again). */
static void test_console(void **state) {
  (void)state;
  ctx *c = new_ctx(NULL);
  cs_err err;
  op_wait w;
  assert_int_equal(create(c, "t", true, &w), 0);
  assert_false(w.failed);
  assert_true(w.console_fd >= 0);
  assert_true(isatty(w.console_fd));
  close(w.console_fd);
  int init = w.pid;
  assert_true(called(c, "--console-socket "));

  const char *spec = "{\"args\":[\"sh\"],\"cwd\":\"/\"}";
  rt_exec_req ex = {.id = "t", .exec_id = "e1", .process_json = spec, .process_json_len = strlen(spec),
                    .io = {.terminal = true, .fd = {-1, -1, -1}}};
  memset(&w, 0, sizeof w);
  assert_int_equal(c->be->ops->exec(c->be, &ex, on_done, &w, &err), 0);
  wait_op(c, &w);
  assert_false(w.failed);
  assert_true(isatty(w.console_fd));
  close(w.console_fd);
  reap(c, w.pid);

  put(c, "noconsole", "");
  ex.exec_id = "e2";
  memset(&w, 0, sizeof w);
  assert_int_equal(c->be->ops->exec(c->be, &ex, on_done, &w, &err), 0);
  wait_op(c, &w);
  assert_true(w.failed);
  assert_non_null(strstr(w.err.msg, "the runtime sent none"));

  memset(&w, 0, sizeof w);
  assert_int_equal(create(c, "u", true, &w), 0);
  assert_true(w.failed);
  assert_non_null(strstr(w.err.msg, "the runtime sent none"));
  /* the half-made container was deleted behind the caller's back */
  for (int i = 0; i < 10000 && !called(c, "delete --force u\n"); i++) spin(c);
  assert_true(called(c, "delete --force u\n"));
  drop(c, "noconsole");
  reap(c, init);
  free_ctx(c);
}

/* Create with a checkpoint records it; start restores (runc restore --detach), with the stdio dup'd at
 * create; a failed restore can be retried. */
static void test_restore(void **state) {
  (void)state;
  ctx *c = new_ctx(NULL);
  cs_err err;
  op_wait w = {0};
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  rt_create_req r = {.id = "r", .bundle = c->bundle, .checkpoint = "/nonexistent/image",
                     .io = {.fd = {devnull, devnull, -1}}};
  assert_int_equal(c->be->ops->create(c->be, &r, on_done, &w, &err), 0);
  close(devnull);
  wait_op(c, &w);
  assert_false(w.failed);
  assert_int_equal(w.pid, 0);
  assert_false(called(c, "create"));

  put(c, "fail-restore", "criu failed: type RESTORE errno 0");
  memset(&w, 0, sizeof w);
  assert_int_equal(c->be->ops->start(c->be, "r", NULL, on_done, &w, &err), 0);
  wait_op(c, &w);
  assert_true(w.failed);
  assert_non_null(strstr(w.err.msg, "OCI runtime restore failed: criu failed"));
  drop(c, "fail-restore");
  memset(&w, 0, sizeof w);
  assert_int_equal(c->be->ops->start(c->be, "r", NULL, on_done, &w, &err), 0);
  wait_op(c, &w);
  assert_false(w.failed);
  assert_true(w.pid > 0);
  assert_true(called(c, "restore --detach --bundle "));
  assert_true(called(c, " --image-path /nonexistent/image "));
  reap(c, w.pid);

  /* a terminal restore gets a console */
  memset(&w, 0, sizeof w);
  rt_create_req rt = {.id = "s", .bundle = c->bundle, .checkpoint = "/nonexistent/image",
                      .io = {.terminal = true, .fd = {-1, -1, -1}}};
  assert_int_equal(c->be->ops->create(c->be, &rt, on_done, &w, &err), 0);
  wait_op(c, &w);
  memset(&w, 0, sizeof w);
  assert_int_equal(c->be->ops->start(c->be, "s", NULL, on_done, &w, &err), 0);
  wait_op(c, &w);
  assert_false(w.failed);
  assert_true(isatty(w.console_fd));
  close(w.console_fd);
  reap(c, w.pid);
  free_ctx(c);
}

/* Operations that need a created container, asked of one being created or not created at all. */
static void test_state_errors(void **state) {
  (void)state;
  ctx *c = new_ctx(NULL);
  cs_err err;
  op_wait w = {0}, w2 = {0};
  rt_create_req r = {.id = "a", .bundle = c->bundle, .io = {.fd = {-1, -1, -1}}};
  assert_int_equal(c->be->ops->create(c->be, &r, on_done, &w, &err), 0);
  /* while create runs */
  assert_int_equal(c->be->ops->start(c->be, "a", NULL, on_done, &w2, &err), -1);
  assert_int_equal(err.code, CS_FAILED_PRECONDITION);
  assert_non_null(strstr(err.msg, "create in progress"));
  assert_int_equal(c->be->ops->delete(c->be, "a", true, on_done, &w2, &err), -1);
  assert_int_equal(err.code, CS_FAILED_PRECONDITION);
  assert_int_equal(c->be->ops->pause(c->be, "a", on_done, &w2, &err), -1);
  assert_int_equal(err.code, CS_FAILED_PRECONDITION);
  assert_non_null(strstr(err.msg, "not created"));
  assert_int_equal(c->be->ops->pids(c->be, "a", on_pids, &w2, &err), -1);
  assert_int_equal(err.code, CS_FAILED_PRECONDITION);
  rt_checkpoint_req ck = {.id = "a", .image_path = "/x"};
  assert_int_equal(c->be->ops->checkpoint(c->be, &ck, on_done, &w2, &err), -1);
  assert_int_equal(err.code, CS_FAILED_PRECONDITION);
  wait_op(c, &w);
  assert_false(w.failed);
  assert_int_equal(w2.done, 0);
  /* adopted without a pid: start has nothing to start */
  assert_int_equal(rt_linux_adopt(c->be, "b", c->bundle, 0, &err), 0);
  assert_int_equal(c->be->ops->start(c->be, "b", NULL, on_done, &w2, &err), -1);
  assert_int_equal(err.code, CS_FAILED_PRECONDITION);
  assert_non_null(strstr(err.msg, "must be created"));
  assert_int_equal(c->be->ops->resume(c->be, "zz", on_done, &w2, &err), -1);
  assert_int_equal(err.code, CS_NOT_FOUND);
  /* destroy with an operation in flight: no callback after it */
  memset(&w, 0, sizeof w);
  assert_int_equal(c->be->ops->pause(c->be, "a", on_done, &w, &err), 0);
  c->be->ops->destroy(c->be);
  c->be = NULL;
  for (int i = 0; i < 200; i++) spin(c);
  assert_int_equal(w.done, 0);
  /* No reaper any more: collect the runtime still running and the container's init here. */
  cleanup_dirs();
  while (waitpid(-1, NULL, 0) > 0) {
  }
  free_ctx(c);
}

int main(int argc, char **argv) {
  char self[4096];
  snprintf(self, sizeof self, "%s", argv[0]);
  if (strcmp(basename(self), "fake-runc") == 0) return fake_runc_main(argc, argv);
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lifecycle),
      cmocka_unit_test(test_runtime_failures),
      cmocka_unit_test(test_console),
      cmocka_unit_test(test_restore),
      cmocka_unit_test(test_state_errors),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  cleanup_dirs();
  return rc;
}
