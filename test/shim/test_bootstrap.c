/* start's answer per host (1.6: bare; MAX_SHIM_VERSION=2: JSON v2; the runtime config's opt-in: v3) and
 * -info's RuntimeInfo, decoded back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "containerd/runc/options.pb-c.h"
#include "containerd/types/introspection.pb-c.h"
#include "google/protobuf/any.pb-c.h"
#include "runtimeoptions/v1/api.pb-c.h"
#include "shim_bootstrap.h"
#include "shim_info.h"

#define ADDR "unix:///run/containerd/s/0123abcd"

/* A marshalled Any holding runtimeoptions.v1.Options{config_path, config_body}, as containerd writes it. */
static uint8_t *runtime_opts(const char *type_url, const char *path, const char *body, size_t *len) {
  Runtimeoptions__V1__Options o = RUNTIMEOPTIONS__V1__OPTIONS__INIT;
  o.config_path = (char *)(path ? path : "");
  if (body) {
    o.config_body.data = (uint8_t *)body;
    o.config_body.len = strlen(body);
  }
  size_t n = runtimeoptions__v1__options__get_packed_size(&o);
  uint8_t *v = malloc(n + 1);
  runtimeoptions__v1__options__pack(&o, v);
  Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
  any.type_url = (char *)type_url;
  any.value.data = v;
  any.value.len = n;
  *len = google__protobuf__any__get_packed_size(&any);
  uint8_t *out = malloc(*len + 1);
  google__protobuf__any__pack(&any, out);
  free(v);
  return out;
}

static void check_json(const char *line, int version) {
  json_error_t e;
  json_t *o = json_loads(line, 0, &e);
  assert_non_null(o);
  assert_int_equal(json_integer_value(json_object_get(o, "version")), version);
  assert_string_equal(json_string_value(json_object_get(o, "address")), ADDR);
  assert_string_equal(json_string_value(json_object_get(o, "protocol")), "ttrpc");
  assert_int_equal(json_object_size(o), 3);
  json_decref(o);
}

static void answer_for(const char *env, const uint8_t *opts, size_t len, char *line, size_t cap) {
  cs_err err;
  cs_err_clear(&err);
  int v = shim_bootstrap_version(env, opts, len);
  assert_int_equal(shim_bootstrap_answer(v, ADDR, line, cap, &err), 0);
}

static void test_containerd16_bare(void **state) {
  (void)state;
  char line[512];
  answer_for(NULL, NULL, 0, line, sizeof line);
  assert_string_equal(line, ADDR);
  answer_for("", NULL, 0, line, sizeof line);
  assert_string_equal(line, ADDR);
  /* the opt-in does not matter to 1.6: it reads only the bare address */
  size_t n;
  uint8_t *o = runtime_opts("runtimeoptions.v1.Options", NULL, "BootstrapVersion = 3\n", &n);
  answer_for(NULL, o, n, line, sizeof line);
  assert_string_equal(line, ADDR);
  free(o);
}

static void test_max2_json_v2(void **state) {
  (void)state;
  char line[512];
  answer_for("2", NULL, 0, line, sizeof line);
  check_json(line, 2);
  size_t n;
  uint8_t *o = runtime_opts("runtimeoptions.v1.Options", NULL, "BinaryName = \"runc\"\n", &n);
  answer_for("2", o, n, line, sizeof line);
  check_json(line, 2);
  free(o);
  /* the key in another message type is not the opt-in */
  o = runtime_opts("containerd.runc.v1.Options", NULL, "BootstrapVersion = 3\n", &n);
  answer_for("2", o, n, line, sizeof line);
  check_json(line, 2);
  free(o);
  /* garbage on stdin: the safe answer */
  answer_for("2", (const uint8_t *)"\xff\xff\xff", 3, line, sizeof line);
  check_json(line, 2);
}

static void test_optin_v3(void **state) {
  (void)state;
  char line[512];
  size_t n;
  uint8_t *o = runtime_opts("runtimeoptions.v1.Options", NULL, "TypeUrl = \"x\"\nBootstrapVersion = 3\n", &n);
  answer_for("2", o, n, line, sizeof line);
  check_json(line, 3);
  free(o);
  /* CRI/ctr's config_path: the file holds the same lines */
  char path[] = "/tmp/cshim-bootstrap-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  const char text[] = "# cshim\n  bootstrapversion=3  \nRoot = \"/run/x\"\n";
  assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
  close(fd);
  o = runtime_opts("type.googleapis.com/runtimeoptions.v1.Options", path, NULL, &n);
  answer_for("2", o, n, line, sizeof line);
  check_json(line, 3);
  free(o);
  unlink(path);
  /* config_path wins over config_body, as containerd documents; a missing file is the safe answer */
  o = runtime_opts("runtimeoptions.v1.Options", path, "BootstrapVersion = 3\n", &n);
  answer_for("2", o, n, line, sizeof line);
  check_json(line, 2);
  free(o);
  /* a host that says it takes 3 */
  answer_for("3", NULL, 0, line, sizeof line);
  check_json(line, 3);
}

/* BootstrapVersion is read as Create reads the options (task_opts' TOML): only an integer 3 opts in. */
static void test_config_version_parse(void **state) {
  (void)state;
  const struct { const char *body; int want; } cases[] = {
    {"BootstrapVersion = 3", 3}, {"BootstrapVersion=2\n", 2}, {"BootstrapVersion = 33", 2},
    {"BootstrapVersionX = 3", 2}, {"# BootstrapVersion = 3", 2}, {"", 2},
    {"a = 1\r\nBootstrapVersion = 3\r\n", 3}, {"BootstrapVersion = \"3\"", 2}, {"[t]\nBootstrapVersion = 3", 2},
  };
  char line[512];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t n;
    uint8_t *o = runtime_opts("runtimeoptions.v1.Options", NULL, cases[i].body, &n);
    answer_for("2", o, n, line, sizeof line);
    check_json(line, cases[i].want);
    free(o);
  }
}

static void test_pipe_address_stays_bare(void **state) {
  (void)state;
  char line[512];
  cs_err err;
  const char *pipe = "\\\\.\\pipe\\ProtectedPrefix\\Administrators\\containerd-shim-ns-id-pipe";
  assert_int_equal(shim_bootstrap_answer(3, pipe, line, sizeof line, &err), 0);
  assert_string_equal(line, pipe);
  assert_int_equal(shim_bootstrap_answer(2, ADDR, line, 10, &err), -1);
}

static void test_info_roundtrip(void **state) {
  (void)state;
  size_t n;
  uint8_t *o = runtime_opts("runtimeoptions.v1.Options", "/etc/cshim.toml", NULL, &n);
  const char *features = "{\"ociVersionMin\":\"1.0.0\"}";
  uint8_t *out;
  size_t len;
  cs_err err;
  assert_int_equal(shim_info_encode("9.8.7", o, n, features, &out, &len, &err), 0);
  Containerd__Types__RuntimeInfo *ri = containerd__types__runtime_info__unpack(NULL, len, out);
  assert_non_null(ri);
  assert_string_equal(ri->name, "io.containerd.cshim.v2");
  assert_non_null(ri->version);
  assert_string_equal(ri->version->version, "9.8.7");
  assert_non_null(ri->options);
  assert_string_equal(ri->options->type_url, "runtimeoptions.v1.Options");
  Runtimeoptions__V1__Options *ro =
    runtimeoptions__v1__options__unpack(NULL, ri->options->value.len, ri->options->value.data);
  assert_non_null(ro);
  assert_string_equal(ro->config_path, "/etc/cshim.toml");
  runtimeoptions__v1__options__free_unpacked(ro, NULL);
  assert_non_null(ri->features);
  assert_string_equal(ri->features->type_url, "types.containerd.io/opencontainers/runtime-spec/1/features/Features");
  assert_int_equal(ri->features->value.len, strlen(features));
  assert_memory_equal(ri->features->value.data, features, strlen(features));
  containerd__types__runtime_info__free_unpacked(ri, NULL);
  free(out);
  free(o);

  /* no options, no features: both fields absent */
  assert_int_equal(shim_info_encode("1", NULL, 0, NULL, &out, &len, &err), 0);
  ri = containerd__types__runtime_info__unpack(NULL, len, out);
  assert_non_null(ri);
  assert_null(ri->options);
  assert_null(ri->features);
  containerd__types__runtime_info__free_unpacked(ri, NULL);
  free(out);

  /* not an Any: a clear error */
  assert_int_equal(shim_info_encode("1", (const uint8_t *)"\xff\xff", 2, NULL, &out, &len, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
}

static void test_info_binary(void **state) {
  (void)state;
  char bin[256];
  shim_info_binary(NULL, 0, bin, sizeof bin);
  assert_string_equal(bin, "runc");
  Containerd__Runc__V1__Options r = CONTAINERD__RUNC__V1__OPTIONS__INIT;
  r.binary_name = (char *)"/usr/local/bin/crun";
  uint8_t v[256];
  size_t vn = containerd__runc__v1__options__pack(&r, v);
  Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
  any.type_url = (char *)"containerd.runc.v1.Options";
  any.value.data = v;
  any.value.len = vn;
  uint8_t buf[512];
  size_t n = google__protobuf__any__pack(&any, buf);
  shim_info_binary(buf, n, bin, sizeof bin);
  assert_string_equal(bin, "/usr/local/bin/crun");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_containerd16_bare),  cmocka_unit_test(test_max2_json_v2),
    cmocka_unit_test(test_optin_v3),           cmocka_unit_test(test_config_version_parse),
    cmocka_unit_test(test_pipe_address_stays_bare), cmocka_unit_test(test_info_roundtrip),
    cmocka_unit_test(test_info_binary),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
