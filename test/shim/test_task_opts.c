/* Runtime options: decoding by the Any's type URL (task_opts.c), the flat TOML subset reader (task_toml.c),
 * and joining the ShimCgroup (shim_cgroup_linux.c) against a fake cgroup tree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "containerd/runc/options.pb-c.h"
#include "containerd/runctypes/runc.pb-c.h"
#include "google/protobuf/any.pb-c.h"
#include "runtimeoptions/v1/api.pb-c.h"
#include "shim_cgroup.h"
#include "task_opts.h"
#include "task_toml.h"

/* ------------------------------------------------------------------ TOML subset */

typedef struct kvs {
  int n;
  char key[16][32];
  task_toml_value v[16];
  char str[16][128];
} kvs;

static int collect(void *data, const char *key, const task_toml_value *v, cs_err *err) {
  (void)err;
  kvs *k = data;
  assert_true(k->n < 16);
  snprintf(k->key[k->n], sizeof k->key[0], "%s", key);
  k->v[k->n] = *v;
  if (v->type == TASK_TOML_STRING) snprintf(k->str[k->n], sizeof k->str[0], "%s", v->str);
  k->n++;
  return 0;
}

static void test_toml_subset(void **state) {
  (void)state;
  const char *text =
      "\xef\xbb\xbf# runc options\r\n"
      "BinaryName = \"/usr/bin/crun\"   # trailing comment\r\n"
      "\n"
      "  Root='/run/x # not a comment'\n"
      "SystemdCgroup = true\n"
      "NoPivotRoot=false\n"
      "IoUid = 1_000\n"
      "IoGid = -5\n"
      "hex = 0xff\n"
      "\"quoted key\" = \"tab\\there \\\"q\\\" \\u00e9\\U0001F600\"\n";
  kvs k = {0};
  cs_err err;
  assert_int_equal(task_toml_read(text, strlen(text), collect, &k, &err), 0);
  assert_int_equal(k.n, 8);
  assert_string_equal(k.key[0], "BinaryName");
  assert_string_equal(k.str[0], "/usr/bin/crun");
  assert_int_equal(k.v[0].line, 2);
  assert_string_equal(k.str[1], "/run/x # not a comment");
  assert_int_equal(k.v[2].type, TASK_TOML_BOOL);
  assert_true(k.v[2].b);
  assert_false(k.v[3].b);
  assert_int_equal(k.v[4].i, 1000);
  assert_int_equal(k.v[5].i, -5);
  assert_int_equal(k.v[6].i, 255);
  assert_string_equal(k.key[7], "quoted key");
  assert_string_equal(k.str[7], "tab\there \"q\" \xc3\xa9\xf0\x9f\x98\x80");
}

static void test_toml_rejects_beyond_the_subset(void **state) {
  (void)state;
  static const struct {
    const char *text;
    const char *msg;
  } bad[] = {
      {"a = 1\n[table]\n", "line 2: tables"},
      {"a = [1, 2]", "line 1: arrays"},
      {"a = {b = 1}", "line 1: inline tables"},
      {"\n\na = 1.5", "line 3: floats"},
      {"a = 1e3", "line 1: floats"},
      {"a = 2024-01-01", "line 1: floats and dates"},
      {"a = inf", "line 1: floats"},
      {"a = \"\"\"x\"\"\"", "line 1: multi-line"},
      {"a.b = 1", "line 1: dotted keys"},
      {"a = 1\na = 2", "line 2: key defined twice"},
      {"a = \"x\" y", "line 1: unexpected text"},
      {"a = \"x", "line 1: unterminated string"},
      {"a = yes", "line 1: expected a string, a boolean or an integer"},
      {"a 1", "line 1: expected '='"},
      {"a =", "line 1: expected a value"},
      {"a = 012", "line 1: leading zeros"},
      {"a = 99999999999999999999", "line 1: integer out of range"},
      {"a = \"\\q\"", "line 1: unknown escape"},
      {"= 1", "line 1: expected a key"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    kvs k = {0};
    cs_err err;
    assert_int_equal(task_toml_read(bad[i].text, strlen(bad[i].text), collect, &k, &err), -1);
    assert_int_equal(err.code, CS_INVALID_ARGUMENT);
    if (!strstr(err.msg, bad[i].msg)) fail_msg("%s: got \"%s\", want \"%s\"", bad[i].text, err.msg, bad[i].msg);
  }
}

/* ------------------------------------------------------------------ decoding by type URL */

static void test_runc_v1_options(void **state) {
  (void)state;
  Containerd__Runc__V1__Options m = CONTAINERD__RUNC__V1__OPTIONS__INIT;
  m.no_pivot_root = true;
  m.no_new_keyring = true;
  m.shim_cgroup = "/shims";
  m.io_uid = 7;
  m.io_gid = 8;
  m.binary_name = "crun";
  m.root = "/run/crun";
  m.criu_path = "/usr/sbin/criu";
  m.systemd_cgroup = true;
  m.criu_image_path = "/img";
  m.criu_work_path = "/work";
  uint8_t buf[256];
  size_t n = containerd__runc__v1__options__pack(&m, buf);
  task_opts t;
  cs_err err;
  assert_int_equal(task_opts_decode(&t, "containerd.runc.v1.Options", buf, n, &err), 0);
  assert_true(t.o.no_pivot_root && t.o.no_new_keyring && t.o.systemd_cgroup);
  assert_string_equal(t.o.shim_cgroup, "/shims");
  assert_int_equal(t.o.io_uid, 7);
  assert_int_equal(t.o.io_gid, 8);
  assert_string_equal(t.o.binary_name, "crun");
  assert_string_equal(t.o.root, "/run/crun");
  assert_string_equal(t.o.criu_path, "/usr/sbin/criu");
  assert_string_equal(t.o.criu_image_path, "/img");
  assert_string_equal(t.o.criu_work_path, "/work");
  task_opts_release(&t);
  /* a host prefix names the same type */
  assert_int_equal(task_opts_decode(&t, "type.googleapis.com/containerd.runc.v1.Options", buf, n, &err), 0);
  assert_string_equal(t.o.binary_name, "crun");
  task_opts_release(&t);
}

/* What containerd's Go client sends this shim for WithShimCgroup/WithUIDOwner/WithGIDOwner/WithNoNewKeyring.
 * Read as containerd.runc.v1.Options, field 9 (shim_cgroup) became systemd_cgroup and 10/11 failed. */
static void test_v1_create_options(void **state) {
  (void)state;
  Containerd__Linux__Runc__CreateOptions m = CONTAINERD__LINUX__RUNC__CREATE_OPTIONS__INIT;
  m.no_pivot_root = true;
  m.no_new_keyring = true;
  m.shim_cgroup = "/pod/shims";
  m.io_uid = 1000;
  m.io_gid = 1001;
  m.criu_work_path = "/w";
  m.criu_image_path = "/i";
  char *empty_ns[] = {"network"};
  m.n_empty_namespaces = 1;
  m.empty_namespaces = empty_ns;
  m.cgroups_mode = "soft";
  uint8_t buf[256];
  size_t n = containerd__linux__runc__create_options__pack(&m, buf);
  task_opts t;
  cs_err err;
  assert_int_equal(task_opts_decode(&t, "containerd.linux.runc.CreateOptions", buf, n, &err), 0);
  assert_false(t.o.systemd_cgroup);
  assert_true(t.o.no_pivot_root && t.o.no_new_keyring);
  assert_string_equal(t.o.shim_cgroup, "/pod/shims");
  assert_int_equal(t.o.io_uid, 1000);
  assert_int_equal(t.o.io_gid, 1001);
  assert_string_equal(t.o.criu_work_path, "/w");
  assert_string_equal(t.o.criu_image_path, "/i");
  assert_string_equal(t.o.binary_name, "");
  assert_string_equal(t.o.root, "");
  task_opts_release(&t);

  Containerd__Linux__Runc__RuncOptions ro = CONTAINERD__LINUX__RUNC__RUNC_OPTIONS__INIT;
  ro.runtime = "crun";
  ro.runtime_root = "/r";
  ro.criu_path = "/c";
  ro.systemd_cgroup = true;
  n = containerd__linux__runc__runc_options__pack(&ro, buf);
  assert_int_equal(task_opts_decode(&t, "containerd.linux.runc.RuncOptions", buf, n, &err), 0);
  assert_string_equal(t.o.binary_name, "crun");
  assert_string_equal(t.o.root, "/r");
  assert_string_equal(t.o.criu_path, "/c");
  assert_true(t.o.systemd_cgroup);
  task_opts_release(&t);
}

static void test_unknown_and_empty(void **state) {
  (void)state;
  task_opts t;
  cs_err err;
  assert_int_equal(task_opts_decode(&t, NULL, NULL, 0, &err), 0);
  assert_string_equal(t.o.binary_name, "");
  assert_false(t.o.systemd_cgroup);
  task_opts_release(&t);
  /* Options{} marshals to no bytes: the type with the defaults */
  assert_int_equal(task_opts_decode(&t, "containerd.linux.runc.CreateOptions", NULL, 0, &err), 0);
  task_opts_release(&t);
  uint8_t junk[] = {0x0a, 0x03, 'a'};
  assert_int_equal(task_opts_decode(&t, "io.example.Mine", junk, sizeof junk, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  assert_non_null(strstr(err.msg, "\"io.example.Mine\""));
  task_opts_release(&t);
  assert_int_equal(task_opts_decode(&t, "containerd.runc.v1.Options", junk, sizeof junk, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  task_opts_release(&t);
}

static size_t pack_rto(const char *path, const char *body, uint8_t *buf) {
  Runtimeoptions__V1__Options m = RUNTIMEOPTIONS__V1__OPTIONS__INIT;
  m.type_url = "io.containerd.cshim.v2.options";
  m.config_path = (char *)path;
  if (body) {
    m.config_body.data = (uint8_t *)body;
    m.config_body.len = strlen(body);
  }
  return runtimeoptions__v1__options__pack(&m, buf);
}

/* CRI: 2.x puts the handler's options table in config_body (go-toml writes 'literal' strings); 1.6 only
 * passes ConfigPath, a file of the same shape. */
static void test_runtimeoptions(void **state) {
  (void)state;
  const char *body = "BinaryName = 'runc'\nConfigPath = ''\nIoGid = 0\nIoUid = 0\nNoNewKeyring = true\n"
                     "NoPivotRoot = false\nRoot = '/run/cshim-runc'\nShimCgroup = ''\nSystemdCgroup = true\n"
                     "TypeUrl = ''\ncriupath = '/usr/sbin/criu'\nSomethingElse = 3\n";
  uint8_t buf[1024];
  size_t n = pack_rto(NULL, body, buf);
  task_opts t;
  cs_err err;
  assert_int_equal(task_opts_decode(&t, "runtimeoptions.v1.Options", buf, n, &err), 0);
  assert_string_equal(t.o.binary_name, "runc");
  assert_string_equal(t.o.root, "/run/cshim-runc");
  assert_string_equal(t.o.criu_path, "/usr/sbin/criu");
  assert_true(t.o.systemd_cgroup && t.o.no_new_keyring);
  assert_false(t.o.no_pivot_root);
  task_opts_release(&t);

  char path[] = "/tmp/rto-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  const char *file = "# cshim\nBinaryName = \"crun\"\nIoUid = 1000\nIoGid = 1000\nShimCgroup = \"/shims\"\n";
  assert_int_equal(write(fd, file, strlen(file)), (int)strlen(file));
  close(fd);
  /* config_path wins over a body */
  n = pack_rto(path, body, buf);
  assert_int_equal(task_opts_decode(&t, "runtimeoptions.v1.Options", buf, n, &err), 0);
  assert_string_equal(t.o.binary_name, "crun");
  assert_int_equal(t.o.io_uid, 1000);
  assert_int_equal(t.o.io_gid, 1000);
  assert_string_equal(t.o.shim_cgroup, "/shims");
  assert_false(t.o.systemd_cgroup);
  task_opts_release(&t);
  unlink(path);
  n = pack_rto(path, NULL, buf);
  assert_int_equal(task_opts_decode(&t, "runtimeoptions.v1.Options", buf, n, &err), -1);
  assert_int_equal(err.code, CS_NOT_FOUND);
  assert_non_null(strstr(err.msg, path));
  task_opts_release(&t);

  /* a runc option of the wrong type, and a line beyond the subset: named by line */
  n = pack_rto(NULL, "BinaryName = 'runc'\nSystemdCgroup = 'yes'\n", buf);
  assert_int_equal(task_opts_decode(&t, "runtimeoptions.v1.Options", buf, n, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  assert_non_null(strstr(err.msg, "config_body: line 2: SystemdCgroup wants true or false"));
  task_opts_release(&t);
  n = pack_rto(NULL, "BinaryName = 'runc'\n\n[nested]\n", buf);
  assert_int_equal(task_opts_decode(&t, "runtimeoptions.v1.Options", buf, n, &err), -1);
  assert_non_null(strstr(err.msg, "line 3: tables are not supported"));
  task_opts_release(&t);
  n = pack_rto(NULL, "IoUid = 4294967296\n", buf);
  assert_int_equal(task_opts_decode(&t, "runtimeoptions.v1.Options", buf, n, &err), -1);
  assert_non_null(strstr(err.msg, "line 1: IoUid wants an integer"));
  task_opts_release(&t);
}

/* ------------------------------------------------------------------ ShimCgroup */

static void mk(const char *path) { assert_int_equal(mkdir(path, 0700), 0); }

static void touch(const char *dir) {
  char p[256];
  snprintf(p, sizeof p, "%s/cgroup.procs", dir);
  FILE *f = fopen(p, "w");
  assert_non_null(f);
  fclose(f);
}

static void assert_procs(const char *dir, const char *want) {
  char p[256], buf[64] = {0};
  snprintf(p, sizeof p, "%s/cgroup.procs", dir);
  FILE *f = fopen(p, "r");
  assert_non_null(f);
  assert_true(fread(buf, 1, sizeof buf - 1, f) > 0 || !*want);
  fclose(f);
  assert_string_equal(buf, want);
}

static void test_shim_cgroup_join(void **state) {
  (void)state;
  char root[] = "/tmp/scg-XXXXXX", mem[64], cpu[64], uni[64], d1[96], d2[96], d3[96];
  assert_non_null(mkdtemp(root));
  snprintf(mem, sizeof mem, "%s/memory", root);
  snprintf(cpu, sizeof cpu, "%s/cpu", root);
  snprintf(uni, sizeof uni, "%s/unified", root);
  mk(mem), mk(cpu), mk(uni);
  snprintf(d1, sizeof d1, "%s/shims", mem);
  snprintf(d2, sizeof d2, "%s/shims", uni);
  snprintf(d3, sizeof d3, "%s/shims", cpu);
  mk(d1), mk(d2);
  touch(d1), touch(d2);
  char mi[1024];
  snprintf(mi, sizeof mi,
           "22 1 0:20 / /proc rw - proc proc rw\n"
           "30 25 0:26 / %s rw,nosuid shared:9 - cgroup cgroup rw,memory\n"
           "31 25 0:27 / %s rw,nosuid shared:10 - cgroup cgroup rw,cpu\n"
           "32 25 0:28 / %s rw,nosuid shared:11 - cgroup2 cgroup2 rw\n",
           mem, cpu, uni);
  cs_err err;
  /* v1: every hierarchy that has the cgroup (memory), not the others (cpu lacks it; the hybrid unified
   * mount is not a v1 hierarchy) */
  assert_int_equal(shim_cgroup_join_at(mi, NULL, "/shims", 4242, &err), 0);
  assert_procs(d1, "4242");
  assert_procs(d2, "");
  /* v2: the unified root only */
  assert_int_equal(shim_cgroup_join_at(NULL, uni, "shims", 77, &err), 0);
  assert_procs(d2, "77");
  /* a cgroup no hierarchy has, and one that walks out */
  assert_int_equal(shim_cgroup_join_at(mi, NULL, "/nope", 1, &err), -1);
  assert_int_equal(err.code, CS_NOT_FOUND);
  assert_int_equal(shim_cgroup_join_at(mi, NULL, "/shims/../..", 1, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  /* no ShimCgroup: nothing to do */
  assert_int_equal(shim_cgroup_join_at(mi, NULL, "", 1, &err), 0);
  char p[128];
  snprintf(p, sizeof p, "%s/cgroup.procs", d1), unlink(p);
  snprintf(p, sizeof p, "%s/cgroup.procs", d2), unlink(p);
  rmdir(d1), rmdir(d2), rmdir(mem), rmdir(cpu), rmdir(uni);
  (void)d3;
  assert_int_equal(rmdir(root), 0);
}

/* start's stdin: options that cannot be read join nothing (Create refuses them, with the reason); options
 * naming a ShimCgroup no hierarchy has fail start, as in runc-v2. */
static void test_start_options(void **state) {
  (void)state;
  cs_err err;
  assert_int_equal(shim_cgroup_apply_options(NULL, 0, 1, &err), 0);
  uint8_t junk[] = {0xff, 0xff, 0xff};
  assert_int_equal(shim_cgroup_apply_options(junk, sizeof junk, 1, &err), 0);
  Google__Protobuf__Any a = GOOGLE__PROTOBUF__ANY__INIT;
  a.type_url = "io.example.Mine";
  uint8_t buf[128];
  size_t n = google__protobuf__any__pack(&a, buf);
  assert_int_equal(shim_cgroup_apply_options(buf, n, 1, &err), 0);
  a.type_url = "containerd.linux.runc.CreateOptions"; /* no shim_cgroup: nothing to join */
  n = google__protobuf__any__pack(&a, buf);
  assert_int_equal(shim_cgroup_apply_options(buf, n, 1, &err), 0);
  Containerd__Linux__Runc__CreateOptions o = CONTAINERD__LINUX__RUNC__CREATE_OPTIONS__INIT;
  o.shim_cgroup = "/cshim-test-no-such-cgroup-anywhere";
  uint8_t obuf[64];
  a.value.data = obuf;
  a.value.len = containerd__linux__runc__create_options__pack(&o, obuf);
  n = google__protobuf__any__pack(&a, buf);
  assert_int_equal(shim_cgroup_apply_options(buf, n, 1, &err), -1);
  assert_non_null(strstr(err.msg, "cshim-test-no-such-cgroup-anywhere"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_toml_subset),
      cmocka_unit_test(test_toml_rejects_beyond_the_subset),
      cmocka_unit_test(test_runc_v1_options),
      cmocka_unit_test(test_v1_create_options),
      cmocka_unit_test(test_unknown_and_empty),
      cmocka_unit_test(test_runtimeoptions),
      cmocka_unit_test(test_shim_cgroup_join),
      cmocka_unit_test(test_start_options),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
