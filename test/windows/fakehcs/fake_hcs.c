/* computecore.dll, fake: operations and compute systems. Processes are in fake_hcs_proc.c. The definitions
 * below include the SDK's computecore.h, so the compiler checks each export against the documented prototype. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_hcs_int.h"
#include "fake_schema.h"

fake_hcs fake_g;

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved) {
  (void)reserved;
  if (reason == DLL_PROCESS_ATTACH) {
    InitializeCriticalSection(&fake_g.lock);
    InitializeCriticalSection(&fake_g.spawn);
    InitializeConditionVariable(&fake_g.cv);
    /* Waiter threads run code of this DLL for as long as processes live; FreeLibrary must not unmap it under
     * them (the real computecore.dll is an RPC client with nothing running in-process). */
    HMODULE self;
    GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_PIN, (LPCWSTR)(void *)inst,
                       &self);
  }
  return TRUE;
}

/* ------------------------------------------------------------------ operations */

#define FAKE_OP_MAGIC 0x504F4346u

struct fake_op {
  unsigned magic;
  HANDLE done; /* manual-reset: signalled once the call completed */
  bool running, completed;
  bool orphan; /* closed while its call still ran (an asynchronous query): freed when the call completes */
  HRESULT hr;
  char *result;
  HCS_PROCESS_INFORMATION pi;
  const void *ctx;
  HCS_OPERATION_COMPLETION cb;
  fake_op *next;
};

static fake_op *op_find(HCS_OPERATION h) {
  for (fake_op *o = fake_g.ops; o; o = o->next)
    if ((HCS_OPERATION)o == h && o->magic == FAKE_OP_MAGIC) return o;
  return NULL;
}

HCS_OPERATION WINAPI HcsCreateOperation(const void *context, HCS_OPERATION_COMPLETION callback) {
  fake_op *o = calloc(1, sizeof *o);
  if (!o) return NULL;
  if (!(o->done = CreateEventW(NULL, TRUE, FALSE, NULL))) {
    free(o);
    return NULL;
  }
  o->magic = FAKE_OP_MAGIC;
  o->ctx = context;
  o->cb = callback;
  EnterCriticalSection(&fake_g.lock);
  o->next = fake_g.ops;
  fake_g.ops = o;
  LeaveCriticalSection(&fake_g.lock);
  return (HCS_OPERATION)o;
}

void WINAPI HcsCloseOperation(HCS_OPERATION operation) {
  EnterCriticalSection(&fake_g.lock);
  fake_op *o = NULL;
  for (fake_op **pp = &fake_g.ops; *pp; pp = &(*pp)->next)
    if ((HCS_OPERATION)*pp == operation) {
      o = *pp;
      *pp = o->next;
      break;
    }
  if (o && o->running && !o->completed) {
    /* HCS cancels the tracking, never the caller: no completion callback, and the call's end frees it. */
    o->orphan = true;
    o = NULL;
  }
  LeaveCriticalSection(&fake_g.lock);
  if (!o) return;
  o->magic = 0;
  CloseHandle(o->done);
  free(o->result);
  free(o);
}

fake_op *fake_op_begin(HCS_OPERATION h, HRESULT *hr) {
  EnterCriticalSection(&fake_g.lock);
  fake_op *o = op_find(h);
  /* One call at a time per operation; a completed one may be reused. */
  if (o && o->running && !o->completed) o = NULL;
  if (o) {
    o->running = true;
    o->completed = false;
    o->hr = S_OK;
    free(o->result);
    o->result = NULL;
    memset(&o->pi, 0, sizeof o->pi);
    ResetEvent(o->done);
  }
  LeaveCriticalSection(&fake_g.lock);
  *hr = o ? S_OK : E_INVALIDARG;
  return o;
}

typedef struct op_notify {
  HCS_OPERATION_COMPLETION cb;
  fake_op *op;
  const void *ctx;
} op_notify;

static void CALLBACK op_notify_run(PTP_CALLBACK_INSTANCE inst, void *arg) {
  (void)inst;
  op_notify *n = arg;
  n->cb((HCS_OPERATION)n->op, (void *)n->ctx);
  free(n);
}

void fake_op_complete(fake_op *o, HRESULT hr, const char *result, const HCS_PROCESS_INFORMATION *pi) {
  EnterCriticalSection(&fake_g.lock);
  if (o->orphan) {
    LeaveCriticalSection(&fake_g.lock);
    o->magic = 0;
    CloseHandle(o->done);
    free(o->result);
    free(o);
    return;
  }
  o->hr = hr;
  o->result = result ? strdup(result) : NULL;
  if (pi) o->pi = *pi;
  o->completed = true;
  HCS_OPERATION_COMPLETION cb = o->cb;
  const void *ctx = o->ctx;
  SetEvent(o->done);
  LeaveCriticalSection(&fake_g.lock);
  /* HCS calls completion callbacks on its own threads, never inside the call that started the operation. */
  op_notify *n = cb ? malloc(sizeof *n) : NULL;
  if (n) {
    n->cb = cb;
    n->op = o;
    n->ctx = ctx;
    if (!TrySubmitThreadpoolCallback(op_notify_run, n, NULL)) free(n);
  }
}

HRESULT fake_op_fail(fake_op *op, const char *call, HRESULT hr, const char *fmt, ...) {
  char msg[900];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  char *doc = fake_error_doc(hr, "%s", msg);
  fake_log(call, json_pack("{s:o,s:s}", "hr", fake_log_hr(hr), "error", msg));
  fake_op_complete(op, hr, doc, NULL);
  free(doc);
  return S_OK;
}

static HRESULT wait_result(HCS_OPERATION operation, DWORD timeout, HCS_PROCESS_INFORMATION *pi, PWSTR *doc) {
  if (doc) *doc = NULL;
  EnterCriticalSection(&fake_g.lock);
  fake_op *o = op_find(operation);
  HANDLE ev = o && o->running ? o->done : NULL;
  LeaveCriticalSection(&fake_g.lock);
  if (!o) return E_INVALIDARG;
  if (!ev) return FAKE_HCS_E_INVALID_STATE; /* no call was started on it */
  DWORD w = WaitForSingleObject(ev, timeout);
  if (w == WAIT_TIMEOUT) return FAKE_HCS_E_OPERATION_PENDING;
  if (w != WAIT_OBJECT_0) return HRESULT_FROM_WIN32(GetLastError());
  EnterCriticalSection(&fake_g.lock);
  HRESULT hr = o->hr;
  if (pi) *pi = o->pi;
  /* The std handles go to the first caller who asks; they are the caller's to close. */
  o->pi.StdInput = o->pi.StdOutput = o->pi.StdError = NULL;
  if (doc && o->result) *doc = fake_wide_local(o->result);
  LeaveCriticalSection(&fake_g.lock);
  return hr;
}

HRESULT WINAPI HcsWaitForOperationResult(HCS_OPERATION operation, DWORD timeoutMs, PWSTR *resultDocument) {
  return wait_result(operation, timeoutMs, NULL, resultDocument);
}

HRESULT WINAPI HcsWaitForOperationResultAndProcessInfo(HCS_OPERATION operation, DWORD timeoutMs,
                                                       HCS_PROCESS_INFORMATION *processInformation,
                                                       PWSTR *resultDocument) {
  if (processInformation) memset(processInformation, 0, sizeof *processInformation);
  return wait_result(operation, timeoutMs, processInformation, resultDocument);
}

HRESULT WINAPI HcsGetOperationResult(HCS_OPERATION operation, PWSTR *resultDocument) {
  EnterCriticalSection(&fake_g.lock);
  fake_op *o = op_find(operation);
  bool done = o && o->completed;
  LeaveCriticalSection(&fake_g.lock);
  if (!o) return E_INVALIDARG;
  if (!done) {
    if (resultDocument) *resultDocument = NULL;
    return FAKE_HCS_E_OPERATION_PENDING;
  }
  return wait_result(operation, 0, NULL, resultDocument);
}

/* ------------------------------------------------------------------ handles and events */

static fake_handle *find_handle(void *h, bool proc) {
  for (fake_sys *s = fake_g.systems; s; s = s->next) {
    if (!proc) {
      for (fake_handle *x = s->handles; x; x = x->next)
        if (x == h && !x->closing) return x;
      continue;
    }
    for (fake_proc *p = s->procs; p; p = p->next)
      for (fake_handle *x = p->handles; x; x = x->next)
        if (x == h && !x->closing) return x;
  }
  return NULL;
}

fake_handle *fake_sys_handle(HCS_SYSTEM h) { return find_handle(h, false); }
fake_handle *fake_proc_handle(HCS_PROCESS h) { return find_handle(h, true); }

fake_handle *fake_handle_new(fake_sys *s, fake_proc *p) {
  fake_handle *h = calloc(1, sizeof *h);
  if (!h) return NULL;
  h->magic = p ? FAKE_PROC_MAGIC : FAKE_SYS_MAGIC;
  h->sys = s;
  h->proc = p;
  fake_handle **list = p ? &p->handles : &s->handles;
  h->next = *list;
  *list = h;
  s->refs++;
  return h;
}

static void handle_unlink(fake_handle *h) {
  fake_handle **list = h->proc ? &h->proc->handles : &h->sys->handles;
  for (fake_handle **pp = list; *pp; pp = &(*pp)->next)
    if (*pp == h) {
      *pp = h->next;
      break;
    }
}

static void sys_free(fake_sys *s) {
  for (fake_sys **pp = &fake_g.systems; *pp; pp = &(*pp)->next)
    if (*pp == s) {
      *pp = s->next;
      break;
    }
  for (fake_proc *p = s->procs, *n; p; p = n) {
    n = p->next;
    CloseHandle(p->h);
    if (p->waiter) CloseHandle(p->waiter);
    free(p->image);
    free(p);
  }
  if (s->job) CloseHandle(s->job);
  json_decref(s->attached);
  free(s->id);
  free(s->owner);
  free(s->host_id);
  free(s);
}

void fake_sys_unref(fake_sys *s) {
  if (--s->refs == 0) sys_free(s);
}

static int sys_handle_count(fake_sys *s) {
  int n = 0;
  for (fake_handle *h = s->handles; h; h = h->next)
    if (!h->closing) n++;
  return n;
}

void fake_handle_close(fake_handle *h) {
  EnterCriticalSection(&fake_g.lock);
  h->closing = true;
  if (h->busy && h->busy_tid == GetCurrentThreadId()) {
    h->orphan = true; /* closed from its own callback: the deliverer frees it when the callback returns */
    LeaveCriticalSection(&fake_g.lock);
    return;
  }
  while (h->busy) SleepConditionVariableCS(&fake_g.cv, &fake_g.lock, INFINITE);
  fake_sys *s = h->sys;
  bool is_sys = h->proc == NULL;
  handle_unlink(h);
  h->magic = 0;
  free(h);
  /* ShouldTerminateOnLastHandleClosed: the caller went away, so does the container. */
  if (is_sys && s->terminate_on_close && s->state != SYS_STOPPED && sys_handle_count(s) == 0) {
    fake_log("LastHandleClosed", json_pack("{s:s}", "system", s->id));
    fake_sys_stop(s, true, 1);
  }
  fake_sys_unref(s);
  LeaveCriticalSection(&fake_g.lock);
}

int fake_deliver(fake_handle **list, HCS_EVENT_TYPE type, const char *data) {
  int calls = 0;
  WCHAR *wdata = fake_wide(data);
  EnterCriticalSection(&fake_g.lock);
  fake_handle *h = *list;
  while (h) {
    if (h->closing || !h->cb) {
      h = h->next;
      continue;
    }
    h->busy++;
    h->busy_tid = GetCurrentThreadId();
    HCS_EVENT_CALLBACK cb = h->cb;
    const void *ctx = h->ctx;
    LeaveCriticalSection(&fake_g.lock);
    HCS_EVENT ev = {type, wdata, NULL};
    cb(&ev, (void *)ctx);
    calls++;
    EnterCriticalSection(&fake_g.lock);
    fake_handle *next = h->next;
    h->busy--;
    if (h->orphan && !h->busy) {
      fake_sys *s = h->sys;
      handle_unlink(h);
      free(h);
      fake_sys_unref(s); /* not the last ref: the deliverer's caller holds one */
    }
    WakeAllConditionVariable(&fake_g.cv);
    h = next;
  }
  LeaveCriticalSection(&fake_g.lock);
  free(wdata);
  return calls;
}

/* ------------------------------------------------------------------ systems */

static int sys_handle_count(fake_sys *s);

/* A stopped system whose last handle is gone is no longer there, even while its exit is still being delivered. */
static fake_sys *sys_by_id(const char *id) {
  for (fake_sys *s = fake_g.systems; s; s = s->next)
    if (_stricmp(s->id, id) == 0 && !(s->state == SYS_STOPPED && sys_handle_count(s) == 0)) return s;
  return NULL;
}

static const char *const state_names[] = {"Created", "Running", "Paused", "Stopped"};

/* What HCS checks of a configuration beyond the schema: a version it speaks, one kind of system, storage. */
static HRESULT check_config(json_t *doc, bool *hyperv, char *err, size_t n) {
  json_t *v = json_object_get(doc, "SchemaVersion");
  if (!json_is_object(v) || json_integer_value(json_object_get(v, "Major")) != 2) {
    snprintf(err, n, "SchemaVersion: want Major 2 (schema 2.x)");
    return FAKE_HCS_E_INVALID_JSON;
  }
  json_t *ctr = json_object_get(doc, "Container"), *vm = json_object_get(doc, "VirtualMachine");
  json_t *hosted = json_object_get(doc, "HostedSystem");
  int kinds = (ctr != NULL) + (vm != NULL) + (hosted != NULL);
  if (kinds != 1) {
    snprintf(err, n, "want exactly one of Container, VirtualMachine, HostedSystem (got %d)", kinds);
    return FAKE_HCS_E_INVALID_JSON;
  }
  *hyperv = vm != NULL;
  if (hosted) {
    const char *host = json_string_value(json_object_get(doc, "HostingSystemId"));
    if (!host || !*host) {
      snprintf(err, n, "HostedSystem needs HostingSystemId");
      return FAKE_HCS_E_INVALID_JSON;
    }
    fake_sys *h = sys_by_id(host);
    if (!h) {
      snprintf(err, n, "HostingSystemId %s: no such compute system", host);
      return FAKE_HCS_E_SYSTEM_NOT_FOUND;
    }
    if (!h->hyperv || h->state != SYS_RUNNING) {
      snprintf(err, n, "HostingSystemId %s: not a running virtual machine", host);
      return FAKE_HCS_E_INVALID_STATE;
    }
    ctr = json_object_get(hosted, "Container");
  }
  if (ctr) {
    json_t *st = json_object_get(ctr, "Storage");
    if (!json_array_size(json_object_get(st, "Layers"))) {
      snprintf(err, n, "Container.Storage.Layers: a container needs at least one layer");
      return E_INVALIDARG;
    }
    const char *path = json_string_value(json_object_get(st, "Path"));
    if (!path || !*path) {
      snprintf(err, n, "Container.Storage.Path: the scratch path is required");
      return E_INVALIDARG;
    }
    if (hosted) {
      /* Inside the VM the root must exist: the scratch mapped there with the layers combined over it. */
      char key[600];
      snprintf(key, sizeof key, "layers:%s", path);
      if (!json_object_get(sys_by_id(json_string_value(json_object_get(doc, "HostingSystemId")))->attached, key)) {
        snprintf(err, n, "HostedSystem.Container.Storage.Path %s: no combined layers there in the utility VM", path);
        return FAKE_E_ELEMENT_NOT_FOUND;
      }
    }
  }
  return S_OK;
}

HRESULT WINAPI HcsCreateComputeSystem(PCWSTR id, PCWSTR configuration, HCS_OPERATION operation,
                                      const SECURITY_DESCRIPTOR *securityDescriptor, HCS_SYSTEM *computeSystem) {
  static const char call[] = "HcsCreateComputeSystem";
  (void)securityDescriptor;
  if (!computeSystem) return E_POINTER;
  *computeSystem = NULL;
  char *uid = fake_utf8(id), *cfg = fake_utf8(configuration);
  HRESULT hr;
  fake_op *op = NULL;
  if (!uid || !*uid || !cfg) {
    hr = E_INVALIDARG;
    fake_log(call, json_pack("{s:o,s:s}", "hr", fake_log_hr(hr), "error", "id and configuration are required"));
    goto out;
  }
  if (!(op = fake_op_begin(operation, &hr))) goto out;
  fake_log(call, json_pack("{s:s,s:o}", "id", uid, "doc", fake_log_doc(cfg)));
  json_error_t jerr;
  json_t *doc = json_loads(cfg, JSON_REJECT_DUPLICATES, &jerr);
  char err[700];
  if (!doc) {
    hr = fake_op_fail(op, call, FAKE_HCS_E_INVALID_JSON, "%s: line %d: %s", uid, jerr.line, jerr.text);
    goto out;
  }
  bool hyperv = false;
  HRESULT bad = fs_check(doc, &FS_COMPUTE_SYSTEM, err, sizeof err) < 0 ? FAKE_HCS_E_INVALID_JSON : S_OK;
  EnterCriticalSection(&fake_g.lock);
  if (bad == S_OK) bad = check_config(doc, &hyperv, err, sizeof err);
  if (bad == S_OK) bad = fake_injected("HcsCreateComputeSystem", uid, cfg, err, sizeof err);
  if (bad == S_OK && sys_by_id(uid)) {
    bad = FAKE_HCS_E_SYSTEM_ALREADY_EXISTS;
    snprintf(err, sizeof err, "a compute system with id %s exists", uid);
  }
  fake_sys *s = bad == S_OK ? calloc(1, sizeof *s) : NULL;
  if (bad == S_OK && !s) bad = E_OUTOFMEMORY;
  if (bad != S_OK) {
    LeaveCriticalSection(&fake_g.lock);
    json_decref(doc);
    hr = fake_op_fail(op, call, bad, "%s: %s", uid, err);
    goto out;
  }
  s->id = uid;
  uid = NULL;
  const char *owner = json_string_value(json_object_get(doc, "Owner"));
  s->owner = strdup(owner ? owner : "");
  s->hyperv = hyperv;
  const char *host = json_string_value(json_object_get(doc, "HostingSystemId"));
  s->host_id = host ? strdup(host) : NULL;
  s->terminate_on_close = json_is_true(json_object_get(doc, "ShouldTerminateOnLastHandleClosed"));
  s->memory_mb = (unsigned long long)json_integer_value(
      json_object_get(json_object_get(json_object_get(doc, "Container"), "Memory"), "SizeInMB"));
  s->state = SYS_CREATED;
  GetSystemTimeAsFileTime(&s->created);
  /* A job per system, killed with its last handle: what ends the processes if the caller dies. */
  s->job = CreateJobObjectW(NULL, NULL);
  if (s->job) {
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION li;
    memset(&li, 0, sizeof li);
    li.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    SetInformationJobObject(s->job, JobObjectExtendedLimitInformation, &li, sizeof li);
  }
  s->refs = 1; /* the registry, until it stops */
  s->next = fake_g.systems;
  fake_g.systems = s;
  fake_handle *h = fake_handle_new(s, NULL);
  *computeSystem = (HCS_SYSTEM)h;
  LeaveCriticalSection(&fake_g.lock);
  json_decref(doc);
  fake_op_complete(op, S_OK, NULL, NULL);
  hr = S_OK;
out:
  free(uid);
  free(cfg);
  return hr;
}

HRESULT WINAPI HcsOpenComputeSystem(PCWSTR id, DWORD requestedAccess, HCS_SYSTEM *computeSystem) {
  (void)requestedAccess;
  if (!computeSystem) return E_POINTER;
  *computeSystem = NULL;
  char *uid = fake_utf8(id);
  if (!uid) return E_INVALIDARG;
  EnterCriticalSection(&fake_g.lock);
  fake_sys *s = sys_by_id(uid);
  fake_handle *h = s ? fake_handle_new(s, NULL) : NULL;
  LeaveCriticalSection(&fake_g.lock);
  HRESULT hr = h ? S_OK : s ? E_OUTOFMEMORY : FAKE_HCS_E_SYSTEM_NOT_FOUND;
  fake_log("HcsOpenComputeSystem", json_pack("{s:s,s:o}", "id", uid, "hr", fake_log_hr(hr)));
  free(uid);
  *computeSystem = (HCS_SYSTEM)h;
  return hr;
}

void WINAPI HcsCloseComputeSystem(HCS_SYSTEM computeSystem) {
  EnterCriticalSection(&fake_g.lock);
  fake_handle *h = fake_sys_handle(computeSystem);
  char *id = h ? strdup(h->sys->id) : NULL;
  LeaveCriticalSection(&fake_g.lock);
  if (h) fake_handle_close(h);
  /* What is left in this process once the handle is gone: a test reads it after a failed Create or a Delete. */
  EnterCriticalSection(&fake_g.lock);
  json_t *census = fake_census();
  LeaveCriticalSection(&fake_g.lock);
  fake_log("HcsCloseComputeSystem",
           json_pack("{s:s,s:b,s:o}", "system", id ? id : "", "handle", h != NULL, "census", census));
  free(id);
}

HRESULT WINAPI HcsSetComputeSystemCallback(HCS_SYSTEM computeSystem, HCS_EVENT_OPTIONS callbackOptions,
                                           const void *context, HCS_EVENT_CALLBACK callback) {
  (void)callbackOptions;
  EnterCriticalSection(&fake_g.lock);
  fake_handle *h = fake_sys_handle(computeSystem);
  char *id = h ? strdup(h->sys->id) : NULL;
  if (h) {
    h->cb = callback;
    h->ctx = context;
  }
  LeaveCriticalSection(&fake_g.lock);
  fake_log("HcsSetComputeSystemCallback", json_pack("{s:s,s:b,s:o}", "system", id ? id : "", "callback",
                                                    callback != NULL, "hr", fake_log_hr(h ? S_OK : E_HANDLE)));
  free(id);
  return h ? S_OK : E_HANDLE;
}

/* Runs `fn` on the system of a live handle, under the lock, and completes the operation with its result. */
typedef HRESULT (*sys_fn)(fake_sys *s, const char *options, char **result, char *err, size_t n);

/* One call on a system: what runs it, now or on a thread-pool thread. */
typedef struct sys_job {
  const char *call;
  fake_sys *s;     /* referenced */
  fake_op *op;
  char *opts;
  sys_fn fn;
  DWORD hold_ms;   /* a held query (CSHIM_FAKEHCS_HANG_STATS): completes this much later */
} sys_job;

static void sys_job_run(sys_job *j) {
  char err[700] = "", *result = NULL, *id = NULL;
  EnterCriticalSection(&fake_g.lock);
  id = strdup(j->s->id);
  HRESULT hr = j->fn(j->s, j->opts, &result, err, sizeof err);
  LeaveCriticalSection(&fake_g.lock);
  if (FAILED(hr)) {
    fake_op_fail(j->op, j->call, hr, "%s: %s", id ? id : "", err);
  } else {
    EnterCriticalSection(&fake_g.lock);
    json_t *census = fake_census();
    LeaveCriticalSection(&fake_g.lock);
    fake_log(j->call, json_pack("{s:s,s:o,s:o,s:o,s:b,s:o}", "system", id ? id : "", "options", fake_log_doc(j->opts),
                                "hr", fake_log_hr(hr), "result", fake_log_doc(result), "held", j->hold_ms != 0,
                                "census", census));
    fake_op_complete(j->op, hr, result, NULL);
  }
  EnterCriticalSection(&fake_g.lock);
  fake_sys_unref(j->s);
  LeaveCriticalSection(&fake_g.lock);
  free(id);
  free(result);
  free(j->opts);
  free(j);
}

static void CALLBACK sys_job_thread(PTP_CALLBACK_INSTANCE inst, void *arg) {
  sys_job *j = arg;
  if (j->hold_ms) {
    CallbackMayRunLong(inst);
    /* The hang itself (what a stuck HCS query looks like to the caller), not synchronization. */
    Sleep(j->hold_ms);
  }
  sys_job_run(j);
}

/* CSHIM_FAKEHCS_HANG_STATS: comma-separated system ids whose Statistics queries are held back for
 * CSHIM_FAKEHCS_HANG_MS (default 10 minutes); read at every call, from the process environment. */
static DWORD hold_for(const char *id, const char *opts) {
  char ids[1024], ms[32];
  DWORD n = GetEnvironmentVariableA("CSHIM_FAKEHCS_HANG_STATS", ids, sizeof ids);
  if (!n || n >= sizeof ids || !opts || !strstr(opts, "Statistics")) return 0;
  bool hit = false;
  for (char *save = NULL, *t = strtok_r(ids, ",", &save); t && !hit; t = strtok_r(NULL, ",", &save))
    hit = strcmp(t, id) == 0;
  if (!hit) return 0;
  n = GetEnvironmentVariableA("CSHIM_FAKEHCS_HANG_MS", ms, sizeof ms);
  DWORD v = n && n < sizeof ms ? (DWORD)strtoul(ms, NULL, 10) : 0;
  return v ? v : 600000;
}

/* async: run on a thread-pool thread and return at once, as HCS does: the completion (a callback or a wait)
 * comes later. */
static HRESULT sys_call_ex(const char *call, HCS_SYSTEM system, HCS_OPERATION operation, PCWSTR options, sys_fn fn,
                           bool async) {
  HRESULT hr;
  char *opts = fake_utf8(options);
  if (options && !opts) return E_INVALIDARG;
  /* A reference keeps the system while the lock is dropped, even if the handle is closed meanwhile. */
  EnterCriticalSection(&fake_g.lock);
  fake_handle *h = fake_sys_handle(system);
  fake_sys *s = h ? h->sys : NULL;
  if (s) s->refs++;
  char *id = s ? strdup(s->id) : NULL;
  LeaveCriticalSection(&fake_g.lock);
  if (!s) {
    fake_log(call, json_pack("{s:o,s:s}", "hr", fake_log_hr(E_HANDLE), "error", "not a live HCS_SYSTEM handle"));
    free(opts);
    return E_HANDLE;
  }
  fake_op *op = fake_op_begin(operation, &hr);
  sys_job *j = op ? calloc(1, sizeof *j) : NULL;
  if (j) {
    j->call = call;
    j->s = s;
    j->op = op;
    j->opts = opts;
    j->fn = fn;
    j->hold_ms = async && id ? hold_for(id, opts) : 0;
    free(id);
    if (!async || !TrySubmitThreadpoolCallback(sys_job_thread, j, NULL)) sys_job_run(j);
    return S_OK;
  }
  if (op) fake_op_complete(op, E_OUTOFMEMORY, NULL, NULL);
  EnterCriticalSection(&fake_g.lock);
  fake_sys_unref(s);
  LeaveCriticalSection(&fake_g.lock);
  free(id);
  free(opts);
  return op ? S_OK : hr;
}

static HRESULT sys_call(const char *call, HCS_SYSTEM system, HCS_OPERATION operation, PCWSTR options, sys_fn fn) {
  return sys_call_ex(call, system, operation, options, fn, false);
}

static HRESULT do_start(fake_sys *s, const char *o, char **r, char *err, size_t n) {
  (void)r;
  HRESULT hr = fake_injected("HcsStartComputeSystem", s->id, o, err, n);
  if (hr != S_OK) return hr;
  if (s->state != SYS_CREATED) {
    snprintf(err, n, "cannot start: the system is %s", state_names[s->state]);
    return FAKE_HCS_E_INVALID_STATE;
  }
  s->state = SYS_RUNNING;
  GetSystemTimeAsFileTime(&s->started);
  return S_OK;
}

static HRESULT do_stop(fake_sys *s, const char *o, bool forced, char *err, size_t n) {
  (void)o;
  if (s->state == SYS_STOPPED) {
    snprintf(err, n, "the system is already stopped");
    return FAKE_HCS_E_SYSTEM_ALREADY_STOPPED;
  }
  /* Shutdown: what a console process's default handler does on CTRL_SHUTDOWN_EVENT, ExitProcess with
   * STATUS_CONTROL_C_EXIT. Terminate: TerminateProcess(1). */
  fake_sys_stop(s, forced, forced ? 1 : 0xC000013A);
  return S_OK;
}

static HRESULT do_shutdown(fake_sys *s, const char *o, char **r, char *err, size_t n) {
  (void)r;
  return do_stop(s, o, false, err, n);
}

static HRESULT do_terminate(fake_sys *s, const char *o, char **r, char *err, size_t n) {
  (void)r;
  return do_stop(s, o, true, err, n);
}

static HRESULT do_pause(fake_sys *s, const char *o, char **r, char *err, size_t n) {
  (void)o;
  (void)r;
  if (!s->hyperv) {
    snprintf(err, n, "pause is supported for Hyper-V isolated systems only");
    return FAKE_E_NOT_SUPPORTED;
  }
  if (s->state != SYS_RUNNING) {
    snprintf(err, n, "cannot pause: the system is %s", state_names[s->state]);
    return FAKE_HCS_E_INVALID_STATE;
  }
  s->state = SYS_PAUSED;
  return S_OK;
}

static HRESULT do_resume(fake_sys *s, const char *o, char **r, char *err, size_t n) {
  (void)o;
  (void)r;
  if (s->state != SYS_PAUSED) {
    snprintf(err, n, "cannot resume: the system is %s", state_names[s->state]);
    return FAKE_HCS_E_INVALID_STATE;
  }
  s->state = SYS_RUNNING;
  return S_OK;
}

static HRESULT do_properties(fake_sys *s, const char *o, char **r, char *err, size_t n) {
  json_t *q = NULL;
  if (o) {
    json_error_t jerr;
    if (!(q = json_loads(o, JSON_REJECT_DUPLICATES, &jerr))) {
      snprintf(err, n, "property query: line %d: %s", jerr.line, jerr.text);
      return FAKE_HCS_E_INVALID_JSON;
    }
    if (fs_check(q, &FS_PROPERTY_QUERY, err, n) < 0) {
      json_decref(q);
      return FAKE_HCS_E_INVALID_JSON;
    }
  }
  HRESULT hr = S_OK;
  *r = fake_sys_properties(s, q, &hr, err, n);
  json_decref(q);
  return hr;
}

static HRESULT do_modify(fake_sys *s, const char *o, char **r, char *err, size_t n) {
  (void)r;
  json_error_t jerr;
  json_t *d = o ? json_loads(o, JSON_REJECT_DUPLICATES, &jerr) : NULL;
  if (!d) {
    snprintf(err, n, "modify request: %s", o ? jerr.text : "no document");
    return FAKE_HCS_E_INVALID_JSON;
  }
  HRESULT hr = FAKE_HCS_E_INVALID_JSON;
  if (fs_check(d, &FS_MODIFY_SETTING, err, n) < 0) goto out;
  const char *path = json_string_value(json_object_get(d, "ResourcePath"));
  json_t *settings = json_object_get(d, "Settings");
  if ((hr = fake_injected("HcsModifyComputeSystem", s->id, o, err, n)) != S_OK) goto out;
  hr = FAKE_HCS_E_INVALID_JSON;
  if ((path && strncmp(path, "VirtualMachine/", 15) == 0) || (!path && json_object_get(d, "GuestRequest"))) {
    hr = fake_vm_modify(s, d, err, n);
    goto out;
  }
  if (!path) {
    snprintf(err, n, "ResourcePath is required");
    goto out;
  }
  char sub[600];
  if (strcmp(path, "Container/Memory/SizeInMB") == 0) {
    if (!json_is_integer(settings) || json_integer_value(settings) < 0) {
      snprintf(err, n, "Settings: want the size in MB (a non-negative integer) for %s", path);
      goto out;
    }
    s->memory_mb = (unsigned long long)json_integer_value(settings);
  } else if (strcmp(path, "Container/Processor") == 0) {
    if (fs_check(settings, &FS_PROCESSOR, sub, sizeof sub) < 0) {
      snprintf(err, n, "Settings.%s", sub);
      goto out;
    }
  } else {
    snprintf(err, n, "ResourcePath %s: not a resource the fake knows (see README)", path);
    goto out;
  }
  if (s->state == SYS_STOPPED) {
    snprintf(err, n, "the system is stopped");
    hr = FAKE_HCS_E_INVALID_STATE;
    goto out;
  }
  hr = S_OK;
out:
  json_decref(d);
  return hr;
}

HRESULT WINAPI HcsStartComputeSystem(HCS_SYSTEM computeSystem, HCS_OPERATION operation, PCWSTR options) {
  return sys_call("HcsStartComputeSystem", computeSystem, operation, options, do_start);
}

HRESULT WINAPI HcsShutDownComputeSystem(HCS_SYSTEM computeSystem, HCS_OPERATION operation, PCWSTR options) {
  return sys_call("HcsShutDownComputeSystem", computeSystem, operation, options, do_shutdown);
}

HRESULT WINAPI HcsTerminateComputeSystem(HCS_SYSTEM computeSystem, HCS_OPERATION operation, PCWSTR options) {
  return sys_call("HcsTerminateComputeSystem", computeSystem, operation, options, do_terminate);
}

HRESULT WINAPI HcsPauseComputeSystem(HCS_SYSTEM computeSystem, HCS_OPERATION operation, PCWSTR options) {
  return sys_call("HcsPauseComputeSystem", computeSystem, operation, options, do_pause);
}

HRESULT WINAPI HcsResumeComputeSystem(HCS_SYSTEM computeSystem, HCS_OPERATION operation, PCWSTR options) {
  return sys_call("HcsResumeComputeSystem", computeSystem, operation, options, do_resume);
}

HRESULT WINAPI HcsGetComputeSystemProperties(HCS_SYSTEM computeSystem, HCS_OPERATION operation,
                                             PCWSTR propertyQuery) {
  /* Asynchronous, as HCS's queries are: a caller waiting on the operation and one with a completion callback
   * both see it complete later, from another thread. */
  return sys_call_ex("HcsGetComputeSystemProperties", computeSystem, operation, propertyQuery, do_properties, true);
}

HRESULT WINAPI HcsModifyComputeSystem(HCS_SYSTEM computeSystem, HCS_OPERATION operation, PCWSTR configuration,
                                      HANDLE identity) {
  (void)identity;
  return sys_call("HcsModifyComputeSystem", computeSystem, operation, configuration, do_modify);
}

/* ------------------------------------------------------------------ stopping */

static DWORD WINAPI sys_exit_thread(LPVOID arg) {
  fake_sys *s = arg;
  EnterCriticalSection(&fake_g.lock);
  /* The system has exited once every process's exit was delivered: keep HCS's order, processes first. */
  for (;;) {
    bool all = true;
    for (fake_proc *p = s->procs; p; p = p->next)
      if (!p->delivered) all = false;
    if (all) break;
    SleepConditionVariableCS(&fake_g.cv, &fake_g.lock, INFINITE);
  }
  char data[96];
  snprintf(data, sizeof data, "{\"Status\":0,\"ExitType\":\"%s\"}", s->forced ? "ForcedExit" : "GracefulExit");
  char *id = strdup(s->id);
  LeaveCriticalSection(&fake_g.lock);
  int calls = fake_deliver(&s->handles, HcsEventSystemExited, data);
  fake_log("event", json_pack("{s:s,s:s,s:o,s:i}", "type", "SystemExited", "system", id ? id : "", "data",
                              fake_log_doc(data), "callbacks", calls));
  free(id);
  EnterCriticalSection(&fake_g.lock);
  fake_sys_unref(s);
  LeaveCriticalSection(&fake_g.lock);
  return 0;
}

void fake_sys_stop(fake_sys *s, bool forced, UINT code) {
  s->state = SYS_STOPPED;
  fake_vm_drop(s); /* a stopped VM holds nothing attached */
  /* The containers a VM hosts end with it. */
  for (fake_sys *c = fake_g.systems; c; c = c->next)
    if (c->state != SYS_STOPPED && c->host_id && _stricmp(c->host_id, s->id) == 0) fake_sys_stop(c, true, code);
  s->forced = forced;
  if (s->job) TerminateJobObject(s->job, code);
  /* Also one by one: a process the job could not take (Wine, or a nested job) must end all the same. */
  for (fake_proc *p = s->procs; p; p = p->next)
    if (!p->exited) TerminateProcess(p->h, code);
  s->refs++; /* the exit thread's */
  HANDLE t = CreateThread(NULL, 0, sys_exit_thread, s, 0, NULL);
  if (t) CloseHandle(t);
  else s->refs--;
  fake_sys_unref(s); /* the registry's: a stopped system goes with its last handle */
}
