/* Unit: options and the default conflist, finding the conflist in a config dir, ids, the OCI spec's
 * network namespace. No root, no plugin runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net_cni.h"
#include "net_test_util.h"

static const json_t *path_get(const json_t *j, const char *p) {
  /* "plugins.0.ipam.ranges.0.0.subnet" */
  char buf[256];
  snprintf(buf, sizeof buf, "%s", p);
  for (char *save, *k = strtok_r(buf, ".", &save); k && j; k = strtok_r(NULL, ".", &save))
    j = json_is_array(j) ? json_array_get(j, (size_t)atoi(k)) : json_object_get(j, k);
  return j;
}

static const char *str_at(const json_t *j, const char *p) {
  return json_string_value(path_get(j, p));
}

static void test_default_conflist(void **state) {
  (void)state;
  cs_err err;
  net_cni_opts o = {0}; /* all defaults */
  json_t *c = net_cni_conf_default(&o, &err);
  assert_non_null(c);
  assert_string_equal(str_at(c, "cniVersion"), "1.0.0");
  assert_string_equal(str_at(c, "name"), "cshim");
  assert_int_equal(json_array_size(json_object_get(c, "plugins")), 2);
  assert_string_equal(str_at(c, "plugins.0.type"), "bridge");
  assert_string_equal(str_at(c, "plugins.0.bridge"), "cshim0");
  assert_true(json_is_true(path_get(c, "plugins.0.isGateway")));
  assert_true(json_is_false(path_get(c, "plugins.0.ipMasq")));
  assert_null(path_get(c, "plugins.0.isDefaultGateway"));
  assert_string_equal(str_at(c, "plugins.0.ipam.type"), "host-local");
  assert_string_equal(str_at(c, "plugins.0.ipam.ranges.0.0.subnet"), "10.231.0.0/24");
  assert_string_equal(str_at(c, "plugins.0.ipam.ranges.0.0.gateway"), "10.231.0.1");
  assert_string_equal(str_at(c, "plugins.0.ipam.dataDir"), "/var/lib/cshim/cni/networks");
  /* No routes: nothing beyond the subnet is reachable from a container. */
  assert_null(path_get(c, "plugins.0.ipam.routes"));
  assert_string_equal(str_at(c, "plugins.1.type"), "loopback");
  assert_int_equal(net_cni_conf_validate(c, &err), 0);
  json_decref(c);
}

static void test_custom_conflist(void **state) {
  (void)state;
  cs_err err;
  net_cni_opts o = {.network = "cshimtest", .bridge = "cshimt0", .subnet = "10.231.99.0/24",
                    .gateway = "10.231.99.254", .state_dir = "/tmp/x"};
  json_t *c = net_cni_conf_default(&o, &err);
  assert_non_null(c);
  assert_string_equal(str_at(c, "name"), "cshimtest");
  assert_string_equal(str_at(c, "plugins.0.bridge"), "cshimt0");
  assert_string_equal(str_at(c, "plugins.0.ipam.ranges.0.0.gateway"), "10.231.99.254");
  assert_string_equal(str_at(c, "plugins.0.ipam.dataDir"), "/tmp/x/networks");
  json_decref(c);
  o.subnet = "10.231.98.0/23"; /* gateway defaults to the first host */
  o.gateway = NULL;
  c = net_cni_conf_default(&o, &err);
  assert_string_equal(str_at(c, "plugins.0.ipam.ranges.0.0.gateway"), "10.231.98.1");
  json_decref(c);
}

static void test_bad_options(void **state) {
  (void)state;
  struct { const char *network, *bridge, *subnet, *gateway, *want; } cases[] = {
      {NULL, NULL, "10.231.99.1/24", NULL, "host bits"},
      {NULL, NULL, "10.231.99.0/31", NULL, "8..30"},
      {NULL, NULL, "10.231.99.0", NULL, "8..30"},
      {NULL, NULL, "10.231.99.0/24x", NULL, "8..30"},
      {NULL, NULL, "banana/24", NULL, "not an IPv4"},
      {NULL, NULL, "fd00::/24", NULL, "not an IPv4"},
      {NULL, NULL, "10.231.99.0/24", "10.231.98.1", "not a host"},
      {NULL, NULL, "10.231.99.0/24", "10.231.99.255", "not a host"},
      {NULL, NULL, "10.231.99.0/24", "10.231.99.0", "not a host"},
      {NULL, NULL, "10.231.99.0/24", "gw", "not an IPv4"},
      {NULL, "a-bridge-name-too-long", NULL, NULL, "bridge name"},
      {NULL, "br/0", NULL, NULL, "bridge name"},
      {"-net", NULL, NULL, NULL, "network name"},
      {"net work", NULL, NULL, NULL, "network name"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cs_err err;
    cs_err_clear(&err);
    net_cni_opts o = {.network = cases[i].network, .bridge = cases[i].bridge, .subnet = cases[i].subnet,
                      .gateway = cases[i].gateway};
    json_t *c = net_cni_conf_default(&o, &err);
    if (c) fail_msg("case %zu accepted", i);
    assert_int_equal(err.code, CS_INVALID_ARGUMENT);
    if (!strstr(err.msg, cases[i].want)) fail_msg("case %zu: %s", i, err.msg);
  }
}

static void test_validate(void **state) {
  (void)state;
  const char *bad[] = {
      "[]",
      "{\"cniVersion\":\"1.0.0\",\"plugins\":[{\"type\":\"bridge\"}]}",
      "{\"name\":\"n\",\"plugins\":[{\"type\":\"bridge\"}]}",
      "{\"name\":\"n\",\"cniVersion\":\"1.0.0\",\"plugins\":[]}",
      "{\"name\":\"n\",\"cniVersion\":\"1.0.0\"}",
      "{\"name\":\"n\",\"cniVersion\":\"1.0.0\",\"plugins\":[{\"type\":\"bridge\"},{\"bridge\":\"x\"}]}",
      "{\"name\":\"_n\",\"cniVersion\":\"1.0.0\",\"plugins\":[{\"type\":\"bridge\"}]}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cs_err err;
    json_t *j = json_loads(bad[i], 0, NULL);
    assert_non_null(j);
    if (net_cni_conf_validate(j, &err) == 0) fail_msg("case %zu accepted", i);
    assert_int_equal(err.code, CS_INVALID_ARGUMENT);
    json_decref(j);
  }
}

static void test_install_and_pick(void **state) {
  (void)state;
  char dir[64], conf[128], path[256], text[4096];
  cs_err err;
  nt_tmpdir(dir, "cshim-netconf");
  snprintf(conf, sizeof conf, "%s/net.d", dir); /* created on demand */
  net_cni_opts o = {.config_dir = conf, .bridge = "cshimt9"};
  assert_int_equal(net_cni_conf_install(&o, path, sizeof path, &err), 0);
  char want[256];
  snprintf(want, sizeof want, "%s/10-cshim.conflist", conf);
  assert_string_equal(path, want);
  assert_true(nt_read(path, text, sizeof text));
  assert_non_null(strstr(text, "\"cshimt9\""));
  assert_int_equal(text[strlen(text) - 1], '\n');

  /* An existing file wins over the options: they only shape the default. */
  o.bridge = "other0";
  assert_int_equal(net_cni_conf_install(&o, path, sizeof path, &err), 0);
  assert_string_equal(path, want);
  assert_true(nt_read(path, text, sizeof text));
  assert_null(strstr(text, "other0"));

  /* The lexically first *.conflist is used; hidden files and other suffixes are not. */
  char p2[256];
  snprintf(p2, sizeof p2, "%s/05-admin.conflist", conf);
  nt_write(p2, "{}", 0644);
  snprintf(p2, sizeof p2, "%s/.00-hidden.conflist", conf);
  nt_write(p2, "{}", 0644);
  snprintf(p2, sizeof p2, "%s/01-single.conf", conf);
  nt_write(p2, "{}", 0644);
  assert_int_equal(net_cni_conf_install(&o, path, sizeof path, &err), 0);
  snprintf(want, sizeof want, "%s/05-admin.conflist", conf);
  assert_string_equal(path, want);
  nt_rmrf(dir);
}

static void test_ids(void **state) {
  (void)state;
  cs_err err;
  char p[256];
  assert_int_equal(net_cni_id_valid("c1", &err), 0);
  assert_int_equal(net_cni_id_valid("A.b_c-9", &err), 0);
  const char *bad[] = {"", ".x", "-x", "a/b", "../x", "a b", "x\n"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(net_cni_id_valid(bad[i], &err), -1);
    assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  }
  assert_int_equal(net_cni_id_valid(NULL, &err), -1);
  char longid[NET_CNI_ID_MAX + 2];
  memset(longid, 'a', sizeof longid - 1);
  longid[sizeof longid - 1] = '\0';
  assert_int_equal(net_cni_id_valid(longid, &err), -1);
  longid[NET_CNI_ID_MAX] = '\0';
  assert_int_equal(net_cni_id_valid(longid, &err), 0);

  assert_int_equal(net_cni_netns_path("c1", NULL, p, sizeof p, &err), 0);
  assert_string_equal(p, "/run/netns/cshim-c1");
  net_cni_opts o = {.netns_dir = "/tmp/ns"};
  assert_int_equal(net_cni_netns_path("c1", &o, p, sizeof p, &err), 0);
  assert_string_equal(p, "/tmp/ns/cshim-c1");
  assert_int_equal(net_cni_netns_path("../c1", &o, p, sizeof p, &err), -1);

  /* attach / detach refuse a bad id or interface name before touching anything (no root needed). */
  net_cni_opts badopts = {.state_dir = "/nonexistent/state", .ifname = "eth0/x"};
  net_cni_result r;
  assert_int_equal(net_cni_attach("c1", &badopts, &r, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  assert_non_null(strstr(err.msg, "interface name eth0/x"));
  badopts.ifname = "a-name-longer-than-15";
  assert_int_equal(net_cni_detach("c1", &badopts, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  badopts.ifname = NULL;
  assert_int_equal(net_cni_attach("../c1", &badopts, &r, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  assert_non_null(strstr(err.msg, "network attach ../c1: id ../c1"));
}

static void test_spec_netns(void **state) {
  (void)state;
  cs_err err;
  char p[256];
  /* runc's default: a network entry without a path (a fresh, empty namespace). */
  json_t *s = json_loads("{\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},"
                         "{\"type\":\"mount\"}]}}", 0, NULL);
  assert_false(net_cni_spec_netns(s, p, sizeof p));
  assert_int_equal(net_cni_spec_set_netns(s, "/run/netns/cshim-c1", &err), 0);
  assert_true(net_cni_spec_netns(s, p, sizeof p));
  assert_string_equal(p, "/run/netns/cshim-c1");
  assert_int_equal(json_array_size(path_get(s, "linux.namespaces")), 3);
  assert_string_equal(str_at(s, "linux.namespaces.1.path"), "/run/netns/cshim-c1");
  assert_false(net_cni_spec_netns(s, p, 8)); /* does not fit: not copied */
  json_decref(s);

  /* No linux section at all, or no network entry: one is added. */
  s = json_object();
  assert_int_equal(net_cni_spec_set_netns(s, "/run/netns/x", &err), 0);
  assert_string_equal(str_at(s, "linux.namespaces.0.type"), "network");
  assert_string_equal(str_at(s, "linux.namespaces.0.path"), "/run/netns/x");
  json_decref(s);

  s = json_loads("{\"linux\":{\"namespaces\":{}}}", 0, NULL);
  assert_int_equal(net_cni_spec_set_netns(s, "/x", &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  json_decref(s);
}

static int exec_must_not_run(void *ctx, const net_cni_exec_req *req, net_cni_exec_out *out, cs_err *err) {
  (void)ctx, (void)req, (void)out, (void)err;
  fail_msg("a plugin ran for a spec that names its own network namespace");
  return -1;
}

static void test_spec_prepare_cri(void **state) {
  (void)state;
  cs_err err;
  net_cni_result res;
  bool attached = true;
  json_t *s = json_loads("{\"linux\":{\"namespaces\":[{\"type\":\"network\",\"path\":\"/var/run/netns/cni-1\"}]}}",
                         0, NULL);
  net_cni_opts o = {.exec = exec_must_not_run, .state_dir = "/nonexistent/never", .config_dir = "/nonexistent"};
  assert_int_equal(net_cni_spec_prepare(s, "c1", &o, &res, &attached, &err), 0);
  assert_false(attached);
  assert_string_equal(res.netns, "/var/run/netns/cni-1");
  assert_string_equal(str_at(s, "linux.namespaces.0.path"), "/var/run/netns/cni-1");
  json_decref(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_default_conflist), cmocka_unit_test(test_custom_conflist),
      cmocka_unit_test(test_bad_options),      cmocka_unit_test(test_validate),
      cmocka_unit_test(test_install_and_pick), cmocka_unit_test(test_ids),
      cmocka_unit_test(test_spec_netns),       cmocka_unit_test(test_spec_prepare_cri),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
