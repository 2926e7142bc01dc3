/* Unit: the text the kernel and the runtime give us, parsed from fixture strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cs_err.h"
#include "net_counters.h"
#include "rt_linux_cgparse.h"
#include "rt_linux_log.h"

static void test_kv_memory_stat(void **state) {
  (void)state;
  const char *f = "cache 9461760\nrss 6103040\nrss_huge 0\nshmem 9166848\nmapped_file 7049216\n"
                  "hierarchical_memory_limit 9223372036854771712\ntotal_cache 100\ntotal_rss 200\n";
  uint64_t cache = 1, rss = 1, total_rss = 0, limit = 0, missing = 42;
  const rt_linux_kv kv[] = {{"cache", &cache}, {"rss", &rss}, {"total_rss", &total_rss},
                            {"hierarchical_memory_limit", &limit}, {"absent", &missing}};
  assert_int_equal(rt_linux_cg_parse_kv(f, kv, 5), 4);
  assert_int_equal(cache, 9461760);
  assert_int_equal(rss, 6103040);
  assert_int_equal(total_rss, 200);
  assert_true(limit == 9223372036854771712ull);
  assert_int_equal(missing, 42);
  /* "rss" must not match "rss_huge" */
  uint64_t huge = 7;
  const rt_linux_kv kv2[] = {{"rss_huge", &huge}};
  rt_linux_cg_parse_kv(f, kv2, 1);
  assert_int_equal(huge, 0);
}

static void test_u64_and_list(void **state) {
  (void)state;
  uint64_t v = 0;
  assert_int_equal(rt_linux_cg_parse_u64("12345\n", 0, &v), 0);
  assert_int_equal(v, 12345);
  assert_int_equal(rt_linux_cg_parse_u64("max\n", 0, &v), 0);
  assert_int_equal(v, 0);
  assert_int_equal(rt_linux_cg_parse_u64("max\n", UINT64_MAX, &v), 0);
  assert_true(v == UINT64_MAX);
  assert_int_equal(rt_linux_cg_parse_u64("", 0, &v), -1);
  /* CPU usage: v1 cpuacct.usage is ns, v2 cpu.stat's usage_usec is us */
  assert_int_equal(rt_linux_cg_parse_cpu_usage(1, "5947571\n", &v), 0);
  assert_int_equal(v, 5947571);
  assert_int_equal(rt_linux_cg_parse_cpu_usage(2, "usage_usec 2500\nuser_usec 2000\n", &v), 0);
  assert_int_equal(v, 2500000);
  assert_int_equal(rt_linux_cg_parse_cpu_usage(2, "user_usec 2000\n", &v), -1);
  assert_int_equal(v, 2500000); /* untouched */
  uint64_t per[4] = {0};
  assert_int_equal(rt_linux_cg_parse_list("1000 2000 3000 \n", per, 4), 3);
  assert_int_equal(per[2], 3000);
  assert_int_equal(rt_linux_cg_parse_list("1 2 3 4 5 6\n", per, 4), 4);
}

static void test_blkio_v1(void **state) {
  (void)state;
  const char *bytes = "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 8192\n8:0 Async 4096\n8:0 Discard 0\n"
                      "8:0 Total 12288\n253:1 Read 1\n253:1 Write 2\n253:1 Total 3\nTotal 12291\n";
  const char *ops = "253:1 Read 10\n253:1 Total 10\n8:0 Read 1\n8:0 Write 2\n8:0 Total 3\n259:0 Read 5\nTotal 18\n";
  rt_blkio_entry b[4], o[4];
  uint32_t n = 0;
  rt_linux_cg_parse_blkio(bytes, b, o, &n, 4);
  rt_linux_cg_parse_blkio(ops, o, b, &n, 4);
  assert_int_equal(n, 3);
  assert_int_equal(b[0].major, 8);
  assert_int_equal(b[0].read, 4096);
  assert_int_equal(b[0].write, 8192);
  assert_int_equal(b[0].sync, 8192);
  assert_int_equal(b[0].async, 4096);
  assert_int_equal(b[0].total, 12288);
  assert_int_equal(o[0].total, 3);           /* same device order in both tables */
  assert_int_equal(b[1].minor, 1);
  assert_int_equal(o[1].read, 10);
  assert_int_equal(b[2].major, 259);         /* seen only in ops: zero bytes */
  assert_int_equal(b[2].read, 0);
  assert_int_equal(o[2].read, 5);
  n = 0;
  assert_int_equal(rt_linux_cg_parse_blkio("Total 0\n", b, o, &n, 4), 0); /* the empty throttle file */
  assert_int_equal(n, 0);
}

static void test_iostat_v2(void **state) {
  (void)state;
  const char *f = "8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0\n"
                  "8:0 rbytes=90430464 wbytes=299008000 rios=8950 wios=1252 dbytes=50331648 dios=3021\n";
  rt_blkio_entry b[4], o[4];
  assert_int_equal(rt_linux_cg_parse_iostat(f, b, o, 4), 2);
  assert_int_equal(b[0].minor, 16);
  assert_int_equal(b[0].read, 1459200);
  assert_int_equal(b[0].write, 314773504);
  assert_int_equal(o[0].read, 192);
  assert_int_equal(o[1].write, 1252);
  assert_int_equal(b[1].total, 90430464 + 299008000);
}

static const char *mountinfo =
    "23 1 0:21 / / rw,relatime - ext4 /dev/vda rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "36 31 0:33 /docker/abc /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "37 31 0:34 / /sys/fs/cgroup/my\\040blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "38 31 0:35 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
static const char *proc_cgroup =
    "9:name=systemd:/t1\n8:pids:/docker/abc/t1\n7:blkio:/t1\n4:memory:/process_api/27be/t1\n"
    "3:cpuset:/t1\n2:cpu,cpuacct:/t1\n0::/t1\n";

static void test_resolve(void **state) {
  (void)state;
  char out[4096];
  assert_int_equal(rt_linux_cg_resolve(mountinfo, proc_cgroup, "memory", out, sizeof out), 0);
  assert_string_equal(out, "/sys/fs/cgroup/memory/process_api/27be/t1");
  assert_int_equal(rt_linux_cg_resolve(mountinfo, proc_cgroup, "cpuacct", out, sizeof out), 0);
  assert_string_equal(out, "/sys/fs/cgroup/cpu,cpuacct/t1");
  assert_int_equal(rt_linux_cg_resolve(mountinfo, proc_cgroup, "cpu", out, sizeof out), 0);
  assert_string_equal(out, "/sys/fs/cgroup/cpu,cpuacct/t1");
  /* hierarchy mounted from a sub-directory (cgroup namespace): strip the mount root */
  assert_int_equal(rt_linux_cg_resolve(mountinfo, proc_cgroup, "pids", out, sizeof out), 0);
  assert_string_equal(out, "/sys/fs/cgroup/pids/t1");
  assert_int_equal(rt_linux_cg_resolve(mountinfo, proc_cgroup, "blkio", out, sizeof out), 0);
  assert_string_equal(out, "/sys/fs/cgroup/my blkio/t1");
  assert_int_equal(rt_linux_cg_resolve(mountinfo, proc_cgroup, NULL, out, sizeof out), 0);
  assert_string_equal(out, "/sys/fs/cgroup/unified/t1");
  assert_int_equal(rt_linux_cg_resolve(mountinfo, proc_cgroup, "hugetlb", out, sizeof out), -1);
  /* "cpu" must not match a "cpuset" line */
  assert_int_equal(rt_linux_cg_resolve(mountinfo, "3:cpuset:/x\n", "cpu", out, sizeof out), -1);
  /* pure v2 */
  const char *mi2 = "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
  assert_int_equal(rt_linux_cg_resolve(mi2, "0::/system.slice/c1\n", NULL, out, sizeof out), 0);
  assert_string_equal(out, "/sys/fs/cgroup/system.slice/c1");
  assert_int_equal(rt_linux_cg_resolve(mi2, "0::/\n", NULL, out, sizeof out), 0);
  assert_string_equal(out, "/sys/fs/cgroup");
}

static void test_net_dev(void **state) {
  (void)state;
  const char *f =
      "Inter-|   Receive                                                |  Transmit\n"
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
      "    lo:    3543      34    0    0    0     0          0         0     3543      34    0    0    0     0       0          0\n"
      "  eth0:1234567890 1000 1 2    0     0          0         0 987654321 900 3 4 0 0 0 0\n";
  rt_net_iface f_[4];
  assert_int_equal(net_counters_parse(f, f_, 4), 2);
  assert_string_equal(f_[0].name, "lo");
  assert_int_equal(f_[0].rx_bytes, 3543);
  assert_int_equal(f_[0].tx_packets, 34);
  assert_string_equal(f_[1].name, "eth0");
  assert_int_equal(f_[1].rx_bytes, 1234567890);
  assert_int_equal(f_[1].rx_packets, 1000);
  assert_int_equal(f_[1].rx_errors, 1);
  assert_int_equal(f_[1].rx_dropped, 2);
  assert_int_equal(f_[1].tx_bytes, 987654321);
  assert_int_equal(f_[1].tx_packets, 900);
  assert_int_equal(f_[1].tx_errors, 3);
  assert_int_equal(f_[1].tx_dropped, 4);
  assert_int_equal(net_counters_parse(f, f_, 1), 1);
}

static void test_runc_log(void **state) {
  (void)state;
  const char *log =
      "{\"level\":\"warning\",\"msg\":\"something odd\",\"time\":\"2026-11-24T14:22:43Z\"}\n"
      "{\"level\":\"error\",\"msg\":\"an older error\",\"time\":\"2026-11-24T14:22:43Z\"}\n"
      "not json at all\n"
      "{\"level\":\"error\",\"msg\":\"runc create failed: unable to start container process: exec: \\\"nosuch\\\": "
      "executable file not found in $PATH\",\"time\":\"2026-11-24T14:22:43Z\"}\n"
      "{\"level\":\"info\",\"msg\":\"later info\"}\n";
  char out[512];
  assert_true(rt_linux_log_last_error(log, strlen(log), out, sizeof out));
  assert_string_equal(out, "runc create failed: unable to start container process: exec: \"nosuch\": "
                           "executable file not found in $PATH");
  /* crun orders the keys differently; fatal counts too; trailing space trimmed; no final newline */
  const char *crun = "{\"msg\":\"cgroups in hybrid mode not supported \",\"level\":\"fatal\",\"time\":\"x\"}";
  assert_true(rt_linux_log_last_error(crun, strlen(crun), out, sizeof out));
  assert_string_equal(out, "cgroups in hybrid mode not supported");
  assert_false(rt_linux_log_last_error("{\"level\":\"info\",\"msg\":\"x\"}\n", 27, out, sizeof out));
  assert_false(rt_linux_log_last_error("", 0, out, sizeof out));
  /* a small buffer truncates rather than overflows */
  char tiny[8];
  assert_true(rt_linux_log_last_error(log, strlen(log), tiny, sizeof tiny));
  assert_string_equal(tiny, "runc cr");
  /* stderr fallback: last line, logrus text reduced to msg */
  const char *err = "noise\ntime=\"2026-11-24T14:22:43Z\" level=error msg=\"container does not exist\"\n\n";
  assert_true(rt_linux_log_last_line(err, strlen(err), out, sizeof out));
  assert_string_equal(out, "container does not exist");
  assert_false(rt_linux_log_last_line(" \n", 2, out, sizeof out));
}

static void test_criu_reason(void **state) {
  (void)state;
  const char *log = "(00.000001) Version: 3.17.1\n"
                    "(00.013051) Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds\n"
                    "(00.013053) Error (criu/vdso.c:613): vdso: Failed to fill self vdso symtable\n";
  char out[256];
  assert_true(rt_linux_criu_reason(log, strlen(log), out, sizeof out));
  assert_string_equal(out, "vdso: Unexpected rt vDSO area bounds");
  assert_false(rt_linux_criu_reason("(0.1) Warn (x.c:1): meh\n", 24, out, sizeof out));
}

static void test_kill_mapping(void **state) {
  (void)state;
  char m[256];
  assert_int_equal(rt_linux_kill_error("container not running", m, sizeof m), CS_NOT_FOUND);
  assert_string_equal(m, "process already finished");
  assert_int_equal(rt_linux_kill_error("os: process already finished", m, sizeof m), CS_NOT_FOUND);
  assert_int_equal(rt_linux_kill_error("No such process", m, sizeof m), CS_NOT_FOUND);
  assert_int_equal(rt_linux_kill_error("container does not exist", m, sizeof m), CS_NOT_FOUND);
  assert_string_equal(m, "no such container");
  assert_int_equal(rt_linux_kill_error("permission denied", m, sizeof m), CS_UNKNOWN);
  assert_string_equal(m, "unknown error after kill: permission denied");
  assert_true(rt_linux_msg_not_exist("container does not exist"));
  assert_false(rt_linux_msg_not_exist("executable file not found in $PATH"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kv_memory_stat), cmocka_unit_test(test_u64_and_list), cmocka_unit_test(test_blkio_v1),
      cmocka_unit_test(test_iostat_v2),      cmocka_unit_test(test_resolve),      cmocka_unit_test(test_net_dev),
      cmocka_unit_test(test_runc_log),       cmocka_unit_test(test_kill_mapping), cmocka_unit_test(test_criu_reason),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
