/* Unit: cgroup v2 sampling and the v2 OOM watch, against fixture files in a temp dir (this host's memory
 * controller is on v1, so the v2 paths cannot run against a real container here). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rt_linux_counters.h"
#include "rt_linux_oom.h"

/* top: the pod's cgroup (only its cpu.stat: the gate's); dir: the container's below it */
static char top[64], dir[80];
static rt_linux_counters_shared shared;

static void put_in(const char *d, const char *name, const char *text) {
  char p[128];
  snprintf(p, sizeof p, "%s/%s", d, name);
  /* rewrite in place (same inode): that is what inotify on a cgroup file sees */
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
}

static void put(const char *name, const char *text) {
  put_in(dir, name, text);
}

static int setup(void **state) {
  (void)state;
  snprintf(top, sizeof top, "/tmp/cshim-v2-XXXXXX");
  if (!mkdtemp(top)) return -1;
  snprintf(dir, sizeof dir, "%s/ctr", top);
  if (mkdir(dir, 0755) != 0) return -1;
  put_in(top, "cpu.stat", "usage_usec 8000\n");
  put("cpu.stat", "usage_usec 2000\nuser_usec 1500\nsystem_usec 500\nnr_periods 10\nnr_throttled 2\n"
                  "throttled_usec 300\n");
  put("memory.current", "4096000\n");
  put("memory.max", "max\n");
  put("memory.stat", "anon 100\nfile 200\nkernel_stack 16384\nslab 300\nsock 0\nshmem 7\nfile_mapped 8\n"
                     "file_dirty 9\nfile_writeback 10\ninactive_anon 11\nactive_anon 12\ninactive_file 13\n"
                     "active_file 14\nunevictable 15\npgfault 16\npgmajfault 17\n");
  put("memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 0\n");
  put("memory.swap.current", "0\n");
  put("memory.swap.max", "max\n");
  put("io.stat", "8:0 rbytes=1024 wbytes=2048 rios=1 wios=2 dbytes=0 dios=0\n");
  put("pids.current", "3\n");
  put("pids.max", "max\n");
  return 0;
}

static int teardown(void **state) {
  (void)state;
  const char *files[] = {"cpu.stat", "memory.current", "memory.max", "memory.stat", "memory.events",
                         "memory.swap.current", "memory.swap.max", "io.stat", "pids.current", "pids.max"};
  char p[128];
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    snprintf(p, sizeof p, "%s/%s", dir, files[i]);
    unlink(p);
  }
  rmdir(dir);
  snprintf(p, sizeof p, "%s/cpu.stat", top);
  unlink(p);
  rmdir(top);
  return 0;
}

static void test_sample_v2(void **state) {
  (void)state;
  cs_err err;
  rt_linux_counters *k = rt_linux_counters_open_v2(dir, getpid(), &shared, &err);
  assert_non_null(k);
  assert_int_equal(rt_linux_counters_version(k), 2);
  rt_sample *s = calloc(1, sizeof *s);
  assert_int_equal(rt_linux_counters_sample(k, s, false, &err), 0);
  assert_int_equal(s->kind, RT_SAMPLE_CGROUP_V2);
  assert_true(s->timestamp_ns > 0);
  assert_int_equal(s->cpu.usage_ns, 2000000);
  assert_int_equal(s->cpu.user_ns, 1500000);
  assert_int_equal(s->cpu.kernel_ns, 500000);
  assert_int_equal(s->cpu.periods, 10);
  assert_int_equal(s->cpu.throttled_periods, 2);
  assert_int_equal(s->cpu.throttled_ns, 300000);
  assert_int_equal(s->memory.usage, 4096000);
  assert_true(s->memory.limit == UINT64_MAX);
  assert_true(s->memory.swap_limit == UINT64_MAX);
  assert_int_equal(s->memory.anon, 100);
  assert_int_equal(s->memory.kernel_stack, 16384);
  assert_int_equal(s->memory.pgmajfault, 17);
  assert_int_equal(s->memory.ev_max, 3);
  assert_int_equal(s->memory.ev_oom, 1);
  assert_int_equal(s->blkio.n, 1);
  assert_int_equal(s->blkio.bytes[0].write, 2048);
  assert_int_equal(s->blkio.ops[0].read, 1);
  assert_int_equal(s->pids.current, 3);
  assert_int_equal(s->pids.limit, 0); /* max */
  assert_true(s->n_net >= 1);         /* this process's netns */
  /* the files stay open: a new value is seen without reopening */
  put("pids.current", "5\n");
  assert_int_equal(rt_linux_counters_sample(k, s, false, &err), 0);
  assert_int_equal(s->pids.current, 5);
  /* limits are kept until an Update says they changed (or 10 s have passed) */
  put("memory.max", "1048576\n");
  assert_int_equal(rt_linux_counters_sample(k, s, false, &err), 0);
  assert_true(s->memory.limit == UINT64_MAX);
  rt_linux_counters_limits_changed(k);
  assert_int_equal(rt_linux_counters_sample(k, s, false, &err), 0);
  assert_int_equal(s->memory.limit, 1048576);
  /* a quick read re-reads memory only when the CPU usage moved */
  rt_quick q;
  put("memory.current", "5000000\n");
  assert_int_equal(rt_linux_counters_quick(k, &q, &err), 0);
  assert_int_equal(q.cpu_usage_ns, 2000000);
  assert_int_equal(q.memory_usage, 4096000);
  /* ... and reads nothing while the parent's usage has not moved since (the kernel charges CPU time to
   * every ancestor; the fixture's child moving alone shows the read was skipped) */
  assert_non_null(shared.gates);
  put("cpu.stat", "usage_usec 2500\n");
  usleep(2 * RT_LINUX_GATE_REUSE_NS / 1000);
  assert_int_equal(rt_linux_counters_quick(k, &q, &err), 0);
  assert_int_equal(q.cpu_usage_ns, 2000000);
  assert_int_equal(q.memory_usage, 4096000);
  put_in(top, "cpu.stat", "usage_usec 8500\n");
  usleep(2 * RT_LINUX_GATE_REUSE_NS / 1000);
  assert_int_equal(rt_linux_counters_quick(k, &q, &err), 0);
  assert_int_equal(q.cpu_usage_ns, 2500000);
  assert_int_equal(q.memory_usage, 5000000);
  /* a sibling shares the parent's gate: one read of it per tick serves the pod */
  rt_linux_counters *k2 = rt_linux_counters_open_v2(dir, 0, &shared, &err);
  assert_non_null(k2);
  rt_linux_counters_close(k2);
  assert_non_null(shared.gates);
  free(s);
  rt_linux_counters_close(k);
  assert_null(shared.gates); /* the last one out closed it */
  rt_linux_counters_shared_release(&shared);
  assert_null(rt_linux_counters_open_v2("/nonexistent", 0, &shared, &err));
  assert_int_equal(err.code, CS_NOT_FOUND);
}

static int ooms;
static void on_oom(void *data) {
  (void)data;
  ooms++;
}

static void spin(uv_loop_t *loop, int ms) {
  for (int i = 0; i < ms; i++) {
    uv_run(loop, UV_RUN_NOWAIT);
    usleep(1000);
  }
}

static void test_oom_v2(void **state) {
  (void)state;
  uv_loop_t loop;
  uv_loop_init(&loop);
  cs_err err;
  ooms = 0;
  put("memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n"); /* earlier kills do not count */
  rt_linux_oom *o = rt_linux_oom_start(&loop, 2, dir, on_oom, NULL, &err);
  assert_non_null(o);
  spin(&loop, 20);
  assert_int_equal(ooms, 0);
  put("memory.events", "low 0\nhigh 0\nmax 4\noom 2\noom_kill 2\n"); /* an event, but no new kill */
  spin(&loop, 50);
  assert_int_equal(ooms, 0);
  put("memory.events", "low 0\nhigh 0\nmax 5\noom 3\noom_kill 3\n");
  for (int i = 0; i < 100 && ooms == 0; i++) spin(&loop, 10);
  assert_int_equal(ooms, 1);
  rt_linux_oom_stop(o);
  put("memory.events", "low 0\nhigh 0\nmax 5\noom 3\noom_kill 9\n");
  spin(&loop, 50);
  assert_int_equal(ooms, 1); /* nothing after stop */
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&loop), 0);
  /* v1 on a directory that is not a memory cgroup: an error, not a crash */
  assert_null(rt_linux_oom_start(&loop, 1, dir, on_oom, NULL, &err));
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_sample_v2), cmocka_unit_test(test_oom_v2)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
