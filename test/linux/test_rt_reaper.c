/* Unit: the reaper contract. Many commands spawned concurrently through rt_linux_cmd while unrelated
 * children (and reparented grandchildren) exit: every command's exit reaches its own callback with its own
 * status, every other exit reaches `unclaimed` with its status, each exactly once, none confused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rt_linux_cmd.h"
#include "rt_reaper.h"

#define N_CMDS 300     /* commands through the spawner */
#define N_RAW 150      /* unrelated children forked directly */
#define N_GRAND 50     /* grandchildren reparented to us (subreaper) */
#define PER_TICK 10

typedef struct cmd_slot {
  int expect;  /* exit code */
  int pid;
  int calls;
  int got;
} cmd_slot;

typedef struct raw_slot {
  int pid;
  int expect;
  int calls;
} raw_slot;

typedef struct fixture {
  uv_loop_t loop;
  rt_reaper *r;
  uv_timer_t tick;
  cmd_slot cmds[N_CMDS];
  raw_slot raws[N_RAW + 2 * N_GRAND];
  int n_cmds, n_raw, n_direct, n_grand_parents;
  int cmd_done, raw_done;
  int stray;      /* unclaimed exits of pids we did not fork: must be 0 */
  int confused;   /* a command pid seen in unclaimed, or a status mismatch */
  int grand_pipe[2]; /* grandchildren report their pids here */
} fixture;

static void on_cmd(void *data, const rt_linux_cmd_result *res);

static fixture *F; /* the callbacks get their slot; the fixture for counters */

static void on_cmd(void *data, const rt_linux_cmd_result *res) {
  cmd_slot *s = data;
  s->calls++;
  s->got = res->status;
  if (res->pid != s->pid || res->status != s->expect) F->confused++;
  F->cmd_done++;
}

static raw_slot *find_raw(fixture *f, int pid) {
  for (int i = 0; i < f->n_raw; i++)
    if (f->raws[i].pid == pid) return &f->raws[i];
  return NULL;
}

static void read_grand_pids(fixture *f) {
  int pid;
  while (read(f->grand_pipe[0], &pid, sizeof pid) == (ssize_t)sizeof pid) {
    raw_slot *s = &f->raws[f->n_raw++];
    s->pid = pid;
    s->expect = 77;
  }
}

static void on_unclaimed(void *data, int pid, int status, int64_t at) {
  fixture *f = data;
  (void)at;
  for (int i = 0; i < f->n_cmds; i++)
    if (f->cmds[i].pid == pid) {
      f->confused++;
      return;
    }
  raw_slot *s = find_raw(f, pid);
  if (!s) { /* a grandchild whose pid report is still in the pipe, or a middle child */
    read_grand_pids(f);
    s = find_raw(f, pid);
  }
  if (!s) {
    f->stray++;
    return;
  }
  s->calls++;
  if (status != s->expect) f->confused++;
  f->raw_done++;
}

/* One tick: some commands, some raw children, some grandchildren — all racing each other's exits. */
static void on_tick(uv_timer_t *t) {
  fixture *f = t->data;
  for (int k = 0; k < PER_TICK && f->n_cmds < N_CMDS; k++) {
    cmd_slot *s = &f->cmds[f->n_cmds];
    s->expect = (f->n_cmds * 7) % 200;
    char script[64];
    /* some exit at once (before rt_linux_cmd_start even returns), some a little later */
    if (f->n_cmds % 3 == 0) snprintf(script, sizeof script, "sleep 0.0%d; exit %d", f->n_cmds % 10, s->expect);
    else snprintf(script, sizeof script, "exit %d", s->expect);
    char *argv[] = {"sh", "-c", script, NULL};
    rt_linux_cmd_spec spec = {.path = "/bin/sh", .argv = argv, .fd = {-1, -1, -1}};
    cs_err err;
    rt_linux_cmd *c = rt_linux_cmd_start(&f->loop, f->r, &spec, on_cmd, s, &err);
    assert_non_null(c);
    s->pid = rt_linux_cmd_pid(c);
    f->n_cmds++;
  }
  for (int k = 0; k < PER_TICK / 2 && f->n_direct < N_RAW; k++) {
    int code = 100 + f->n_direct % 50;
    f->n_direct++;
    pid_t pid = fork();
    if (pid == 0) {
      if (f->n_raw % 4 == 0) usleep(1000 * (f->n_raw % 5));
      _exit(code);
    }
    assert_true(pid > 0);
    raw_slot *s = &f->raws[f->n_raw++];
    s->pid = pid;
    s->expect = code;
  }
  if (f->n_grand_parents < N_GRAND) {
    /* A middle child that forks a grandchild and exits at once: the grandchild is reparented to us. */
    pid_t mid = fork();
    if (mid == 0) {
      pid_t g = fork();
      if (g == 0) {
        int me = getpid();
        ssize_t w = write(f->grand_pipe[1], &me, sizeof me);
        (void)w;
        usleep(2000);
        _exit(77);
      }
      _exit(0);
    }
    raw_slot *s = &f->raws[f->n_raw++];
    s->pid = mid;
    s->expect = 0;
    f->n_grand_parents++;
  }
  if (f->n_cmds >= N_CMDS && f->n_grand_parents >= N_GRAND && f->n_direct >= N_RAW)
    uv_timer_stop(t);
}

static void run_until(uv_loop_t *loop, int *counter, int target, int ms) {
  for (int i = 0; i < ms && *counter < target; i++) {
    uv_run(loop, UV_RUN_NOWAIT);
    usleep(1000);
  }
}

static void test_concurrent_spawns_and_exits(void **state) {
  (void)state;
  fixture *f = calloc(1, sizeof *f);
  F = f;
  assert_int_equal(pipe2(f->grand_pipe, O_CLOEXEC | O_NONBLOCK), 0);
  assert_int_equal(uv_loop_init(&f->loop), 0);
  cs_err err;
  f->r = rt_reaper_new(&f->loop, on_unclaimed, f, &err);
  assert_non_null(f->r);
  uv_timer_init(&f->loop, &f->tick);
  f->tick.data = f;
  uv_timer_start(&f->tick, on_tick, 0, 1);
  int total = N_CMDS;
  run_until(&f->loop, &f->cmd_done, total, 30000);
  /* every raw child, middle child and grandchild */
  int want_raw = N_RAW + 2 * N_GRAND;
  run_until(&f->loop, &f->raw_done, want_raw, 30000);
  read_grand_pids(f);

  assert_int_equal(f->cmd_done, N_CMDS);
  for (int i = 0; i < N_CMDS; i++) {
    assert_int_equal(f->cmds[i].calls, 1);
    assert_int_equal(f->cmds[i].got, f->cmds[i].expect);
  }
  assert_int_equal(f->n_raw, want_raw);
  assert_int_equal(f->raw_done, want_raw);
  for (int i = 0; i < f->n_raw; i++) assert_int_equal(f->raws[i].calls, 1);
  assert_int_equal(f->confused, 0);
  assert_int_equal(f->stray, 0);
  rt_reaper_counts c;
  rt_reaper_get_counts(f->r, &c);
  assert_int_equal(c.watched_delivered, N_CMDS);
  assert_int_equal(c.unclaimed_delivered, want_raw);
  assert_int_equal(c.reaped, N_CMDS + want_raw);

  rt_reaper_close(f->r);
  uv_close((uv_handle_t *)&f->tick, NULL);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  close(f->grand_pipe[0]);
  close(f->grand_pipe[1]);
  assert_int_equal(waitpid(-1, NULL, WNOHANG), -1); /* nothing left unreaped */
  free(f);
}

/* ---------------------------------------------------------------- output, input, exec errors, cancel */

typedef struct one {
  int calls, status;
  char out[256], err[256];
  int unclaimed;
} one;

static void on_one(void *data, const rt_linux_cmd_result *res) {
  one *o = data;
  o->calls++;
  o->status = res->status;
  snprintf(o->out, sizeof o->out, "%s", res->out);
  snprintf(o->err, sizeof o->err, "%s", res->err);
}

static void count_unclaimed(void *data, int pid, int status, int64_t at) {
  (void)pid, (void)status, (void)at;
  ((one *)data)->unclaimed++;
}

static void test_capture_input_errors(void **state) {
  (void)state;
  uv_loop_t loop;
  uv_loop_init(&loop);
  one o = {0}, o2 = {0}, o3 = {0};
  cs_err err;
  rt_reaper *r = rt_reaper_new(&loop, count_unclaimed, &o, &err);
  assert_non_null(r);

  char *argv[] = {"sh", "-c", "echo out; echo err >&2; cat; exit 3", NULL};
  rt_linux_cmd_spec spec = {.path = "/bin/sh", .argv = argv,
                            .fd = {RT_LINUX_CMD_NULL, RT_LINUX_CMD_CAPTURE, RT_LINUX_CMD_CAPTURE},
                            .input = "from-stdin", .input_len = 10};
  assert_non_null(rt_linux_cmd_start(&loop, r, &spec, on_one, &o, &err));

  /* an exec failure is reported synchronously, and its exit goes nowhere */
  char *bad[] = {"nosuch", NULL};
  rt_linux_cmd_spec sbad = {.path = "/nonexistent/nosuch", .argv = bad, .fd = {-1, -1, -1}};
  assert_null(rt_linux_cmd_start(&loop, r, &sbad, on_one, &o2, &err));
  assert_int_equal(err.code, CS_NOT_FOUND);
  assert_non_null(strstr(err.msg, "/nonexistent/nosuch"));

  /* a cancelled command: no callback, and its exit is not "unclaimed" either */
  char *slp[] = {"sh", "-c", "exit 5", NULL};
  rt_linux_cmd_spec sslp = {.path = "/bin/sh", .argv = slp, .fd = {-1, RT_LINUX_CMD_CAPTURE, -1}};
  rt_linux_cmd *c3 = rt_linux_cmd_start(&loop, r, &sslp, on_one, &o3, &err);
  assert_non_null(c3);
  rt_linux_cmd_cancel(c3);

  /* output larger than a pipe buffer must not block the child */
  one o4 = {0};
  char *big[] = {"sh", "-c", "i=0; while [ $i -lt 3000 ]; do echo 0123456789012345678901234567890123456789; i=$((i+1)); done", NULL};
  rt_linux_cmd_spec sbig = {.path = "/bin/sh", .argv = big, .fd = {-1, RT_LINUX_CMD_CAPTURE, -1}, .capture_max = 1 << 20};
  assert_non_null(rt_linux_cmd_start(&loop, r, &sbig, on_one, &o4, &err));

  for (int i = 0; i < 10000 && (o.calls == 0 || o4.calls == 0); i++) {
    uv_run(&loop, UV_RUN_NOWAIT);
    usleep(1000);
  }
  for (int i = 0; i < 50; i++) { /* let the cancelled and the failed exec exits arrive */
    uv_run(&loop, UV_RUN_NOWAIT);
    usleep(1000);
  }
  assert_int_equal(o.calls, 1);
  assert_int_equal(o.status, 3);
  assert_string_equal(o.out, "out\nfrom-stdin");
  assert_string_equal(o.err, "err\n");
  assert_int_equal(o2.calls, 0);
  assert_int_equal(o3.calls, 0);
  assert_int_equal(o4.calls, 1);
  assert_int_equal(o4.status, 0);
  assert_int_equal(o.unclaimed, 0);
  rt_reaper_counts k;
  rt_reaper_get_counts(r, &k);
  assert_int_equal(k.ignored, 2);
  rt_reaper_close(r);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_status_mapping(void **state) {
  (void)state;
  assert_int_equal(rt_reaper_status(0), 0);
  assert_int_equal(rt_reaper_status(3 << 8), 3);
  assert_int_equal(rt_reaper_status(SIGKILL), 137);
  assert_int_equal(rt_reaper_status(SIGTERM), 143);
}

int main(void) {
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_status_mapping),
      cmocka_unit_test(test_capture_input_errors),
      cmocka_unit_test(test_concurrent_spawns_and_exits),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
