/* Unit: rt_sample → io.containerd.cgroups.v1/v2.Metrics, checked by decoding the bytes again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cgroups/v1/metrics.pb-c.h"
#include "cgroups/v2/metrics.pb-c.h"
#include "stats_linux.h"

static void test_v1(void **state) {
  (void)state;
  rt_sample *s = calloc(1, sizeof *s);
  s->kind = RT_SAMPLE_CGROUP_V1;
  s->cpu.usage_ns = 123456789;
  s->cpu.user_ns = 100000000;
  s->cpu.kernel_ns = 20000000;
  s->cpu.ncpu = 2;
  s->cpu.per_cpu_ns[0] = 1;
  s->cpu.per_cpu_ns[1] = 2;
  s->cpu.throttled_periods = 4;
  s->memory.usage = 4096;
  s->memory.limit = 1 << 20;
  s->memory.max_usage = 8192;
  s->memory.failcnt = 1;
  s->memory.cache = 11;
  s->memory.rss = 12;
  s->memory.total_rss = 13;
  s->memory.pgmajfault = 14;
  s->memory.swap_usage = 15;
  s->memory.kernel_usage = 16;
  s->memory.oom_kill = 2;
  s->blkio.n = 1;
  s->blkio.bytes[0] = (rt_blkio_entry){.major = 8, .minor = 0, .read = 4096, .write = 512, .total = 4608};
  s->blkio.ops[0] = (rt_blkio_entry){.major = 8, .minor = 0, .read = 1, .write = 2, .total = 3};
  s->pids.current = 3;
  s->pids.limit = 50;
  s->n_net = 2;
  strcpy(s->net[0].name, "lo");
  s->net[0].rx_bytes = 10;
  strcpy(s->net[1].name, "eth0");
  s->net[1].tx_dropped = 9;

  uint8_t *buf;
  size_t len;
  const char *url;
  cs_err err;
  assert_int_equal(task_stats_encode_linux(s, &buf, &len, &url, &err), 0);
  assert_string_equal(url, "io.containerd.cgroups.v1.Metrics");
  Io__Containerd__Cgroups__V1__Metrics *m = io__containerd__cgroups__v1__metrics__unpack(NULL, len, buf);
  assert_non_null(m);
  assert_int_equal(m->cpu->usage->total, 123456789);
  assert_int_equal(m->cpu->usage->user, 100000000);
  assert_int_equal(m->cpu->usage->kernel, 20000000);
  assert_int_equal(m->cpu->usage->n_per_cpu, 2);
  assert_int_equal(m->cpu->usage->per_cpu[1], 2);
  assert_int_equal(m->cpu->throttling->throttled_periods, 4);
  assert_int_equal(m->memory->usage->usage, 4096);
  assert_int_equal(m->memory->usage->limit, 1 << 20);
  assert_int_equal(m->memory->usage->max, 8192);
  assert_int_equal(m->memory->usage->failcnt, 1);
  assert_int_equal(m->memory->cache, 11);
  assert_int_equal(m->memory->total_rss, 13);
  assert_int_equal(m->memory->pg_maj_fault, 14);
  assert_int_equal(m->memory->swap->usage, 15);
  assert_int_equal(m->memory->kernel->usage, 16);
  assert_int_equal(m->memory_oom_control->oom_kill, 2);
  assert_int_equal(m->blkio->n_io_service_bytes_recursive, 5);
  assert_string_equal(m->blkio->io_service_bytes_recursive[0]->op, "Read");
  assert_int_equal(m->blkio->io_service_bytes_recursive[0]->value, 4096);
  assert_int_equal(m->blkio->io_service_bytes_recursive[4]->value, 4608);
  assert_int_equal(m->blkio->io_serviced_recursive[1]->value, 2);
  assert_int_equal(m->pids->current, 3);
  assert_int_equal(m->pids->limit, 50);
  assert_int_equal(m->n_network, 2);
  assert_string_equal(m->network[0]->name, "lo");
  assert_int_equal(m->network[0]->rx_bytes, 10);
  assert_string_equal(m->network[1]->name, "eth0");
  assert_int_equal(m->network[1]->tx_dropped, 9);
  io__containerd__cgroups__v1__metrics__free_unpacked(m, NULL);
  free(buf);
  free(s);
}

static void test_v2(void **state) {
  (void)state;
  rt_sample *s = calloc(1, sizeof *s);
  s->kind = RT_SAMPLE_CGROUP_V2;
  s->cpu.usage_ns = 5000000;
  s->cpu.user_ns = 3000000;
  s->cpu.kernel_ns = 2000000;
  s->cpu.throttled_ns = 7000;
  s->memory.usage = 100;
  s->memory.limit = UINT64_MAX;
  s->memory.anon = 5;
  s->memory.file_mapped = 6;
  s->memory.ev_oom_kill = 1;
  s->blkio.n = 1;
  s->blkio.bytes[0] = (rt_blkio_entry){.major = 259, .minor = 1, .read = 10, .write = 20};
  s->blkio.ops[0] = (rt_blkio_entry){.major = 259, .minor = 1, .read = 1, .write = 2};
  s->pids.current = 1;
  uint8_t *buf;
  size_t len;
  const char *url;
  cs_err err;
  assert_int_equal(task_stats_encode_linux(s, &buf, &len, &url, &err), 0);
  assert_string_equal(url, "io.containerd.cgroups.v2.Metrics");
  Io__Containerd__Cgroups__V2__Metrics *m = io__containerd__cgroups__v2__metrics__unpack(NULL, len, buf);
  assert_non_null(m);
  assert_int_equal(m->cpu->usage_usec, 5000);
  assert_int_equal(m->cpu->user_usec, 3000);
  assert_int_equal(m->cpu->system_usec, 2000);
  assert_int_equal(m->cpu->throttled_usec, 7);
  assert_int_equal(m->memory->usage, 100);
  assert_true(m->memory->usage_limit == UINT64_MAX);
  assert_int_equal(m->memory->anon, 5);
  assert_int_equal(m->memory->file_mapped, 6);
  assert_int_equal(m->memory_events->oom_kill, 1);
  assert_int_equal(m->io->n_usage, 1);
  assert_int_equal(m->io->usage[0]->major, 259);
  assert_int_equal(m->io->usage[0]->wbytes, 20);
  assert_int_equal(m->io->usage[0]->rios, 1);
  assert_int_equal(m->pids->current, 1);
  io__containerd__cgroups__v2__metrics__free_unpacked(m, NULL);
  free(buf);
  s->kind = RT_SAMPLE_WINDOWS;
  assert_int_equal(task_stats_encode_linux(s, &buf, &len, &url, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_v1), cmocka_unit_test(test_v2)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
