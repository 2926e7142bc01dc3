/* cshimctl's command line: the option parser, id validation and the value parsers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli_args.h"
#include "cli_parse.h"
#include "cli_shim.h"

typedef struct t_opts {
  const char *id, *sig;
  bool tty, inter, all;
  cli_strlist env;
} t_opts;

static const cli_opt t_table[] = {
  {"id", 0, CLI_OPT_STRING, offsetof(t_opts, id), "ID", "id"},
  {"signal", 's', CLI_OPT_STRING, offsetof(t_opts, sig), "SIG", "signal"},
  {"tty", 't', CLI_OPT_FLAG, offsetof(t_opts, tty), NULL, "tty"},
  {"interactive", 'i', CLI_OPT_FLAG, offsetof(t_opts, inter), NULL, "stdin"},
  {"all", 0, CLI_OPT_FLAG, offsetof(t_opts, all), NULL, "all"},
  {"env", 'e', CLI_OPT_LIST, offsetof(t_opts, env), "K=V", "env"},
};
static const cli_cmd_spec run_like = {.name = "run", .usage = "", .summary = "", .opts = t_table, .nopts = 6,
                                      .min_pos = 0, .max_pos = 0, .trailing_cmd = true};
static const cli_cmd_spec exec_like = {.name = "exec", .usage = "", .summary = "", .opts = t_table, .nopts = 6,
                                       .min_pos = 1, .max_pos = 1, .trailing_cmd = true, .cmd_required = true};
static const cli_cmd_spec kill_like = {.name = "kill", .usage = "", .summary = "", .opts = t_table, .nopts = 6,
                                       .min_pos = 1, .max_pos = 1};
static const cli_cmd_spec stats_like = {.name = "stats", .usage = "", .summary = "", .opts = t_table, .nopts = 6,
                                        .min_pos = 0, .max_pos = -1, .flags = CLI_ACCEPT_ADDRESS};

#define ARGV(...) ((char *[]){__VA_ARGS__, NULL})

static int parse(const cli_cmd_spec *spec, t_opts *o, cli_globals *g, int argc, char **argv, cli_parsed *p,
                 cs_err *err) {
  memset(o, 0, sizeof *o);
  cli_globals_init(g);
  cs_err_clear(err);
  return cli_args_parse(spec, o, g, argc, argv, p, err);
}

static void test_run_trailing_command(void **state) {
  t_opts o;
  cli_globals g;
  cli_parsed p;
  cs_err err;
  /* Bundled short flags, --opt=value, repeated list, and the command's own flags left alone. */
  char **argv = ARGV("run", "-it", "--id=c1", "-e", "A=1", "--env", "B=x=y", "--state-dir", "/tmp/s", "sh", "-c", "echo -t");
  assert_int_equal(parse(&run_like, &o, &g, 12, argv, &p, &err), 0);
  assert_true(o.tty);
  assert_true(o.inter);
  assert_string_equal(o.id, "c1");
  assert_int_equal(o.env.n, 2);
  assert_string_equal(o.env.v[1], "B=x=y");
  assert_string_equal(g.state_dir, "/tmp/s");
  assert_int_equal(p.npos, 0);
  assert_int_equal(p.ncmd, 3);
  assert_string_equal(p.cmd[0], "sh");
  assert_string_equal(p.cmd[2], "echo -t");
  assert_null(p.cmd[3]);
  cli_args_free(&run_like, &o, &p);
  assert_null(o.env.v);

  /* After `--` even dashes are the command's. */
  argv = ARGV("run", "-t", "--", "--id", "x");
  assert_int_equal(parse(&run_like, &o, &g, 5, argv, &p, &err), 0);
  assert_null(o.id);
  assert_int_equal(p.ncmd, 2);
  assert_string_equal(p.cmd[0], "--id");
  cli_args_free(&run_like, &o, &p);
}

static void test_exec_positional_then_command(void **state) {
  t_opts o;
  cli_globals g;
  cli_parsed p;
  cs_err err;
  char **argv = ARGV("exec", "c1", "-t", "ls", "-l");
  assert_int_equal(parse(&exec_like, &o, &g, 5, argv, &p, &err), 0);
  assert_int_equal(p.npos, 1);
  assert_string_equal(p.pos[0], "c1");
  assert_true(o.tty);
  assert_int_equal(p.ncmd, 2);
  assert_string_equal(p.cmd[1], "-l");
  cli_args_free(&exec_like, &o, &p);

  argv = ARGV("exec", "c1");
  assert_int_equal(parse(&exec_like, &o, &g, 2, argv, &p, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  assert_non_null(strstr(err.msg, "missing command"));
  cli_args_free(&exec_like, &o, &p);
}

static void test_options_after_positionals(void **state) {
  t_opts o;
  cli_globals g;
  cli_parsed p;
  cs_err err;
  char **argv = ARGV("kill", "c1", "-s", "KILL", "--all");
  assert_int_equal(parse(&kill_like, &o, &g, 5, argv, &p, &err), 0);
  assert_string_equal(p.pos[0], "c1");
  assert_string_equal(o.sig, "KILL");
  assert_true(o.all);
  cli_args_free(&kill_like, &o, &p);

  argv = ARGV("kill", "-s9", "c1");
  assert_int_equal(parse(&kill_like, &o, &g, 3, argv, &p, &err), 0);
  assert_string_equal(o.sig, "9");
  cli_args_free(&kill_like, &o, &p);
}

static void test_errors_are_one_line(void **state) {
  t_opts o;
  cli_globals g;
  cli_parsed p;
  cs_err err;
  struct {
    const cli_cmd_spec *spec;
    int argc;
    char **argv;
    const char *want;
  } cases[] = {
    {&kill_like, 3, ARGV("kill", "c1", "--bogus"), "unknown option --bogus"},
    {&kill_like, 3, ARGV("kill", "c1", "-x"), "unknown option -x"},
    {&kill_like, 3, ARGV("kill", "c1", "-s"), "needs a value"},
    {&kill_like, 1, ARGV("kill"), "missing argument"},
    {&kill_like, 3, ARGV("kill", "a", "b"), "unexpected argument \"b\""},
    {&kill_like, 3, ARGV("kill", "--all=yes", "a"), "takes no value"},
    {&kill_like, 4, ARGV("kill", "--address", "/x", "a"), "--address is not supported"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    assert_int_equal(parse(cases[i].spec, &o, &g, cases[i].argc, cases[i].argv, &p, &err), -1);
    assert_int_equal(err.code, CS_INVALID_ARGUMENT);
    if (!strstr(err.msg, cases[i].want)) fail_msg("case %zu: %s", i, err.msg);
    assert_null(strchr(err.msg, '\n'));
    cli_args_free(cases[i].spec, &o, &p);
  }
}

static void test_help_and_address(void **state) {
  t_opts o;
  cli_globals g;
  cli_parsed p;
  cs_err err;
  char **argv = ARGV("kill", "--help");
  assert_int_equal(parse(&kill_like, &o, &g, 2, argv, &p, &err), 0);
  assert_true(p.help);
  cli_args_free(&kill_like, &o, &p);

  argv = ARGV("stats", "a", "b", "--address", "unix:///run/x", "-n", "k8s.io");
  assert_int_equal(parse(&stats_like, &o, &g, 7, argv, &p, &err), 0);
  assert_int_equal(p.npos, 2);
  assert_string_equal(g.address, "unix:///run/x");
  assert_string_equal(g.ns, "k8s.io");
  cli_args_free(&stats_like, &o, &p);
}

static void test_globals_before_command(void **state) {
  cli_globals g;
  cs_err err;
  bool help = false;
  cli_globals_init(&g);
  char **argv = ARGV("cshimctl", "--state-dir=/s", "-n", "ns1", "ps", "-q");
  assert_int_equal(cli_args_parse_globals(&g, 6, argv, &help, &err), 4);
  assert_string_equal(g.state_dir, "/s");
  assert_string_equal(g.ns, "ns1");
  assert_false(help);
  argv = ARGV("cshimctl", "--nope", "ps");
  assert_int_equal(cli_args_parse_globals(&g, 3, argv, &help, &err), -1);
}

static void test_validate_id(void **state) {
  cs_err err;
  const char *good[] = {"a", "c1", "my-container_1.2", "A9", "x.y-z_w",
                        "abcdefghij0123456789abcdefghij0123456789abcdefghij0123456789abcdefghij012345"};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) assert_int_equal(cli_validate_id("id", good[i], &err), 0);
  const char *bad[] = {"", "../x", "..", "a/b", "-a", "a-", "a..b", "a.-b", ".hidden", "a b", "a\n", "ü",
                       "abcdefghij0123456789abcdefghij0123456789abcdefghij0123456789abcdefghij0123456"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(cli_validate_id("container id", bad[i], &err), -1);
    assert_int_equal(err.code, CS_INVALID_ARGUMENT);
    assert_null(strchr(err.msg, '\n') ? (void *)1 : NULL);
  }
  assert_int_equal(cli_validate_id("id", NULL, &err), -1);
}

static void test_parse_size(void **state) {
  cs_err err;
  uint64_t v;
  struct {
    const char *in;
    uint64_t want;
  } ok[] = {{"1", 1},          {"1024", 1024},       {"1k", 1024},          {"1K", 1024},
            {"512m", 512ull << 20}, {"512MiB", 512ull << 20}, {"1g", 1ull << 30}, {"1.5g", 3ull << 29},
            {"2t", 2ull << 40}, {"64kb", 64 * 1024}, {"10b", 10}};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    assert_int_equal(cli_parse_size(ok[i].in, &v, &err), 0);
    assert_int_equal(v, ok[i].want);
  }
  const char *bad[] = {"", "m", "-1m", "1x", "0", "1e3", "0x10", " 1", "1 m", "99999999t", "inf", "."};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) assert_int_equal(cli_parse_size(bad[i], &v, &err), -1);
}

static void test_parse_cpus(void **state) {
  cs_err err;
  int64_t quota;
  uint64_t period;
  assert_int_equal(cli_parse_cpus("1.5", &quota, &period, &err), 0);
  assert_int_equal(quota, 150000);
  assert_int_equal(period, 100000);
  assert_int_equal(cli_parse_cpus("0.01", &quota, &period, &err), 0);
  assert_int_equal(quota, 1000);
  assert_int_equal(cli_parse_cpus("2", &quota, &period, &err), 0);
  assert_int_equal(quota, 200000);
  const char *bad[] = {"0", "0.001", "-1", "abc", "1c", "", "5000"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(cli_parse_cpus(bad[i], &quota, &period, &err), -1);
}

static void test_parse_duration(void **state) {
  cs_err err;
  uint64_t ns;
  struct {
    const char *in;
    uint64_t want;
  } ok[] = {{"1s", 1000000000}, {"500ms", 500000000}, {"1.5s", 1500000000}, {"2", 2000000000},
            {"250us", 250000},  {"2m", 120000000000ull}, {"1h", 3600000000000ull}, {"10ns", 10}};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    assert_int_equal(cli_parse_duration(ok[i].in, &ns, &err), 0);
    assert_int_equal(ns, ok[i].want);
  }
  const char *bad[] = {"", "s", "0s", "1d", "-1s", "1 s", "0.1ns"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) assert_int_equal(cli_parse_duration(bad[i], &ns, &err), -1);
}

static void test_parse_signal(void **state) {
  cs_err err;
  int sig;
  struct {
    const char *in;
    int want;
  } ok[] = {{"KILL", SIGKILL}, {"SIGKILL", SIGKILL}, {"sigterm", SIGTERM}, {"9", 9}, {"hup", SIGHUP},
            {"WINCH", SIGWINCH}, {"64", 64}};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    assert_int_equal(cli_parse_signal(ok[i].in, &sig, &err), 0);
    assert_int_equal(sig, ok[i].want);
  }
  const char *bad[] = {"", "0", "65", "SIGFOO", "9x", "SIG"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) assert_int_equal(cli_parse_signal(bad[i], &sig, &err), -1);
}

static void test_env_and_bytes(void **state) {
  cs_err err;
  assert_int_equal(cli_validate_env("A=1", &err), 0);
  assert_int_equal(cli_validate_env("A=", &err), 0);
  assert_int_equal(cli_validate_env("A=b=c", &err), 0);
  assert_int_equal(cli_validate_env("=1", &err), -1);
  assert_int_equal(cli_validate_env("A", &err), -1);
  char buf[32];
  cli_format_bytes(0, buf, sizeof buf);
  assert_string_equal(buf, "0B");
  cli_format_bytes(1023, buf, sizeof buf);
  assert_string_equal(buf, "1023B");
  cli_format_bytes(1536, buf, sizeof buf);
  assert_string_equal(buf, "1.5KiB");
  cli_format_bytes(64ull << 20, buf, sizeof buf);
  assert_string_equal(buf, "64MiB");
  cli_format_bytes(UINT64_MAX, buf, sizeof buf);
  assert_string_equal(buf, "16EiB");
  char t[64];
  cli_format_time(0, 5, t, sizeof t);
  assert_string_equal(t, "1970-01-01T00:00:00.000000005Z");
}

static void test_shim_address(void **state) {
  cs_err err;
  char out[256];
  assert_int_equal(cli_shim_parse_address("unix:///run/containerd/s/abc\n", out, sizeof out, &err), 0);
  assert_string_equal(out, "unix:///run/containerd/s/abc");
  assert_int_equal(cli_shim_parse_address("  /run/x.sock ", out, sizeof out, &err), 0);
  assert_string_equal(out, "/run/x.sock");
  assert_int_equal(cli_shim_parse_address("{\"version\":2,\"address\":\"unix:///run/y\",\"protocol\":\"ttrpc\"}", out,
                                          sizeof out, &err),
                   0);
  assert_string_equal(out, "unix:///run/y");
  assert_int_equal(cli_shim_parse_address("{\"version\":3,\"address\":\"/x\",\"protocol\":\"grpc\"}", out, sizeof out,
                                          &err),
                   -1);
  assert_int_equal(cli_shim_parse_address("", out, sizeof out, &err), -1);
  /* A shim that prints a warning before its address gave no usable answer. */
  assert_int_equal(cli_shim_parse_address("warning: x\nunix:///run/z", out, sizeof out, &err), -1);
  assert_int_equal(cli_shim_parse_address("failed to start", out, sizeof out, &err), -1);
  assert_non_null(strstr(err.msg, "failed to start"));
  assert_string_equal(cli_socket_path("unix:///run/a"), "/run/a");
  assert_string_equal(cli_socket_path("/run/a"), "/run/a");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_run_trailing_command), cmocka_unit_test(test_exec_positional_then_command),
    cmocka_unit_test(test_options_after_positionals), cmocka_unit_test(test_errors_are_one_line),
    cmocka_unit_test(test_help_and_address), cmocka_unit_test(test_globals_before_command),
    cmocka_unit_test(test_validate_id), cmocka_unit_test(test_parse_size), cmocka_unit_test(test_parse_cpus),
    cmocka_unit_test(test_parse_duration), cmocka_unit_test(test_parse_signal), cmocka_unit_test(test_env_and_bytes),
    cmocka_unit_test(test_shim_address),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
