/* The Windows Stats payload: HCS JSON -> rt_sample -> containerd.runhcs.stats.v1.Statistics, decoded back
 * with protobuf-c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "hcs_stats.h"
#include "runhcs/stats.pb-c.h"
#include "stats_windows.h"

static const char stats_json[] =
    "{\"Statistics\":{\"Timestamp\":\"2024-02-29T12:34:56.5Z\",\"ContainerStartTime\":\"2024-02-29T12:00:00Z\","
    "\"Uptime100ns\":20965000000,"
    "\"Processor\":{\"TotalRuntime100ns\":3000000,\"RuntimeUser100ns\":2000000,\"RuntimeKernel100ns\":1000000},"
    "\"Memory\":{\"MemoryUsageCommitBytes\":100,\"MemoryUsageCommitPeakBytes\":200,"
    "\"MemoryUsagePrivateWorkingSetBytes\":50},"
    "\"Storage\":{\"ReadCountNormalized\":1,\"ReadSizeBytes\":2,\"WriteCountNormalized\":3,\"WriteSizeBytes\":4}}}";

static void test_encode_decodes_back(void **state) {
  rt_sample s;
  cs_err e;
  memset(&s, 0, sizeof s);
  assert_int_equal(hcs_stats_parse(stats_json, &s, &e), 0);
  uint8_t *buf = NULL;
  size_t len = 0;
  assert_int_equal(task_stats_encode_windows(&s, &buf, &len, &e), 0);
  assert_true(len > 0);

  Containerd__Runhcs__Stats__V1__Statistics *st = containerd__runhcs__stats__v1__statistics__unpack(NULL, len, buf);
  assert_non_null(st);
  assert_int_equal(st->container_case, CONTAINERD__RUNHCS__STATS__V1__STATISTICS__CONTAINER_WINDOWS);
  Containerd__Runhcs__Stats__V1__WindowsContainerStatistics *w = st->windows;
  assert_non_null(w);
  assert_int_equal(w->timestamp->seconds, 1709210096);
  assert_int_equal(w->timestamp->nanos, 500000000);
  assert_int_equal(w->container_start_time->seconds, 1709208000);
  assert_int_equal(w->uptime_ns, 2096500000000ULL);
  assert_int_equal(w->processor->total_runtime_ns, 300000000ULL);
  assert_int_equal(w->processor->runtime_user_ns, 200000000ULL);
  assert_int_equal(w->processor->runtime_kernel_ns, 100000000ULL);
  assert_int_not_equal(w->processor->runtime_user_ns, w->processor->runtime_kernel_ns);
  assert_int_equal(w->memory->memory_usage_commit_bytes, 100);
  assert_int_equal(w->memory->memory_usage_commit_peak_bytes, 200);
  assert_int_equal(w->memory->memory_usage_private_working_set_bytes, 50);
  assert_int_equal(w->storage->read_count_normalized, 1);
  assert_int_equal(w->storage->read_size_bytes, 2);
  assert_int_equal(w->storage->write_count_normalized, 3);
  assert_int_equal(w->storage->write_size_bytes, 4);
  assert_null(st->vm);
  containerd__runhcs__stats__v1__statistics__free_unpacked(st, NULL);
  free(buf);
  assert_string_equal(TASK_STATS_WINDOWS_TYPE_URL, "containerd.runhcs.stats.v1.Statistics");
}

/* The wire bytes carry hcsshim's field numbers: windows=1 in Statistics, processor=4 in the container
 * message, runtime_user_ns=2 inside it. */
static void test_field_numbers(void **state) {
  rt_sample s;
  memset(&s, 0, sizeof s);
  s.kind = RT_SAMPLE_WINDOWS;
  s.cpu.user_ns = 5;
  uint8_t *buf = NULL;
  size_t len = 0;
  cs_err e;
  assert_int_equal(task_stats_encode_windows(&s, &buf, &len, &e), 0);
  /* 0a LEN { 0a 00 (timestamp) 22 LEN { 10 05 } 2a 00 32 00 } */
  static const uint8_t want[] = {0x0a, 0x0a, 0x0a, 0x00, 0x22, 0x02, 0x10, 0x05, 0x2a, 0x00, 0x32, 0x00};
  assert_int_equal(len, sizeof want);
  assert_memory_equal(buf, want, sizeof want);
  free(buf);
}

static void test_rejects_linux_sample(void **state) {
  rt_sample s;
  memset(&s, 0, sizeof s);
  s.kind = RT_SAMPLE_CGROUP_V2;
  uint8_t *buf = (uint8_t *)1;
  size_t len = 1;
  cs_err e;
  assert_int_equal(task_stats_encode_windows(&s, &buf, &len, &e), -1);
  assert_null(buf);
  assert_int_equal(len, 0);
  assert_int_equal(e.code, CS_INTERNAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_encode_decodes_back),
    cmocka_unit_test(test_field_numbers),
    cmocka_unit_test(test_rejects_linux_sample),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
