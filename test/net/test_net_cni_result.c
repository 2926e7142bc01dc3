/* Unit: what plugins print — results of every spec version the plugins speak, and error JSON (or its
 * absence) turned into cs_err with the plugin's own message. Fixtures are the shapes the
 * containernetworking-plugins bridge / loopback print. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "net_cni_list.h"

static json_t *js(const char *text) {
  json_error_t je;
  json_t *j = json_loads(text, 0, &je);
  if (!j) fail_msg("fixture: %s", je.text);
  return j;
}

/* bridge 1.1.1, cniVersion 1.0.0: bridge, host veth, container eth0; the IP names interface 2. */
static const char *const bridge_100 =
    "{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"cshimt0\",\"mac\":\"8e:a8:3e:2f:49:31\"},"
    "{\"name\":\"veth66b990eb\",\"mac\":\"6a:36:f9:5a:07:52\"},"
    "{\"name\":\"eth0\",\"mac\":\"0a:89:85:f6:f3:9c\",\"sandbox\":\"/run/netns/cshim-c1\"}],"
    "\"ips\":[{\"interface\":2,\"address\":\"10.231.99.2/24\",\"gateway\":\"10.231.99.1\"}],"
    "\"dns\":{}}";

static void test_result_100(void **state) {
  (void)state;
  cs_err err;
  net_cni_result r;
  json_t *j = js(bridge_100);
  assert_int_equal(net_cni_result_parse(j, "eth0", &r, &err), 0);
  assert_string_equal(r.ifname, "eth0");
  assert_string_equal(r.mac, "0a:89:85:f6:f3:9c");
  assert_int_equal(r.nips, 1);
  assert_int_equal(r.ips[0].family, 4);
  assert_string_equal(r.ips[0].address, "10.231.99.2/24");
  assert_string_equal(r.ips[0].gateway, "10.231.99.1");
  json_decref(j);
}

static void test_result_040_dual_stack(void **state) {
  (void)state;
  cs_err err;
  net_cni_result r;
  json_t *j = js("{\"cniVersion\":\"0.4.0\",\"interfaces\":[{\"name\":\"br\"},"
                 "{\"name\":\"eth0\",\"mac\":\"aa:bb:cc:dd:ee:ff\",\"sandbox\":\"/run/netns/x\"}],"
                 "\"ips\":[{\"version\":\"4\",\"interface\":1,\"address\":\"10.1.0.5/16\",\"gateway\":\"10.1.0.1\"},"
                 "{\"version\":\"6\",\"interface\":1,\"address\":\"fd00::5/64\"},"
                 "{\"version\":\"4\",\"interface\":0,\"address\":\"10.1.0.1/16\"}]}");
  assert_int_equal(net_cni_result_parse(j, "eth0", &r, &err), 0);
  assert_int_equal(r.nips, 2); /* the bridge's own address (interface 0) is not the container's */
  assert_int_equal(r.ips[0].family, 4);
  assert_int_equal(r.ips[1].family, 6);
  assert_string_equal(r.ips[1].address, "fd00::5/64");
  assert_string_equal(r.ips[1].gateway, "");
  json_decref(j);
}

static void test_result_no_interface_named(void **state) {
  (void)state;
  cs_err err;
  net_cni_result r;
  /* An IPAM-only or minimal plugin: no interfaces, IPs without an index, version from the address. */
  json_t *j = js("{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.2.0.9/24\"},{\"address\":\"fd01::9/64\"}]}");
  assert_int_equal(net_cni_result_parse(j, "eth0", &r, &err), 0);
  assert_string_equal(r.mac, "");
  assert_int_equal(r.nips, 2);
  assert_int_equal(r.ips[0].family, 4);
  assert_int_equal(r.ips[1].family, 6);
  json_decref(j);
  /* eth0 exists but only on the host (no sandbox): not the container's interface. */
  j = js("{\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"11:11:11:11:11:11\"}],\"ips\":[]}");
  assert_int_equal(net_cni_result_parse(j, "eth0", &r, &err), 0);
  assert_string_equal(r.mac, "");
  assert_int_equal(r.nips, 0);
  json_decref(j);
}

static void test_result_legacy_020(void **state) {
  (void)state;
  cs_err err;
  net_cni_result r;
  json_t *j = js("{\"cniVersion\":\"0.2.0\",\"ip4\":{\"ip\":\"10.3.0.2/24\",\"gateway\":\"10.3.0.1\"},"
                 "\"ip6\":{\"ip\":\"fd02::2/64\"}}");
  assert_int_equal(net_cni_result_parse(j, "eth0", &r, &err), 0);
  assert_int_equal(r.nips, 2);
  assert_string_equal(r.ips[0].address, "10.3.0.2/24");
  assert_string_equal(r.ips[0].gateway, "10.3.0.1");
  assert_int_equal(r.ips[1].family, 6);
  json_decref(j);
}

static void test_result_bad(void **state) {
  (void)state;
  cs_err err;
  net_cni_result r;
  json_t *j = js("[1]");
  assert_int_equal(net_cni_result_parse(j, "eth0", &r, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  json_decref(j);
  j = js("{\"ips\":[{\"gateway\":\"10.0.0.1\"}]}");
  assert_int_equal(net_cni_result_parse(j, "eth0", &r, &err), -1);
  assert_non_null(strstr(err.msg, "no address"));
  json_decref(j);
  /* More addresses than the struct holds: the first ones are kept, not an error. */
  j = js("{\"ips\":[{\"address\":\"10.0.0.1/8\"},{\"address\":\"10.0.0.2/8\"},{\"address\":\"10.0.0.3/8\"},"
         "{\"address\":\"10.0.0.4/8\"},{\"address\":\"10.0.0.5/8\"}]}");
  assert_int_equal(net_cni_result_parse(j, "eth0", &r, &err), 0);
  assert_int_equal(r.nips, NET_CNI_MAX_IPS);
  json_decref(j);
}

static void out_of(net_cni_exec_out *o, int status, const char *out, const char *errtxt) {
  memset(o, 0, sizeof *o);
  o->status = status;
  o->out = (char *)out;
  o->out_len = out ? strlen(out) : 0;
  snprintf(o->errtxt, sizeof o->errtxt, "%s", errtxt ? errtxt : "");
}

static void test_plugin_errors(void **state) {
  (void)state;
  cs_err err;
  net_cni_exec_out o;
  /* What the bridge plugin prints when its bridge address conflicts (code 999, Go's generic error). */
  out_of(&o, 1, "{\"code\":999,\"msg\":\"failed to set bridge addr: could not add IP address to \\\"cshimt0\\\": "
               "file exists\"}", "");
  assert_int_equal(net_cni_plugin_error("bridge", &o, &err), -1);
  assert_int_equal(err.code, CS_UNKNOWN);
  assert_string_equal(err.msg, "bridge: failed to set bridge addr: could not add IP address to \"cshimt0\": file exists");

  out_of(&o, 1, "{\"cniVersion\":\"1.0.0\",\"code\":7,\"msg\":\"Invalid Configuration\","
               "\"details\":\"Network 10.0.0.0/8 too big\"}", "");
  net_cni_plugin_error("host-local", &o, &err);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  assert_string_equal(err.msg, "host-local: Invalid Configuration: Network 10.0.0.0/8 too big");

  out_of(&o, 1, "{\"code\":11,\"msg\":\"busy\",\"details\":\"busy\"}", ""); /* details == msg: once */
  net_cni_plugin_error("x", &o, &err);
  assert_int_equal(err.code, CS_UNAVAILABLE);
  assert_string_equal(err.msg, "x: busy");

  out_of(&o, 1, "{\"code\":1,\"msg\":\"incompatible CNI versions\",\"details\":\"config is \\\"9.0.0\\\"\"}", "");
  net_cni_plugin_error("bridge", &o, &err);
  assert_int_equal(err.code, CS_FAILED_PRECONDITION);
  out_of(&o, 1, "{\"code\":3,\"msg\":\"no such container\"}", "");
  net_cni_plugin_error("bridge", &o, &err);
  assert_int_equal(err.code, CS_NOT_FOUND);

  /* No error JSON: stderr says what happened, folded onto one line. */
  out_of(&o, 2, "", "panic: runtime error\n\ngoroutine 1 [running]:\n  main.main()\n");
  net_cni_plugin_error("weird", &o, &err);
  assert_int_equal(err.code, CS_UNKNOWN);
  assert_string_equal(err.msg, "weird: exit status 2: panic: runtime error; goroutine 1 [running]:; main.main()");
  /* Neither: stdout text, then just the status. */
  out_of(&o, 3, "not json\n", "");
  net_cni_plugin_error("weird", &o, &err);
  assert_string_equal(err.msg, "weird: exit status 3: not json");
  out_of(&o, 127, NULL, "");
  net_cni_plugin_error("gone", &o, &err);
  assert_string_equal(err.msg, "gone: exit status 127");
  /* JSON without msg is not the error format: fall back to the text. */
  out_of(&o, 1, "{\"code\":5}", "");
  net_cni_plugin_error("p", &o, &err);
  assert_string_equal(err.msg, "p: exit status 1: {\"code\":5}");
}

static void test_versions(void **state) {
  (void)state;
  assert_int_equal(net_cni_version_cmp("1.0.0", "1.0.0"), 0);
  assert_true(net_cni_version_cmp("0.3.1", "0.4.0") < 0);
  assert_true(net_cni_version_cmp("0.4.0", "0.3.1") > 0);
  assert_true(net_cni_version_cmp("1.0.0", "0.4.0") > 0);
  assert_true(net_cni_version_cmp("0.10.0", "0.4.0") > 0);
  assert_int_equal(net_cni_version_cmp("0.4", "0.4.0"), 0);
  assert_true(net_cni_version_cmp(NULL, "0.1.0") < 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_result_100),      cmocka_unit_test(test_result_040_dual_stack),
      cmocka_unit_test(test_result_no_interface_named), cmocka_unit_test(test_result_legacy_020),
      cmocka_unit_test(test_result_bad),      cmocka_unit_test(test_plugin_errors),
      cmocka_unit_test(test_versions),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
