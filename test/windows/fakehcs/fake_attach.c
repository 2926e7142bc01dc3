/* What a running utility VM has been given by HcsModifyComputeSystem: SCSI attachments, VSMB shares, NICs, and
 * the guest's mapped disks and combined layers. Each is a key in the VM's `attached` object; an Add of a key that
 * is there or a Remove of one that is not fails as HCS does, a guest mapping needs its disk and a combined layer
 * set needs its root disk and every layer's share. Everything goes when the VM stops. fake_census() gives the
 * tests one figure to check that nothing is left: the live systems and the attachments of this process.
 *
 * CSHIM_FAKEHCS_FAIL=<Call>/<system id>[/<text>] fails that call on that system (a create, start, modify or
 * terminate), or only a modify whose document contains <text>, with E_FAIL after the checks, changing nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_hcs_int.h"
#include "fake_schema.h"

#define VSMB_GUEST_PREFIX "\\\\?\\VMSMB\\VSMB-{dcc079ae-60ba-4d07-847c-3493609c0870}\\"

HRESULT fake_injected(const char *call, const char *id, const char *doc, char *err, size_t n) {
  char v[512];
  DWORD len = GetEnvironmentVariableA("CSHIM_FAKEHCS_FAIL", v, sizeof v);
  if (!len || len >= sizeof v) return S_OK;
  char *sys = strchr(v, '/');
  if (!sys) return S_OK;
  *sys++ = '\0';
  char *text = strchr(sys, '/');
  if (text) *text++ = '\0';
  if (strcmp(v, call) != 0 || _stricmp(sys, id ? id : "") != 0) return S_OK;
  if (text && (!doc || !strstr(doc, text))) return S_OK;
  snprintf(err, n, "injected failure (CSHIM_FAKEHCS_FAIL)");
  return E_FAIL;
}

json_t *fake_census(void) {
  int live = 0, attached = 0;
  for (fake_sys *s = fake_g.systems; s; s = s->next) {
    if (s->state == SYS_STOPPED) continue;
    live++;
    attached += (int)json_object_size(s->attached);
  }
  return json_pack("{s:i,s:i}", "live", live, "attached", attached);
}

void fake_vm_drop(fake_sys *s) {
  if (s->attached) json_object_clear(s->attached);
}

static bool has(fake_sys *s, const char *key) { return json_object_get(s->attached, key) != NULL; }

/* One change: the key and whether it is added; checked against the VM (and the changes before it) first. */
typedef struct change {
  char key[600];
  bool add;
} change;

static HRESULT want(fake_sys *s, change *c, const change *before, int nb, char *err, size_t n) {
  bool present = has(s, c->key);
  for (int i = 0; i < nb; i++)
    if (strcmp(before[i].key, c->key) == 0) present = before[i].add;
  if (c->add && present) {
    snprintf(err, n, "%s: already attached", c->key);
    return E_INVALIDARG;
  }
  if (!c->add && !present) {
    snprintf(err, n, "%s: not attached", c->key);
    return FAKE_E_ELEMENT_NOT_FOUND;
  }
  return S_OK;
}

static HRESULT check_settings(json_t *settings, const fs_type *t, const char *what, char *err, size_t n) {
  char sub[500];
  if (!json_is_object(settings) || fs_check(settings, t, sub, sizeof sub) < 0) {
    snprintf(err, n, "%s.Settings: %s", what, json_is_object(settings) ? sub : "an object is required");
    return FAKE_HCS_E_INVALID_JSON;
  }
  return S_OK;
}

static HRESULT resource_change(fake_sys *s, const char *path, bool add, json_t *settings, change *c, char *err,
                               size_t n) {
  static const char nic[] = "VirtualMachine/Devices/NetworkAdapters/", scsi[] = "VirtualMachine/Devices/Scsi/",
                    vsmb[] = "VirtualMachine/Devices/VirtualSmb/Shares";
  HRESULT hr;
  if (strncmp(path, nic, sizeof nic - 1) == 0) {
    const char *id = path + sizeof nic - 1;
    if (add && (hr = check_settings(settings, &FS_NETWORK_ADAPTER, "NetworkAdapter", err, n)) != S_OK) return hr;
    const char *ep = json_string_value(json_object_get(settings, "EndpointId"));
    if (add && (!ep || _stricmp(ep, id) != 0)) {
      snprintf(err, n, "%s: Settings.EndpointId must name the adapter", path);
      return E_INVALIDARG;
    }
    snprintf(c->key, sizeof c->key, "nic:%s", id);
  } else if (strncmp(path, scsi, sizeof scsi - 1) == 0) {
    char ctl[16];
    int lun = -1;
    if (sscanf(path + sizeof scsi - 1, "%15[^/]/Attachments/%d", ctl, &lun) != 2 || lun < 0) {
      snprintf(err, n, "%s: want VirtualMachine/Devices/Scsi/<controller>/Attachments/<lun>", path);
      return E_INVALIDARG;
    }
    if (add && (hr = check_settings(settings, &FS_ATTACHMENT, "Attachment", err, n)) != S_OK) return hr;
    if (add && !json_string_value(json_object_get(settings, "Path"))) {
      snprintf(err, n, "%s: Settings.Path is required", path);
      return E_INVALIDARG;
    }
    if (strcmp(ctl, "0") == 0 && lun == 0) {
      snprintf(err, n, "%s: Lun 0 is the VM's own scratch", path);
      return E_INVALIDARG;
    }
    snprintf(c->key, sizeof c->key, "scsi:%s:%d", ctl, lun);
  } else if (strcmp(path, vsmb) == 0) {
    if ((hr = check_settings(settings, &FS_VSMB_SHARE, "VirtualSmbShare", err, n)) != S_OK) return hr;
    const char *name = json_string_value(json_object_get(settings, "Name"));
    if (!name || !*name || (add && !json_string_value(json_object_get(settings, "Path")))) {
      snprintf(err, n, "%s: Settings.Name and Path are required", path);
      return E_INVALIDARG;
    }
    snprintf(c->key, sizeof c->key, "vsmb:%s", name);
  } else {
    snprintf(err, n, "ResourcePath %s: not a resource the fake knows (see README)", path);
    return E_INVALIDARG;
  }
  c->add = add;
  return S_OK;
}

static HRESULT guest_change(fake_sys *s, json_t *g, change *c, const change *before, int nb, char *err, size_t n) {
  char sub[500];
  if (fs_check(g, &FS_GUEST_REQUEST, sub, sizeof sub) < 0) {
    snprintf(err, n, "GuestRequest.%s", sub);
    return FAKE_HCS_E_INVALID_JSON;
  }
  const char *type = json_string_value(json_object_get(g, "ResourceType"));
  const char *rt = json_string_value(json_object_get(g, "RequestType"));
  json_t *st = json_object_get(g, "Settings");
  c->add = !rt || strcmp(rt, "Add") == 0;
  HRESULT hr;
  change need;
  need.add = false;
  if (type && strcmp(type, "MappedVirtualDisk") == 0) {
    if ((hr = check_settings(st, &FS_WCOW_MAPPED_DISK, "GuestRequest", err, n)) != S_OK) return hr;
    const char *cp = json_string_value(json_object_get(st, "ContainerPath"));
    if (!cp || !*cp) return snprintf(err, n, "GuestRequest.Settings.ContainerPath is required"), E_INVALIDARG;
    snprintf(c->key, sizeof c->key, "mvd:%s", cp);
    snprintf(need.key, sizeof need.key, "scsi:0:%d", (int)json_integer_value(json_object_get(st, "Lun")));
  } else if (type && strcmp(type, "CombinedLayers") == 0) {
    if ((hr = check_settings(st, &FS_WCOW_COMBINED_LAYERS, "GuestRequest", err, n)) != S_OK) return hr;
    const char *root = json_string_value(json_object_get(st, "ContainerRootPath"));
    json_t *layers = json_object_get(st, "Layers");
    if (!root || !*root || (c->add && !json_array_size(layers)))
      return snprintf(err, n, "GuestRequest.Settings: ContainerRootPath and Layers are required"), E_INVALIDARG;
    for (size_t i = 0; c->add && i < json_array_size(layers); i++) {
      const char *p = json_string_value(json_object_get(json_array_get(layers, i), "Path"));
      size_t pl = strlen(VSMB_GUEST_PREFIX);
      char key[600];
      snprintf(key, sizeof key, "vsmb:%s", p && strlen(p) > pl ? p + pl : "");
      if (!p || _strnicmp(p, VSMB_GUEST_PREFIX, pl) != 0 || !has(s, key)) {
        snprintf(err, n, "CombinedLayers: layer %lu (%s) is not a VSMB share of this VM", (unsigned long)i, p ? p : "");
        return FAKE_E_ELEMENT_NOT_FOUND;
      }
    }
    snprintf(c->key, sizeof c->key, "layers:%s", root);
    snprintf(need.key, sizeof need.key, "mvd:%s", root);
  } else {
    snprintf(err, n, "GuestRequest.ResourceType: not one the fake knows");
    return E_INVALIDARG;
  }
  /* What it stands on must be there (a disk for a mapping, the mapped root for layers). */
  if (c->add && want(s, &need, before, nb, err, n) != S_OK) {
    snprintf(err, n, "%s needs %s first", c->key, need.key);
    return FAKE_E_ELEMENT_NOT_FOUND;
  }
  return S_OK;
}

HRESULT fake_vm_modify(fake_sys *s, json_t *req, char *err, size_t n) {
  if (!s->hyperv) {
    snprintf(err, n, "not a virtual machine");
    return E_INVALIDARG;
  }
  if (s->state != SYS_RUNNING) {
    snprintf(err, n, "a device is hot-added to a running VM; this one is not running");
    return FAKE_HCS_E_INVALID_STATE;
  }
  const char *path = json_string_value(json_object_get(req, "ResourcePath"));
  const char *rt = json_string_value(json_object_get(req, "RequestType"));
  json_t *guest = json_object_get(req, "GuestRequest");
  change ch[2];
  int nc = 0;
  HRESULT hr;
  if (path) {
    if (!rt || (strcmp(rt, "Add") != 0 && strcmp(rt, "Remove") != 0)) {
      snprintf(err, n, "%s: RequestType Add or Remove", path);
      return E_INVALIDARG;
    }
    if ((hr = resource_change(s, path, strcmp(rt, "Add") == 0, json_object_get(req, "Settings"), &ch[0], err, n)) !=
            S_OK ||
        (hr = want(s, &ch[0], NULL, 0, err, n)) != S_OK)
      return hr;
    nc++;
  }
  if (guest && !json_is_null(guest)) {
    if ((hr = guest_change(s, guest, &ch[nc], ch, nc, err, n)) != S_OK || (hr = want(s, &ch[nc], ch, nc, err, n)) != S_OK)
      return hr;
    nc++;
  }
  if (!nc) {
    snprintf(err, n, "ResourcePath or GuestRequest is required");
    return E_INVALIDARG;
  }
  if (!s->attached) s->attached = json_object();
  for (int i = 0; i < nc; i++) {
    if (ch[i].add) json_object_set_new(s->attached, ch[i].key, json_true());
    else json_object_del(s->attached, ch[i].key);
  }
  return S_OK;
}
