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

static void write_spec(const char *dir, const char *json) {
  char path[128];
  snprintf(path, sizeof path, "%s/config.json", dir);
  FILE *fp = fopen(path, "w");
  assert_non_null(fp);
  fputs(json, fp);
  fclose(fp);
}

static void remove_bundle(const char *dir) {
  char path[128];
  snprintf(path, sizeof path, "%s/config.json", dir);
  unlink(path);
  rmdir(dir);
}

#define HV_SPEC(eps)                                                                                                  \
  "{\"process\":{\"args\":[\"cmd\"]},\"windows\":{\"hyperv\":{},"                                                     \
  "\"layerFolders\":[\"C:\\\\layers\\\\base\",\"C:\\\\scratch\\\\c1\"],"                                              \
  "\"network\":{\"endpointList\":[" eps "]}},"                                                                        \
  "\"mounts\":[{\"destination\":\"C:\\\\data\",\"source\":\"C:\\\\host\\\\data\"}]}"

static void run_until(uv_loop_t *loop, int n) {
  while (done_count < n) uv_run(loop, UV_RUN_ONCE);
}

static void test_hyperv_attach_endpoints(void **state) {
  char dir[] = "/tmp/hcs-hv-XXXXXX";
  assert_non_null(mkdtemp(dir));
  write_spec(dir, HV_SPEC("\"" EP1 "\",\"" EP2 "\""));

  uv_loop_t loop;
  uv_loop_init(&loop);
  rt_hcs_config cfg = {.hcs = &api, .hns = &hns, .host = {.ncpu = 2, .build = 20348, .client = true}};
  rt_backend *be;
  cs_err err;
  assert_int_equal(rt_hcs_new(&loop, &cfg, NULL, &be, &err), 0);
  rt_create_req req = {.id = "c1", .bundle = dir};
  done_count = 0;
  assert_int_equal(be->ops->create(be, &req, on_done, NULL, &err), 0);
  run_until(&loop, 1);
  assert_false(done_failed);

  const char *log = fake_hcs_log();
  const char *uvm = strstr(log, "HcsCreateComputeSystem c1@vm"), *uvm_start = strstr(log, "HcsStartComputeSystem c1@vm"),
             *ctr = strstr(log, "HcsCreateComputeSystem c1\n");
  assert_true(uvm && uvm_start && ctr && uvm < uvm_start && uvm_start < ctr);
  /* The VM document holds only the VM's own scratch (Lun 0) and the OS share. */
  const char *vm = fake_hcs_doc("HcsCreateComputeSystem", 0);
  assert_non_null(strstr(vm, "\"VirtualMachine\""));
  assert_non_null(strstr(vm, "\"0\":{\"Path\":\"C:\\\\scratch\\\\c1\\\\vm\\\\sandbox.vhdx\""));
  assert_null(strstr(vm, "\"1\":"));
  assert_null(strstr(vm, "\"s0\""));
  /* Then, in order: the layer share, the mount share, the scratch on Lun 1 mounted at the container's root,
   * the combined layers, a NIC per endpoint. */
  assert_int_equal(fake_hcs_count("HcsModifyComputeSystem"), 6);
  const char *m0 = fake_hcs_doc("HcsModifyComputeSystem", 0), *m1 = fake_hcs_doc("HcsModifyComputeSystem", 1),
             *m2 = fake_hcs_doc("HcsModifyComputeSystem", 2), *m3 = fake_hcs_doc("HcsModifyComputeSystem", 3),
             *m4 = fake_hcs_doc("HcsModifyComputeSystem", 4), *m5 = fake_hcs_doc("HcsModifyComputeSystem", 5);
  assert_non_null(strstr(m0, "\"ResourcePath\":\"VirtualMachine/Devices/VirtualSmb/Shares\""));
  assert_non_null(strstr(m0, "\"Name\":\"s0\",\"Path\":\"C:\\\\layers\\\\base\""));
  assert_non_null(strstr(m1, "\"Name\":\"m0\",\"Path\":\"C:\\\\host\\\\data\""));
  assert_non_null(strstr(m2, "\"ResourcePath\":\"VirtualMachine/Devices/Scsi/0/Attachments/1\""));
  assert_non_null(strstr(m2, "\"Path\":\"C:\\\\scratch\\\\c1\\\\sandbox.vhdx\",\"Type\":\"VirtualDisk\""));
  assert_non_null(strstr(m2, "\"ResourceType\":\"MappedVirtualDisk\""));
  assert_non_null(strstr(m2, "\"ContainerPath\":\"C:\\\\c\\\\c1\",\"Lun\":1"));
  assert_non_null(strstr(m3, "\"ResourceType\":\"CombinedLayers\""));
  assert_non_null(strstr(m3, "\"ContainerRootPath\":\"C:\\\\c\\\\c1\""));
  assert_non_null(strstr(m3, "VSMB-{dcc079ae-60ba-4d07-847c-3493609c0870}\\\\s0"));
  assert_non_null(strstr(m4, "\"ResourcePath\":\"VirtualMachine/Devices/NetworkAdapters/" EP1 "\""));
  assert_non_null(strstr(m4, "\"RequestType\":\"Add\""));
  assert_non_null(strstr(m4, "\"EndpointId\":\"" EP1 "\""));
  assert_non_null(strstr(m4, "\"MacAddress\":\"00-15-5D-7a-1b-01\""));
  assert_non_null(strstr(m5, "NetworkAdapters/" EP2));
  /* The endpoints are in a namespace of the backend's own, which the hosted container names. */
  assert_int_equal(fake_hcs_namespaces(), 1);
  assert_int_equal(fake_hcs_namespace_endpoints(), 2);
  const char *cdoc = fake_hcs_doc("HcsCreateComputeSystem", 1);
  assert_non_null(strstr(cdoc, "\"HostingSystemId\":\"c1@vm\""));
  assert_non_null(strstr(cdoc, "\"Namespace\":\"00000000-0000-4000-8000-"));

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

  /* Delete: the container, the NICs out of the VM, the VM, the endpoints out of the namespace, the namespace. */
  done_count = 0;
  assert_int_equal(be->ops->delete(be, "c1", false, on_done, NULL, &err), 0);
  run_until(&loop, 1);
  assert_false(done_failed);
  log = fake_hcs_log();
  const char *t_ctr = strstr(log, "HcsTerminateComputeSystem c1\n"), *t_vm = strstr(log, "HcsTerminateComputeSystem c1@vm");
  assert_true(t_ctr && t_vm && t_ctr < t_vm);
  assert_int_equal(fake_hcs_count("HcsModifyComputeSystem"), 8);
  const char *r0 = fake_hcs_doc("HcsModifyComputeSystem", 6);
  assert_non_null(strstr(r0, "NetworkAdapters/" EP1 "\",\"RequestType\":\"Remove\""));
  assert_int_equal(fake_hcs_namespaces(), 0);
  assert_int_equal(fake_hcs_namespace_endpoints(), 0);
  be->ops->destroy(be);
  uv_run(&loop, UV_RUN_DEFAULT);
  fake_hcs_join();
  assert_int_equal(uv_loop_close(&loop), 0);
  assert_int_equal(fake_hcs_open_handles(), 0);
  remove_bundle(dir);
}

/* Every step of a Hyper-V create failing in turn: Create fails, and the VM (when it was made) is terminated,
 * the endpoints leave the namespace, the namespace goes, and no handle stays open. */
static void test_hyperv_failure_each_step(void **state) {
  static const struct {
    const char *call;
    int skip;
    bool vm_made;
  } steps[] = {
    {"HNSNamespace POST", 0, false},       {"HNSNamespace addresource", 1, false},
    {"HcsCreateComputeSystem", 0, false},  {"HcsStartComputeSystem", 0, true},
    {"HcsModifyComputeSystem", 0, true},   {"HcsModifyComputeSystem", 1, true},
    {"HcsModifyComputeSystem", 2, true},   {"HcsModifyComputeSystem", 3, true},
    {"HcsModifyComputeSystem", 4, true},   {"HcsModifyComputeSystem", 5, true},
    {"HcsCreateComputeSystem", 1, true},   {"HcsStartComputeSystem", 1, true},
  };
  for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
    fake_hcs_reset();
    fake_hcs_init(&api, &hns);
    char dir[] = "/tmp/hcs-hv-XXXXXX";
    assert_non_null(mkdtemp(dir));
    write_spec(dir, HV_SPEC("\"" EP1 "\",\"" EP2 "\""));
    uv_loop_t loop;
    uv_loop_init(&loop);
    rt_hcs_config cfg = {.hcs = &api, .hns = &hns, .host = {.ncpu = 2, .build = 20348}};
    rt_backend *be;
    cs_err err;
    assert_int_equal(rt_hcs_new(&loop, &cfg, NULL, &be, &err), 0);
    fake_hcs_fail_after(steps[k].call, steps[k].skip, (hcs_hresult)0x80004005, "injected");
    rt_create_req req = {.id = "c1", .bundle = dir};
    done_count = 0;
    assert_int_equal(be->ops->create(be, &req, on_done, NULL, &err), 0);
    run_until(&loop, 1);
    printf("# step %zu %s+%d: %s\n", k, steps[k].call, steps[k].skip, done_failed ? done_err.msg : "(no error)");
    assert_true(done_failed);
    assert_int_equal(fake_hcs_namespaces(), 0);
    assert_int_equal(fake_hcs_namespace_endpoints(), 0);
    if (steps[k].vm_made) assert_non_null(strstr(fake_hcs_log(), "HcsTerminateComputeSystem c1@vm"));
    assert_int_equal(fake_hcs_open_handles(), 0);
    /* The id is free again. */
    done_count = 0;
    assert_int_equal(be->ops->create(be, &req, on_done, NULL, &err), 0);
    run_until(&loop, 1);
    assert_false(done_failed);
    assert_int_equal(be->ops->delete(be, "c1", true, on_done, NULL, &err), 0);
    run_until(&loop, 2);
    assert_int_equal(fake_hcs_namespaces(), 0);
    be->ops->destroy(be);
    uv_run(&loop, UV_RUN_DEFAULT);
    fake_hcs_join();
    assert_int_equal(uv_loop_close(&loop), 0);
    assert_int_equal(fake_hcs_open_handles(), 0);
    remove_bundle(dir);
  }
}

/* A NIC that cannot be attached fails the create naming the endpoint, and the utility VM is torn down. */
static void test_hyperv_attach_failure(void **state) {
  char dir[] = "/tmp/hcs-hv-XXXXXX";
  assert_non_null(mkdtemp(dir));
  write_spec(dir, HV_SPEC("\"" EP1 "\""));
  uv_loop_t loop;
  uv_loop_init(&loop);
  rt_hcs_config cfg = {.hcs = &api, .hns = &hns, .host = {.ncpu = 2, .build = 20348}};
  rt_backend *be;
  cs_err err;
  assert_int_equal(rt_hcs_new(&loop, &cfg, NULL, &be, &err), 0);
  fake_hcs_fail_after("HcsModifyComputeSystem", 4, (hcs_hresult)0x80070490, "Element not found.");
  rt_create_req req = {.id = "c1", .bundle = dir};
  done_count = 0;
  assert_int_equal(be->ops->create(be, &req, on_done, NULL, &err), 0);
  run_until(&loop, 1);
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
  remove_bundle(dir);
}

/* Process isolation: the endpoints go into a namespace the container names; Delete takes them out. A namespace
 * the spec gives is used as it is. A missing endpoint fails Create with NotFound naming it, before anything. */
static void test_process_endpoints(void **state) {
  char dir[] = "/tmp/hcs-pi-XXXXXX";
  assert_non_null(mkdtemp(dir));
  write_spec(dir, "{\"process\":{\"args\":[\"cmd\"]},\"root\":{\"path\":\"\\\\\\\\?\\\\Volume{1}\\\\\"},"
                  "\"windows\":{\"layerFolders\":[\"C:\\\\layers\\\\base\",\"C:\\\\scratch\\\\p1\"],"
                  "\"network\":{\"endpointList\":[\"" EP1 "\"]}}}");
  uv_loop_t loop;
  uv_loop_init(&loop);
  rt_hcs_config cfg = {.hcs = &api, .hns = &hns, .host = {.ncpu = 2, .build = 20348}};
  rt_backend *be;
  cs_err err;
  assert_int_equal(rt_hcs_new(&loop, &cfg, NULL, &be, &err), 0);
  rt_create_req req = {.id = "p1", .bundle = dir};
  done_count = 0;
  assert_int_equal(be->ops->create(be, &req, on_done, NULL, &err), 0);
  run_until(&loop, 1);
  assert_false(done_failed);
  assert_int_equal(fake_hcs_namespaces(), 1);
  assert_int_equal(fake_hcs_namespace_endpoints(), 1);
  assert_non_null(strstr(fake_hcs_log(), "HNSNamespace addresource POST /namespaces/00000000-0000-4000-8000-000000000001/addresource "
                                         "{\"Type\":\"Endpoint\",\"Data\":{\"Id\":\"" EP1 "\"}}"));
  assert_non_null(strstr(fake_hcs_doc("HcsCreateComputeSystem", 0),
                         "\"Networking\":{\"Namespace\":\"00000000-0000-4000-8000-000000000001\"}"));
  assert_int_equal(fake_hcs_count("HcsModifyComputeSystem"), 0); /* no VM, no NIC */
  assert_int_equal(be->ops->delete(be, "p1", false, on_done, NULL, &err), 0);
  run_until(&loop, 2);
  assert_false(done_failed);
  assert_int_equal(fake_hcs_namespaces(), 0);
  assert_int_equal(fake_hcs_namespace_endpoints(), 0);

  /* The spec's own namespace: no namespace made, the container names the given one. */
  write_spec(dir, "{\"process\":{\"args\":[\"cmd\"]},\"root\":{\"path\":\"\\\\\\\\?\\\\Volume{1}\\\\\"},"
                  "\"windows\":{\"layerFolders\":[\"C:\\\\layers\\\\base\",\"C:\\\\scratch\\\\p1\"],"
                  "\"network\":{\"endpointList\":[\"" EP1 "\"],\"networkNamespace\":\"11111111-2222-4333-8444-555555555555\"}}}");
  assert_int_equal(be->ops->create(be, &req, on_done, NULL, &err), 0);
  run_until(&loop, 3);
  assert_false(done_failed);
  assert_int_equal(fake_hcs_count("HNSNamespace POST"), 1);
  assert_non_null(strstr(fake_hcs_doc("HcsCreateComputeSystem", 1), "\"Namespace\":\"11111111-2222-4333-8444-555555555555\""));
  assert_int_equal(be->ops->delete(be, "p1", false, on_done, NULL, &err), 0);
  run_until(&loop, 4);

  /* A missing endpoint: NotFound naming it, and nothing made. */
  fake_hcs_fail("HcnOpenEndpoint", (hcs_hresult)0x803B0002, "endpoint not found");
  assert_int_equal(be->ops->create(be, &req, on_done, NULL, &err), 0);
  run_until(&loop, 5);
  assert_true(done_failed);
  assert_int_equal(done_err.code, CS_NOT_FOUND);
  assert_non_null(strstr(done_err.msg, EP1));
  assert_int_equal(fake_hcs_count("HcsCreateComputeSystem"), 2);
  assert_int_equal(fake_hcs_namespaces(), 0);
  be->ops->destroy(be);
  uv_run(&loop, UV_RUN_DEFAULT);
  fake_hcs_join();
  assert_int_equal(uv_loop_close(&loop), 0);
  assert_int_equal(fake_hcs_open_handles(), 0);
  remove_bundle(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_endpoint_query, setup, teardown),
    cmocka_unit_test_setup_teardown(test_endpoint_stats, setup, teardown),
    cmocka_unit_test_setup_teardown(test_stats_parse_envelopes, setup, teardown),
    cmocka_unit_test_setup_teardown(test_hyperv_attach_endpoints, setup, teardown),
    cmocka_unit_test_setup_teardown(test_hyperv_attach_failure, setup, teardown),
    cmocka_unit_test_setup_teardown(test_hyperv_failure_each_step, setup, teardown),
    cmocka_unit_test_setup_teardown(test_process_endpoints, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
