/* Integration: the Linux backend against the real runtime binary, as root. Busybox bundles in a temp dir,
 * the runtime's state root in that temp dir; everything is force-deleted and removed in teardown. */
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroups/v1/metrics.pb-c.h"
#include "cgroups/v2/metrics.pb-c.h"
#include "rt_linux.h"
#include "rt_test_bundle.h"
#include "stats_linux.h"

#define MAX_EXITS 64

typedef struct call {
  bool done, failed;
  rt_result res;
  cs_err err;
  int npids;
  int pids[64];
} call;

typedef struct fx {
  uv_loop_t loop;
  rt_backend *be;
  tb_env env;
  const char *binary;
  int nexits;
  struct { int pid, status; } exits[MAX_EXITS];
  int nooms;
  char oom_id[128];
  char id[64];
  char bundle[PATH_MAX];
} fx;

static void on_exit_ev(void *data, int pid, int status, int64_t at) {
  fx *f = data;
  assert_true(at > 0);
  if (f->nexits < MAX_EXITS) f->exits[f->nexits].pid = pid, f->exits[f->nexits++].status = status;
}

static void on_oom_ev(void *data, const char *id) {
  fx *f = data;
  f->nooms++;
  snprintf(f->oom_id, sizeof f->oom_id, "%s", id);
}

static void on_done(void *data, const rt_result *res, const cs_err *err) {
  call *c = data;
  assert_false(c->done); /* exactly once */
  c->done = true;
  c->failed = err != NULL;
  if (err) c->err = *err;
  else c->res = *res;
}

static void on_pids(void *data, const int *pids, size_t n, const cs_err *err) {
  call *c = data;
  c->done = true;
  c->failed = err != NULL;
  if (err) c->err = *err;
  for (size_t i = 0; i < n && i < 64; i++) c->pids[c->npids++] = pids[i];
}

#define WAIT(f, cond, ms)                                            \
  do {                                                               \
    for (int _i = 0; _i < (ms) && !(cond); _i++) {                   \
      uv_run(&(f)->loop, UV_RUN_NOWAIT);                             \
      if (!(cond)) usleep(1000);                                     \
    }                                                                \
  } while (0)

static int exit_status(fx *f, int pid) {
  for (int i = 0; i < f->nexits; i++)
    if (f->exits[i].pid == pid) return f->exits[i].status;
  return -1;
}

static int count_exits(fx *f, int pid) {
  int n = 0;
  for (int i = 0; i < f->nexits; i++) n += f->exits[i].pid == pid;
  return n;
}

static fx *fx_new(const char *binary) {
  fx *f = calloc(1, sizeof *f);
  f->binary = binary;
  assert_int_equal(uv_loop_init(&f->loop), 0);
  assert_int_equal(tb_env_init(&f->env), 0);
  rt_linux_opts o = {.binary = binary, .root = f->env.state, .console_dir = f->env.dir};
  rt_events ev = {.exit = on_exit_ev, .oom = on_oom_ev, .data = f};
  cs_err err;
  f->be = rt_linux_new(&f->loop, &o, &ev, &err);
  if (!f->be) fprintf(stderr, "rt_linux_new: %s\n", err.msg);
  assert_non_null(f->be);
  snprintf(f->id, sizeof f->id, "cshim-it-%d-%ld", getpid(), random() % 100000);
  return f;
}

static int teardown(void **state) {
  fx *f = *state;
  if (!f) return 0;
  if (f->be) f->be->ops->destroy(f->be);
  f->be = NULL;
  uv_run(&f->loop, UV_RUN_DEFAULT);
  int rc = uv_loop_close(&f->loop);
  tb_env_cleanup(&f->env, f->binary);
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  free(f);
  *state = NULL;
  return rc == 0 ? 0 : -1;
}

static int setup_runc(void **state) {
  if (getuid() != 0) return 0;
  *state = fx_new("runc");
  return 0;
}

static void create_ok(fx *f, const char *name, const tb_spec *s, rt_stdio io, call *c) {
  assert_int_equal(tb_bundle(&f->env, name, s, f->bundle, sizeof f->bundle), 0);
  rt_create_req req = {.id = f->id, .bundle = f->bundle, .io = io};
  cs_err err;
  int rc = f->be->ops->create(f->be, &req, on_done, c, &err);
  if (rc != 0) fprintf(stderr, "create: %s\n", err.msg);
  assert_int_equal(rc, 0);
  WAIT(f, c->done, 20000);
  assert_true(c->done);
  if (c->failed) fprintf(stderr, "create: %s\n", c->err.msg);
}

#define NEED_ROOT()                                          \
  do {                                                       \
    if (getuid() != 0 || !*state) {                          \
      skip();                                                \
    }                                                        \
  } while (0)

/* ---------------------------------------------------------------- lifecycle */

static void lifecycle(fx *f) {
  int p[2];
  assert_int_equal(pipe2(p, O_CLOEXEC), 0);
  const char *args[] = {"sh", "-c", "echo hello; i=0; while true; do i=$((i+1)); done", NULL};
  tb_spec s = {.args = args};
  call cr = {0};
  create_ok(f, "lc", &s, (rt_stdio){.fd = {-1, p[1], p[1]}}, &cr);
  close(p[1]);
  if (cr.failed && strstr(cr.err.msg, "hybrid mode")) { /* crun refuses this host's cgroup layout */
    close(p[0]);
    print_message("%s: cgroups in hybrid mode (test/lib/cgroup-hybrid.sh bind fixes it)\n", f->binary);
    skip();
  }
  assert_false(cr.failed);
  int pid = cr.res.pid;
  assert_true(pid > 0);
  assert_int_equal(cr.res.console_fd, -1);
  assert_int_equal(kill(pid, 0), 0);

  cs_err err;
  call st = {0};
  assert_int_equal(f->be->ops->start(f->be, f->id, NULL, on_done, &st, &err), 0);
  WAIT(f, st.done, 20000);
  assert_true(st.done);
  assert_false(st.failed);
  assert_int_equal(st.res.pid, pid);
  char buf[256];
  assert_true(tb_read_until(p[0], "hello\n", 5000, buf, sizeof buf));

  /* it burns CPU: wait (10 s deadline) until its cgroup has counted some */
  rt_sample *smp = calloc(1, sizeof *smp);
  for (int i = 0; i < 1000; i++) {
    assert_int_equal(f->be->ops->stats(f->be, f->id, smp, &err), 0);
    if (smp->cpu.usage_ns > 0 && smp->cpu.user_ns + smp->cpu.kernel_ns > 0) break;
    usleep(10 * 1000);
  }
  assert_true(smp->kind == RT_SAMPLE_CGROUP_V1 || smp->kind == RT_SAMPLE_CGROUP_V2);
  assert_true(smp->cpu.usage_ns > 0);
  assert_true(smp->cpu.user_ns + smp->cpu.kernel_ns > 0);
  assert_true(smp->memory.usage > 0);
  assert_true(smp->pids.current >= 1);
  assert_true(smp->n_net >= 1); /* its own netns: lo */
  assert_string_equal(smp->net[0].name, "lo");
  if (smp->kind == RT_SAMPLE_CGROUP_V1) assert_true(smp->cpu.ncpu >= 1);
  uint8_t *enc;
  size_t len;
  const char *url;
  assert_int_equal(task_stats_encode_linux(smp, &enc, &len, &url, &err), 0);
  if (smp->kind == RT_SAMPLE_CGROUP_V1) {
    Io__Containerd__Cgroups__V1__Metrics *m = io__containerd__cgroups__v1__metrics__unpack(NULL, len, enc);
    assert_non_null(m);
    assert_true(m->cpu->usage->total > 0);
    assert_true(m->memory->usage->usage > 0);
    assert_true(m->n_network >= 1);
    io__containerd__cgroups__v1__metrics__free_unpacked(m, NULL);
  }
  free(enc);
  free(smp);

  call ps = {0};
  assert_int_equal(f->be->ops->pids(f->be, f->id, on_pids, &ps, &err), 0);
  WAIT(f, ps.done, 10000);
  assert_false(ps.failed);
  bool found = false;
  for (int i = 0; i < ps.npids; i++) found |= ps.pids[i] == pid;
  assert_true(found);

  call k = {0};
  assert_int_equal(f->be->ops->kill(f->be, f->id, 0, SIGKILL, false, on_done, &k, &err), 0);
  WAIT(f, k.done && exit_status(f, pid) >= 0, 10000);
  assert_true(k.done);
  assert_false(k.failed);
  assert_int_equal(exit_status(f, pid), 137);
  assert_int_equal(count_exits(f, pid), 1);

  /* stats still answer from the open files while the cgroup exists */
  smp = calloc(1, sizeof *smp);
  assert_int_equal(f->be->ops->stats(f->be, f->id, smp, &err), 0);
  free(smp);

  /* the container is stopped: runc kill says so, mapped as runc-v2 does */
  call k2 = {0};
  assert_int_equal(f->be->ops->kill(f->be, f->id, 0, SIGTERM, false, on_done, &k2, &err), 0);
  WAIT(f, k2.done, 10000);
  assert_true(k2.failed);
  assert_int_equal(k2.err.code, CS_NOT_FOUND);
  assert_string_equal(k2.err.msg, "process already finished");
  /* a pid that is gone */
  assert_int_equal(f->be->ops->kill(f->be, f->id, pid, SIGTERM, false, on_done, &k2, &err), -1);
  assert_int_equal(err.code, CS_NOT_FOUND);

  call d = {0};
  assert_int_equal(f->be->ops->delete(f->be, f->id, false, on_done, &d, &err), 0);
  WAIT(f, d.done, 10000);
  assert_false(d.failed);
  assert_int_equal(d.res.pid, pid);
  assert_int_equal(f->be->ops->delete(f->be, f->id, false, on_done, &d, &err), -1);
  assert_int_equal(err.code, CS_NOT_FOUND);
  char st_dir[PATH_MAX + 128];
  snprintf(st_dir, sizeof st_dir, "%s/%s", f->env.state, f->id);
  assert_int_equal(access(st_dir, F_OK), -1); /* the runtime forgot it too */
  close(p[0]);
}

static void test_lifecycle(void **state) {
  NEED_ROOT();
  lifecycle(*state);
}

/* ---------------------------------------------------------------- runtime errors */

static void test_bad_command(void **state) {
  NEED_ROOT();
  fx *f = *state;
  const char *args[] = {"nosuch", NULL};
  tb_spec s = {.args = args};
  call cr = {0};
  create_ok(f, "bad", &s, (rt_stdio){.fd = {-1, -1, -1}}, &cr);
  assert_true(cr.failed);
  assert_int_equal(cr.err.code, CS_UNKNOWN);
  assert_non_null(strstr(cr.err.msg, "OCI runtime create failed: "));
  assert_non_null(strstr(cr.err.msg, "exec: \"nosuch\": executable file not found in $PATH"));
  /* nothing left: neither in the backend nor in the runtime */
  cs_err err;
  call d = {0};
  assert_int_equal(f->be->ops->delete(f->be, f->id, true, on_done, &d, &err), -1);
  assert_int_equal(err.code, CS_NOT_FOUND);
  char st_dir[PATH_MAX + 128];
  snprintf(st_dir, sizeof st_dir, "%s/%s", f->env.state, f->id);
  assert_int_equal(access(st_dir, F_OK), -1);
  /* a second create with the same id works (the failed one was forgotten) */
  assert_int_equal(f->be->ops->start(f->be, f->id, NULL, on_done, &d, &err), -1);
  assert_int_equal(err.code, CS_NOT_FOUND);
}

/* ---------------------------------------------------------------- terminal */

static void test_terminal(void **state) {
  NEED_ROOT();
  fx *f = *state;
  const char *args[] = {"sh", "-c", "tty; echo tty-ok", NULL};
  tb_spec s = {.args = args, .terminal = true};
  call cr = {0};
  create_ok(f, "tty", &s, (rt_stdio){.terminal = true, .fd = {-1, -1, -1}}, &cr);
  assert_false(cr.failed);
  int m = cr.res.console_fd;
  assert_true(m >= 0);
  assert_true(isatty(m));
  cs_err err;
  call st = {0};
  assert_int_equal(f->be->ops->start(f->be, f->id, NULL, on_done, &st, &err), 0);
  char buf[512];
  assert_true(tb_read_until(m, "tty-ok", 5000, buf, sizeof buf));
  assert_non_null(strstr(buf, "/dev/pts/"));
  WAIT(f, st.done && exit_status(f, cr.res.pid) >= 0, 10000);
  assert_int_equal(exit_status(f, cr.res.pid), 0);
  call d = {0};
  assert_int_equal(f->be->ops->delete(f->be, f->id, false, on_done, &d, &err), 0);
  WAIT(f, d.done, 10000);
  assert_false(d.failed);
  close(m);
}

/* ---------------------------------------------------------------- exec, pause, update, checkpoint */

static const char *exec_json(bool terminal, const char *script, char *buf, size_t len) {
  snprintf(buf, len,
           "{\"terminal\":%s,\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"sh\",\"-c\",\"%s\"],"
           "\"env\":[\"PATH=/bin\"],\"cwd\":\"/\"}",
           terminal ? "true" : "false", script);
  return buf;
}

static void test_exec_and_friends(void **state) {
  NEED_ROOT();
  fx *f = *state;
  const char *args[] = {"sleep", "1000", NULL};
  tb_spec s = {.args = args};
  call cr = {0};
  create_ok(f, "ex", &s, (rt_stdio){.fd = {-1, -1, -1}}, &cr);
  assert_false(cr.failed);
  cs_err err;
  call st = {0};
  assert_int_equal(f->be->ops->start(f->be, f->id, NULL, on_done, &st, &err), 0);
  WAIT(f, st.done, 20000);
  assert_false(st.failed);

  /* exec with a pipe: output and exit code */
  int p[2];
  assert_int_equal(pipe2(p, O_CLOEXEC), 0);
  char js[512];
  exec_json(false, "echo exec-out; exit 3", js, sizeof js);
  rt_exec_req ex = {.id = f->id, .exec_id = "e1", .process_json = js, .process_json_len = strlen(js),
                    .io = {.fd = {-1, p[1], p[1]}}};
  call ec = {0};
  assert_int_equal(f->be->ops->exec(f->be, &ex, on_done, &ec, &err), 0);
  close(p[1]);
  WAIT(f, ec.done, 20000);
  assert_false(ec.failed);
  int epid = ec.res.pid;
  assert_true(epid > 0);
  char buf[512];
  assert_true(tb_read_until(p[0], "exec-out", 5000, buf, sizeof buf));
  close(p[0]);
  WAIT(f, exit_status(f, epid) >= 0, 10000);
  assert_int_equal(exit_status(f, epid), 3);
  assert_int_equal(count_exits(f, epid), 1);
  call es = {0};
  assert_int_equal(f->be->ops->start(f->be, f->id, "e1", on_done, &es, &err), 0);
  WAIT(f, es.done, 1000);
  assert_int_equal(es.res.pid, epid);
  assert_int_equal(f->be->ops->start(f->be, f->id, "nope", on_done, &es, &err), -1);
  assert_int_equal(err.code, CS_NOT_FOUND);

  /* exec with a terminal */
  exec_json(true, "tty; echo tty-exec", js, sizeof js);
  rt_exec_req et = {.id = f->id, .exec_id = "e2", .process_json = js, .process_json_len = strlen(js),
                    .io = {.terminal = true, .fd = {-1, -1, -1}}};
  call tc = {0};
  assert_int_equal(f->be->ops->exec(f->be, &et, on_done, &tc, &err), 0);
  WAIT(f, tc.done, 20000);
  assert_false(tc.failed);
  assert_true(tc.res.console_fd >= 0);
  assert_true(tb_read_until(tc.res.console_fd, "tty-exec", 5000, buf, sizeof buf));
  WAIT(f, exit_status(f, tc.res.pid) >= 0, 10000); /* before closing the master: that would SIGHUP it */
  assert_int_equal(exit_status(f, tc.res.pid), 0);
  close(tc.res.console_fd);

  /* exec of something that is not there: the runtime's message */
  const char *bad = "{\"terminal\":false,\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"nosuch\"],\"cwd\":\"/\"}";
  rt_exec_req eb = {.id = f->id, .exec_id = "e3", .process_json = bad, .process_json_len = strlen(bad),
                    .io = {.fd = {-1, -1, -1}}};
  call bc = {0};
  assert_int_equal(f->be->ops->exec(f->be, &eb, on_done, &bc, &err), 0);
  WAIT(f, bc.done, 20000);
  assert_true(bc.failed);
  assert_non_null(strstr(bc.err.msg, "OCI runtime exec failed: "));
  assert_non_null(strstr(bc.err.msg, "nosuch"));

  /* pause / resume */
  call pc = {0}, rc = {0};
  assert_int_equal(f->be->ops->pause(f->be, f->id, on_done, &pc, &err), 0);
  WAIT(f, pc.done, 10000);
  assert_false(pc.failed);
  assert_int_equal(f->be->ops->resume(f->be, f->id, on_done, &rc, &err), 0);
  WAIT(f, rc.done, 10000);
  assert_false(rc.failed);
  call rc2 = {0};
  assert_int_equal(f->be->ops->resume(f->be, f->id, on_done, &rc2, &err), 0);
  WAIT(f, rc2.done, 10000);
  assert_true(rc2.failed); /* not paused */

  /* update through stdin JSON, seen in the counters */
  const char *res = "{\"pids\":{\"limit\":50}}";
  call uc = {0};
  assert_int_equal(f->be->ops->update(f->be, f->id, res, strlen(res), on_done, &uc, &err), 0);
  WAIT(f, uc.done, 10000);
  if (uc.failed) fprintf(stderr, "update: %s\n", uc.err.msg);
  assert_false(uc.failed);
  rt_sample *smp = calloc(1, sizeof *smp);
  assert_int_equal(f->be->ops->stats(f->be, f->id, smp, &err), 0);
  assert_int_equal(smp->pids.limit, 50);
  free(smp);
  assert_int_equal(f->be->ops->update(f->be, f->id, "[1]", 3, on_done, &uc, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);

  /* a pty is resized by the caller on its master; a process without one has nothing to resize (runc-v2) */
  assert_int_equal(f->be->ops->resize(f->be, f->id, 0, 80, 24, &err), 0);

  /* checkpoint: works where CRIU works; else FailedPrecondition with the reason */
  char img[PATH_MAX + 16];
  snprintf(img, sizeof img, "%s/ckpt", f->env.dir);
  rt_checkpoint_req ck = {.id = f->id, .image_path = img};
  call cc = {0};
  assert_int_equal(f->be->ops->checkpoint(f->be, &ck, on_done, &cc, &err), 0);
  WAIT(f, cc.done, 60000);
  assert_true(cc.done);
  if (cc.failed) {
    fprintf(stderr, "checkpoint (expected where CRIU cannot run): %s\n", cc.err.msg);
    assert_int_equal(cc.err.code, CS_FAILED_PRECONDITION);
    assert_non_null(strstr(cc.err.msg, "checkpoint failed: "));
    assert_non_null(strstr(cc.err.msg, "criu-dump.log"));
  }

  /* a running container is not deleted without force: runc-v2's "cannot delete a running process" */
  call dr = {0};
  assert_int_equal(f->be->ops->delete(f->be, f->id, false, on_done, &dr, &err), 0);
  WAIT(f, dr.done, 10000);
  assert_true(dr.failed);
  assert_int_equal(dr.err.code, CS_FAILED_PRECONDITION);

  /* kill everything, exit 137, delete */
  call k = {0};
  assert_int_equal(f->be->ops->kill(f->be, f->id, 0, SIGKILL, true, on_done, &k, &err), 0);
  WAIT(f, k.done && exit_status(f, cr.res.pid) >= 0, 10000);
  assert_false(k.failed);
  assert_int_equal(exit_status(f, cr.res.pid), 137);
  call d = {0};
  assert_int_equal(f->be->ops->delete(f->be, f->id, false, on_done, &d, &err), 0);
  WAIT(f, d.done, 10000);
  assert_false(d.failed);
}

/* ---------------------------------------------------------------- restore */

/* Create from a checkpoint records the request; start runs `runc restore`. With no usable image (and no
 * working CRIU here) the restore fails with the runtime's message, and the record stays deletable. */
static void test_restore_path(void **state) {
  NEED_ROOT();
  fx *f = *state;
  const char *args[] = {"sleep", "1000", NULL};
  tb_spec s = {.args = args};
  assert_int_equal(tb_bundle(&f->env, "rs", &s, f->bundle, sizeof f->bundle), 0);
  char img[PATH_MAX + 16];
  snprintf(img, sizeof img, "%s/no-image", f->env.dir);
  rt_create_req req = {.id = f->id, .bundle = f->bundle, .io = {.fd = {-1, 1, 2}}, .checkpoint = img};
  call cr = {0};
  cs_err err;
  assert_int_equal(f->be->ops->create(f->be, &req, on_done, &cr, &err), 0);
  WAIT(f, cr.done, 1000);
  assert_false(cr.failed);
  assert_int_equal(cr.res.pid, 0);
  call st = {0};
  assert_int_equal(f->be->ops->start(f->be, f->id, NULL, on_done, &st, &err), 0);
  WAIT(f, st.done, 60000);
  assert_true(st.failed);
  fprintf(stderr, "restore (expected to fail here): %s\n", st.err.msg);
  assert_non_null(strstr(st.err.msg, "OCI runtime restore failed: "));
  call d = {0};
  assert_int_equal(f->be->ops->delete(f->be, f->id, true, on_done, &d, &err), 0);
  WAIT(f, d.done, 10000);
  assert_false(d.failed);
}

/* ---------------------------------------------------------------- OOM */

static void test_oom(void **state) {
  NEED_ROOT();
  fx *f = *state;
  /* busybox dd allocates its block: 256 MiB in a 32 MiB cgroup is an OOM kill */
  const char *args[] = {"dd", "if=/dev/zero", "of=/dev/null", "bs=256M", "count=4", NULL};
  tb_spec s = {.args = args, .memory_limit = 32 << 20};
  call cr = {0};
  create_ok(f, "oom", &s, (rt_stdio){.fd = {-1, -1, -1}}, &cr);
  assert_false(cr.failed);
  cs_err err;
  call st = {0};
  assert_int_equal(f->be->ops->start(f->be, f->id, NULL, on_done, &st, &err), 0);
  WAIT(f, st.done && exit_status(f, cr.res.pid) >= 0 && f->nooms > 0, 20000);
  assert_int_equal(exit_status(f, cr.res.pid), 137);
  assert_true(f->nooms >= 1);
  assert_string_equal(f->oom_id, f->id);
  rt_sample *smp = calloc(1, sizeof *smp);
  assert_int_equal(f->be->ops->stats(f->be, f->id, smp, &err), 0);
  if (smp->kind == RT_SAMPLE_CGROUP_V1) {
    assert_true(smp->memory.oom_kill >= 1);
    assert_true(smp->memory.failcnt >= 1);
    assert_int_equal(smp->memory.limit, 32 << 20);
  }
  free(smp);
  call d = {0};
  assert_int_equal(f->be->ops->delete(f->be, f->id, false, on_done, &d, &err), 0);
  WAIT(f, d.done, 10000);
  assert_false(d.failed);
  int before = f->nooms;
  WAIT(f, false, 200); /* the cgroup removal wakes the eventfd: that is not an OOM */
  assert_int_equal(f->nooms, before);
}

/* ---------------------------------------------------------------- destroy with work in flight */

static void test_destroy_inflight(void **state) {
  NEED_ROOT();
  fx *f = *state;
  const char *args[] = {"sleep", "1000", NULL};
  tb_spec s = {.args = args};
  assert_int_equal(tb_bundle(&f->env, "dx", &s, f->bundle, sizeof f->bundle), 0);
  rt_create_req req = {.id = f->id, .bundle = f->bundle, .io = {.fd = {-1, -1, -1}}};
  call c = {0};
  cs_err err;
  assert_int_equal(f->be->ops->create(f->be, &req, on_done, &c, &err), 0);
  assert_int_equal(f->be->ops->create(f->be, &req, on_done, &c, &err), -1);
  assert_int_equal(err.code, CS_ALREADY_EXISTS);
  f->be->ops->destroy(f->be);
  f->be = NULL;
  uv_run(&f->loop, UV_RUN_DEFAULT);
  assert_false(c.done); /* no callback after destroy */
  /* the runtime is left to finish; teardown force-deletes what it created */
  for (int i = 0; i < 200; i++) {
    char st_dir[PATH_MAX + 128];
    snprintf(st_dir, sizeof st_dir, "%s/%s/state.json", f->env.state, f->id);
    if (access(st_dir, F_OK) == 0) break;
    usleep(10000);
  }
}

/* ---------------------------------------------------------------- crun */

static int setup_crun(void **state) {
  if (getuid() != 0) return 0;
  char *argv[] = {"crun", "--version", NULL};
  if (tb_run(argv) != 0) return 0;
  *state = fx_new("crun");
  return 0;
}

static void test_crun_lifecycle(void **state) {
  NEED_ROOT();
  lifecycle(*state);
}

int main(void) {
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  signal(SIGPIPE, SIG_IGN);
  srandom((unsigned)getpid());
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_lifecycle, setup_runc, teardown),
      cmocka_unit_test_setup_teardown(test_bad_command, setup_runc, teardown),
      cmocka_unit_test_setup_teardown(test_terminal, setup_runc, teardown),
      cmocka_unit_test_setup_teardown(test_exec_and_friends, setup_runc, teardown),
      cmocka_unit_test_setup_teardown(test_oom, setup_runc, teardown),
      cmocka_unit_test_setup_teardown(test_restore_path, setup_runc, teardown),
      cmocka_unit_test_setup_teardown(test_destroy_inflight, setup_runc, teardown),
      cmocka_unit_test_setup_teardown(test_crun_lifecycle, setup_crun, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
