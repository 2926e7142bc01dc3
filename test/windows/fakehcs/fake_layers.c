/* vmcompute.dll, fake: the layer (graph driver) calls a process-isolated container's storage goes through, with
 * hcsshim's prototypes (internal/wclayer/wclayer.go //sys lines): ActivateLayer, PrepareLayer, GetLayerMountPath,
 * UnprepareLayer, DeactivateLayer. A layer is HomeDir\id; it must be an existing folder, as on Windows.
 * Checked as Windows does: DriverInfo.Flavour 1 (filter driver), a HomeDir, an id without separators, the
 * order (prepare an activated layer, the mount path of a prepared one), each parent descriptor's folder exists
 * and its LayerId is NameToGuid(its base name). The state lives in the process that loaded the DLL, like the
 * fake's compute systems. Every call is logged with "active" = layers activated after it (0 = nothing left).
 * CSHIM_FAKEHCS_LAYER_FAIL=<Step>[=0xHRESULT] fails every call of that step (default 0x80070005), after the
 * argument checks, changing nothing. FakeHcsActiveLayers() (test hook, not a Windows export) counts them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "fake_common.h"

typedef struct fake_driver_info {
  int Flavour;
  PCWSTR HomeDir;
} fake_driver_info;

typedef struct fake_layer_descriptor {
  GUID LayerId;
  UINT32 Flags;
  PCWSTR Pathp;
} fake_layer_descriptor;

HRESULT WINAPI NameToGuid(PCWSTR name, GUID *guid);
HRESULT WINAPI ActivateLayer(const fake_driver_info *info, PCWSTR id);
HRESULT WINAPI PrepareLayer(const fake_driver_info *info, PCWSTR id, const fake_layer_descriptor *layers, UINT32 n);
HRESULT WINAPI GetLayerMountPath(const fake_driver_info *info, PCWSTR id, SIZE_T *length, PWSTR buffer);
HRESULT WINAPI UnprepareLayer(const fake_driver_info *info, PCWSTR id);
HRESULT WINAPI DeactivateLayer(const fake_driver_info *info, PCWSTR id);
int WINAPI FakeHcsActiveLayers(void);

#define FAKE_E_PATH_NOT_FOUND ((HRESULT)0x80070003)
#define FAKE_E_INSUFFICIENT_BUFFER ((HRESULT)0x8007007A)

typedef struct layer {
  struct layer *next;
  WCHAR path[MAX_PATH];
  bool prepared;
} layer;

static SRWLOCK lock = SRWLOCK_INIT;
static layer *layers;

static int count_locked(void) {
  int n = 0;
  for (layer *l = layers; l; l = l->next) n++;
  return n;
}

int WINAPI FakeHcsActiveLayers(void) {
  AcquireSRWLockExclusive(&lock);
  int n = count_locked();
  ReleaseSRWLockExclusive(&lock);
  return n;
}

static bool is_dir(PCWSTR p) {
  DWORD a = GetFileAttributesW(p);
  return a != INVALID_FILE_ATTRIBUTES && (a & FILE_ATTRIBUTE_DIRECTORY);
}

/* The injected failure for this step, or S_OK. */
static HRESULT injected(const char *step) {
  char v[128];
  DWORD n = GetEnvironmentVariableA("CSHIM_FAKEHCS_LAYER_FAIL", v, sizeof v);
  if (!n || n >= sizeof v) return S_OK;
  size_t sl = strlen(step);
  if (strncmp(v, step, sl) != 0 || (v[sl] != '\0' && v[sl] != '=')) return S_OK;
  return v[sl] == '=' ? (HRESULT)strtoul(v + sl + 1, NULL, 0) : E_ACCESSDENIED;
}

/* Checks the layer's name; *path = HomeDir\id. */
static HRESULT layer_path(const fake_driver_info *info, PCWSTR id, WCHAR path[MAX_PATH], const char **why) {
  if (!info || info->Flavour != 1) return *why = "DriverInfo.Flavour is not 1 (filter driver)", E_INVALIDARG;
  if (!info->HomeDir || !info->HomeDir[0]) return *why = "DriverInfo.HomeDir is empty", E_INVALIDARG;
  if (!id || !id[0] || wcschr(id, L'\\') || wcschr(id, L'/')) return *why = "bad layer id", E_INVALIDARG;
  if (_snwprintf(path, MAX_PATH, L"%ls\\%ls", info->HomeDir, id) >= MAX_PATH) return *why = "path too long", E_INVALIDARG;
  path[MAX_PATH - 1] = 0;
  if (!is_dir(path)) return *why = "the layer folder does not exist", FAKE_E_PATH_NOT_FOUND;
  return S_OK;
}

static layer *find_locked(PCWSTR path) {
  for (layer *l = layers; l; l = l->next)
    if (_wcsicmp(l->path, path) == 0) return l;
  return NULL;
}

static HRESULT logged(const char *step, PCWSTR path, HRESULT hr, const char *why, json_t *extra) {
  char *p = fake_utf8(path);
  json_t *f = extra ? extra : json_object();
  json_object_set_new(f, "layer", json_string(p ? p : ""));
  json_object_set_new(f, "hr", fake_log_hr(hr));
  if (why) json_object_set_new(f, "error", json_string(why));
  json_object_set_new(f, "active", json_integer(FakeHcsActiveLayers()));
  fake_log(step, f);
  free(p);
  return hr;
}

HRESULT WINAPI ActivateLayer(const fake_driver_info *info, PCWSTR id) {
  WCHAR path[MAX_PATH] = L"";
  const char *why = NULL;
  HRESULT hr = layer_path(info, id, path, &why);
  if (hr == S_OK) hr = injected("ActivateLayer");
  if (hr == S_OK) {
    AcquireSRWLockExclusive(&lock);
    if (!find_locked(path)) { /* activating twice is allowed on Windows (refcounted there; one record here) */
      layer *l = calloc(1, sizeof *l);
      if (l) {
        wcscpy(l->path, path);
        l->next = layers;
        layers = l;
      } else {
        hr = E_OUTOFMEMORY;
      }
    }
    ReleaseSRWLockExclusive(&lock);
  }
  return logged("ActivateLayer", path, hr, why, NULL);
}

HRESULT WINAPI PrepareLayer(const fake_driver_info *info, PCWSTR id, const fake_layer_descriptor *d, UINT32 n) {
  WCHAR path[MAX_PATH] = L"";
  const char *why = NULL;
  HRESULT hr = layer_path(info, id, path, &why);
  json_t *parents = json_array();
  for (UINT32 i = 0; hr == S_OK && i < n; i++) {
    if (!d || !d[i].Pathp || !is_dir(d[i].Pathp)) {
      why = "a parent layer folder does not exist";
      hr = FAKE_E_PATH_NOT_FOUND;
      break;
    }
    const WCHAR *base = d[i].Pathp + wcslen(d[i].Pathp);
    while (base > d[i].Pathp && base[-1] != L'\\' && base[-1] != L'/') base--;
    GUID want;
    if (d[i].Flags != 0 || NameToGuid(base, &want) != S_OK || memcmp(&want, &d[i].LayerId, sizeof want) != 0) {
      why = "a parent descriptor's LayerId is not NameToGuid(its folder name), or Flags is not 0";
      hr = E_INVALIDARG;
      break;
    }
    char *u = fake_utf8(d[i].Pathp);
    json_array_append_new(parents, json_string(u ? u : ""));
    free(u);
  }
  if (hr == S_OK) hr = injected("PrepareLayer");
  if (hr == S_OK) {
    AcquireSRWLockExclusive(&lock);
    layer *l = find_locked(path);
    if (!l) why = "the layer is not activated", hr = FAKE_E_ELEMENT_NOT_FOUND;
    else l->prepared = true;
    ReleaseSRWLockExclusive(&lock);
  }
  return logged("PrepareLayer", path, hr, why, json_pack("{s:o}", "parents", parents));
}

HRESULT WINAPI GetLayerMountPath(const fake_driver_info *info, PCWSTR id, SIZE_T *length, PWSTR buffer) {
  WCHAR path[MAX_PATH] = L"", mount[64] = L"";
  const char *why = NULL;
  HRESULT hr = layer_path(info, id, path, &why);
  if (hr == S_OK && !length) why = "length is NULL", hr = E_POINTER;
  if (hr == S_OK) hr = injected("GetLayerMountPath");
  if (hr == S_OK) {
    AcquireSRWLockExclusive(&lock);
    layer *l = find_locked(path);
    if (!l || !l->prepared) why = "the layer is not prepared", hr = FAKE_E_ELEMENT_NOT_FOUND;
    ReleaseSRWLockExclusive(&lock);
  }
  if (hr == S_OK) {
    /* A volume GUID path, stable per layer; without the trailing backslash (containerd adds one). */
    GUID g;
    NameToGuid(path, &g);
    _snwprintf(mount, 64, L"\\\\?\\Volume{%08lx-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x}", g.Data1, g.Data2, g.Data3,
               g.Data4[0], g.Data4[1], g.Data4[2], g.Data4[3], g.Data4[4], g.Data4[5], g.Data4[6], g.Data4[7]);
    mount[63] = 0;
    SIZE_T need = wcslen(mount) + 1;
    if (buffer && *length < need) hr = FAKE_E_INSUFFICIENT_BUFFER;
    else if (buffer) wcscpy(buffer, mount);
    *length = need;
  }
  char *m = fake_utf8(mount);
  HRESULT r = logged("GetLayerMountPath", path, hr, why, json_pack("{s:s,s:b}", "mountPath", m ? m : "", "query", !buffer));
  free(m);
  return r;
}

static HRESULT unprepare_or_deactivate(const char *step, const fake_driver_info *info, PCWSTR id) {
  WCHAR path[MAX_PATH] = L"";
  const char *why = NULL;
  HRESULT hr = layer_path(info, id, path, &why);
  if (hr == S_OK) hr = injected(step);
  bool deactivate = strcmp(step, "DeactivateLayer") == 0;
  if (hr == S_OK) {
    AcquireSRWLockExclusive(&lock);
    layer **pp = &layers;
    while (*pp && _wcsicmp((*pp)->path, path) != 0) pp = &(*pp)->next;
    if (!*pp) {
      why = "the layer is not activated";
      hr = FAKE_E_ELEMENT_NOT_FOUND;
    } else if (!deactivate) {
      if (!(*pp)->prepared) why = "the layer is not prepared", hr = FAKE_E_ELEMENT_NOT_FOUND;
      else (*pp)->prepared = false;
    } else {
      layer *l = *pp;
      *pp = l->next;
      free(l);
    }
    ReleaseSRWLockExclusive(&lock);
  }
  return logged(step, path, hr, why, NULL);
}

HRESULT WINAPI UnprepareLayer(const fake_driver_info *info, PCWSTR id) {
  return unprepare_or_deactivate("UnprepareLayer", info, id);
}

HRESULT WINAPI DeactivateLayer(const fake_driver_info *info, PCWSTR id) {
  return unprepare_or_deactivate("DeactivateLayer", info, id);
}
