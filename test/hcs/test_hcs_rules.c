/* Windows rules: docker's resource validation (each rule, each warning, exact messages), isolation and
 * exec options, environment splitting, command-line quoting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "win_rules.h"

static const win_host server = {.ncpu = 4, .build = 20348, .client = false};
static const win_host client = {.ncpu = 4, .build = 19045, .client = true};
static const win_host old_client = {.ncpu = 4, .build = 17134, .client = true};
static const win_host iot = {.ncpu = 4, .build = 17763, .client = true, .iot_core = true};

static int verify(win_resources *r, bool hyperv, win_warnings *w, cs_err *e) {
  memset(w, 0, sizeof *w);
  cs_err_clear(e);
  return win_verify_resources(r, hyperv, &server, w, e);
}

static void test_count_over_shares_and_percent(void **state) {
  win_resources r;
  win_warnings w;
  cs_err e;
  win_resources_init(&r);
  r.cpu_count = 2;
  r.cpu_shares = 500;
  r.cpu_percent = 50;
  assert_int_equal(verify(&r, false, &w, &e), 0);
  assert_int_equal(w.n, 2);
  assert_string_equal(w.msg[0], "Conflicting options: CPU count takes priority over CPU shares on Windows Server "
                                "Containers. CPU shares discarded");
  assert_string_equal(w.msg[1], "Conflicting options: CPU count takes priority over CPU percent on Windows Server "
                                "Containers. CPU percent discarded");
  assert_int_equal(r.cpu_count, 2);
  assert_int_equal(r.cpu_shares, 0);
  assert_int_equal(r.cpu_percent, 0);
}

static void test_shares_over_percent(void **state) {
  win_resources r;
  win_warnings w;
  cs_err e;
  win_resources_init(&r);
  r.cpu_shares = 500;
  r.cpu_percent = 50;
  assert_int_equal(verify(&r, false, &w, &e), 0);
  assert_int_equal(w.n, 1);
  assert_string_equal(w.msg[0], "Conflicting options: CPU shares takes priority over CPU percent on Windows Server "
                                "Containers. CPU percent discarded");
  assert_int_equal(r.cpu_shares, 500);
  assert_int_equal(r.cpu_percent, 0);
}

static void test_hyperv_keeps_all_cpu_controls(void **state) {
  win_resources r;
  win_warnings w;
  cs_err e;
  win_resources_init(&r);
  r.cpu_count = 2;
  r.cpu_shares = 500;
  r.cpu_percent = 50;
  assert_int_equal(verify(&r, true, &w, &e), 0);
  assert_int_equal(w.n, 0);
  assert_int_equal(r.cpu_shares, 500);
  assert_int_equal(r.cpu_percent, 50);
}

static void test_ranges(void **state) {
  win_resources r;
  win_warnings w;
  cs_err e;
  win_resources_init(&r);
  r.cpu_shares = 10001;
  assert_int_equal(verify(&r, false, &w, &e), -1);
  assert_int_equal(e.code, CS_INVALID_ARGUMENT);
  assert_string_equal(e.msg, "range of CPUShares is from 1 to 10000");
  win_resources_init(&r);
  r.cpu_shares = 10000;
  assert_int_equal(verify(&r, false, &w, &e), 0);
  win_resources_init(&r);
  r.cpu_shares = -1;
  assert_int_equal(verify(&r, false, &w, &e), -1);

  win_resources_init(&r);
  r.cpu_percent = 101;
  assert_int_equal(verify(&r, false, &w, &e), -1);
  assert_string_equal(e.msg, "range of CPUPercent is from 1 to 100");
  win_resources_init(&r);
  r.cpu_percent = 100;
  assert_int_equal(verify(&r, false, &w, &e), 0);

  win_resources_init(&r);
  r.cpu_count = -1;
  assert_int_equal(verify(&r, false, &w, &e), -1);
  assert_string_equal(e.msg, "invalid CPUCount: CPUCount cannot be negative");
}

static void test_nano_cpus(void **state) {
  win_resources r;
  win_warnings w;
  cs_err e;
  win_resources_init(&r);
  r.nano_cpus = 1000000000;
  r.cpu_percent = 10;
  assert_int_equal(verify(&r, false, &w, &e), -1);
  assert_string_equal(e.msg, "conflicting options: Nano CPUs and CPU Percent cannot both be set");

  win_resources_init(&r);
  r.nano_cpus = 1000000000;
  r.cpu_shares = 10;
  assert_int_equal(verify(&r, false, &w, &e), -1);
  assert_string_equal(e.msg, "conflicting options: Nano CPUs and CPU Shares cannot both be set");

  win_resources_init(&r);
  r.nano_cpus = 4000000000LL;
  assert_int_equal(verify(&r, false, &w, &e), 0);
  r.nano_cpus = 4000000001LL;
  assert_int_equal(verify(&r, false, &w, &e), -1);
  assert_string_equal(e.msg, "range of CPUs is from 0.01 to 4.00, as there are only 4 CPUs available");
  r.nano_cpus = -1;
  assert_int_equal(verify(&r, false, &w, &e), -1);
}

static void test_nano_cpus_rounded_on_old_hyperv(void **state) {
  win_resources r;
  win_warnings w = {0};
  cs_err e;
  win_host old = {.ncpu = 4, .build = 14393};
  win_resources_init(&r);
  r.nano_cpus = 1600000000LL;
  assert_int_equal(win_verify_resources(&r, true, &old, &w, &e), 0);
  assert_int_equal(r.nano_cpus, 2000000000LL);
  assert_int_equal(w.n, 1);
  assert_non_null(strstr(w.msg[0], "NanoCPUs rounded to 2000000000"));
  /* Newer builds, or process isolation: untouched. */
  r.nano_cpus = 1600000000LL;
  memset(&w, 0, sizeof w);
  assert_int_equal(win_verify_resources(&r, true, &server, &w, &e), 0);
  assert_int_equal(r.nano_cpus, 1600000000LL);
  assert_int_equal(w.n, 0);
}

/* Each unsupported option, alone, with its name in the message. */
static void test_unsupported_options(void **state) {
  static const char *const names[] = {
    "BlkioDeviceReadBps", "BlkioDeviceReadIOps", "BlkioDeviceWriteBps", "BlkioDeviceWriteIOps", "BlkioWeight",
    "BlkioWeightDevice", "CgroupParent", "CPUPeriod", "CpusetCpus", "CpusetMems", "KernelMemory",
    "MemoryReservation", "MemorySwap", "MemorySwappiness", "OomKillDisable", "PidsLimit", "Ulimits",
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    win_resources r;
    win_warnings w;
    cs_err e;
    win_resources_init(&r);
    switch (i) {
    case 0: r.n_blkio_device_read_bps = 1; break;
    case 1: r.n_blkio_device_read_iops = 1; break;
    case 2: r.n_blkio_device_write_bps = 1; break;
    case 3: r.n_blkio_device_write_iops = 1; break;
    case 4: r.blkio_weight = 10; break;
    case 5: r.n_blkio_weight_device = 1; break;
    case 6: r.cgroup_parent = "/docker"; break;
    case 7: r.cpu_period = 100000; break;
    case 8: r.cpuset_cpus = "0-1"; break;
    case 9: r.cpuset_mems = "0"; break;
    case 10: r.kernel_memory = 1; break;
    case 11: r.memory_reservation = 1; break;
    case 12: r.memory_swap = 1; break;
    case 13: r.memory_swappiness = 0; break;
    case 14: r.oom_kill_disable = true; break;
    case 15: r.pids_limit = 10; break;
    case 16: r.n_ulimits = 1; break;
    }
    assert_int_equal(verify(&r, false, &w, &e), -1);
    assert_int_equal(e.code, CS_INVALID_ARGUMENT);
    char want[128];
    snprintf(want, sizeof want, "invalid option: Windows does not support %s", names[i]);
    assert_string_equal(e.msg, want);
  }
}

static void test_unset_values_pass(void **state) {
  win_resources r;
  win_warnings w;
  cs_err e;
  win_resources_init(&r);
  assert_int_equal(r.memory_swappiness, -1);
  r.cgroup_parent = "";
  r.cpuset_cpus = "";
  r.oom_kill_disable = false;
  assert_int_equal(verify(&r, false, &w, &e), 0);
  assert_int_equal(w.n, 0);
}

static void test_isolation_parse(void **state) {
  int iso = -1;
  cs_err e;
  assert_int_equal(win_isolation_parse("process", &iso, &e), 0);
  assert_int_equal(iso, WIN_ISOLATION_PROCESS);
  assert_int_equal(win_isolation_parse("HyperV", &iso, &e), 0);
  assert_int_equal(iso, WIN_ISOLATION_HYPERV);
  assert_int_equal(win_isolation_parse("DEFAULT", &iso, &e), 0);
  assert_int_equal(iso, WIN_ISOLATION_DEFAULT);
  assert_int_equal(win_isolation_parse("", &iso, &e), 0);
  assert_int_equal(iso, WIN_ISOLATION_DEFAULT);
  assert_int_equal(win_isolation_parse("vm", &iso, &e), -1);
  assert_int_equal(e.code, CS_INVALID_ARGUMENT);
  assert_non_null(strstr(e.msg, "vm"));
  assert_int_equal(win_isolation_resolve(WIN_ISOLATION_DEFAULT, &server), WIN_ISOLATION_PROCESS);
  assert_int_equal(win_isolation_resolve(WIN_ISOLATION_DEFAULT, &client), WIN_ISOLATION_HYPERV);
  assert_string_equal(win_isolation_name(WIN_ISOLATION_HYPERV), "hyperv");
}

static void test_client_only_hyperv(void **state) {
  win_resources r;
  win_warnings w = {0};
  cs_err e;
  win_resources_init(&r);
  assert_int_equal(win_verify_platform(&r, WIN_ISOLATION_PROCESS, &client, &w, &e), -1);
  assert_string_equal(e.msg, "Windows client operating systems only support Hyper-V containers");
  assert_int_equal(win_verify_platform(&r, WIN_ISOLATION_HYPERV, &client, &w, &e), 0);
  assert_int_equal(win_verify_platform(&r, WIN_ISOLATION_DEFAULT, &client, &w, &e), 0); /* default = hyperv */
  assert_int_equal(win_verify_platform(&r, WIN_ISOLATION_PROCESS, &iot, &w, &e), 0);
  assert_int_equal(win_verify_platform(&r, WIN_ISOLATION_PROCESS, &server, &w, &e), 0);
  /* The platform check runs the resource rules with the resolved isolation. */
  r.cpu_count = 1;
  r.cpu_shares = 2;
  assert_int_equal(win_verify_platform(&r, WIN_ISOLATION_DEFAULT, &server, &w, &e), 0);
  assert_int_equal(w.n, 1);
}

static void test_exec_opts(void **state) {
  int iso = -1;
  cs_err e;
  assert_int_equal(win_exec_opts_parse(NULL, 0, &server, &iso, &e), 0);
  assert_int_equal(iso, WIN_ISOLATION_PROCESS);
  assert_int_equal(win_exec_opts_parse(NULL, 0, &client, &iso, &e), 0);
  assert_int_equal(iso, WIN_ISOLATION_HYPERV);

  const char *hv[] = {" Isolation = HyperV "};
  assert_int_equal(win_exec_opts_parse(hv, 1, &server, &iso, &e), 0);
  assert_int_equal(iso, WIN_ISOLATION_HYPERV);
  const char *both[] = {"isolation=hyperv", "ISOLATION=process"};
  assert_int_equal(win_exec_opts_parse(both, 2, &server, &iso, &e), 0);
  assert_int_equal(iso, WIN_ISOLATION_PROCESS); /* last wins */
  const char *dflt[] = {"isolation=default"};
  assert_int_equal(win_exec_opts_parse(dflt, 1, &client, &iso, &e), 0);
  assert_int_equal(iso, WIN_ISOLATION_HYPERV);

  const char *proc[] = {"isolation=process"};
  assert_int_equal(win_exec_opts_parse(proc, 1, &client, &iso, &e), 0); /* 1809+ client may */
  assert_int_equal(iso, WIN_ISOLATION_PROCESS);
  assert_int_equal(win_exec_opts_parse(proc, 1, &old_client, &iso, &e), -1);
  assert_string_equal(e.msg, "Windows client operating systems earlier than version 1809 can only run Hyper-V containers");

  const char *bad[] = {"isolation=vm"};
  assert_int_equal(win_exec_opts_parse(bad, 1, &server, &iso, &e), -1);
  assert_string_equal(e.msg, "Invalid exec-opt value for 'isolation':'vm'");
  const char *unknown[] = {"native.cgroupdriver=systemd"};
  assert_int_equal(win_exec_opts_parse(unknown, 1, &server, &iso, &e), -1);
  assert_int_equal(e.code, CS_INVALID_ARGUMENT);
  assert_string_equal(e.msg, "Unrecognised exec-opt 'native.cgroupdriver'");
  const char *noeq[] = {"isolation"};
  assert_int_equal(win_exec_opts_parse(noeq, 1, &server, &iso, &e), -1);
  assert_string_equal(e.msg, "Unable to parse key/value option: isolation");
}

static void test_env_split(void **state) {
  win_env_kv kv;
  assert_int_equal(win_env_split("PATH=C:\\Windows", &kv), 0);
  assert_int_equal(kv.key_len, 4);
  assert_memory_equal(kv.key, "PATH", 4);
  assert_string_equal(kv.value, "C:\\Windows");
  /* A value holding '=' is kept whole (the seed dropped these). */
  assert_int_equal(win_env_split("TOKEN=a=b==", &kv), 0);
  assert_int_equal(kv.key_len, 5);
  assert_string_equal(kv.value, "a=b==");
  assert_int_equal(win_env_split("EMPTY=", &kv), 0);
  assert_string_equal(kv.value, "");
  /* Windows' per-drive entries: the name starts with '='. */
  assert_int_equal(win_env_split("=C:=C:\\dir", &kv), 0);
  assert_int_equal(kv.key_len, 3);
  assert_memory_equal(kv.key, "=C:", 3);
  assert_string_equal(kv.value, "C:\\dir");
  assert_int_equal(win_env_split("NOEQUALS", &kv), -1);
  assert_int_equal(win_env_split("", &kv), -1);
  assert_int_equal(win_env_split("=", &kv), -1);
}

static void check_cmdline(const char *const *argv, size_t n, const char *want) {
  char *got = win_cmdline_join(argv, n);
  assert_non_null(got);
  assert_string_equal(got, want);
  free(got);
}

static void test_cmdline(void **state) {
  const char *a1[] = {"cmd", "/c", "echo hello"};
  check_cmdline(a1, 3, "cmd /c \"echo hello\"");
  const char *a2[] = {"x", ""};
  check_cmdline(a2, 2, "x \"\"");
  const char *a3[] = {"say", "a\"b"};
  check_cmdline(a3, 2, "say a\\\"b");
  const char *a4[] = {"C:\\Program Files\\app\\", "c\\\\\"d"};
  check_cmdline(a4, 2, "\"C:\\Program Files\\app\\\\\" c\\\\\\\\\\\"d");
  const char *a5[] = {"plain\\path"};
  check_cmdline(a5, 1, "plain\\path");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_count_over_shares_and_percent),
    cmocka_unit_test(test_shares_over_percent),
    cmocka_unit_test(test_hyperv_keeps_all_cpu_controls),
    cmocka_unit_test(test_ranges),
    cmocka_unit_test(test_nano_cpus),
    cmocka_unit_test(test_nano_cpus_rounded_on_old_hyperv),
    cmocka_unit_test(test_unsupported_options),
    cmocka_unit_test(test_unset_values_pass),
    cmocka_unit_test(test_isolation_parse),
    cmocka_unit_test(test_client_only_hyperv),
    cmocka_unit_test(test_exec_opts),
    cmocka_unit_test(test_env_split),
    cmocka_unit_test(test_cmdline),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
