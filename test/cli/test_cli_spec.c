/* config.json, exec Process and LinuxResources generation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "cli_spec.h"

static char *args3[] = {"sh", "-c", "echo hi"};

static cli_spec_opts base_opts(void) {
  cli_spec_opts o = {.id = "c1", .ns = "cshim", .rootfs = "/var/lib/r", .args = args3, .nargs = 3};
  return o;
}

static const char *str_at(const json_t *j, const char *path) {
  /* "a.b.c" object lookups */
  char buf[256];
  snprintf(buf, sizeof buf, "%s", path);
  const json_t *cur = j;
  for (char *tok = strtok(buf, "."); tok && cur; tok = strtok(NULL, ".")) cur = json_object_get(cur, tok);
  return json_string_value(cur);
}

static bool array_has(const json_t *a, const char *key, const char *value) {
  size_t i;
  json_t *v;
  json_array_foreach(a, i, v) {
    const char *s = key ? json_string_value(json_object_get(v, key)) : json_string_value(v);
    if (s && strcmp(s, value) == 0) return true;
  }
  return false;
}

static void test_defaults(void **state) {
  cs_err err;
  cli_spec_opts o = base_opts();
  json_t *s = cli_spec_new(&o, &err);
  assert_non_null(s);
  assert_string_equal(str_at(s, "ociVersion"), "1.0.2-dev");
  assert_string_equal(str_at(s, "root.path"), "/var/lib/r");
  assert_string_equal(str_at(s, "hostname"), "c1");
  assert_string_equal(str_at(s, "linux.cgroupsPath"), "/cshim/c1");
  assert_string_equal(str_at(s, "process.cwd"), "/");
  json_t *p = json_object_get(s, "process");
  assert_false(json_is_true(json_object_get(p, "terminal")));
  assert_int_equal(json_array_size(json_object_get(p, "args")), 3);
  assert_string_equal(json_string_value(json_array_get(json_object_get(p, "args"), 2)), "echo hi");
  json_t *env = json_object_get(p, "env");
  assert_true(array_has(env, NULL, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
  assert_false(array_has(env, NULL, "TERM=xterm"));
  assert_true(array_has(json_object_get(json_object_get(p, "capabilities"), "bounding"), NULL, "CAP_KILL"));
  assert_true(json_is_true(json_object_get(p, "noNewPrivileges")));
  /* the usual mounts */
  json_t *m = json_object_get(s, "mounts");
  const char *dsts[] = {"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys"};
  for (size_t i = 0; i < 6; i++) assert_true(array_has(m, "destination", dsts[i]));
  /* namespaces: a fresh network namespace too (only lo), as ctr without --net-host */
  json_t *ns = json_object_get(json_object_get(s, "linux"), "namespaces");
  const char *types[] = {"pid", "ipc", "uts", "mount", "network"};
  for (size_t i = 0; i < 5; i++) assert_true(array_has(ns, "type", types[i]));
  size_t i;
  json_t *v;
  json_array_foreach(ns, i, v) assert_null(json_object_get(v, "path"));
  json_t *linux = json_object_get(s, "linux");
  assert_true(array_has(json_object_get(linux, "maskedPaths"), NULL, "/proc/kcore"));
  assert_true(array_has(json_object_get(linux, "readonlyPaths"), NULL, "/proc/sys"));
  json_t *res = json_object_get(linux, "resources");
  assert_null(json_object_get(res, "cpu"));
  assert_null(json_object_get(res, "memory"));
  /* device cgroup: deny all first */
  json_t *dev0 = json_array_get(json_object_get(res, "devices"), 0);
  assert_false(json_is_true(json_object_get(dev0, "allow")));
  json_decref(s);
}

static void test_terminal_env_resources(void **state) {
  cs_err err;
  cli_spec_opts o = base_opts();
  const char *env[] = {"A=1", "PATH=/bin", "X=a=b=c", "A=2"};
  o.env = env;
  o.nenv = 4;
  o.terminal = true;
  o.cwd = "/tmp";
  o.cpu_quota = 50000;
  o.cpu_period = 100000;
  o.memory_limit = 256u << 20;
  json_t *s = cli_spec_new(&o, &err);
  assert_non_null(s);
  json_t *p = json_object_get(s, "process");
  assert_true(json_is_true(json_object_get(p, "terminal")));
  assert_string_equal(str_at(s, "process.cwd"), "/tmp");
  json_t *e = json_object_get(p, "env");
  /* overrides by key, values keep their '=' */
  assert_true(array_has(e, NULL, "PATH=/bin"));
  assert_false(array_has(e, NULL, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
  assert_true(array_has(e, NULL, "X=a=b=c"));
  assert_true(array_has(e, NULL, "A=2"));
  assert_false(array_has(e, NULL, "A=1"));
  assert_true(array_has(e, NULL, "TERM=xterm"));
  assert_int_equal(json_array_size(e), 4); /* PATH, TERM, A, X */
  json_t *res = json_object_get(json_object_get(s, "linux"), "resources");
  assert_int_equal(json_integer_value(json_object_get(json_object_get(res, "cpu"), "quota")), 50000);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(res, "cpu"), "period")), 100000);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(res, "memory"), "limit")), 256 << 20);
  json_decref(s);
}

static void test_requires(void **state) {
  cs_err err;
  cli_spec_opts o = base_opts();
  o.rootfs = NULL;
  assert_null(cli_spec_new(&o, &err));
  o = base_opts();
  o.nargs = 0;
  assert_null(cli_spec_new(&o, &err));
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
}

static void test_apply_bundle(void **state) {
  cs_err err;
  json_error_t jerr;
  json_t *s = json_loads("{\"process\":{\"args\":[\"top\"],\"env\":[\"PATH=/x\"],\"cwd\":\"/\"},"
                         "\"root\":{\"path\":\"rootfs\"},\"linux\":{}}",
                         0, &jerr);
  assert_non_null(s);
  cli_spec_opts o = {.id = "b1", .ns = "ns"};
  assert_int_equal(cli_spec_apply(s, &o, "/home/u/bundle", &err), 0);
  /* the config moves: a relative root must keep naming the bundle's rootfs */
  assert_string_equal(str_at(s, "root.path"), "/home/u/bundle/rootfs");
  assert_string_equal(str_at(s, "linux.cgroupsPath"), "/ns/b1");
  assert_string_equal(json_string_value(json_array_get(json_object_get(json_object_get(s, "process"), "args"), 0)),
                      "top");
  assert_string_equal(json_string_value(json_array_get(json_object_get(json_object_get(s, "process"), "env"), 0)),
                      "PATH=/x");
  /* args given: replaced */
  o.args = args3;
  o.nargs = 3;
  assert_int_equal(cli_spec_apply(s, &o, "/home/u/bundle", &err), 0);
  assert_int_equal(json_array_size(json_object_get(json_object_get(s, "process"), "args")), 3);
  assert_string_equal(str_at(s, "root.path"), "/home/u/bundle/rootfs");
  json_decref(s);

  s = json_loads("{\"process\":{\"args\":[]},\"root\":{\"path\":\"/r\"}}", 0, &jerr);
  o.args = NULL;
  o.nargs = 0;
  assert_int_equal(cli_spec_apply(s, &o, "/b", &err), -1);
  assert_non_null(strstr(err.msg, "no command"));
  json_decref(s);
  s = json_loads("{\"root\":{\"path\":\"/r\"}}", 0, &jerr);
  assert_int_equal(cli_spec_apply(s, &o, "/b", &err), -1);
  json_decref(s);
}

static void test_exec_process(void **state) {
  cs_err err;
  cli_spec_opts o = base_opts();
  const char *env[] = {"FOO=bar"};
  o.env = env;
  o.nenv = 1;
  json_t *s = cli_spec_new(&o, &err);
  json_object_set_new(json_object_get(s, "process"), "consoleSize", json_pack("{s:i,s:i}", "height", 1, "width", 1));
  char *cmd[] = {"ls", "-l"};
  const char *more[] = {"FOO=baz", "N=1"};
  json_t *p = cli_spec_exec_process(s, cmd, 2, more, 2, true, &err);
  assert_non_null(p);
  assert_true(json_is_true(json_object_get(p, "terminal")));
  assert_null(json_object_get(p, "consoleSize"));
  assert_int_equal(json_array_size(json_object_get(p, "args")), 2);
  json_t *e = json_object_get(p, "env");
  assert_true(array_has(e, NULL, "FOO=baz"));
  assert_true(array_has(e, NULL, "N=1"));
  assert_true(array_has(e, NULL, "TERM=xterm"));
  /* what the container runs as is kept */
  assert_non_null(json_object_get(p, "capabilities"));
  assert_non_null(json_object_get(p, "user"));
  /* the template itself is untouched */
  assert_false(json_is_true(json_object_get(json_object_get(s, "process"), "terminal")));
  char *text = cli_json_dump(p, &err);
  assert_non_null(text);
  assert_null(strchr(text, '\n'));
  free(text);
  json_decref(p);
  assert_null(cli_spec_exec_process(s, cmd, 0, NULL, 0, false, &err));
  json_decref(s);
}

static void test_resources(void **state) {
  cs_err err;
  json_t *r = cli_spec_resources(0, 0, 0, &err);
  assert_null(r);
  r = cli_spec_resources(0, 0, 1 << 20, &err);
  assert_non_null(r);
  assert_null(json_object_get(r, "cpu"));
  assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "memory"), "limit")), 1 << 20);
  json_decref(r);
  r = cli_spec_resources(150000, 100000, 0, &err);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "cpu"), "quota")), 150000);
  assert_null(json_object_get(r, "memory"));
  json_decref(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_defaults),     cmocka_unit_test(test_terminal_env_resources),
    cmocka_unit_test(test_requires),     cmocka_unit_test(test_apply_bundle),
    cmocka_unit_test(test_exec_process), cmocka_unit_test(test_resources),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
