/* HCS schema 2 documents from OCI specs: process isolation, the Hyper-V pair (utility VM + hosted
 * container), process parameters, and the small runtime documents. */
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
#include "hcs_doc.h"
#include "hcs_uvm_doc.h"

static hcs_api api;
static const win_host server = {.ncpu = 4, .build = 20348};
static const win_host client = {.ncpu = 4, .build = 19045, .client = true};

static const char spec_text[] =
    "{\"ociVersion\":\"1.1.0\",\"hostname\":\"web\","
    "\"process\":{\"args\":[\"cmd\",\"/c\",\"echo hi\"],\"cwd\":\"C:\\\\app\",\"env\":[\"A=1\",\"TOKEN=x=y==\"],"
    "\"user\":{\"username\":\"ContainerUser\"}},"
    "\"root\":{\"path\":\"\\\\\\\\?\\\\Volume{aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee}\\\\\"},"
    "\"mounts\":[{\"destination\":\"C:\\\\data\",\"source\":\"D:\\\\data\",\"options\":[\"ro\"]},"
    "{\"destination\":\"C:\\\\cache\",\"source\":\"D:\\\\cache\"},"
    "{\"destination\":\"\\\\\\\\.\\\\pipe\\\\docker_engine\",\"source\":\"\\\\\\\\.\\\\pipe\\\\docker_engine\"}],"
    "\"windows\":{\"layerFolders\":[\"C:\\\\layers\\\\top\",\"C:\\\\layers\\\\base\",\"C:\\\\scratch\\\\c1\"],"
    "\"resources\":{\"memory\":{\"limit\":536870912},\"cpu\":{\"count\":2,\"shares\":500,\"maximum\":5000},"
    "\"storage\":{\"iops\":100,\"bps\":1048576}},"
    "\"network\":{\"endpointList\":[\"7a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9\"],\"allowUnqualifiedDNSQuery\":true,"
    "\"DNSSearchList\":[\"corp.example\",\"example\"],\"networkNamespace\":\"11111111-2222-3333-4444-555555555555\"}}}";

static json_t *spec_load(const char *text) {
  json_t *s = json_loads(text, 0, NULL);
  assert_non_null(s);
  return s;
}

/* A value at a '/'-separated path; array indexes as numbers. */
static json_t *at(json_t *doc, const char *path) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", path);
  json_t *cur = doc;
  for (char *save = NULL, *tok = strtok_r(buf, "/", &save); tok && cur; tok = strtok_r(NULL, "/", &save))
    cur = json_is_array(cur) ? json_array_get(cur, (size_t)atoi(tok)) : json_object_get(cur, tok);
  return cur;
}

static const char *str_at(json_t *doc, const char *path) {
  json_t *v = at(doc, path);
  assert_true(json_is_string(v));
  return json_string_value(v);
}

static long long int_at(json_t *doc, const char *path) {
  json_t *v = at(doc, path);
  assert_true(json_is_integer(v));
  return json_integer_value(v);
}

static int setup(void **state) {
  fake_hcs_init(&api, NULL);
  return 0;
}

static int teardown(void **state) {
  fake_hcs_reset();
  return 0;
}

static void test_process_isolated_document(void **state) {
  json_t *spec = spec_load(spec_text);
  hcs_doc_ctx c = {.id = "c1", .owner = "cshim", .isolation = WIN_ISOLATION_PROCESS, .api = &api, .host = &server};
  win_warnings w = {0};
  cs_err e;
  json_t *doc = hcs_doc_container(spec, &c, &w, &e);
  assert_non_null(doc);
  assert_string_equal(str_at(doc, "Owner"), "cshim");
  assert_int_equal(int_at(doc, "SchemaVersion/Major"), 2);
  assert_int_equal(int_at(doc, "SchemaVersion/Minor"), 1);
  assert_true(json_is_true(at(doc, "ShouldTerminateOnLastHandleClosed")));
  assert_null(at(doc, "HostedSystem"));
  assert_string_equal(str_at(doc, "Container/GuestOs/HostName"), "web");
  /* Layers: every folder but the scratch, in order, each with NameToGuid(folder name) as id. */
  assert_int_equal(json_array_size(at(doc, "Container/Storage/Layers")), 2);
  assert_string_equal(str_at(doc, "Container/Storage/Layers/0/Path"), "C:\\layers\\top");
  assert_string_equal(str_at(doc, "Container/Storage/Layers/1/Path"), "C:\\layers\\base");
  assert_int_equal(strlen(str_at(doc, "Container/Storage/Layers/0/Id")), 36);
  assert_string_not_equal(str_at(doc, "Container/Storage/Layers/0/Id"), str_at(doc, "Container/Storage/Layers/1/Id"));
  assert_int_equal(fake_hcs_count("HcsCreateComputeSystem"), 0); /* building documents calls no HCS */
  assert_string_equal(str_at(doc, "Container/Storage/Path"), "\\\\?\\Volume{aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee}\\");
  assert_int_equal(int_at(doc, "Container/Storage/QoS/IopsMaximum"), 100);
  assert_int_equal(int_at(doc, "Container/Storage/QoS/BandwidthMaximum"), 1048576);
  /* Mounts. */
  assert_int_equal(json_array_size(at(doc, "Container/MappedDirectories")), 2);
  assert_string_equal(str_at(doc, "Container/MappedDirectories/0/HostPath"), "D:\\data");
  assert_string_equal(str_at(doc, "Container/MappedDirectories/0/ContainerPath"), "C:\\data");
  assert_true(json_is_true(at(doc, "Container/MappedDirectories/0/ReadOnly")));
  assert_null(at(doc, "Container/MappedDirectories/1/ReadOnly"));
  assert_string_equal(str_at(doc, "Container/MappedPipes/0/ContainerPipeName"), "docker_engine");
  /* Resources: count wins over shares and maximum under process isolation, with docker's warnings. */
  assert_int_equal(int_at(doc, "Container/Processor/Count"), 2);
  assert_null(at(doc, "Container/Processor/Weight"));
  assert_null(at(doc, "Container/Processor/Maximum"));
  assert_int_equal(w.n, 2);
  assert_non_null(strstr(w.msg[0], "CPU shares discarded"));
  assert_int_equal(int_at(doc, "Container/Memory/SizeInMB"), 512);
  /* Networking. */
  assert_string_equal(str_at(doc, "Container/Networking/Namespace"), "11111111-2222-3333-4444-555555555555");
  assert_string_equal(str_at(doc, "Container/Networking/DnsSearchList"), "corp.example,example");
  assert_true(json_is_true(at(doc, "Container/Networking/AllowUnqualifiedDnsQuery")));
  json_decref(doc);
  json_decref(spec);
}

static void test_cpu_count_clamped_to_host(void **state) {
  json_t *spec = spec_load(spec_text);
  json_object_set_new(at(spec, "windows/resources/cpu"), "count", json_integer(64));
  hcs_doc_ctx c = {.id = "c1", .isolation = WIN_ISOLATION_PROCESS, .api = &api, .host = &server};
  win_warnings w = {0};
  cs_err e;
  json_t *doc = hcs_doc_container(spec, &c, &w, &e);
  assert_int_equal(int_at(doc, "Container/Processor/Count"), 4);
  assert_string_equal(w.msg[0], "Changing requested CPUCount of 64 to current number of processors, 4");
  json_decref(doc);
  json_decref(spec);
}

static void test_invalid_specs(void **state) {
  hcs_doc_ctx c = {.id = "c1", .isolation = WIN_ISOLATION_PROCESS, .api = &api, .host = &server};
  cs_err e;
  json_t *spec = spec_load("{\"root\":{\"path\":\"x\"}}");
  assert_null(hcs_doc_container(spec, &c, NULL, &e));
  assert_int_equal(e.code, CS_INVALID_ARGUMENT);
  assert_non_null(strstr(e.msg, "Windows section is missing"));
  json_decref(spec);

  spec = spec_load("{\"root\":{\"path\":\"x\"},\"windows\":{\"layerFolders\":[\"C:\\\\scratch\"]}}");
  assert_null(hcs_doc_container(spec, &c, NULL, &e));
  assert_string_equal(e.msg, "invalid spec - not enough layer folders supplied");
  json_decref(spec);

  spec = spec_load("{\"windows\":{\"layerFolders\":[\"C:\\\\l\",\"C:\\\\s\"]}}");
  assert_null(hcs_doc_container(spec, &c, NULL, &e));
  assert_string_equal(e.msg, "spec is invalid - root isn't populated");
  json_decref(spec);

  spec = spec_load(spec_text);
  json_object_set_new(at(spec, "windows/resources/cpu"), "shares", json_integer(10001));
  assert_null(hcs_doc_container(spec, &c, NULL, &e));
  assert_int_equal(e.code, CS_INVALID_ARGUMENT);
  json_decref(spec);

  spec = spec_load(spec_text);
  json_object_set_new(json_array_get(at(spec, "mounts"), 0), "type", json_string("tmpfs"));
  assert_null(hcs_doc_container(spec, &c, NULL, &e));
  assert_non_null(strstr(e.msg, "tmpfs"));
  json_decref(spec);
}

static void test_isolation_from_spec(void **state) {
  cs_err e;
  int iso = -1;
  json_t *spec = spec_load(spec_text);
  assert_int_equal(hcs_spec_isolation(spec, WIN_ISOLATION_DEFAULT, &server, &iso, &e), 0);
  assert_int_equal(iso, WIN_ISOLATION_PROCESS);
  assert_int_equal(hcs_spec_isolation(spec, WIN_ISOLATION_HYPERV, &server, &iso, &e), 0);
  assert_int_equal(iso, WIN_ISOLATION_HYPERV);
  /* A client edition: default resolves to Hyper-V; process is refused. */
  assert_int_equal(hcs_spec_isolation(spec, WIN_ISOLATION_DEFAULT, &client, &iso, &e), 0);
  assert_int_equal(iso, WIN_ISOLATION_HYPERV);
  assert_int_equal(hcs_spec_isolation(spec, WIN_ISOLATION_PROCESS, &client, &iso, &e), -1);
  assert_string_equal(e.msg, "Windows client operating systems only support Hyper-V containers");
  json_object_set_new(at(spec, "windows"), "hyperv", json_object());
  assert_int_equal(hcs_spec_isolation(spec, WIN_ISOLATION_PROCESS, &server, &iso, &e), 0);
  assert_int_equal(iso, WIN_ISOLATION_HYPERV);
  json_decref(spec);
}

static void test_hyperv_documents(void **state) {
  json_t *spec = spec_load(spec_text);
  json_object_set_new(at(spec, "windows"), "hyperv", json_object());
  json_object_del(spec, "root");
  hcs_doc_ctx c = {.id = "c1", .uvm_id = "c1@vm", .owner = "cshim", .isolation = WIN_ISOLATION_HYPERV, .api = &api,
                   .host = &server};
  win_warnings w = {0};
  cs_err e;
  json_t *doc = hcs_doc_container(spec, &c, &w, &e);
  assert_non_null(doc);
  /* The hosted container: HostingSystemId + HostedSystem{SchemaVersion, Container}. */
  assert_null(at(doc, "Container"));
  assert_string_equal(str_at(doc, "HostingSystemId"), "c1@vm");
  assert_int_equal(int_at(doc, "HostedSystem/SchemaVersion/Major"), 2);
  assert_string_equal(str_at(doc, "HostedSystem/Container/Storage/Layers/0/Path"),
                      HCS_VSMB_GUEST_PREFIX "s0");
  assert_string_equal(str_at(doc, "HostedSystem/Container/Storage/Layers/1/Path"), HCS_VSMB_GUEST_PREFIX "s1");
  assert_string_equal(str_at(doc, "HostedSystem/Container/Storage/Path"), "C:\\c\\c1");
  assert_string_equal(str_at(doc, "HostedSystem/Container/MappedDirectories/0/HostPath"), HCS_VSMB_GUEST_PREFIX "m0");
  assert_string_equal(str_at(doc, "HostedSystem/Container/MappedDirectories/1/HostPath"), HCS_VSMB_GUEST_PREFIX "m1");
  /* Hyper-V keeps every processor control: no precedence, no warning. */
  assert_int_equal(int_at(doc, "HostedSystem/Container/Processor/Weight"), 500);
  assert_int_equal(int_at(doc, "HostedSystem/Container/Processor/Maximum"), 5000);
  assert_int_equal(w.n, 0);
  json_decref(doc);

  json_t *uvm = hcs_doc_uvm(spec, &c, &e);
  assert_non_null(uvm);
  assert_string_equal(str_at(uvm, "VirtualMachine/Chipset/Uefi/BootThis/DeviceType"), "VmbFs");
  assert_string_equal(str_at(uvm, "VirtualMachine/Chipset/Uefi/BootThis/DevicePath"),
                      "\\EFI\\Microsoft\\Boot\\bootmgfw.efi");
  assert_int_equal(int_at(uvm, "VirtualMachine/ComputeTopology/Memory/SizeInMB"), 512);
  assert_int_equal(int_at(uvm, "VirtualMachine/ComputeTopology/Processor/Count"), 2);
  assert_string_equal(str_at(uvm, "VirtualMachine/Devices/Scsi/0/Attachments/0/Path"), "C:\\scratch\\c1\\vm\\sandbox.vhdx");
  /* Only the VM's own scratch and the OS share: the container's storage is hot-added (below). */
  assert_null(at(uvm, "VirtualMachine/Devices/Scsi/0/Attachments/1"));
  assert_string_equal(str_at(uvm, "VirtualMachine/Devices/VirtualSmb/Shares/0/Name"), "os");
  assert_string_equal(str_at(uvm, "VirtualMachine/Devices/VirtualSmb/Shares/0/Path"),
                      "C:\\layers\\base\\UtilityVM\\Files");
  assert_int_equal(json_array_size(at(uvm, "VirtualMachine/Devices/VirtualSmb/Shares")), 1);
  assert_true(json_is_object(at(uvm, "VirtualMachine/GuestConnection")));
  json_decref(uvm);

  /* The hot-adds, in order: a share per layer (s<i>) and per directory mount (m<i>, writable), the scratch
   * on Lun 1 mounted at the container's root, the combined layers over it. */
  doc = hcs_doc_container(spec, &c, &w, &e);
  json_t *reqs = hcs_doc_uvm_attach(spec, doc, &e);
  assert_non_null(reqs);
  size_t n = json_array_size(reqs);
  assert_int_equal(n, 6); /* s0 s1 m0 m1 scratch layers */
  assert_string_equal(str_at(reqs, "0/ResourcePath"), "VirtualMachine/Devices/VirtualSmb/Shares");
  assert_string_equal(str_at(reqs, "0/RequestType"), "Add");
  assert_string_equal(str_at(reqs, "0/Settings/Name"), "s0");
  assert_string_equal(str_at(reqs, "0/Settings/Path"), "C:\\layers\\top");
  assert_true(json_is_true(at(reqs, "0/Settings/Options/ReadOnly")));
  assert_string_equal(str_at(reqs, "2/Settings/Name"), "m0");
  assert_string_equal(str_at(reqs, "2/Settings/Path"), "D:\\data");
  assert_true(json_is_false(at(reqs, "2/Settings/Options/ReadOnly")));
  assert_string_equal(str_at(reqs, "4/ResourcePath"), "VirtualMachine/Devices/Scsi/0/Attachments/1");
  assert_string_equal(str_at(reqs, "4/Settings/Path"), "C:\\scratch\\c1\\sandbox.vhdx");
  assert_string_equal(str_at(reqs, "4/Settings/Type"), "VirtualDisk");
  assert_string_equal(str_at(reqs, "4/GuestRequest/ResourceType"), "MappedVirtualDisk");
  assert_string_equal(str_at(reqs, "4/GuestRequest/Settings/ContainerPath"), "C:\\c\\c1");
  assert_int_equal(int_at(reqs, "4/GuestRequest/Settings/Lun"), 1);
  assert_null(at(reqs, "5/ResourcePath"));
  assert_string_equal(str_at(reqs, "5/GuestRequest/ResourceType"), "CombinedLayers");
  assert_string_equal(str_at(reqs, "5/GuestRequest/RequestType"), "Add");
  assert_string_equal(str_at(reqs, "5/GuestRequest/Settings/ContainerRootPath"), "C:\\c\\c1");
  assert_string_equal(str_at(reqs, "5/GuestRequest/Settings/Layers/1/Path"), HCS_VSMB_GUEST_PREFIX "s1");
  assert_true(json_equal(at(reqs, "5/GuestRequest/Settings/Layers"), at(doc, "HostedSystem/Container/Storage/Layers")));
  json_decref(reqs);
  /* The backend's namespace goes into the hosted container's Networking. */
  char *text = json_dumps(doc, JSON_COMPACT);
  assert_int_equal(hcs_doc_set_namespace(&text, "11111111-2222-4333-8444-555555555555", &e), 0);
  json_t *d2 = json_loads(text, 0, NULL);
  assert_string_equal(str_at(d2, "HostedSystem/Container/Networking/Namespace"), "11111111-2222-4333-8444-555555555555");
  json_decref(d2);
  free(text);
  json_decref(doc);
  json_t *rm = hcs_doc_nic_remove("11111111-2222-4333-8444-555555555555");
  assert_string_equal(str_at(rm, "ResourcePath"), "VirtualMachine/Devices/NetworkAdapters/11111111-2222-4333-8444-555555555555");
  assert_string_equal(str_at(rm, "RequestType"), "Remove");
  assert_null(at(rm, "Settings"));
  json_decref(rm);

  /* A given utility VM path wins over the base layer's. */
  json_object_set_new(at(spec, "windows/hyperv"), "utilityVMPath", json_string("E:\\uvm"));
  uvm = hcs_doc_uvm(spec, &c, &e);
  assert_string_equal(str_at(uvm, "VirtualMachine/Devices/VirtualSmb/Shares/0/Path"), "E:\\uvm\\Files");
  json_decref(uvm);
  json_decref(spec);
}

static void test_process_parameters(void **state) {
  json_t *spec = spec_load(spec_text);
  json_t *proc = at(spec, "process");
  json_t *env = json_object_get(proc, "env");
  json_array_append_new(env, json_string("NOEQUALS"));
  json_array_append_new(env, json_string("A=2")); /* later duplicate wins */
  const char *paths[3] = {"\\\\.\\pipe\\in", "\\\\.\\pipe\\out", "\\\\.\\pipe\\err"};
  cs_err e;
  json_t *p = hcs_doc_process(proc, false, paths, &e);
  assert_non_null(p);
  assert_string_equal(str_at(p, "CommandLine"), "cmd /c \"echo hi\"");
  assert_string_equal(str_at(p, "WorkingDirectory"), "C:\\app");
  assert_string_equal(str_at(p, "User"), "ContainerUser");
  assert_string_equal(str_at(p, "Environment/TOKEN"), "x=y==");
  assert_string_equal(str_at(p, "Environment/A"), "2");
  assert_null(at(p, "Environment/NOEQUALS"));
  assert_int_equal(json_object_size(at(p, "Environment")), 2);
  assert_true(json_is_true(at(p, "CreateStdInPipe")));
  assert_true(json_is_true(at(p, "CreateStdOutPipe")));
  assert_true(json_is_true(at(p, "CreateStdErrPipe")));
  assert_null(at(p, "EmulateConsole"));
  json_decref(p);

  /* Terminal: console emulation, stderr merged, console size height first; commandLine wins over args. */
  json_object_set_new(proc, "commandLine", json_string("powershell -NoLogo"));
  json_object_set_new(proc, "consoleSize", json_pack("{s:i,s:i}", "height", 40, "width", 120));
  const char *no_stdin[3] = {NULL, "\\\\.\\pipe\\out", NULL};
  p = hcs_doc_process(proc, true, no_stdin, &e);
  assert_string_equal(str_at(p, "CommandLine"), "powershell -NoLogo");
  assert_true(json_is_true(at(p, "EmulateConsole")));
  assert_true(json_is_false(at(p, "CreateStdInPipe")));
  assert_true(json_is_false(at(p, "CreateStdErrPipe")));
  assert_int_equal(int_at(p, "ConsoleSize/0"), 40);
  assert_int_equal(int_at(p, "ConsoleSize/1"), 120);
  json_decref(p);

  json_t *empty = json_object();
  assert_null(hcs_doc_process(empty, false, NULL, &e));
  assert_int_equal(e.code, CS_INVALID_ARGUMENT);
  json_decref(empty);
  json_decref(spec);
}

static void test_small_documents(void **state) {
  cs_err e;
  char *opt = NULL;
  bool term = false;
  assert_int_equal(hcs_doc_signal(9, &opt, &term, &e), 0);
  assert_true(term);
  assert_null(opt);
  assert_int_equal(hcs_doc_signal(15, &opt, &term, &e), 0);
  assert_false(term);
  assert_string_equal(opt, "{\"Signal\":\"CtrlShutdown\"}");
  free(opt);
  assert_int_equal(hcs_doc_signal(2, &opt, &term, &e), 0);
  assert_string_equal(opt, "{\"Signal\":\"CtrlC\"}");
  free(opt);
  assert_int_equal(hcs_doc_signal(10, &opt, &term, &e), -1);
  assert_int_equal(e.code, CS_INVALID_ARGUMENT);

  json_t *nic = hcs_doc_nic_add("7a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9", "00-15-5D-01-02-03");
  assert_string_equal(str_at(nic, "ResourcePath"), "VirtualMachine/Devices/NetworkAdapters/7a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9");
  assert_string_equal(str_at(nic, "RequestType"), "Add");
  assert_string_equal(str_at(nic, "Settings/EndpointId"), "7a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9");
  assert_string_equal(str_at(nic, "Settings/MacAddress"), "00-15-5D-01-02-03");
  json_decref(nic);

  json_t *res = json_loads("{\"memory\":{\"limit\":1073741824},\"cpu\":{\"maximum\":2500,\"shares\":100}}", 0, NULL);
  /* Update follows Create's rules: for a process-isolated container shares win over maximum (dropped, with a
   * warning), a count above the host's is capped, out-of-range values are refused naming the field. */
  hcs_doc_ctx uc = {.id = "c1", .isolation = WIN_ISOLATION_PROCESS, .host = &(win_host){.ncpu = 4, .build = 20348}};
  win_warnings uw = {0};
  json_t *reqs = hcs_doc_update(res, &uc, &uw, &e);
  assert_int_equal(json_array_size(reqs), 2);
  assert_string_equal(str_at(reqs, "0/ResourcePath"), "Container/Memory/SizeInMB");
  assert_int_equal(int_at(reqs, "0/Settings"), 1024);
  assert_string_equal(str_at(reqs, "1/ResourcePath"), "Container/Processor");
  assert_int_equal(int_at(reqs, "1/Settings/Weight"), 100);
  assert_null(json_object_get(json_object_get(json_array_get(reqs, 1), "Settings"), "Maximum"));
  assert_true(uw.n >= 1);
  json_decref(reqs);
  json_decref(res);
  res = json_loads("{\"cpu\":{\"count\":64}}", 0, NULL);
  uw.n = 0;
  reqs = hcs_doc_update(res, &uc, &uw, &e);
  assert_int_equal(int_at(reqs, "0/Settings/Count"), 4);
  assert_int_equal(uw.n, 1);
  json_decref(reqs);
  json_decref(res);
  res = json_loads("{\"memory\":{\"limit\":-1}}", 0, NULL);
  assert_null(hcs_doc_update(res, &uc, &uw, &e));
  assert_int_equal(e.code, CS_INVALID_ARGUMENT);
  assert_non_null(strstr(e.msg, "windows.resources.memory"));
  json_decref(res);
  res = json_loads("{\"cpu\":{\"maximum\":20000}}", 0, NULL);
  assert_null(hcs_doc_update(res, &uc, &uw, &e));
  assert_non_null(strstr(e.msg, "CPU maximum"));
  json_decref(res);

  char *rs = hcs_doc_resize(120, 40);
  assert_string_equal(rs, "{\"Operation\":\"ConsoleSize\",\"ConsoleSize\":{\"Height\":40,\"Width\":120}}");
  free(rs);

  int code = -1;
  assert_int_equal(hcs_doc_exit_status("{\"ProcessId\":4,\"Exited\":true,\"ExitCode\":3221225786}", &code), 0);
  assert_int_equal((uint32_t)code, 3221225786u); /* 0xC000013A, STATUS_CONTROL_C_EXIT */
  assert_int_equal(hcs_doc_exit_status("{\"ProcessId\":4,\"Exited\":false,\"ExitCode\":0}", &code), -1);
  assert_int_equal(hcs_doc_exit_status("{\"ExitCode\":7}", &code), 0);
  assert_int_equal(code, 7);
  assert_int_equal(hcs_doc_exit_status(NULL, &code), -1);
}

static void test_spec_load_and_endpoints(void **state) {
  char dir[] = "/tmp/hcs-bundle-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[256];
  snprintf(path, sizeof path, "%s/config.json", dir);
  FILE *f = fopen(path, "w");
  fputs(spec_text, f);
  fclose(f);
  json_t *spec = NULL;
  cs_err e;
  assert_int_equal(hcs_spec_load(dir, &spec, &e), 0);
  size_t n = 0;
  char **eps = hcs_spec_endpoints(spec, &n, &e);
  assert_int_equal(n, 1);
  assert_string_equal(eps[0], "7a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9");
  assert_null(eps[1]);
  hcs_strv_free(eps);
  json_decref(spec);
  unlink(path);
  assert_int_equal(hcs_spec_load(dir, &spec, &e), -1);
  assert_int_equal(e.code, CS_INVALID_ARGUMENT);
  rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_process_isolated_document, setup, teardown),
    cmocka_unit_test_setup_teardown(test_cpu_count_clamped_to_host, setup, teardown),
    cmocka_unit_test_setup_teardown(test_invalid_specs, setup, teardown),
    cmocka_unit_test_setup_teardown(test_isolation_from_spec, setup, teardown),
    cmocka_unit_test_setup_teardown(test_hyperv_documents, setup, teardown),
    cmocka_unit_test_setup_teardown(test_process_parameters, setup, teardown),
    cmocka_unit_test_setup_teardown(test_small_documents, setup, teardown),
    cmocka_unit_test_setup_teardown(test_spec_load_and_endpoints, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
