/* The compute system documents: process-isolated container, hosted (Hyper-V) container, utility VM. */
#include "hcs_doc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hcs_err.h"
#include "hcs_uvm_doc.h"
#include "hcs_wstr.h"

const char *hcs_json_str(json_t *obj, const char *key) {
  json_t *v = json_object_get(obj, key);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

int hcs_spec_load(const char *bundle, json_t **out, cs_err *err) {
  char path[4096];
  if ((size_t)snprintf(path, sizeof path, "%s/config.json", bundle) >= sizeof path)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "bundle path too long");
  json_error_t jerr;
  *out = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
  if (!*out) return cs_err_set(err, CS_INVALID_ARGUMENT, "%s: %s (line %d)", path, jerr.text, jerr.line);
  if (!json_is_object(*out)) {
    json_decref(*out);
    *out = NULL;
    return cs_err_set(err, CS_INVALID_ARGUMENT, "%s: not a JSON object", path);
  }
  return 0;
}

int hcs_spec_isolation(json_t *spec, int default_isolation, const win_host *host, int *out, cs_err *err) {
  json_t *win = json_object_get(spec, "windows");
  int iso = json_is_object(json_object_get(win, "hyperv")) ? WIN_ISOLATION_HYPERV : default_isolation;
  iso = win_isolation_resolve(iso, host);
  if (iso != WIN_ISOLATION_HYPERV && host && host->client && !host->iot_core)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "Windows client operating systems only support Hyper-V containers");
  *out = iso;
  return 0;
}

void hcs_strv_free(char **v) {
  if (!v) return;
  for (char **p = v; *p; p++) free(*p);
  free(v);
}

char **hcs_spec_endpoints(json_t *spec, size_t *n, cs_err *err) {
  json_t *list = json_object_get(json_object_get(json_object_get(spec, "windows"), "network"), "endpointList");
  size_t len = json_is_array(list) ? json_array_size(list) : 0;
  char **v = calloc(len + 1, sizeof *v);
  if (!v) { cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory"); return NULL; }
  for (size_t i = 0; i < len; i++) {
    json_t *e = json_array_get(list, i);
    if (!json_is_string(e) || !(v[i] = strdup(json_string_value(e)))) {
      hcs_strv_free(v);
      cs_err_set(err, CS_INVALID_ARGUMENT, "windows.network.endpointList[%lu]: not a string", (unsigned long)i);
      return NULL;
    }
  }
  *n = len;
  return v;
}

/* json_integer_value for numbers that must be >= 0; *present tells whether the key was there. */
static int get_u64(json_t *obj, const char *key, uint64_t *out, bool *present, cs_err *err) {
  json_t *v = json_object_get(obj, key);
  *present = v && !json_is_null(v);
  if (!*present) return 0;
  if (!json_is_integer(v) || json_integer_value(v) < 0)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "%s: want a non-negative integer", key);
  *out = (uint64_t)json_integer_value(v);
  return 0;
}

/* Last path element of a Windows or POSIX path, ignoring trailing separators. */
static void base_name(const char *path, char *out, size_t n) {
  size_t end = strlen(path);
  while (end > 0 && (path[end - 1] == '\\' || path[end - 1] == '/')) end--;
  size_t start = end;
  while (start > 0 && path[start - 1] != '\\' && path[start - 1] != '/') start--;
  size_t len = end - start < n - 1 ? end - start : n - 1;
  memcpy(out, path + start, len);
  out[len] = '\0';
}

/* HCS identifies a layer by NameToGuid(folder name), the id the layer was registered under. */
static int layer_id(const hcs_api *api, const char *folder, char out[HCS_GUID_STR_LEN], cs_err *err) {
  char name[512];
  base_name(folder, name, sizeof name);
  hcs_pwstr wname = hcs_utf8_to_wide(name, err);
  if (!wname) return -1;
  hcs_guid g;
  memset(&g, 0, sizeof g);
  hcs_hresult hr = api->NameToGuid(wname, &g);
  free(wname);
  if (HCS_FAILED(hr)) return hcs_err_set(err, "NameToGuid", hr, folder);
  hcs_guid_format(&g, out);
  return 0;
}

static void set_str(json_t *o, const char *k, const char *v) { json_object_set_new(o, k, json_string(v)); }
static void set_int(json_t *o, const char *k, uint64_t v) { json_object_set_new(o, k, json_integer((json_int_t)v)); }

static json_t *schema_version(void) {
  json_t *v = json_object();
  set_int(v, "Major", 2);
  set_int(v, "Minor", 1);
  return v;
}

static char *vsmb_guest_path(const char *share) {
  size_t n = strlen(HCS_VSMB_GUEST_PREFIX) + strlen(share) + 1;
  char *p = malloc(n);
  if (p) snprintf(p, n, "%s%s", HCS_VSMB_GUEST_PREFIX, share);
  return p;
}

/* Processor and Memory of the container; the precedence rule (process isolation keeps one processor
 * control) is the same one docker applies, with the same warnings. */
static int add_resources(json_t *ctr, json_t *res, const hcs_doc_ctx *c, win_warnings *w, cs_err *err) {
  json_t *cpu = json_object_get(res, "cpu");
  uint64_t count = 0, shares = 0, maximum = 0;
  bool has_count, has_shares, has_max;
  if (get_u64(cpu, "count", &count, &has_count, err) || get_u64(cpu, "shares", &shares, &has_shares, err) ||
      get_u64(cpu, "maximum", &maximum, &has_max, err))
    return cs_err_wrap(err, "windows.resources.cpu");
  if (shares > 10000) return cs_err_set(err, CS_INVALID_ARGUMENT, "range of CPU shares is from 0 to 10000");
  if (maximum > 10000) return cs_err_set(err, CS_INVALID_ARGUMENT, "range of CPU maximum is from 1 to 10000");
  if (c->host && c->host->ncpu && count > c->host->ncpu) {
    char msg[WIN_WARN_LEN];
    snprintf(msg, sizeof msg, "Changing requested CPUCount of %llu to current number of processors, %u",
             (unsigned long long)count, (unsigned)c->host->ncpu);
    if (w && w->n < WIN_WARN_MAX) snprintf(w->msg[w->n++], WIN_WARN_LEN, "%s", msg);
    count = c->host->ncpu;
  }
  int64_t ic = (int64_t)count, is = (int64_t)shares, im = (int64_t)maximum;
  win_cpu_precedence(&ic, &is, &im, c->isolation == WIN_ISOLATION_HYPERV, w);
  if (ic > 0 || is > 0 || im > 0) {
    json_t *p = json_object();
    if (ic > 0) set_int(p, "Count", (uint64_t)ic);
    if (im > 0) set_int(p, "Maximum", (uint64_t)im);
    if (is > 0) set_int(p, "Weight", (uint64_t)is);
    json_object_set_new(ctr, "Processor", p);
  }
  uint64_t limit = 0;
  bool has_limit;
  if (get_u64(json_object_get(res, "memory"), "limit", &limit, &has_limit, err))
    return cs_err_wrap(err, "windows.resources.memory");
  if (has_limit && limit / (1024 * 1024) > 0) {
    json_t *m = json_object();
    set_int(m, "SizeInMB", limit / (1024 * 1024));
    json_object_set_new(ctr, "Memory", m);
  }
  return 0;
}

json_t *hcs_doc_update(json_t *resources, const hcs_doc_ctx *c, win_warnings *w, cs_err *err) {
  /* The same rules as Create (ranges, the host's CPU count cap, count > maximum > shares precedence), then
   * each resource as the ModifySettingRequest hcsshim sends a running silo (resourcepaths.Silo*). */
  json_t *ctr = json_object();
  if (add_resources(ctr, resources, c, w, err) < 0) {
    json_decref(ctr);
    cs_err_wrap(err, "update");
    return NULL;
  }
  json_t *reqs = json_array();
  json_t *mb = json_object_get(json_object_get(ctr, "Memory"), "SizeInMB");
  if (mb)
    json_array_append_new(reqs, json_pack("{s:s,s:s,s:O}", "ResourcePath", "Container/Memory/SizeInMB", "RequestType",
                                          "Update", "Settings", mb));
  json_t *p = json_object_get(ctr, "Processor");
  if (p)
    json_array_append_new(reqs, json_pack("{s:s,s:s,s:O}", "ResourcePath", "Container/Processor", "RequestType", "Update",
                                          "Settings", p));
  json_decref(ctr);
  return reqs;
}

static int add_storage_qos(json_t *storage, json_t *res, cs_err *err) {
  json_t *st = json_object_get(res, "storage");
  uint64_t iops = 0, bps = 0;
  bool has_iops, has_bps;
  if (get_u64(st, "iops", &iops, &has_iops, err) || get_u64(st, "bps", &bps, &has_bps, err))
    return cs_err_wrap(err, "windows.resources.storage");
  if (iops || bps) {
    json_t *q = json_object();
    if (iops) set_int(q, "IopsMaximum", iops);
    if (bps) set_int(q, "BandwidthMaximum", bps);
    json_object_set_new(storage, "QoS", q);
  }
  return 0;
}

static void add_networking(json_t *ctr, json_t *net) {
  if (!json_is_object(net)) return;
  json_t *n = json_object();
  if (json_is_true(json_object_get(net, "allowUnqualifiedDNSQuery")))
    json_object_set_new(n, "AllowUnqualifiedDnsQuery", json_true());
  json_t *dns = json_object_get(net, "DNSSearchList");
  if (json_is_array(dns) && json_array_size(dns)) {
    /* HCS takes the search list as one comma-separated string. */
    size_t len = 1;
    for (size_t i = 0; i < json_array_size(dns); i++) {
      const char *s = json_string_value(json_array_get(dns, i));
      len += (s ? strlen(s) : 0) + 1;
    }
    char *joined = calloc(1, len);
    if (joined) {
      for (size_t i = 0; i < json_array_size(dns); i++) {
        const char *s = json_string_value(json_array_get(dns, i));
        if (!s) continue;
        if (*joined) strcat(joined, ",");
        strcat(joined, s);
      }
      set_str(n, "DnsSearchList", joined);
      free(joined);
    }
  }
  const char *shared = hcs_json_str(net, "networkSharedContainerName");
  if (shared && *shared) set_str(n, "NetworkSharedContainerName", shared);
  /* Process isolation: the endpoints reach the container through this HNS namespace. Hyper-V: they are
   * hot-added to the utility VM as NICs (hcs_doc_nic_add), and the namespace still names the compartment. */
  const char *ns = hcs_json_str(net, "networkNamespace");
  if (ns && *ns) set_str(n, "Namespace", ns);
  json_object_set_new(ctr, "Networking", n);
}

/* Mounts: "\\.\pipe\name" destinations are MappedPipes, the rest MappedDirectories. Hyper-V: the host
 * directory is a VSMB share "m<i>" of the UVM (see hcs_doc_uvm), mapped from its guest path. */
static int add_mounts(json_t *ctr, json_t *mounts, bool hyperv, cs_err *err) {
  static const char pipe_prefix[] = "\\\\.\\pipe\\";
  json_t *dirs = json_array(), *pipes = json_array();
  for (size_t i = 0; json_is_array(mounts) && i < json_array_size(mounts); i++) {
    json_t *m = json_array_get(mounts, i);
    const char *dst = hcs_json_str(m, "destination"), *src = hcs_json_str(m, "source");
    const char *type = hcs_json_str(m, "type");
    if (!dst || !src) {
      json_decref(dirs);
      json_decref(pipes);
      return cs_err_set(err, CS_INVALID_ARGUMENT, "mounts[%lu]: source and destination are required", (unsigned long)i);
    }
    if (type && *type && strcmp(type, "bind") != 0) {
      json_decref(dirs);
      json_decref(pipes);
      return cs_err_set(err, CS_INVALID_ARGUMENT, "mounts[%lu]: type \"%s\" is not supported on Windows",
                        (unsigned long)i, type);
    }
    if (strncmp(dst, pipe_prefix, sizeof pipe_prefix - 1) == 0) {
      json_t *p = json_object();
      set_str(p, "ContainerPipeName", dst + sizeof pipe_prefix - 1);
      set_str(p, "HostPath", src);
      json_array_append_new(pipes, p);
      continue;
    }
    json_t *d = json_object();
    if (hyperv) {
      char share[32];
      snprintf(share, sizeof share, "m%lu", (unsigned long)i);
      char *gp = vsmb_guest_path(share);
      set_str(d, "HostPath", gp ? gp : "");
      free(gp);
    } else {
      set_str(d, "HostPath", src);
    }
    set_str(d, "ContainerPath", dst);
    json_t *opts = json_object_get(m, "options");
    for (size_t k = 0; json_is_array(opts) && k < json_array_size(opts); k++) {
      const char *o = json_string_value(json_array_get(opts, k));
      if (o && (strcmp(o, "ro") == 0 || strcmp(o, "RO") == 0 || strcmp(o, "Ro") == 0))
        json_object_set_new(d, "ReadOnly", json_true());
    }
    json_array_append_new(dirs, d);
  }
  if (json_array_size(dirs)) json_object_set(ctr, "MappedDirectories", dirs);
  if (json_array_size(pipes)) json_object_set(ctr, "MappedPipes", pipes);
  json_decref(dirs);
  json_decref(pipes);
  return 0;
}

static json_t *layer_folders(json_t *spec, cs_err *err) {
  json_t *lf = json_object_get(json_object_get(spec, "windows"), "layerFolders");
  if (!json_is_array(lf) || json_array_size(lf) < 2) {
    cs_err_set(err, CS_INVALID_ARGUMENT, "invalid spec - not enough layer folders supplied");
    return NULL;
  }
  for (size_t i = 0; i < json_array_size(lf); i++)
    if (!json_is_string(json_array_get(lf, i))) {
      cs_err_set(err, CS_INVALID_ARGUMENT, "windows.layerFolders[%lu]: not a string", (unsigned long)i);
      return NULL;
    }
  return lf;
}

json_t *hcs_doc_container(json_t *spec, const hcs_doc_ctx *c, win_warnings *w, cs_err *err) {
  json_t *win = json_object_get(spec, "windows");
  if (!json_is_object(win)) {
    cs_err_set(err, CS_INVALID_ARGUMENT, "cannot create HCS container document - OCI spec Windows section is missing");
    return NULL;
  }
  json_t *lf = layer_folders(spec, err);
  if (!lf) return NULL;
  bool hyperv = c->isolation == WIN_ISOLATION_HYPERV;
  json_t *root = json_object_get(spec, "root");
  const char *root_path = hcs_json_str(root, "path");
  if (json_is_true(json_object_get(root, "readonly"))) {
    cs_err_set(err, CS_INVALID_ARGUMENT, "invalid container spec - readonly is not supported for Windows containers");
    return NULL;
  }
  if (!hyperv && (!root_path || !*root_path) && !c->mount_layers) {
    cs_err_set(err, CS_INVALID_ARGUMENT, "spec is invalid - root isn't populated");
    return NULL;
  }

  json_t *ctr = json_object();
  const char *hostname = hcs_json_str(spec, "hostname");
  if (hostname && *hostname) {
    json_t *g = json_object();
    set_str(g, "HostName", hostname);
    json_object_set_new(ctr, "GuestOs", g);
  }

  /* Storage: every folder but the last (the scratch) is a read-only layer, top-most first. */
  json_t *storage = json_object(), *layers = json_array();
  json_object_set_new(storage, "Layers", layers);
  json_object_set_new(ctr, "Storage", storage);
  size_t nl = json_array_size(lf) - 1;
  for (size_t i = 0; i < nl; i++) {
    const char *folder = json_string_value(json_array_get(lf, i));
    char id[HCS_GUID_STR_LEN];
    if (layer_id(c->api, folder, id, err) < 0) goto fail;
    json_t *l = json_object();
    set_str(l, "Id", id);
    if (hyperv) {
      char share[32];
      snprintf(share, sizeof share, "s%lu", (unsigned long)i);
      char *gp = vsmb_guest_path(share);
      set_str(l, "Path", gp ? gp : "");
      free(gp);
    } else {
      set_str(l, "Path", folder);
    }
    json_array_append_new(layers, l);
  }
  if (root_path && *root_path) {
    set_str(storage, "Path", root_path);
  } else if (hyperv) {
    /* Hyper-V without a root path: where the guest mounts the container's scratch (hcsshim's C:\c\<id>). */
    char gp[512];
    snprintf(gp, sizeof gp, "C:\\c\\%s", c->id);
    set_str(storage, "Path", gp);
  }
  json_t *res = json_object_get(win, "resources");
  if (add_storage_qos(storage, res, err) < 0 || add_resources(ctr, res, c, w, err) < 0) goto fail;
  if (add_mounts(ctr, json_object_get(spec, "mounts"), hyperv, err) < 0) goto fail;
  add_networking(ctr, json_object_get(win, "network"));

  json_t *doc = json_object();
  set_str(doc, "Owner", c->owner ? c->owner : "cshim");
  json_object_set_new(doc, "SchemaVersion", schema_version());
  if (hyperv) {
    set_str(doc, "HostingSystemId", c->uvm_id);
    json_t *hosted = json_object();
    json_object_set_new(hosted, "SchemaVersion", schema_version());
    json_object_set_new(hosted, "Container", ctr);
    json_object_set_new(doc, "HostedSystem", hosted);
  } else {
    json_object_set_new(doc, "Container", ctr);
  }
  /* If the shim dies, HCS tears the container down instead of leaking it. */
  json_object_set_new(doc, "ShouldTerminateOnLastHandleClosed", json_true());
  return doc;
fail:
  json_decref(ctr);
  return NULL;
}

int hcs_doc_set_storage_path(char **doc, const char *path, cs_err *err) {
  json_error_t jerr;
  json_t *d = json_loads(*doc, 0, &jerr);
  json_t *storage = json_object_get(json_object_get(d, "Container"), "Storage");
  char *text = NULL;
  if (json_is_object(storage) && json_object_set_new(storage, "Path", json_string(path)) == 0)
    text = json_dumps(d, JSON_COMPACT);
  json_decref(d);
  if (!text) return cs_err_set(err, CS_INTERNAL, "compute system document: cannot set Storage.Path");
  free(*doc);
  *doc = text;
  return 0;
}

static json_t *scsi_disk(const char *path) {
  json_t *a = json_object();
  set_str(a, "Path", path);
  set_str(a, "Type", "VirtualDisk");
  return a;
}

json_t *hcs_doc_uvm(json_t *spec, const hcs_doc_ctx *c, cs_err *err) {
  json_t *win = json_object_get(spec, "windows");
  json_t *lf = layer_folders(spec, err);
  if (!lf) return NULL;
  size_t nl = json_array_size(lf) - 1;
  const char *scratch = json_string_value(json_array_get(lf, nl));
  char uvm_path[1024], files[1100], uvm_scratch[1100];
  const char *given = hcs_json_str(json_object_get(win, "hyperv"), "utilityVMPath");
  if (given && *given) snprintf(uvm_path, sizeof uvm_path, "%s", given);
  else snprintf(uvm_path, sizeof uvm_path, "%s\\UtilityVM", json_string_value(json_array_get(lf, nl - 1)));
  snprintf(files, sizeof files, "%s\\Files", uvm_path);
  snprintf(uvm_scratch, sizeof uvm_scratch, "%s\\vm\\sandbox.vhdx", scratch);

  /* The UVM is sized from the container's limits (the only resources a hosted container has). */
  json_t *res = json_object_get(win, "resources");
  uint64_t mem = 0, cpus = 0;
  bool has;
  if (get_u64(json_object_get(res, "memory"), "limit", &mem, &has, err) ||
      get_u64(json_object_get(res, "cpu"), "count", &cpus, &has, err))
    return NULL;
  mem /= 1024 * 1024;
  if (!mem) mem = HCS_UVM_DEFAULT_MEMORY_MB;
  if (!cpus) cpus = HCS_UVM_DEFAULT_CPUS;

  json_t *vm = json_object();
  json_object_set_new(vm, "StopOnReset", json_true());
  json_t *boot = json_object();
  set_str(boot, "DevicePath", "\\EFI\\Microsoft\\Boot\\bootmgfw.efi");
  set_str(boot, "DeviceType", "VmbFs");
  json_object_set_new(vm, "Chipset", json_pack("{s:{s:o}}", "Uefi", "BootThis", boot));
  json_t *topo = json_object(), *memory = json_object(), *proc = json_object();
  set_int(memory, "SizeInMB", mem);
  json_object_set_new(memory, "AllowOvercommit", json_true());
  set_int(proc, "Count", cpus);
  json_object_set_new(topo, "Memory", memory);
  json_object_set_new(topo, "Processor", proc);
  json_object_set_new(vm, "ComputeTopology", topo);

  json_t *devices = json_object();
  json_t *attach = json_object();
  /* Lun 0: the VM's own scratch. The container's scratch, its layers and mounts are hot-added once the VM
   * runs (hcs_uvm_doc.h), as hcsshim does, so the VM document is the same for every container. */
  json_object_set_new(attach, "0", scsi_disk(uvm_scratch));
  json_object_set_new(devices, "Scsi", json_pack("{s:{s:o}}", HCS_UVM_SCSI_CONTROLLER, "Attachments", attach));
  json_object_set_new(devices, "HvSocket",
                      json_pack("{s:{s:s}}", "HvSocketConfig", "DefaultBindSecurityDescriptor",
                                "D:P(A;;FA;;;SY)(A;;FA;;;BA)"));
  json_t *shares = json_array();
  json_array_append_new(shares, hcs_doc_vsmb_share("os", files, true));
  json_t *vsmb = json_object();
  set_int(vsmb, "DirectFileMappingInMB", 1024);
  json_object_set_new(vsmb, "Shares", shares);
  json_object_set_new(devices, "VirtualSmb", vsmb);
  json_object_set_new(vm, "Devices", devices);
  /* Empty GuestConnection: HCS runs the guest bridge itself, so hosted containers and processes go through
   * the public computecore calls (hcsshim's pre-GCS-bridge shape). */
  json_object_set_new(vm, "GuestConnection", json_object());

  json_t *doc = json_object();
  set_str(doc, "Owner", c->owner ? c->owner : "cshim");
  json_object_set_new(doc, "SchemaVersion", schema_version());
  json_object_set_new(doc, "VirtualMachine", vm);
  json_object_set_new(doc, "ShouldTerminateOnLastHandleClosed", json_true());
  return doc;
}
