/* The Windows backend of the shim: runtime/hcs over the real computecore.dll / vmcompute.dll (hcs_dll.c)
 * and computenetwork.dll (net_hns_dll.c), Stats as runhcs's containerd.runhcs.stats.v1.Statistics. */
#include <uv.h> /* before windows.h */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

#include "cs_log.h"
#include "hcs_call.h"
#include "hcs_dll.h"
#include "hcs_err.h"
#include "hcs_wstr.h"
#include "net_hns_dll.h"
#include "rt_hcs.h"
#include "shim_backend.h"
#include "stats_windows.h"

/* Bound on the dead-shim cleanup's terminate: containerd waits for `delete`. */
#define DELETE_TIMEOUT_MS 30000

struct shim_platform {
  bool loaded;
  hcs_api hcs;
  net_hns_api hns;
  bool have_hns;
};

shim_platform *shim_platform_new(cs_err *err) {
  shim_platform *pl = calloc(1, sizeof *pl);
  if (!pl) cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
  return pl;
}

void shim_platform_free(shim_platform *pl) {
  if (!pl) return;
  if (pl->loaded) hcs_dll_unload(&pl->hcs);
  if (pl->have_hns) net_hns_dll_unload(&pl->hns);
  free(pl);
}

/* Loaded at the first Create, not when the shim starts: a host without the Containers feature still gets
 * a shim that answers, and a clear error naming the DLL. */
static int platform_load(shim_platform *pl, cs_err *err) {
  if (pl->loaded) return 0;
  if (hcs_dll_load(&pl->hcs, err) < 0) return -1;
  pl->loaded = true;
  cs_err herr;
  if (net_hns_dll_load(&pl->hns, &herr) == 0) pl->have_hns = true;
  else CS_WARN("HNS unavailable, endpoints are neither attached nor counted: %s", herr.msg);
  return 0;
}

/* RtlGetVersion tells the truth whatever the manifest says (GetVersionEx lies to unmanifested programs). */
typedef LONG(WINAPI *rtl_get_version_fn)(OSVERSIONINFOEXW *);

/* The host facts the Windows rules need, as the OS reports them (Wine's edition and build come from its
 * registry: the tests' prefix is set to a server edition, test/windows/go/server-edition.reg). */
static void host_facts(win_host *h) {
  memset(h, 0, sizeof *h);
  SYSTEM_INFO si;
  GetSystemInfo(&si);
  h->ncpu = si.dwNumberOfProcessors;
  OSVERSIONINFOEXW v;
  memset(&v, 0, sizeof v);
  v.dwOSVersionInfoSize = sizeof v;
  HMODULE nt = GetModuleHandleW(L"ntdll.dll");
  rtl_get_version_fn fn = nt ? (rtl_get_version_fn)(void (*)(void))GetProcAddress(nt, "RtlGetVersion") : NULL;
  if (fn && fn(&v) == 0) {
    h->build = v.dwBuildNumber;
    h->client = v.wProductType == VER_NT_WORKSTATION;
  }
}

rt_backend *shim_backend_new(void *data, uv_loop_t *loop, const task_runtime_opts *o, const rt_events *ev,
                             cs_err *err) {
  (void)o; /* runc's options (binary, root) mean nothing to HCS */
  shim_platform *pl = data;
  if (platform_load(pl, err) < 0) return NULL;
  rt_hcs_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.hcs = &pl->hcs;
  cfg.hns = pl->have_hns ? &pl->hns : NULL;
  host_facts(&cfg.host);
  /* As runhcs: process isolation unless the spec asks for Hyper-V (windows.hyperv). */
  cfg.default_isolation = WIN_ISOLATION_PROCESS;
  rt_backend *be = NULL;
  if (rt_hcs_new(loop, &cfg, ev, &be, err) < 0) return NULL;
  return be;
}

/* The dead shim's compute system is unknown to this fresh backend: open it by id and terminate it (runhcs
 * does the same); the backend's delete that follows then finds nothing, which is what it should find. */
int shim_backend_adopt(shim_platform *pl, rt_backend *be, const char *id, const char *bundle, int pid, cs_err *err) {
  (void)be, (void)bundle, (void)pid;
  if (!pl->loaded) return cs_err_set(err, CS_FAILED_PRECONDITION, "HCS is not loaded");
  if (!pl->hcs.HcsOpenComputeSystem)
    return cs_err_set(err, CS_UNIMPLEMENTED, "computecore.dll has no HcsOpenComputeSystem: %s not terminated", id);
  hcs_pwstr wid = hcs_utf8_to_wide(id, err);
  if (!wid) return -1;
  hcs_system sys = NULL;
  hcs_hresult hr = pl->hcs.HcsOpenComputeSystem(wid, GENERIC_ALL, &sys);
  free(wid);
  if (HCS_FAILED(hr)) {
    if (hcs_hr_is(hr, HCS_E_SYSTEM_NOT_FOUND)) return 0; /* nothing left */
    return hcs_err_set(err, "HcsOpenComputeSystem", hr, id);
  }
  int rc = hcs_call_system_op(&pl->hcs, pl->hcs.HcsTerminateComputeSystem, "HcsTerminateComputeSystem", sys, NULL,
                              DELETE_TIMEOUT_MS, err);
  pl->hcs.HcsCloseComputeSystem(sys);
  if (rc < 0 && err->code == CS_NOT_FOUND) return 0; /* it stopped meanwhile */
  return rc;
}

int shim_backend_dead_exit_status(void) { return RT_HCS_EXIT_UNKNOWN; }

int shim_encode_stats(const rt_sample *s, uint8_t **out, size_t *len, const char **type_url, cs_err *err) {
  *type_url = TASK_STATS_WINDOWS_TYPE_URL;
  return task_stats_encode_windows(s, out, len, err);
}

/* runc's options do not apply; nothing to keep for `delete`, which needs only the id. */
int shim_backend_save_opts(const char *bundle, const task_runtime_opts *opts, cs_err *err) {
  (void)bundle, (void)opts, (void)err;
  return 0;
}

int shim_backend_load_opts(const char *bundle, char *binary, size_t blen, char *root, size_t rlen) {
  (void)bundle;
  if (blen) binary[0] = '\0';
  if (rlen) root[0] = '\0';
  return 0;
}
