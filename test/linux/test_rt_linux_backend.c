/* Unit (no root, no runc): the backend's own contract — argument errors, deferred completion from the
 * loop, no callbacks after destroy (even when destroy runs inside a callback), exit routing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rt_linux.h"

typedef struct ctx {
  uv_loop_t loop;
  rt_backend *be;
  int calls[4];
  bool destroy_in_cb;
  int exit_pid, exit_status, exits;
  int exit_pids[8]; /* the last ones, by exits % 8 */
} ctx;

static void on_exit_ev(void *data, int pid, int status, int64_t at) {
  ctx *c = data;
  (void)at;
  c->exit_pids[c->exits % 8] = pid;
  c->exits++;
  c->exit_pid = pid;
  c->exit_status = status;
}

static void done0(void *data, const rt_result *res, const cs_err *err) {
  ctx *c = data;
  (void)res;
  assert_null(err);
  c->calls[0]++;
  if (c->destroy_in_cb) {
    c->be->ops->destroy(c->be);
    c->be = NULL;
  }
}

static void done1(void *data, const rt_result *res, const cs_err *err) {
  (void)res, (void)err;
  ((ctx *)data)->calls[1]++;
}

static ctx *new_ctx(void) {
  ctx *c = calloc(1, sizeof *c);
  uv_loop_init(&c->loop);
  rt_linux_opts o = {.binary = "/bin/true", .root = "/nonexistent-state"};
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

static void spin(ctx *c, int ms) {
  for (int i = 0; i < ms; i++) {
    uv_run(&c->loop, UV_RUN_NOWAIT);
    usleep(1000);
  }
}

static void test_constructor_errors(void **state) {
  (void)state;
  uv_loop_t loop;
  uv_loop_init(&loop);
  rt_linux_opts o = {.binary = "no-such-runtime-binary"};
  cs_err err;
  assert_null(rt_linux_new(&loop, &o, NULL, &err));
  assert_int_equal(err.code, CS_NOT_FOUND);
  assert_non_null(strstr(err.msg, "no-such-runtime-binary"));
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_argument_errors(void **state) {
  (void)state;
  ctx *c = new_ctx();
  cs_err err;
  /* Ids are the service's to check (cs_id.h, rt.h): the backend is given valid ones only. */
  assert_int_equal(c->be->ops->start(c->be, "nope", NULL, done1, c, &err), -1);
  assert_int_equal(err.code, CS_NOT_FOUND);
  assert_int_equal(c->be->ops->delete(c->be, "nope", true, done1, c, &err), -1);
  assert_int_equal(err.code, CS_NOT_FOUND);
  assert_int_equal(c->be->ops->kill(c->be, "nope", 0, SIGTERM, false, done1, c, &err), -1);
  assert_int_equal(err.code, CS_NOT_FOUND);
  assert_int_equal(c->be->ops->pause(c->be, "nope", done1, c, &err), -1);
  assert_int_equal(err.code, CS_NOT_FOUND);
  rt_sample s;
  assert_int_equal(c->be->ops->stats(c->be, "nope", &s, &err), -1);
  assert_int_equal(err.code, CS_NOT_FOUND);
  assert_int_equal(c->be->ops->resize(c->be, "nope", 0, 80, 24, &err), -1);
  assert_int_equal(err.code, CS_NOT_FOUND);
  assert_int_equal(rt_linux_adopt(c->be, "a", "/tmp/bundle-a", 0, &err), 0);
  /* A process without a pty of ours: nothing to resize, success (runc-v2 answers nil). */
  assert_int_equal(c->be->ops->resize(c->be, "a", 0, 80, 24, &err), 0);
  assert_int_equal(rt_linux_adopt(c->be, "a", "/tmp/bundle-a", 0, &err), -1);
  assert_int_equal(err.code, CS_ALREADY_EXISTS);
  rt_exec_req ex = {.id = "a", .exec_id = "e", .process_json = "{}", .process_json_len = 2};
  assert_int_equal(c->be->ops->exec(c->be, &ex, done1, c, &err), -1); /* adopted without a pid */
  assert_int_equal(err.code, CS_FAILED_PRECONDITION);
  assert_int_equal(c->be->ops->kill(c->be, "a", 0, 99999, false, done1, c, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  assert_int_equal(c->calls[1], 0);
  free_ctx(c);
}

/* kill of a pid completes from the loop, never inside the call; a destroy inside a callback stops the rest. */
static void test_deferred_and_destroy_in_callback(void **state) {
  (void)state;
  ctx *c = new_ctx();
  pid_t child = fork();
  if (child == 0) {
    pause();
    _exit(0);
  }
  cs_err err;
  assert_int_equal(c->be->ops->kill(c->be, "x", child, 0, false, done0, c, &err), 0);
  assert_int_equal(c->calls[0], 0); /* not synchronous */
  spin(c, 20);
  assert_int_equal(c->calls[0], 1);
  /* the child's exit comes through the backend's reaper as rt_events.exit */
  assert_int_equal(c->be->ops->kill(c->be, "x", child, SIGTERM, false, done1, c, &err), 0);
  for (int i = 0; i < 2000 && c->exits == 0; i++) spin(c, 1);
  assert_int_equal(c->calls[1], 1);
  assert_int_equal(c->exits, 1);
  assert_int_equal(c->exit_pid, child);
  assert_int_equal(c->exit_status, 128 + SIGTERM);
  assert_int_equal(c->be->ops->kill(c->be, "x", child, 0, false, done1, c, &err), -1);
  assert_int_equal(err.code, CS_NOT_FOUND);
  assert_string_equal(err.msg, "process already finished");

  c->destroy_in_cb = true;
  int me = getpid();
  assert_int_equal(c->be->ops->kill(c->be, "x", me, 0, false, done0, c, &err), 0);
  assert_int_equal(c->be->ops->kill(c->be, "x", me, 0, false, done1, c, &err), 0);
  spin(c, 20);
  assert_int_equal(c->calls[0], 2);
  assert_int_equal(c->calls[1], 1); /* the second was dropped by the destroy */
  assert_null(c->be);
  free_ctx(c);
}

/* A stand-in runtime that does what runc does when an exec'd process is quick: its process is handed to the
 * subreaper (us) and exits, and is reaped, before the runtime itself exits and its pid file is read. */
static const char fake_runtime[] =
    "#!/bin/sh\n"
    "pidfile= cmd=\n"
    "while [ $# -gt 0 ]; do\n"
    "  case \"$1\" in\n"
    "    --pid-file) pidfile=$2; shift ;;\n"
    "    create|exec|kill|delete) [ -z \"$cmd\" ] && cmd=$1 ;;\n"
    "  esac\n"
    "  shift\n"
    "done\n"
    "case \"$cmd\" in\n"
    "  create) sleep 30 </dev/null >/dev/null 2>&1 & echo $! > \"$pidfile\" ;;\n"
    "  exec)\n"
    /* setsid -f: its parent exits at once, so no shell can reap the process before we do (dash reaps any
     * child of its own, a background job too) */
    "    setsid -f sh -c 'echo $$ > \"$1.tmp\"; mv \"$1.tmp\" \"$1\"; exit 3' sh \"$pidfile.early\" </dev/null >/dev/null 2>&1\n"
    "    while [ ! -s \"$pidfile.early\" ]; do sleep 0.01; done\n"
    "    p=$(cat \"$pidfile.early\"); rm -f \"$pidfile.early\"\n"
    "    while kill -0 \"$p\" 2>/dev/null; do sleep 0.01; done\n"
    "    echo \"$p\" > \"$pidfile\" ;;\n"
    "esac\n";

typedef struct exec_ctx {
  ctx *c;
  int done, pid;
  cs_err err;
  bool failed;
} exec_ctx;

static void on_exec_done(void *data, const rt_result *res, const cs_err *err) {
  exec_ctx *x = data;
  x->done++;
  x->pid = res ? res->pid : 0;
  x->failed = err != NULL;
  if (err) x->err = *err;
}

static void wait_done(ctx *c, exec_ctx *x) {
  for (int i = 0; i < 10000 && !x->done; i++) spin(c, 1);
  assert_int_equal(x->done, 1);
}

/* An exec whose process exited before the runtime returned is recorded as exited: its id can be used again
 * (ctr reuses exec ids; the stale record answered AlreadyExists), and its exit reached the events once. */
static void test_exec_exit_before_runtime_returns(void **state) {
  (void)state;
  char dir[] = "/tmp/rtb-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char bin[64];
  snprintf(bin, sizeof bin, "%s/fake-runc", dir);
  FILE *f = fopen(bin, "w");
  assert_non_null(f);
  fputs(fake_runtime, f);
  fclose(f);
  chmod(bin, 0755);

  ctx *c = calloc(1, sizeof *c);
  uv_loop_init(&c->loop);
  rt_linux_opts o = {.binary = bin, .root = dir};
  rt_events ev = {.exit = on_exit_ev, .data = c};
  cs_err err;
  c->be = rt_linux_new(&c->loop, &o, &ev, &err);
  assert_non_null(c->be);

  exec_ctx cr = {.c = c};
  rt_create_req req = {.id = "a", .bundle = dir, .io = {.fd = {-1, -1, -1}}};
  assert_int_equal(c->be->ops->create(c->be, &req, on_exec_done, &cr, &err), 0);
  wait_done(c, &cr);
  assert_false(cr.failed);
  int init = cr.pid;
  assert_true(init > 0);

  /* Two at a time, so each looks only at the exits since it began and neither drops what the other needs. */
  rt_exec_req ex[2] = {
      {.id = "a", .exec_id = "e1", .process_json = "{}", .process_json_len = 2, .io = {.fd = {-1, -1, -1}}},
      {.id = "a", .exec_id = "e2", .process_json = "{}", .process_json_len = 2, .io = {.fd = {-1, -1, -1}}},
  };
  for (int round = 0; round < 2; round++) {
    exec_ctx x[2] = {{.c = c}, {.c = c}};
    int exits = c->exits;
    for (int i = 0; i < 2; i++) assert_int_equal(c->be->ops->exec(c->be, &ex[i], on_exec_done, &x[i], &err), 0);
    for (int i = 0; i < 2; i++) {
      wait_done(c, &x[i]);
      assert_false(x[i].failed);
    }
    assert_int_equal(c->exits, exits + 2); /* before the runtime returned */
    assert_int_equal(c->exit_status, 3);
    for (int i = 0; i < 2; i++)
      assert_true(c->exit_pids[exits % 8] == x[i].pid || c->exit_pids[(exits + 1) % 8] == x[i].pid);
    assert_int_not_equal(x[0].pid, x[1].pid);
  }
  kill(init, SIGKILL);
  for (int i = 0; i < 5000 && c->exit_pid != init; i++) spin(c, 1);
  assert_int_equal(c->exit_pid, init);
  char path[96];
  snprintf(path, sizeof path, "%s/init.pid", dir);
  unlink(path);
  for (int i = 0; i < 2; i++) {
    snprintf(path, sizeof path, "%s/%s.pid", dir, ex[i].exec_id);
    unlink(path);
  }
  unlink(bin);
  free_ctx(c);
  assert_int_equal(rmdir(dir), 0);
}

/* A runtime that logs every invocation and copies an exec's process spec, for what the backend asks of it. */
static const char logging_runtime[] =
    "#!/bin/sh\n"
    "d=$(dirname \"$0\")\n"
    "echo \"$*\" >> \"$d/calls\"\n"
    "pidfile= cmd= proc=\n"
    "while [ $# -gt 0 ]; do\n"
    "  case \"$1\" in\n"
    "    --pid-file) pidfile=$2; shift ;;\n"
    "    --process) proc=$2; shift ;;\n"
    "    create|exec|kill|delete) [ -z \"$cmd\" ] && cmd=$1 ;;\n"
    "  esac\n"
    "  shift\n"
    "done\n"
    "case \"$cmd\" in\n"
    "  create) sleep 30 </dev/null >/dev/null 2>&1 & echo $! > \"$pidfile\" ;;\n"
    "  exec) cp \"$proc\" \"$d/process.json\"; sleep 30 </dev/null >/dev/null 2>&1 & echo $! > \"$pidfile\" ;;\n"
    "esac\n";

static int count_pid(ctx *c, int pid) {
  int n = 0;
  for (int i = 0; i < 8 && i < c->exits; i++) n += c->exit_pids[i] == pid;
  return n;
}

typedef struct log_ctx {
  ctx c;
  char calls[256];
  int watch_pid;
  bool killall_before_exit; /* the runtime's kill --all had run when watch_pid's exit was delivered */
} log_ctx;

static bool file_has(const char *path, const char *needle) {
  char buf[8192] = {0};
  FILE *f = fopen(path, "r");
  if (!f) return false;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return strstr(buf, needle) != NULL;
}

static void on_exit_logged(void *data, int pid, int status, int64_t at) {
  log_ctx *l = data;
  if (pid == l->watch_pid) l->killall_before_exit = file_has(l->calls, "kill --all a 9");
  on_exit_ev(&l->c, pid, status, at);
}

static void write_file(const char *dir, const char *name, const char *text, int mode) {
  char p[256];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  FILE *f = fopen(p, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  chmod(p, mode);
}

static void rm_file(const char *dir, const char *name) {
  char p[256];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  unlink(p);
}

/* runc-v2's parity points the backend owns: runc's --root is <Root>/<namespace> (also for a container's own
 * Root), an exec's spec gets the request's terminal flag, and the init of a container without a pid namespace
 * of its own takes the rest of the container down (kill --all) before its exit is told; with one, it does not. */
static void test_root_exec_terminal_and_kill_all(void **state) {
  (void)state;
  char dir[] = "/tmp/rtb-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char bin[64], ba[96], bb[96];
  snprintf(bin, sizeof bin, "%s/fake-runc", dir);
  write_file(dir, "fake-runc", logging_runtime, 0755);
  snprintf(ba, sizeof ba, "%s/a", dir);
  snprintf(bb, sizeof bb, "%s/b", dir);
  assert_int_equal(mkdir(ba, 0700), 0);
  assert_int_equal(mkdir(bb, 0700), 0);
  write_file(ba, "config.json", "{\"linux\":{\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"pid\",\"path\":\"/proc/1/ns/pid\"}]}}", 0644);
  write_file(bb, "config.json", "{\"linux\":{\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"pid\"}]}}", 0644);

  log_ctx *l = calloc(1, sizeof *l);
  ctx *c = &l->c;
  snprintf(l->calls, sizeof l->calls, "%s/calls", dir);
  uv_loop_init(&c->loop);
  char root[96];
  snprintf(root, sizeof root, "%s/state/", dir);
  rt_linux_opts o = {.binary = bin, .root = root, .ns = "ns1"};
  rt_events ev = {.exit = on_exit_logged, .data = l};
  cs_err err;
  c->be = rt_linux_new(&c->loop, &o, &ev, &err);
  assert_non_null(c->be);

  exec_ctx ca = {.c = c}, cb = {.c = c};
  rt_create_req ra = {.id = "a", .bundle = ba, .io = {.fd = {-1, -1, -1}}};
  char own_root[96];
  snprintf(own_root, sizeof own_root, "%s/other", dir);
  rt_create_req rb = {.id = "b", .bundle = bb, .io = {.fd = {-1, -1, -1}}, .runtime_root = own_root};
  assert_int_equal(c->be->ops->create(c->be, &ra, on_exec_done, &ca, &err), 0);
  assert_int_equal(c->be->ops->create(c->be, &rb, on_exec_done, &cb, &err), 0);
  wait_done(c, &ca);
  wait_done(c, &cb);
  assert_false(ca.failed);
  assert_false(cb.failed);
  char want[160];
  snprintf(want, sizeof want, "--root %s/state/ns1 ", dir);
  assert_true(file_has(l->calls, want));
  snprintf(want, sizeof want, "--root %s/other/ns1 ", dir);
  assert_true(file_has(l->calls, want));

  /* terminal:true in the spec, false in the request: the request wins (and the other way round in e2e). */
  exec_ctx xe = {.c = c};
  const char *spec = "{\"args\":[\"sh\"],\"terminal\":true,\"cwd\":\"/\"}";
  rt_exec_req ex = {.id = "a", .exec_id = "e1", .process_json = spec, .process_json_len = strlen(spec),
                    .io = {.fd = {-1, -1, -1}}};
  assert_int_equal(c->be->ops->exec(c->be, &ex, on_exec_done, &xe, &err), 0);
  wait_done(c, &xe);
  assert_false(xe.failed);
  char pj[96];
  snprintf(pj, sizeof pj, "%s/process.json", dir);
  assert_true(file_has(pj, "\"terminal\":false"));
  assert_true(file_has(pj, "\"args\":[\"sh\"]"));
  kill(xe.pid, SIGKILL);
  for (int i = 0; i < 5000 && count_pid(c, xe.pid) == 0; i++) spin(c, 1);

  /* b has its own pid namespace: its init's exit is told at once, without a kill --all. */
  kill(cb.pid, SIGKILL);
  for (int i = 0; i < 5000 && count_pid(c, cb.pid) == 0; i++) spin(c, 1);
  assert_int_equal(count_pid(c, cb.pid), 1);
  assert_false(file_has(l->calls, "kill --all b"));
  /* a shares a pid namespace: kill --all ran before a's exit was told. */
  l->watch_pid = ca.pid;
  kill(ca.pid, SIGKILL);
  for (int i = 0; i < 5000 && count_pid(c, ca.pid) == 0; i++) spin(c, 1);
  assert_int_equal(count_pid(c, ca.pid), 1);
  assert_true(l->killall_before_exit);

  free_ctx(c);
  const char *files[] = {"a/init.pid", "a/e1.pid", "b/init.pid", "a/config.json", "b/config.json", "calls",
                         "process.json", "fake-runc"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) rm_file(dir, files[i]);
  assert_int_equal(rmdir(ba), 0);
  assert_int_equal(rmdir(bb), 0);
  assert_int_equal(rmdir(dir), 0);
}

int main(void) {
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_constructor_errors),
      cmocka_unit_test(test_argument_errors),
      cmocka_unit_test(test_deferred_and_destroy_in_callback),
      cmocka_unit_test(test_exec_exit_before_runtime_returns),
      cmocka_unit_test(test_root_exec_terminal_and_kill_all),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
