#include "hcs_layers.h"

#include <stdlib.h>
#include <string.h>

#include "hcs_err.h"
#include "hcs_wstr.h"

#define PARENTS_OPT "parentLayerPaths="

json_t *hcs_layers_from_mounts(const rt_mount *mounts, size_t n, cs_err *err) {
  if (n == 0) return NULL;
  if (n > 1) {
    cs_err_set(err, CS_INVALID_ARGUMENT, "rootfs: %zu mounts given, a Windows container takes one windows-layer mount", n);
    return NULL;
  }
  const rt_mount *m = &mounts[0];
  if (!m->type || strcmp(m->type, "windows-layer") != 0) {
    cs_err_set(err, CS_INVALID_ARGUMENT, "rootfs: mount type %s is not supported on Windows", m->type ? m->type : "(none)");
    return NULL;
  }
  if (!m->source || !*m->source) {
    cs_err_set(err, CS_INVALID_ARGUMENT, "rootfs: windows-layer mount without a source (the scratch layer folder)");
    return NULL;
  }
  json_t *folders = NULL;
  for (size_t i = 0; i < m->n_options; i++) {
    const char *o = m->options[i];
    if (!o || strncmp(o, PARENTS_OPT, sizeof PARENTS_OPT - 1) != 0) continue; /* "rw"/"ro": nothing to do */
    json_error_t jerr;
    json_decref(folders);
    folders = json_loads(o + sizeof PARENTS_OPT - 1, 0, &jerr);
    bool ok = json_is_array(folders);
    for (size_t k = 0; ok && k < json_array_size(folders); k++) ok = json_is_string(json_array_get(folders, k));
    if (!ok) {
      cs_err_set(err, CS_INVALID_ARGUMENT, "rootfs: option %s: not a JSON array of strings%s%s", PARENTS_OPT,
                 folders ? "" : ": ", folders ? "" : jerr.text);
      json_decref(folders);
      return NULL;
    }
  }
  if (!folders) folders = json_array(); /* a base layer alone: no parents */
  json_array_append_new(folders, json_string(m->source));
  return folders;
}

/* HomeDir and id of a layer folder: its parent folder and its base name (a trailing separator ignored). */
typedef struct layer_name {
  hcs_pwstr home, id;
  hcs_driver_info info;
} layer_name;

static void layer_name_free(layer_name *l) {
  free(l->home);
  free(l->id);
}

/* strndup is POSIX, not C11 (mingw lacks it). */
static char *dup_n(const char *s, size_t n) {
  char *d = malloc(n + 1);
  if (d) {
    memcpy(d, s, n);
    d[n] = '\0';
  }
  return d;
}

static int layer_name_of(const char *folder, layer_name *l, cs_err *err) {
  memset(l, 0, sizeof *l);
  size_t end = strlen(folder);
  while (end > 0 && (folder[end - 1] == '\\' || folder[end - 1] == '/')) end--;
  size_t start = end;
  while (start > 0 && folder[start - 1] != '\\' && folder[start - 1] != '/') start--;
  if (start == 0 || start == end)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "layer %s: not an absolute layer folder path", folder);
  char *home = dup_n(folder, start - 1), *id = dup_n(folder + start, end - start);
  if (!home || !id) {
    free(home);
    free(id);
    return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
  }
  l->home = hcs_utf8_to_wide(home, err);
  l->id = l->home ? hcs_utf8_to_wide(id, err) : NULL;
  free(home);
  free(id);
  if (!l->id) {
    layer_name_free(l);
    return cs_err_wrap(err, "layer %s", folder);
  }
  l->info.Flavour = HCS_DRIVER_FLAVOUR_FILTER;
  l->info.HomeDir = l->home;
  return 0;
}

static int step_err(cs_err *err, const char *step, hcs_hresult hr, const char *folder) {
  hcs_err_set(err, step, hr, NULL);
  return cs_err_wrap(err, "layer %s", folder);
}

/* The parents as PrepareLayer takes them; *wide holds the path strings (freed by the caller). */
static hcs_layer_descriptor *descriptors(const hcs_api *api, const char *const *parents, size_t n, hcs_pwstr **wide,
                                         cs_err *err) {
  hcs_layer_descriptor *d = calloc(n ? n : 1, sizeof *d);
  *wide = calloc(n + 1, sizeof **wide);
  if (!d || !*wide) {
    free(d);
    free(*wide);
    *wide = NULL;
    cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    layer_name l;
    if (layer_name_of(parents[i], &l, err) < 0) goto fail;
    hcs_hresult hr = api->NameToGuid(l.id, &d[i].LayerId);
    layer_name_free(&l);
    if (HCS_FAILED(hr)) {
      step_err(err, "NameToGuid", hr, parents[i]);
      goto fail;
    }
    if (!((*wide)[i] = hcs_utf8_to_wide(parents[i], err))) goto fail;
    d[i].Pathp = (*wide)[i];
  }
  return d;
fail:
  for (size_t i = 0; i < n; i++) free((*wide)[i]);
  free(*wide);
  *wide = NULL;
  free(d);
  return NULL;
}

int hcs_layers_mount(const hcs_api *api, const char *const *folders, size_t n, char **volume, cs_err *err) {
  *volume = NULL;
  if (n < 1) return cs_err_set(err, CS_INVALID_ARGUMENT, "no layer folders");
  const char *scratch = folders[n - 1];
  if (!api->ActivateLayer || !api->PrepareLayer || !api->GetLayerMountPath || !api->UnprepareLayer ||
      !api->DeactivateLayer)
    return cs_err_set(err, CS_UNIMPLEMENTED, "layer %s: vmcompute.dll has no layer functions", scratch);
  layer_name l;
  if (layer_name_of(scratch, &l, err) < 0) return -1;
  hcs_pwstr *wide = NULL;
  hcs_layer_descriptor *d = descriptors(api, folders, n - 1, &wide, err);
  int rc = -1;
  hcs_pwstr path = NULL;
  if (!d) goto out;
  hcs_hresult hr = api->ActivateLayer(&l.info, l.id);
  if (HCS_FAILED(hr)) {
    step_err(err, "ActivateLayer", hr, scratch);
    goto out;
  }
  hr = api->PrepareLayer(&l.info, l.id, d, (hcs_dword)(n - 1));
  if (HCS_FAILED(hr)) {
    step_err(err, "PrepareLayer", hr, scratch);
    goto deactivate;
  }
  size_t len = 0;
  hr = api->GetLayerMountPath(&l.info, l.id, &len, NULL);
  if (!HCS_FAILED(hr) && len > 0 && len < 32768) {
    if (!(path = calloc(len + 1, sizeof *path))) {
      cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
      goto unprepare;
    }
    hr = api->GetLayerMountPath(&l.info, l.id, &len, path);
  }
  if (HCS_FAILED(hr)) {
    step_err(err, "GetLayerMountPath", hr, scratch);
    goto unprepare;
  }
  /* A process-isolated container needs the volume: an empty answer is a failure, not "no path". */
  if (!path || !path[0] || !(*volume = hcs_wide_to_utf8(path, err))) {
    if (!path || !path[0]) cs_err_set(err, CS_INTERNAL, "GetLayerMountPath: no mount path");
    cs_err_wrap(err, "layer %s", scratch);
    goto unprepare;
  }
  size_t vl = strlen(*volume);
  if (vl && (*volume)[vl - 1] != '\\') {
    /* HCS wants the volume root (\\?\Volume{guid}\): GetLayerMountPath answers it without the trailing
     * backslash (containerd's mount_windows.go adds it the same way). */
    char *v = realloc(*volume, vl + 2);
    if (!v) {
      free(*volume);
      *volume = NULL;
      cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
      goto unprepare;
    }
    v[vl] = '\\';
    v[vl + 1] = '\0';
    *volume = v;
  }
  rc = 0;
  goto out;
unprepare:
  api->UnprepareLayer(&l.info, l.id);
deactivate:
  api->DeactivateLayer(&l.info, l.id);
out:
  free(path);
  for (size_t i = 0; wide && i < n - 1; i++) free(wide[i]);
  free(wide);
  free(d);
  layer_name_free(&l);
  return rc;
}

int hcs_layers_unmount(const hcs_api *api, const char *scratch, cs_err *err) {
  layer_name l;
  if (layer_name_of(scratch, &l, err) < 0) return -1;
  /* As hcsshim: a layer that could not be unprepared stays activated, so a retry runs both steps again. */
  int rc = 0;
  hcs_hresult hr = api->UnprepareLayer(&l.info, l.id);
  if (HCS_FAILED(hr)) rc = step_err(err, "UnprepareLayer", hr, scratch);
  else if (HCS_FAILED(hr = api->DeactivateLayer(&l.info, l.id))) rc = step_err(err, "DeactivateLayer", hr, scratch);
  layer_name_free(&l);
  return rc;
}
