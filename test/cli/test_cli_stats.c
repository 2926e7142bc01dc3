/* stats: decoding cgroup v1/v2 Metrics Anys into samples, and the docker-style math and output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "cgroups/v1/metrics.pb-c.h"
#include "cgroups/v2/metrics.pb-c.h"
#include "cshim/stats.pb-c.h"
#include "cli_stats_calc.h"
#include "runhcs/stats.pb-c.h"

static size_t pack_v1(uint8_t *buf, uint64_t cpu, uint64_t usage, uint64_t limit, uint64_t inactive) {
  Io__Containerd__Cgroups__V1__Metrics m = IO__CONTAINERD__CGROUPS__V1__METRICS__INIT;
  Io__Containerd__Cgroups__V1__CPUStat c = IO__CONTAINERD__CGROUPS__V1__CPUSTAT__INIT;
  Io__Containerd__Cgroups__V1__CPUUsage cu = IO__CONTAINERD__CGROUPS__V1__CPUUSAGE__INIT;
  Io__Containerd__Cgroups__V1__MemoryStat mem = IO__CONTAINERD__CGROUPS__V1__MEMORY_STAT__INIT;
  Io__Containerd__Cgroups__V1__MemoryEntry mu = IO__CONTAINERD__CGROUPS__V1__MEMORY_ENTRY__INIT;
  Io__Containerd__Cgroups__V1__BlkIOStat blk = IO__CONTAINERD__CGROUPS__V1__BLK_IOSTAT__INIT;
  Io__Containerd__Cgroups__V1__BlkIOEntry e[4] = {
    IO__CONTAINERD__CGROUPS__V1__BLK_IOENTRY__INIT, IO__CONTAINERD__CGROUPS__V1__BLK_IOENTRY__INIT,
    IO__CONTAINERD__CGROUPS__V1__BLK_IOENTRY__INIT, IO__CONTAINERD__CGROUPS__V1__BLK_IOENTRY__INIT};
  Io__Containerd__Cgroups__V1__BlkIOEntry *ep[4] = {&e[0], &e[1], &e[2], &e[3]};
  Io__Containerd__Cgroups__V1__PidsStat pids = IO__CONTAINERD__CGROUPS__V1__PIDS_STAT__INIT;
  Io__Containerd__Cgroups__V1__NetworkStat n0 = IO__CONTAINERD__CGROUPS__V1__NETWORK_STAT__INIT;
  Io__Containerd__Cgroups__V1__NetworkStat n1 = IO__CONTAINERD__CGROUPS__V1__NETWORK_STAT__INIT;
  Io__Containerd__Cgroups__V1__NetworkStat *np[2] = {&n0, &n1};
  cu.total = cpu;
  c.usage = &cu;
  m.cpu = &c;
  mu.usage = usage;
  mu.limit = limit;
  mem.usage = &mu;
  mem.total_inactive_file = inactive;
  m.memory = &mem;
  /* per device, and the runtime spells ops with a capital */
  e[0].op = "Read", e[0].value = 100;
  e[1].op = "Write", e[1].value = 50;
  e[2].op = "Read", e[2].value = 1;
  e[3].op = "Total", e[3].value = 151;
  blk.n_io_service_bytes_recursive = 4;
  blk.io_service_bytes_recursive = ep;
  m.blkio = &blk;
  pids.current = 3;
  m.pids = &pids;
  n0.name = "eth0", n0.rx_bytes = 1000, n0.tx_bytes = 10;
  n1.name = "lo", n1.rx_bytes = 5, n1.tx_bytes = 5;
  m.n_network = 2;
  m.network = np;
  return io__containerd__cgroups__v1__metrics__pack(&m, buf);
}

static void test_decode_v1(void **state) {
  uint8_t buf[1024];
  size_t len = pack_v1(buf, 123456789, 10 << 20, 64 << 20, 2 << 20);
  cli_sample s;
  memset(&s, 0xff, sizeof s);
  cs_err err;
  assert_int_equal(cli_stats_decode("io.containerd.cgroups.v1.Metrics", buf, len, &s, &err), 0);
  assert_true(s.has_cpu && s.has_mem && s.has_blk && s.has_net && s.has_pids);
  assert_int_equal(s.cpu_ns, 123456789);
  assert_int_equal(s.mem_usage, 10 << 20);
  assert_int_equal(s.mem_limit, 64 << 20);
  assert_int_equal(s.mem_inactive_file, 2 << 20);
  assert_int_equal(s.blk_read, 101);
  assert_int_equal(s.blk_write, 50);
  assert_int_equal(s.net_rx, 1000); /* lo left out */
  assert_int_equal(s.net_tx, 10);
  assert_int_equal(s.pids, 3);
  /* with a host prefix on the type URL */
  assert_int_equal(cli_stats_decode("type.googleapis.com/io.containerd.cgroups.v1.Metrics", buf, len, &s, &err), 0);
}

static void test_decode_v2(void **state) {
  Io__Containerd__Cgroups__V2__Metrics m = IO__CONTAINERD__CGROUPS__V2__METRICS__INIT;
  Io__Containerd__Cgroups__V2__CPUStat c = IO__CONTAINERD__CGROUPS__V2__CPUSTAT__INIT;
  Io__Containerd__Cgroups__V2__MemoryStat mem = IO__CONTAINERD__CGROUPS__V2__MEMORY_STAT__INIT;
  Io__Containerd__Cgroups__V2__IOStat io = IO__CONTAINERD__CGROUPS__V2__IOSTAT__INIT;
  Io__Containerd__Cgroups__V2__IOEntry e0 = IO__CONTAINERD__CGROUPS__V2__IOENTRY__INIT;
  Io__Containerd__Cgroups__V2__IOEntry e1 = IO__CONTAINERD__CGROUPS__V2__IOENTRY__INIT;
  Io__Containerd__Cgroups__V2__IOEntry *ep[2] = {&e0, &e1};
  c.usage_usec = 2500;
  m.cpu = &c;
  mem.usage = 4096;
  mem.usage_limit = UINT64_MAX;
  mem.inactive_file = 1024;
  m.memory = &mem;
  e0.rbytes = 10, e0.wbytes = 20;
  e1.rbytes = 1, e1.wbytes = 2;
  io.n_usage = 2;
  io.usage = ep;
  m.io = &io;
  uint8_t buf[512];
  size_t len = io__containerd__cgroups__v2__metrics__pack(&m, buf);
  cli_sample s;
  cs_err err;
  assert_int_equal(cli_stats_decode("io.containerd.cgroups.v2.Metrics", buf, len, &s, &err), 0);
  assert_int_equal(s.cpu_ns, 2500000);
  assert_int_equal(s.mem_usage, 4096);
  assert_int_equal(s.blk_read, 11);
  assert_int_equal(s.blk_write, 22);
  assert_false(s.has_net);
  assert_false(s.has_pids);
  assert_int_equal(cli_stats_mem_used(&s), 3072);
  /* "max" is no limit: the host's memory is shown */
  assert_int_equal(cli_stats_mem_limit(&s, 8ull << 30), 8ull << 30);
}

static void test_decode_errors(void **state) {
  cli_sample s;
  cs_err err;
  uint8_t junk[] = {0xff, 0xff, 0xff};
  assert_int_equal(cli_stats_decode("io.containerd.cgroups.v1.Metrics", junk, sizeof junk, &s, &err), -1);
  assert_int_equal(err.code, CS_DATA_LOSS);
  assert_int_equal(cli_stats_decode("containerd.runhcs.stats.v1.Statistics", junk, sizeof junk, &s, &err), -1);
  assert_int_equal(err.code, CS_DATA_LOSS);
  assert_int_equal(cli_stats_decode("example.com/unknown.Metrics", junk, 0, &s, &err), -1);
  assert_int_equal(err.code, CS_UNIMPLEMENTED);
  assert_int_equal(cli_stats_decode(NULL, junk, 0, &s, &err), -1);
}

/* A Windows shim's answer: HCS's counters (private working set as memory, storage as block I/O). */
static void test_decode_runhcs(void **state) {
  (void)state;
  Containerd__Runhcs__Stats__V1__WindowsContainerProcessorStatistics cpu =
      CONTAINERD__RUNHCS__STATS__V1__WINDOWS_CONTAINER_PROCESSOR_STATISTICS__INIT;
  cpu.total_runtime_ns = 5000000;
  Containerd__Runhcs__Stats__V1__WindowsContainerMemoryStatistics mem =
      CONTAINERD__RUNHCS__STATS__V1__WINDOWS_CONTAINER_MEMORY_STATISTICS__INIT;
  mem.memory_usage_commit_bytes = 9000;
  mem.memory_usage_private_working_set_bytes = 4096;
  Containerd__Runhcs__Stats__V1__WindowsContainerStorageStatistics sto =
      CONTAINERD__RUNHCS__STATS__V1__WINDOWS_CONTAINER_STORAGE_STATISTICS__INIT;
  sto.read_size_bytes = 11;
  sto.write_size_bytes = 22;
  Containerd__Runhcs__Stats__V1__WindowsContainerStatistics w = CONTAINERD__RUNHCS__STATS__V1__WINDOWS_CONTAINER_STATISTICS__INIT;
  w.processor = &cpu;
  w.memory = &mem;
  w.storage = &sto;
  Containerd__Runhcs__Stats__V1__Statistics st = CONTAINERD__RUNHCS__STATS__V1__STATISTICS__INIT;
  st.container_case = CONTAINERD__RUNHCS__STATS__V1__STATISTICS__CONTAINER_WINDOWS;
  st.windows = &w;
  uint8_t buf[256];
  size_t len = containerd__runhcs__stats__v1__statistics__pack(&st, buf);
  cli_sample s;
  cs_err err;
  assert_int_equal(cli_stats_decode("types.containerd.io/containerd.runhcs.stats.v1.Statistics", buf, len, &s, &err), 0);
  assert_true(s.has_cpu && s.has_mem && s.has_blk);
  assert_int_equal(s.cpu_ns, 5000000);
  assert_int_equal(s.mem_usage, 4096);
  assert_int_equal(s.blk_read, 11);
  assert_int_equal(s.blk_write, 22);
  assert_false(s.has_pids);
}

/* The decoded form of test_decode_watch's sample. */
static void assert_watch_w1(const uint8_t *buf, size_t len) {
  cli_sample s;
  cli_watch_info info;
  cs_err err;
  assert_int_equal(cli_stats_decode_watch(buf, len, &s, &info, &err), 0);
  assert_string_equal(info.id, "w1");
  assert_int_equal(info.seq, 7);
  assert_int_equal(info.dropped, 2);
  assert_false(info.gone);
  assert_int_equal(s.mono_ns, 5000000000);
  assert_int_equal(s.cpu_ns, 42);
  assert_int_equal(s.mem_usage, 4096);
  assert_int_equal(s.mem_limit, 8192);
  assert_int_equal(cli_stats_mem_used(&s), 4096);
  assert_int_equal(s.blk_read, 11);
  assert_int_equal(s.blk_write, 22);
  assert_int_equal(s.pids, 4);
  assert_true(s.has_net);
  assert_int_equal(s.net_rx, 7);
  assert_int_equal(s.net_tx, 8);
}

static void test_decode_watch(void **state) {
  Cshim__Stats__V1__Sample m = CSHIM__STATS__V1__SAMPLE__INIT;
  Cshim__Stats__V1__Cpu c = CSHIM__STATS__V1__CPU__INIT;
  Cshim__Stats__V1__Memory mem = CSHIM__STATS__V1__MEMORY__INIT;
  Cshim__Stats__V1__BlkioDevice b0 = CSHIM__STATS__V1__BLKIO_DEVICE__INIT, b1 = CSHIM__STATS__V1__BLKIO_DEVICE__INIT;
  Cshim__Stats__V1__BlkioDevice *bp[2] = {&b0, &b1};
  Cshim__Stats__V1__Pids pids = CSHIM__STATS__V1__PIDS__INIT;
  Cshim__Stats__V1__NetIface lo = CSHIM__STATS__V1__NET_IFACE__INIT, eth = CSHIM__STATS__V1__NET_IFACE__INIT;
  Cshim__Stats__V1__NetIface *np[2] = {&lo, &eth};
  m.id = "w1";
  m.timestamp_ns = 5000000000;
  m.seq = 7;
  m.dropped = 2;
  c.usage_ns = 42;
  c.user_ns = 30;
  m.cpu = &c;
  mem.usage = 4096;
  mem.limit = 8192;
  mem.cache = 1024;
  m.memory = &mem;
  b0.read_bytes = 1, b0.write_bytes = 2, b1.read_bytes = 10, b1.write_bytes = 20;
  m.n_blkio = 2;
  m.blkio = bp;
  pids.current = 4;
  m.pids = &pids;
  lo.name = "lo", lo.rx_bytes = 99, lo.tx_bytes = 99;
  eth.name = "eth0", eth.rx_bytes = 7, eth.tx_bytes = 8;
  m.n_net = 2;
  m.net = np;
  uint8_t buf[512];
  size_t len = cshim__stats__v1__sample__pack(&m, buf);
  assert_watch_w1(buf, len);

  /* The same sample as two messages back to back (fields 1-7, then 8-11 as a full read encodes them):
   * one Sample to any protobuf decoder. */
  Cshim__Stats__V1__Sample head = m, rest = CSHIM__STATS__V1__SAMPLE__INIT;
  head.n_blkio = 0, head.blkio = NULL, head.pids = NULL, head.n_net = 0, head.net = NULL;
  rest.n_blkio = m.n_blkio, rest.blkio = m.blkio, rest.pids = m.pids, rest.n_net = m.n_net, rest.net = m.net;
  len = cshim__stats__v1__sample__pack(&head, buf);
  len += cshim__stats__v1__sample__pack(&rest, buf + len);
  assert_watch_w1(buf, len);

  cli_sample s;
  cli_watch_info info;
  cs_err err;
  Cshim__Stats__V1__Sample gone = CSHIM__STATS__V1__SAMPLE__INIT;
  gone.id = "w1";
  gone.task_gone = true;
  len = cshim__stats__v1__sample__pack(&gone, buf);
  assert_int_equal(cli_stats_decode_watch(buf, len, &s, &info, &err), 0);
  assert_true(info.gone);
  assert_false(s.has_cpu);
  uint8_t junk[] = {0xff, 0xff};
  assert_int_equal(cli_stats_decode_watch(junk, sizeof junk, &s, &info, &err), -1);
}

static void test_cpu_percent(void **state) {
  cli_sample a = {.mono_ns = 1000000000, .cpu_ns = 5000000000, .has_cpu = true};
  cli_sample b = {.mono_ns = 2000000000, .cpu_ns = 5500000000, .has_cpu = true};
  assert_float_equal(cli_stats_cpu_percent(&a, &b), 50.0, 1e-9);
  b.cpu_ns = 7000000000; /* two CPUs busy for the whole second */
  assert_float_equal(cli_stats_cpu_percent(&a, &b), 200.0, 1e-9);
  assert_true(cli_stats_cpu_percent(NULL, &b) < 0);
  b.cpu_ns = 1; /* counter reset (task replaced) */
  assert_true(cli_stats_cpu_percent(&a, &b) < 0);
  b.cpu_ns = 6000000000;
  b.mono_ns = a.mono_ns;
  assert_true(cli_stats_cpu_percent(&a, &b) < 0);
}

static void test_memory(void **state) {
  cli_sample s = {.mem_usage = 100, .mem_inactive_file = 30, .mem_limit = 1000, .has_mem = true};
  assert_int_equal(cli_stats_mem_used(&s), 70);
  s.mem_inactive_file = 200; /* cache larger than usage (racy counters): show usage */
  assert_int_equal(cli_stats_mem_used(&s), 100);
  assert_int_equal(cli_stats_mem_limit(&s, 5000), 1000);
  s.mem_limit = 9223372036854771712ull; /* cgroup v1 "unlimited" */
  assert_int_equal(cli_stats_mem_limit(&s, 5000), 5000);
  s.mem_limit = 0;
  assert_int_equal(cli_stats_mem_limit(&s, 5000), 5000);
}

static void test_row_and_json(void **state) {
  uint8_t buf[1024];
  size_t len = pack_v1(buf, 0, 10 << 20, 64 << 20, 2 << 20);
  cli_sample a, b;
  cs_err err;
  assert_int_equal(cli_stats_decode(CLI_METRICS_V1_URL, buf, len, &a, &err), 0);
  len = pack_v1(buf, 250000000, 10 << 20, 64 << 20, 2 << 20);
  assert_int_equal(cli_stats_decode(CLI_METRICS_V1_URL, buf, len, &b, &err), 0);
  a.mono_ns = 0;
  b.mono_ns = 1000000000;
  b.wall_ns = 1500000000;
  char row[512];
  cli_stats_row("c1", &a, &b, 1ull << 34, row, sizeof row);
  assert_non_null(strstr(row, "c1 "));
  assert_non_null(strstr(row, "25.00%"));
  assert_non_null(strstr(row, "8MiB / 64MiB"));
  assert_non_null(strstr(row, "12.50%"));
  assert_non_null(strstr(row, "1000B / 10B"));
  assert_non_null(strstr(row, "101B / 50B"));
  assert_null(strchr(row, '\n'));
  cli_stats_row("c1", NULL, &b, 0, row, sizeof row);
  assert_non_null(strstr(row, "--"));

  json_t *j = cli_stats_json("c1", &a, &b, 1ull << 34);
  assert_string_equal(json_string_value(json_object_get(j, "id")), "c1");
  assert_string_equal(json_string_value(json_object_get(j, "time")), "1970-01-01T00:00:01.500000000Z");
  assert_float_equal(json_real_value(json_object_get(j, "cpu_percent")), 25.0, 1e-9);
  assert_int_equal(json_integer_value(json_object_get(j, "memory_usage")), 8 << 20);
  assert_int_equal(json_integer_value(json_object_get(j, "memory_limit")), 64 << 20);
  assert_int_equal(json_integer_value(json_object_get(j, "block_read")), 101);
  assert_int_equal(json_integer_value(json_object_get(j, "net_tx")), 10);
  assert_int_equal(json_integer_value(json_object_get(j, "pids")), 3);
  json_decref(j);
  b.has_net = false;
  j = cli_stats_json("c1", NULL, &b, 0);
  assert_true(json_is_null(json_object_get(j, "cpu_percent")));
  assert_true(json_is_null(json_object_get(j, "net_rx")));
  json_decref(j);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_decode_v1),     cmocka_unit_test(test_decode_v2), cmocka_unit_test(test_decode_errors),
      cmocka_unit_test(test_decode_runhcs),
    cmocka_unit_test(test_decode_watch),
    cmocka_unit_test(test_cpu_percent),   cmocka_unit_test(test_memory),    cmocka_unit_test(test_row_and_json),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
