/* HNS endpoints: properties, counters, and their attachment to a Hyper-V container's utility VM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_hcs.h"
#include "net_hns.h"
#include "rt_hcs.h"

#define EP1 "7a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
#define EP2 "2b2b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"

static hcs_api api;
static net_hns_api hns;

static int setup(void **state) {
  fake_hcs_init(&api, &hns);
  return 0;
}

static int teardown(void **state) {
  fake_hcs_reset();
  return 0;
}

static void test_endpoint_query(void **state) {
  net_hns_endpoint ep;
  cs_err e;
  assert_int_equal(net_hns_endpoint_query(&hns, EP1, &ep, &e), 0);
  assert_string_equal(ep.id, EP1);
  assert_string_equal(ep.mac, "00-15-5D-7a-1b-01");
  assert_string_equal(ep.name, "ep-7a1b2c3d");
  assert_non_null(strstr(fake_hcs_log(), "HcnOpenEndpoint " EP1));
  assert_int_equal(fake_hcs_open_handles(), 0); /* closed again */
  assert_int_equal(net_hns_endpoint_query(&hns, "not-a-guid", &ep, &e), -1);
  assert_int_equal(e.code, CS_INVALID_ARGUMENT);
}

static void test_endpoint_stats(void **state) {
  rt_net_iface n;
  cs_err e;
  assert_int_equal(net_hns_endpoint_stats(&hns, EP2, &n, &e), 0);
  assert_non_null(strstr(fake_hcs_log(), "HNSCall /endpointstats/" EP2));
  assert_string_equal(n.endpoint_id, EP2);
  assert_int_equal(strlen(n.name), 31); /* as much of the id as the name holds */
  assert_int_equal(n.rx_bytes, 3000);
  assert_int_equal(n.tx_bytes, 6000);
  assert_int_equal(n.rx_packets, 30);
  assert_int_equal(n.tx_packets, 60);
  assert_int_equal(n.rx_dropped, 3);
  assert_int_equal(n.tx_dropped, 6);
  assert_int_equal(n.rx_errors, 0);
  /* The id goes into a request path only when it is a GUID. */
  assert_int_equal(net_hns_endpoint_stats(&hns, "../../networks", &n, &e), -1);
  assert_int_equal(e.code, CS_INVALID_ARGUMENT);
}

static void test_stats_parse_envelopes(void **state) {
  rt_net_iface n;
  cs_err e;
  memset(&n, 0, sizeof n);
  assert_int_equal(net_hns_stats_parse("{\"BytesReceived\":5,\"BytesSent\":6,\"EndpointId\":\"x\"}", &n, &e), 0);
  assert_int_equal(n.rx_bytes, 5);
  assert_int_equal(n.tx_bytes, 6);
  assert_string_equal(n.endpoint_id, "x");
  assert_int_equal(net_hns_stats_parse("{\"Success\":false,\"Error\":\"Endpoint not found\"}", &n, &e), -1);
  assert_int_equal(e.code, CS_UNAVAILABLE);
  assert_non_null(strstr(e.msg, "Endpoint not found"));
  assert_int_equal(net_hns_stats_parse("[]", &n, &e), -1);
}

/* A Hyper-V container: the utility VM is created and started first, each endpoint is hot-added to it as a
 * NIC with the MAC HNS reports, then the hosted container is created inside it. */
static int done_count;
static cs_err done_err;
static bool done_failed;
static void on_done(void *data, const rt_result *res, const cs_err *err) {
  done_count++;
  done_failed = err != NULL;
  if (err) done_err = *err;
}

static int stats_answers;
static void on_stats(rt_stats_req *req, const cs_err *err) {
  assert_null(err);
  stats_answers++;
}

static void test_hyperv_attach_endpoints(void **state) {
  char dir[] = "/tmp/hcs-hv-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[128];
  snprintf(path, sizeof path, "%s/config.json", dir);
  FILE *fp = fopen(path, "w");
  fputs("{\"process\":{\"args\":[\"cmd\"]},\"windows\":{\"hyperv\":{},"
        "\"layerFolders\":[\"C:\\\\layers\\\\base\",\"C:\\\\scratch\\\\c1\"],"
        "\"network\":{\"endpointList\":[\"" EP1 "\",\"" EP2 "\"]}}}",
        fp);
  fclose(fp);

  uv_loop_t loop;
  uv_loop_init(&loop);
  rt_hcs_config cfg = {.hcs = &api, .hns = &hns, .host = {.ncpu = 2, .build = 20348, .client = true}};
  rt_backend *be;
  cs_err err;
  assert_int_equal(rt_hcs_new(&loop, &cfg, NULL, &be, &err), 0);
  rt_create_req req = {.id = "c1", .bundle = dir};
  done_count = 0;
  assert_int_equal(be->ops->create(be, &req, on_done, NULL, &err), 0);
  while (done_count < 1) uv_run(&loop, UV_RUN_ONCE);
  assert_false(done_failed);

  const char *log = fake_hcs_log();
  const char *uvm = strstr(log, "HcsCreateComputeSystem c1@vm"), *uvm_start = strstr(log, "HcsStartComputeSystem c1@vm"),
             *nic1 = strstr(log, "HcnQueryEndpointProperties " EP1), *nic2 = strstr(log, "HcnQueryEndpointProperties " EP2),
             *ctr = strstr(log, "HcsCreateComputeSystem c1\n");
  assert_true(uvm && uvm_start && nic1 && nic2 && ctr);
  assert_true(uvm < uvm_start && uvm_start < nic1 && nic1 < nic2 && nic2 < ctr);
  assert_int_equal(fake_hcs_count("HcsModifyComputeSystem"), 2);
  const char *m1 = fake_hcs_doc("HcsModifyComputeSystem", 0);
  assert_non_null(strstr(m1, "\"ResourcePath\":\"VirtualMachine/Devices/NetworkAdapters/" EP1 "\""));
  assert_non_null(strstr(m1, "\"RequestType\":\"Add\""));
  assert_non_null(strstr(m1, "\"EndpointId\":\"" EP1 "\""));
  assert_non_null(strstr(m1, "\"MacAddress\":\"00-15-5D-7a-1b-01\""));
  assert_non_null(strstr(fake_hcs_doc("HcsCreateComputeSystem", 0), "\"VirtualMachine\""));
  assert_non_null(strstr(fake_hcs_doc("HcsCreateComputeSystem", 1), "\"HostingSystemId\":\"c1@vm\""));

  /* Both endpoints counted in stats. */
  fake_hcs_set_stats("{\"Statistics\":{\"Processor\":{\"TotalRuntime100ns\":1}}}");
  rt_sample s;
  stats_answers = 0;
  rt_stats_req sr = {.out = &s};
  assert_int_equal(be->ops->stats_async(be, "c1", &sr, on_stats, &err), 0);
  while (stats_answers < 1) uv_run(&loop, UV_RUN_ONCE);
  assert_int_equal(s.n_net, 2);
  assert_string_equal(s.net[0].endpoint_id, EP1);
  assert_string_equal(s.net[1].endpoint_id, EP2);
  assert_int_equal(s.net[1].rx_bytes, 3000);

  /* Delete terminates the container and its utility VM. */
  done_count = 0;
  assert_int_equal(be->ops->delete(be, "c1", false, on_done, NULL, &err), 0);
  while (done_count < 1) uv_run(&loop, UV_RUN_ONCE);
  assert_false(done_failed);
  assert_non_null(strstr(fake_hcs_log(), "HcsTerminateComputeSystem c1\n"));
  assert_non_null(strstr(fake_hcs_log(), "HcsTerminateComputeSystem c1@vm"));
  be->ops->destroy(be);
  uv_run(&loop, UV_RUN_DEFAULT);
  fake_hcs_join();
  assert_int_equal(uv_loop_close(&loop), 0);
  assert_int_equal(fake_hcs_open_handles(), 0);
  unlink(path);
  rmdir(dir);
}

/* A NIC that cannot be attached fails the create, and the utility VM is torn down. */
static void test_hyperv_attach_failure(void **state) {
  char dir[] = "/tmp/hcs-hv-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[128];
  snprintf(path, sizeof path, "%s/config.json", dir);
  FILE *fp = fopen(path, "w");
  fputs("{\"process\":{\"args\":[\"cmd\"]},\"windows\":{\"hyperv\":{},"
        "\"layerFolders\":[\"C:\\\\layers\\\\base\",\"C:\\\\scratch\\\\c1\"],"
        "\"network\":{\"endpointList\":[\"" EP1 "\"]}}}",
        fp);
  fclose(fp);
  uv_loop_t loop;
  uv_loop_init(&loop);
  rt_hcs_config cfg = {.hcs = &api, .hns = &hns, .host = {.ncpu = 2, .build = 20348}};
  rt_backend *be;
  cs_err err;
  assert_int_equal(rt_hcs_new(&loop, &cfg, NULL, &be, &err), 0);
  fake_hcs_fail("HcsModifyComputeSystem", (hcs_hresult)0x80070490, "Element not found.");
  rt_create_req req = {.id = "c1", .bundle = dir};
  done_count = 0;
  assert_int_equal(be->ops->create(be, &req, on_done, NULL, &err), 0);
  while (done_count < 1) uv_run(&loop, UV_RUN_ONCE);
  assert_true(done_failed);
  assert_int_equal(done_err.code, CS_NOT_FOUND);
  assert_non_null(strstr(done_err.msg, "attach endpoint " EP1));
  assert_non_null(strstr(fake_hcs_log(), "HcsTerminateComputeSystem c1@vm"));
  assert_int_equal(fake_hcs_count("HcsCreateComputeSystem"), 1); /* never reached the container */
  be->ops->destroy(be);
  uv_run(&loop, UV_RUN_DEFAULT);
  fake_hcs_join();
  assert_int_equal(uv_loop_close(&loop), 0);
  assert_int_equal(fake_hcs_open_handles(), 0);
  unlink(path);
  rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_endpoint_query, setup, teardown),
    cmocka_unit_test_setup_teardown(test_endpoint_stats, setup, teardown),
    cmocka_unit_test_setup_teardown(test_stats_parse_envelopes, setup, teardown),
    cmocka_unit_test_setup_teardown(test_hyperv_attach_endpoints, setup, teardown),
    cmocka_unit_test_setup_teardown(test_hyperv_attach_failure, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
