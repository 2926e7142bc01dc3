/* The documents the product's backend builds (runtime/hcs/hcs_doc.c, hcs_proc_doc.c) for a spec that uses every
 * feature it maps, checked against the fake's schema table: a field the backend sends that hcsshim's schema2 does
 * not have fails here, in the build, before any scenario runs. The fake's code is not linked into the product; this
 * test only feeds one into the other. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_schema.h"
#include "hcs_doc.h"
#include "hcs_uvm_doc.h"

static int failures;

static void check(const char *what, json_t *doc, const fs_type *t) {
  char err[600] = "no document";
  int rc = doc ? fs_check(doc, t, err, sizeof err) : -1;
  char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
  printf("%s %s (%s): %s\n", rc ? "FAIL" : "ok  ", what, fs_type_file(t), rc ? err : "every field is in schema2");
  if (rc) {
    printf("     %s\n", text ? text : "");
    failures++;
  }
  free(text);
  json_decref(doc);
}

static hcs_hresult HCS_WINAPI name_to_guid(hcs_pcwstr name, hcs_guid *g) {
  (void)name;
  memset(g, 0x11, sizeof *g);
  return 0;
}

static const char spec_text[] =
    "{\"ociVersion\":\"1.0.2\",\"hostname\":\"h\",\"root\":{\"path\":\"C:\\\\r\"},"
    "\"process\":{\"commandLine\":\"cmd /c echo hello\",\"cwd\":\"C:\\\\\",\"env\":[\"A=b=c\"],"
    "\"user\":{\"username\":\"u\"},\"consoleSize\":{\"height\":20,\"width\":80}},"
    "\"mounts\":[{\"destination\":\"C:\\\\d\",\"source\":\"C:\\\\s\",\"options\":[\"ro\"]},"
    "{\"destination\":\"\\\\\\\\.\\\\pipe\\\\p\",\"source\":\"\\\\\\\\.\\\\pipe\\\\q\"}],"
    "\"windows\":{\"layerFolders\":[\"C:\\\\l1\",\"C:\\\\l2\",\"C:\\\\scratch\"],"
    "\"resources\":{\"memory\":{\"limit\":268435456},\"cpu\":{\"count\":1,\"maximum\":5000},"
    "\"storage\":{\"iops\":10,\"bps\":100}},"
    "\"network\":{\"endpointList\":[\"6e3a1f10-2b7c-4d55-9a0e-1c2d3e4f5a6b\"],\"allowUnqualifiedDNSQuery\":true,"
    "\"DNSSearchList\":[\"a\",\"b\"],\"networkNamespace\":\"ns\",\"networkSharedContainerName\":\"other\"}}}";

int main(void) {
  json_t *spec = json_loads(spec_text, 0, NULL);
  if (!spec) {
    printf("FAIL the test's own spec does not parse\n");
    return 1;
  }
  hcs_api api;
  memset(&api, 0, sizeof api);
  api.NameToGuid = name_to_guid;
  win_host host = {4, 20348, false, false};
  hcs_doc_ctx c = {.id = "ctr", .uvm_id = "ctr-uvm", .owner = "cshim", .isolation = WIN_ISOLATION_PROCESS, .api = &api, .host = &host};
  cs_err e;
  win_warnings w;
  memset(&w, 0, sizeof w);
  check("process-isolated container", hcs_doc_container(spec, &c, &w, &e), &FS_COMPUTE_SYSTEM);
  c.isolation = WIN_ISOLATION_HYPERV;
  check("hosted container", hcs_doc_container(spec, &c, &w, &e), &FS_COMPUTE_SYSTEM);
  check("utility VM", hcs_doc_uvm(spec, &c, &e), &FS_COMPUTE_SYSTEM);
  /* The hot-adds of the hosted container's storage, with their Settings and GuestRequest by type. */
  json_t *hosted = hcs_doc_container(spec, &c, &w, &e);
  json_t *attach = hosted ? hcs_doc_uvm_attach(spec, hosted, &e) : NULL;
  if (!json_array_size(attach)) check("utility VM attachments", NULL, &FS_MODIFY_SETTING);
  for (size_t i = 0; i < json_array_size(attach); i++) {
    json_t *a = json_array_get(attach, i);
    check("utility VM attachment", json_incref(a), &FS_MODIFY_SETTING);
    const char *rp = json_string_value(json_object_get(a, "ResourcePath"));
    json_t *st = json_object_get(a, "Settings"), *g = json_object_get(a, "GuestRequest");
    if (rp && strstr(rp, "/Scsi/")) check("SCSI attachment", json_incref(st), &FS_ATTACHMENT);
    if (rp && strstr(rp, "/VirtualSmb/")) check("VSMB share", json_incref(st), &FS_VSMB_SHARE);
    if (g) {
      check("guest request", json_incref(g), &FS_GUEST_REQUEST);
      const char *t = json_string_value(json_object_get(g, "ResourceType"));
      check(t ? t : "guest request settings", json_incref(json_object_get(g, "Settings")),
            t && strcmp(t, "CombinedLayers") == 0 ? &FS_WCOW_COMBINED_LAYERS : &FS_WCOW_MAPPED_DISK);
    }
  }
  json_decref(attach);
  json_decref(hosted);
  check("NIC removal", hcs_doc_nic_remove("6e3a1f10-2b7c-4d55-9a0e-1c2d3e4f5a6b"), &FS_MODIFY_SETTING);
  const char *const paths[3] = {"\\\\.\\pipe\\in", "\\\\.\\pipe\\out", "\\\\.\\pipe\\err"};
  check("process", hcs_doc_process(json_object_get(spec, "process"), false, paths, &e), &FS_PROCESS_PARAMETERS);
  check("process with a terminal", hcs_doc_process(json_object_get(spec, "process"), true, paths, &e),
        &FS_PROCESS_PARAMETERS);
  check("NIC hot-add", hcs_doc_nic_add("6e3a1f10-2b7c-4d55-9a0e-1c2d3e4f5a6b", "00-15-5D-01-02-03"),
        &FS_MODIFY_SETTING);
  json_t *res = json_pack("{s:{s:I},s:{s:i,s:i,s:i}}", "memory", "limit", (json_int_t)1 << 29, "cpu", "count", 1,
                          "maximum", 100, "shares", 5);
  json_t *updates = hcs_doc_update(res, &c, &w, &e);
  json_decref(res);
  if (!json_array_size(updates)) check("resource update", NULL, &FS_MODIFY_SETTING);
  for (size_t i = 0; i < json_array_size(updates); i++) {
    json_t *u = json_array_get(updates, i);
    check("resource update", json_incref(u), &FS_MODIFY_SETTING);
    json_t *st = json_object_get(u, "Settings");
    if (json_is_object(st)) check("resource update Settings", json_incref(st), &FS_PROCESSOR);
  }
  json_decref(updates);
  static const int sigs[] = {2, 15};
  for (size_t i = 0; i < 2; i++) {
    char *opt = NULL;
    bool term = false;
    hcs_doc_signal(sigs[i], &opt, &term, &e);
    check("signal options", opt ? json_loads(opt, 0, NULL) : NULL, &FS_SIGNAL_OPTIONS);
    free(opt);
  }
  char *resize = hcs_doc_resize(80, 20);
  check("console resize", resize ? json_loads(resize, 0, NULL) : NULL, &FS_PROCESS_MODIFY);
  free(resize);
  check("statistics query", json_loads(HCS_QUERY_STATISTICS, 0, NULL), &FS_PROPERTY_QUERY);
  json_decref(spec);
  printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
  return failures ? 1 : 0;
}
