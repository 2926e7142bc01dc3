/* The HCS boundary helpers: UTF-8/UTF-16, GUIDs, HRESULT mapping, RFC 3339 times, stats JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "hcs_err.h"
#include "hcs_stats.h"
#include "hcs_time.h"
#include "hcs_wstr.h"

static void test_utf16_roundtrip(void **state) {
  cs_err e;
  const char *s = "C:\\Users\\é\xe2\x82\xac\xf0\x9f\x90\xb3"; /* é, €, U+1F433 (a surrogate pair) */
  hcs_pwstr w = hcs_utf8_to_wide(s, &e);
  assert_non_null(w);
  assert_int_equal(hcs_wlen(w), 9 + 1 + 1 + 2);
  assert_int_equal(w[9], 0xE9);
  assert_int_equal(w[10], 0x20AC);
  assert_int_equal(w[11], 0xD83D);
  assert_int_equal(w[12], 0xDC33);
  char *back = hcs_wide_to_utf8(w, &e);
  assert_string_equal(back, s);
  free(back);
  free(w);
}

static void test_utf8_rejects_malformed(void **state) {
  cs_err e;
  static const char *const bad[] = {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "abc\xe2\x82", "\x80"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_null(hcs_utf8_to_wide(bad[i], &e));
    assert_int_equal(e.code, CS_INVALID_ARGUMENT);
  }
  hcs_wchar lone[] = {'a', 0xD800, 'b', 0};
  char *s = hcs_wide_to_utf8(lone, &e);
  assert_string_equal(s, "a\xef\xbf\xbd" "b"); /* U+FFFD */
  free(s);
  assert_null(hcs_wide_to_utf8(NULL, &e));
}

static void test_guid(void **state) {
  hcs_guid g;
  cs_err e;
  assert_int_equal(hcs_guid_parse("{7A1B2C3D-4E5F-6071-8293-A4B5C6D7E8F9}", &g, &e), 0);
  assert_int_equal(g.Data1, 0x7A1B2C3D);
  assert_int_equal(g.Data2, 0x4E5F);
  assert_int_equal(g.Data3, 0x6071);
  assert_int_equal(g.Data4[0], 0x82);
  assert_int_equal(g.Data4[7], 0xF9);
  char s[HCS_GUID_STR_LEN];
  hcs_guid_format(&g, s);
  assert_string_equal(s, "7a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9");
  assert_int_equal(hcs_guid_parse("7a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f", &g, &e), -1);
  assert_int_equal(hcs_guid_parse("7a1b2c3d-4e5f-6071-8293-a4b5c6d7e8fz", &g, &e), -1);
  assert_int_equal(hcs_guid_parse("../../etc/passwd", &g, &e), -1);
  assert_int_equal(e.code, CS_INVALID_ARGUMENT);
}

static void test_hresult_mapping(void **state) {
  cs_err e;
  assert_int_equal(hcs_err_set(&e, "HcsStartComputeSystem", (hcs_hresult)0x8037010E, NULL), -1);
  assert_int_equal(e.code, CS_NOT_FOUND);
  assert_string_equal(e.msg, "HcsStartComputeSystem: 0x8037010E: system not found");
  /* hcsshim's NTSTATUS-style spelling of the same code maps the same way and prints the HRESULT. */
  hcs_err_set(&e, "HcsOpenComputeSystem", (hcs_hresult)0xC037010E, "The system cannot find the file specified.");
  assert_int_equal(e.code, CS_NOT_FOUND);
  assert_string_equal(e.msg, "HcsOpenComputeSystem: 0x8037010E: system not found: The system cannot find the file "
                             "specified.");
  hcs_err_set(&e, "HcsTerminateComputeSystem", (hcs_hresult)0xC0370110, NULL);
  assert_int_equal(e.code, CS_FAILED_PRECONDITION);
  assert_string_equal(e.msg, "HcsTerminateComputeSystem: 0x80370110: system already stopped");
  hcs_err_set(&e, "HcsTerminateProcess", (hcs_hresult)0x8037011F, NULL);
  assert_int_equal(e.code, CS_FAILED_PRECONDITION);
  hcs_err_set(&e, "HcsCreateComputeSystem", (hcs_hresult)0x80070005, NULL);
  assert_int_equal(e.code, CS_PERMISSION_DENIED);
  assert_string_equal(e.msg, "HcsCreateComputeSystem: 0x80070005: access denied");
  hcs_err_set(&e, "HcsWaitForOperationResult", HCS_E_OPERATION_PENDING, NULL);
  assert_int_equal(e.code, CS_DEADLINE_EXCEEDED);
  assert_string_equal(e.msg, "HcsWaitForOperationResult: 0x80370103: operation pending");
  hcs_err_set(&e, "HcsCreateComputeSystem", (hcs_hresult)0x8037010F, NULL);
  assert_int_equal(e.code, CS_ALREADY_EXISTS);
  hcs_err_set(&e, "HcsModifyComputeSystem", (hcs_hresult)0x8037010D, NULL);
  assert_int_equal(e.code, CS_INVALID_ARGUMENT);
  hcs_err_set(&e, "HcsCreateProcess", (hcs_hresult)0x80070490, NULL);
  assert_int_equal(e.code, CS_NOT_FOUND);
  /* A bare Win32 error (GetLastError) is lifted to HRESULT_FROM_WIN32. */
  hcs_err_set(&e, "LoadLibrary computecore.dll", (hcs_hresult)126, NULL);
  assert_int_equal(e.code, CS_UNIMPLEMENTED);
  assert_string_equal(e.msg, "LoadLibrary computecore.dll: 0x8007007E: module not found");
  hcs_err_set(&e, "HcsX", (hcs_hresult)0x80FF0001, NULL);
  assert_int_equal(e.code, CS_UNKNOWN);
  assert_string_equal(e.msg, "HcsX: 0x80FF0001: unknown error");
  assert_int_equal(hcs_hr_code(0), CS_OK);
  assert_true(hcs_hr_is((hcs_hresult)0xC0370103, HCS_E_OPERATION_PENDING));
}

static void test_time_parse(void **state) {
  int64_t ns = -1;
  cs_err e;
  assert_int_equal(hcs_time_parse("1970-01-01T00:00:00Z", &ns, &e), 0);
  assert_int_equal(ns, 0);
  assert_int_equal(hcs_time_parse("2024-02-29T12:34:56.1234567Z", &ns, &e), 0);
  assert_int_equal(ns, 1709210096123456700LL);
  assert_int_equal(hcs_time_parse("2024-02-29T13:34:56.1234567+01:00", &ns, &e), 0);
  assert_int_equal(ns, 1709210096123456700LL);
  assert_int_equal(hcs_time_parse("0001-01-01T00:00:00Z", &ns, &e), 0); /* Go's zero time: never */
  assert_int_equal(ns, 0);
  assert_int_equal(hcs_time_parse("2024-02-29 12:34:56Z", &ns, &e), -1);
  assert_int_equal(hcs_time_parse("2024-02-29T12:34:56", &ns, &e), -1);
  assert_int_equal(hcs_time_parse("2024-13-01T00:00:00Z", &ns, &e), -1);
  assert_int_equal(hcs_time_parse("2024", &ns, &e), -1);
  assert_true(hcs_time_now_ns() > 1700000000000000000LL);
}

/* Shaped like HCS's own answer to {"PropertyTypes":["Statistics"]}. */
static const char stats_json[] =
    "{\"Id\":\"c1\",\"SystemType\":\"Container\",\"Owner\":\"cshim\",\"RuntimeId\":\"00000000-0000-0000-0000-000000000000\","
    "\"Statistics\":{\"Timestamp\":\"2024-02-29T12:34:56.1234567Z\",\"ContainerStartTime\":\"2024-02-29T12:00:00Z\","
    "\"Uptime100ns\":20964000000,"
    "\"Processor\":{\"TotalRuntime100ns\":1500000,\"RuntimeUser100ns\":1000000,\"RuntimeKernel100ns\":500000},"
    "\"Memory\":{\"MemoryUsageCommitBytes\":104857600,\"MemoryUsageCommitPeakBytes\":209715200,"
    "\"MemoryUsagePrivateWorkingSetBytes\":52428800},"
    "\"Storage\":{\"ReadCountNormalized\":11,\"ReadSizeBytes\":4096,\"WriteCountNormalized\":22,\"WriteSizeBytes\":8192}}}";

static void test_stats_parse(void **state) {
  rt_sample s;
  cs_err e;
  memset(&s, 0, sizeof s);
  assert_int_equal(hcs_stats_parse(stats_json, &s, &e), 0);
  assert_int_equal(s.kind, RT_SAMPLE_WINDOWS);
  assert_int_equal(s.timestamp_ns, 1709210096123456700LL);
  assert_int_equal(s.windows.container_start_time_ns, 1709208000000000000LL);
  assert_int_equal(s.windows.uptime_ns, 2096400000000ULL);
  assert_int_equal(s.cpu.usage_ns, 150000000ULL);
  assert_int_equal(s.cpu.user_ns, 100000000ULL);   /* from RuntimeUser100ns */
  assert_int_equal(s.cpu.kernel_ns, 50000000ULL);  /* from RuntimeKernel100ns */
  assert_int_not_equal(s.cpu.user_ns, s.cpu.kernel_ns);
  assert_int_equal(s.windows.commit_bytes, 104857600);
  assert_int_equal(s.windows.commit_peak_bytes, 209715200);
  assert_int_equal(s.windows.private_working_set_bytes, 52428800);
  assert_int_equal(s.memory.usage, 52428800);
  assert_int_equal(s.windows.read_count_normalized, 11);
  assert_int_equal(s.windows.read_size_bytes, 4096);
  assert_int_equal(s.windows.write_count_normalized, 22);
  assert_int_equal(s.windows.write_size_bytes, 8192);
  assert_int_equal(hcs_stats_parse("{\"Id\":\"c1\"}", &s, &e), -1);
  assert_int_equal(hcs_stats_parse("not json", &s, &e), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_utf16_roundtrip),  cmocka_unit_test(test_utf8_rejects_malformed),
    cmocka_unit_test(test_guid),             cmocka_unit_test(test_hresult_mapping),
    cmocka_unit_test(test_time_parse),       cmocka_unit_test(test_stats_parse),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
