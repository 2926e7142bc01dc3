/* computecore.dll, fake: processes of a compute system. Each is a real process of the host (under Wine: of the
 * Wine prefix) started with CreateProcessW, its stdio on anonymous pipes, inside the system's job object; a thread
 * per process waits for its exit and calls the registered callbacks, as HCS calls them from its own threads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "fake_hcs_int.h"
#include "fake_schema.h"

/* STATUS_CONTROL_C_EXIT: the exit code of a console process that its default handler ended on a console event. */
#define FAKE_CTRL_EXIT 0xC000013Au

/* ------------------------------------------------------------------ environment */

typedef struct wbuf {
  WCHAR *p;
  size_t len, cap;
} wbuf;

static bool wbuf_add(wbuf *b, const WCHAR *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = (b->len + n + 1) * 2;
    WCHAR *p = realloc(b->p, cap * sizeof *p);
    if (!p) return false;
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n * sizeof *s);
  b->len += n;
  return true;
}

/* The host's environment with the document's Environment laid over it (names compare case-insensitively, as
 * Windows compares them). HCS gives a container process the container's own default environment instead; under
 * Wine a process without the host's variables (WINE*, SystemRoot, PATH) does not start, so the fake keeps them. */
static WCHAR *build_env(json_t *env) {
  wbuf b = {0};
  WCHAR *host = GetEnvironmentStringsW();
  for (WCHAR *e = host; e && *e; e += wcslen(e) + 1) {
    const WCHAR *eq = wcschr(e + 1, L'='); /* +1: "=C:=C:\\" style entries start with '=' */
    size_t klen = eq ? (size_t)(eq - e) : wcslen(e);
    bool overridden = false;
    const char *k;
    json_t *v;
    json_object_foreach(env, k, v) {
      WCHAR *wk = fake_wide(k);
      if (wk && wcslen(wk) == klen && _wcsnicmp(wk, e, klen) == 0) overridden = true;
      free(wk);
    }
    if (!overridden && !wbuf_add(&b, e, wcslen(e) + 1)) goto oom;
  }
  const char *k;
  json_t *v;
  json_object_foreach(env, k, v) {
    WCHAR *wk = fake_wide(k), *wv = fake_wide(json_string_value(v));
    bool ok = wk && wv && wbuf_add(&b, wk, wcslen(wk)) && wbuf_add(&b, L"=", 1) && wbuf_add(&b, wv, wcslen(wv) + 1);
    free(wk);
    free(wv);
    if (!ok) goto oom;
  }
  if (!wbuf_add(&b, L"", 1)) goto oom;
  if (host) FreeEnvironmentStringsW(host);
  return b.p;
oom:
  if (host) FreeEnvironmentStringsW(host);
  free(b.p);
  return NULL;
}

/* ------------------------------------------------------------------ exit */

static DWORD WINAPI waiter_thread(LPVOID arg) {
  fake_proc *p = arg;
  WaitForSingleObject(p->h, INFINITE);
  DWORD code = 0;
  HRESULT wait_hr = GetExitCodeProcess(p->h, &code) ? S_OK : HRESULT_FROM_WIN32(GetLastError());
  EnterCriticalSection(&fake_g.lock);
  fake_proc_sample(p, NULL);
  p->exited = true;
  p->exit_code = code;
  fake_sys *s = p->sys;
  char *id = strdup(s->id);
  LeaveCriticalSection(&fake_g.lock);
  /* ProcessStatus (hcsshim process_status.go): "Provided in the EventData parameter of an HcsEventProcessExited". */
  char data[160];
  snprintf(data, sizeof data, "{\"ProcessId\":%lu,\"Exited\":true,\"ExitCode\":%lu,\"LastWaitResult\":%ld}",
           (unsigned long)p->pid, (unsigned long)code, (long)wait_hr);
  int calls = fake_deliver(&p->handles, HcsEventProcessExited, data);
  fake_log("event", json_pack("{s:s,s:s,s:I,s:I,s:i}", "type", "ProcessExited", "system", id ? id : "", "pid",
                              (json_int_t)p->pid, "exitCode", (json_int_t)code, "callbacks", calls));
  free(id);
  EnterCriticalSection(&fake_g.lock);
  p->delivered = true;
  WakeAllConditionVariable(&fake_g.cv);
  fake_sys_unref(s);
  LeaveCriticalSection(&fake_g.lock);
  return 0;
}

char *fake_proc_status(fake_proc *p) {
  json_t *d = json_pack("{s:I,s:b}", "ProcessId", (json_int_t)p->pid, "Exited", p->exited);
  if (p->exited) {
    json_object_set_new(d, "ExitCode", json_integer((json_int_t)p->exit_code));
    json_object_set_new(d, "LastWaitResult", json_integer(0));
  }
  char *s = json_dumps(d, JSON_COMPACT);
  json_decref(d);
  return s;
}

/* ------------------------------------------------------------------ create */

typedef struct spawn_io {
  HANDLE child[3];  /* inheritable ends for the child (or NUL) */
  HANDLE parent[3]; /* the caller's ends (NULL where no pipe was asked for) */
} spawn_io;

static void io_close(spawn_io *io, bool parent_too) {
  for (int i = 0; i < 3; i++) {
    /* With EmulateConsole, stderr is stdout's handle: close it once. */
    if (io->child[i] && !(i == 2 && io->child[2] == io->child[1])) CloseHandle(io->child[i]);
    io->child[i] = NULL;
    if (parent_too && io->parent[i]) {
      CloseHandle(io->parent[i]);
      io->parent[i] = NULL;
    }
  }
}

static HRESULT make_io(json_t *doc, spawn_io *io) {
  memset(io, 0, sizeof *io);
  SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
  static const char *const want[3] = {"CreateStdInPipe", "CreateStdOutPipe", "CreateStdErrPipe"};
  bool console = json_is_true(json_object_get(doc, "EmulateConsole"));
  for (int i = 0; i < 3; i++) {
    if (i == 2 && console && io->child[1]) {
      io->child[2] = io->child[1]; /* a console has one output stream; HCS ignores CreateStdErrPipe then */
      continue;
    }
    if (json_is_true(json_object_get(doc, want[i]))) {
      HANDLE r, w;
      if (!CreatePipe(&r, &w, &sa, 0)) goto fail;
      io->child[i] = i == 0 ? r : w;
      io->parent[i] = i == 0 ? w : r;
      SetHandleInformation(io->parent[i], HANDLE_FLAG_INHERIT, 0);
    } else {
      io->child[i] = CreateFileW(L"NUL", GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, &sa,
                                 OPEN_EXISTING, 0, NULL);
      if (io->child[i] == INVALID_HANDLE_VALUE) {
        io->child[i] = NULL;
        goto fail;
      }
    }
  }
  return S_OK;
fail:;
  HRESULT hr = HRESULT_FROM_WIN32(GetLastError());
  io_close(io, true);
  return hr;
}

/* CreateProcessW with only the three std handles inherited (PROC_THREAD_ATTRIBUTE_HANDLE_LIST; fake_g.spawn keeps
 * two spawns of this DLL from inheriting each other's pipes where the list is not honoured). Suspended until it is
 * in the job, so what it starts is in the job too. */
static HRESULT spawn(HANDLE job, WCHAR *cmdline, const WCHAR *cwd, WCHAR *env, spawn_io *io, PROCESS_INFORMATION *pi) {
  HANDLE list[3];
  size_t n = 0;
  for (int i = 0; i < 3; i++) {
    bool dup = false;
    for (size_t k = 0; k < n; k++)
      if (list[k] == io->child[i]) dup = true;
    if (!dup) list[n++] = io->child[i];
  }
  STARTUPINFOEXW si;
  memset(&si, 0, sizeof si);
  si.StartupInfo.cb = sizeof si;
  si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
  si.StartupInfo.hStdInput = io->child[0];
  si.StartupInfo.hStdOutput = io->child[1];
  si.StartupInfo.hStdError = io->child[2];
  SIZE_T size = 0;
  InitializeProcThreadAttributeList(NULL, 1, 0, &size);
  si.lpAttributeList = malloc(size);
  DWORD flags = CREATE_UNICODE_ENVIRONMENT | CREATE_SUSPENDED | CREATE_NO_WINDOW | CREATE_NEW_PROCESS_GROUP;
  if (si.lpAttributeList && InitializeProcThreadAttributeList(si.lpAttributeList, 1, 0, &size) &&
      UpdateProcThreadAttribute(si.lpAttributeList, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, list, n * sizeof list[0],
                                NULL, NULL)) {
    flags |= EXTENDED_STARTUPINFO_PRESENT;
  }
  EnterCriticalSection(&fake_g.spawn);
  BOOL ok = FALSE;
  DWORD e = 0;
  /* Wine's CreateProcessW now and then fails with ERROR_INTERNAL_ERROR on a loaded machine (seen under the
   * full Windows suite, never alone): the fake's own spawning, not what the shim is tested for, so a few
   * tries. Any other error is the answer. */
  for (int tries = 0; tries < 3 && !ok; tries++) {
    ok = CreateProcessW(NULL, cmdline, NULL, NULL, TRUE, flags, env, cwd, &si.StartupInfo, pi);
    e = ok ? 0 : GetLastError();
    if (!ok && e != ERROR_INTERNAL_ERROR) break;
  }
  LeaveCriticalSection(&fake_g.spawn);
  if (flags & EXTENDED_STARTUPINFO_PRESENT) DeleteProcThreadAttributeList(si.lpAttributeList);
  free(si.lpAttributeList);
  if (!ok) return HRESULT_FROM_WIN32(e);
  if (job && !AssignProcessToJobObject(job, pi->hProcess))
    fake_log("warning", json_pack("{s:s,s:I}", "what", "AssignProcessToJobObject failed", "error",
                                  (json_int_t)GetLastError()));
  ResumeThread(pi->hThread);
  CloseHandle(pi->hThread);
  return S_OK;
}

HRESULT WINAPI HcsCreateProcess(HCS_SYSTEM computeSystem, PCWSTR processParameters, HCS_OPERATION operation,
                                const SECURITY_DESCRIPTOR *securityDescriptor, HCS_PROCESS *process) {
  static const char call[] = "HcsCreateProcess";
  (void)securityDescriptor;
  if (!process) return E_POINTER;
  *process = NULL;
  char *params = fake_utf8(processParameters);
  if (!params) return E_INVALIDARG;
  EnterCriticalSection(&fake_g.lock);
  fake_handle *sh = fake_sys_handle(computeSystem);
  fake_sys *s = sh ? sh->sys : NULL;
  if (s) s->refs++; /* kept while the lock is dropped, even if the handle is closed meanwhile */
  char *id = s ? strdup(s->id) : NULL;
  LeaveCriticalSection(&fake_g.lock);
  if (!s) {
    fake_log(call, json_pack("{s:o,s:s}", "hr", fake_log_hr(E_HANDLE), "error", "not a live HCS_SYSTEM handle"));
    free(params);
    return E_HANDLE;
  }
  HRESULT hr;
  fake_op *op = fake_op_begin(operation, &hr);
  if (!op) goto out;
  fake_log(call, json_pack("{s:s,s:o}", "system", id ? id : "", "doc", fake_log_doc(params)));
  json_error_t jerr;
  json_t *doc = json_loads(params, JSON_REJECT_DUPLICATES, &jerr);
  char err[700];
  if (!doc) {
    hr = fake_op_fail(op, call, FAKE_HCS_E_INVALID_JSON, "%s: line %d: %s", id, jerr.line, jerr.text);
    goto out;
  }
  if (fs_check(doc, &FS_PROCESS_PARAMETERS, err, sizeof err) < 0) {
    json_decref(doc);
    hr = fake_op_fail(op, call, FAKE_HCS_E_INVALID_JSON, "%s: %s", id, err);
    goto out;
  }
  const char *cmd = json_string_value(json_object_get(doc, "CommandLine"));
  if (!cmd || !*cmd) {
    json_decref(doc);
    hr = fake_op_fail(op, call, E_INVALIDARG, "%s: CommandLine is required for a Windows process", id);
    goto out;
  }
  WCHAR *wcmd = fake_wide(cmd);
  const char *cwd = json_string_value(json_object_get(doc, "WorkingDirectory"));
  WCHAR *wcwd = cwd && *cwd ? fake_wide(cwd) : NULL;
  WCHAR *env = build_env(json_object_get(doc, "Environment"));
  spawn_io io;
  PROCESS_INFORMATION pi;
  memset(&pi, 0, sizeof pi);
  EnterCriticalSection(&fake_g.lock);
  int state = s->state;
  HANDLE job = s->job;
  LeaveCriticalSection(&fake_g.lock);
  if (state != SYS_RUNNING) {
    snprintf(err, sizeof err, "the system is not running");
    hr = FAKE_HCS_E_INVALID_STATE;
  } else if (!wcmd || !env) {
    hr = E_OUTOFMEMORY;
    snprintf(err, sizeof err, "out of memory");
  } else if (FAILED(hr = make_io(doc, &io))) {
    snprintf(err, sizeof err, "stdio pipes: 0x%08lX", (unsigned long)hr);
  } else {
    hr = spawn(job, wcmd, wcwd, env, &io, &pi);
    io_close(&io, FAILED(hr));
    if (FAILED(hr)) snprintf(err, sizeof err, "CreateProcess %s: 0x%08lX", cmd, (unsigned long)hr);
  }
  free(wcmd);
  free(wcwd);
  free(env);
  if (FAILED(hr)) {
    json_decref(doc);
    hr = fake_op_fail(op, call, hr, "%s: %s", id, err);
    goto out;
  }
  fake_proc *p = calloc(1, sizeof *p);
  EnterCriticalSection(&fake_g.lock);
  fake_handle *ph = NULL;
  if (p) {
    p->sys = s;
    p->pid = pi.dwProcessId;
    p->h = pi.hProcess;
    p->image = strdup(cmd);
    FILETIME x;
    GetProcessTimes(p->h, &p->created, &x, &x, &x);
    p->next = s->procs;
    s->procs = p;
    /* Stopped while CreateProcess ran: it ends with the others. */
    if (s->state == SYS_STOPPED) TerminateProcess(p->h, 1);
    ph = fake_handle_new(s, p);
    s->refs++; /* the waiter's */
    p->waiter = CreateThread(NULL, 0, waiter_thread, p, 0, NULL);
    if (!p->waiter) {
      /* Without a waiter its exit would never be reported: do not leave it running unwatched. */
      s->refs--;
      TerminateProcess(p->h, 1);
      p->exited = p->delivered = true;
      p->exit_code = 1;
    }
  }
  LeaveCriticalSection(&fake_g.lock);
  json_decref(doc);
  if (!p || !ph || !p->waiter) {
    if (!p) TerminateProcess(pi.hProcess, 1), CloseHandle(pi.hProcess);
    for (int i = 0; i < 3; i++)
      if (io.parent[i]) CloseHandle(io.parent[i]);
    hr = fake_op_fail(op, call, E_OUTOFMEMORY, "%s: could not track the process", id);
    goto out;
  }
  HCS_PROCESS_INFORMATION info = {pi.dwProcessId, 0, io.parent[0], io.parent[1], io.parent[2]};
  fake_log("HcsCreateProcess.started", json_pack("{s:s,s:I}", "system", id, "pid", (json_int_t)pi.dwProcessId));
  *process = (HCS_PROCESS)ph;
  fake_op_complete(op, S_OK, NULL, &info);
  hr = S_OK;
out:
  EnterCriticalSection(&fake_g.lock);
  fake_sys_unref(s);
  LeaveCriticalSection(&fake_g.lock);
  free(id);
  free(params);
  return hr;
}

/* ------------------------------------------------------------------ the other process calls */

HRESULT WINAPI HcsOpenProcess(HCS_SYSTEM computeSystem, DWORD processId, DWORD requestedAccess, HCS_PROCESS *process) {
  (void)requestedAccess;
  if (!process) return E_POINTER;
  *process = NULL;
  EnterCriticalSection(&fake_g.lock);
  fake_handle *sh = fake_sys_handle(computeSystem), *ph = NULL;
  fake_proc *p = NULL;
  if (sh)
    for (p = sh->sys->procs; p; p = p->next)
      if (p->pid == processId && !p->exited) break;
  if (p) ph = fake_handle_new(sh->sys, p);
  LeaveCriticalSection(&fake_g.lock);
  HRESULT hr = !sh ? E_HANDLE : !p ? FAKE_E_ELEMENT_NOT_FOUND : ph ? S_OK : E_OUTOFMEMORY;
  fake_log("HcsOpenProcess", json_pack("{s:I,s:o}", "pid", (json_int_t)processId, "hr", fake_log_hr(hr)));
  *process = (HCS_PROCESS)ph;
  return hr;
}

void WINAPI HcsCloseProcess(HCS_PROCESS process) {
  EnterCriticalSection(&fake_g.lock);
  fake_handle *h = fake_proc_handle(process);
  LeaveCriticalSection(&fake_g.lock);
  if (h) fake_handle_close(h);
}

HRESULT WINAPI HcsSetProcessCallback(HCS_PROCESS process, HCS_EVENT_OPTIONS callbackOptions, void *context,
                                     HCS_EVENT_CALLBACK callback) {
  (void)callbackOptions;
  EnterCriticalSection(&fake_g.lock);
  fake_handle *h = fake_proc_handle(process);
  DWORD pid = h ? h->proc->pid : 0;
  if (h) {
    h->cb = callback;
    h->ctx = context;
  }
  LeaveCriticalSection(&fake_g.lock);
  fake_log("HcsSetProcessCallback", json_pack("{s:I,s:b,s:o}", "pid", (json_int_t)pid, "callback", callback != NULL,
                                              "hr", fake_log_hr(h ? S_OK : E_HANDLE)));
  return h ? S_OK : E_HANDLE;
}

typedef HRESULT (*proc_fn)(fake_proc *p, json_t *doc, char **result, char *err, size_t n);

static HRESULT proc_call(const char *call, HCS_PROCESS process, HCS_OPERATION operation, PCWSTR docw,
                         const fs_type *schema, proc_fn fn) {
  char *text = fake_utf8(docw);
  if (docw && !text) return E_INVALIDARG;
  /* A reference on the system keeps the process (freed only with its system) while the lock is dropped. */
  EnterCriticalSection(&fake_g.lock);
  fake_handle *h = fake_proc_handle(process);
  fake_proc *p = h ? h->proc : NULL;
  if (p) p->sys->refs++;
  DWORD pid = p ? p->pid : 0;
  LeaveCriticalSection(&fake_g.lock);
  if (!p) {
    fake_log(call, json_pack("{s:o,s:s}", "hr", fake_log_hr(E_HANDLE), "error", "not a live HCS_PROCESS handle"));
    free(text);
    return E_HANDLE;
  }
  HRESULT hr;
  fake_op *op = fake_op_begin(operation, &hr);
  char err[700] = "", *result = NULL;
  json_t *doc = NULL;
  if (op && text) {
    json_error_t jerr;
    if (!(doc = json_loads(text, JSON_REJECT_DUPLICATES, &jerr))) {
      snprintf(err, sizeof err, "line %d: %s", jerr.line, jerr.text);
      hr = FAKE_HCS_E_INVALID_JSON;
    } else if (schema && fs_check(doc, schema, err, sizeof err) < 0) {
      hr = FAKE_HCS_E_INVALID_JSON;
    }
  }
  if (op) {
    if (SUCCEEDED(hr)) {
      EnterCriticalSection(&fake_g.lock);
      hr = fn(p, doc, &result, err, sizeof err);
      LeaveCriticalSection(&fake_g.lock);
    }
    if (FAILED(hr)) {
      fake_op_fail(op, call, hr, "pid %lu: %s", (unsigned long)pid, err);
    } else {
      fake_log(call, json_pack("{s:I,s:o,s:o,s:o}", "pid", (json_int_t)pid, "doc", fake_log_doc(text), "hr",
                               fake_log_hr(hr), "result", fake_log_doc(result)));
      fake_op_complete(op, hr, result, NULL);
    }
    hr = S_OK;
  }
  json_decref(doc);
  EnterCriticalSection(&fake_g.lock);
  fake_sys_unref(p->sys);
  LeaveCriticalSection(&fake_g.lock);
  free(result);
  free(text);
  return hr;
}

static HRESULT do_terminate(fake_proc *p, json_t *doc, char **r, char *err, size_t n) {
  (void)doc;
  (void)r;
  if (p->exited) {
    snprintf(err, n, "the process has exited");
    return FAKE_HCS_E_PROCESS_ALREADY_STOPPED;
  }
  if (!TerminateProcess(p->h, 1)) {
    snprintf(err, n, "TerminateProcess: error %lu", (unsigned long)GetLastError());
    return HRESULT_FROM_WIN32(GetLastError());
  }
  return S_OK;
}

/* A console control event. The fake's processes have no console (Wine's GenerateConsoleCtrlEvent does not reach a
 * console-less process group), so it does what the default handler of a console process does with the event:
 * the process ends with STATUS_CONTROL_C_EXIT. A process with a handler of its own gets no chance to run it. */
static HRESULT do_signal(fake_proc *p, json_t *doc, char **r, char *err, size_t n) {
  (void)r;
  const char *sig = json_string_value(json_object_get(doc, "Signal"));
  if (!sig) {
    snprintf(err, n, "Signal is required");
    return E_INVALIDARG;
  }
  if (p->exited) {
    snprintf(err, n, "the process has exited");
    return FAKE_HCS_E_PROCESS_ALREADY_STOPPED;
  }
  if (!TerminateProcess(p->h, FAKE_CTRL_EXIT)) {
    snprintf(err, n, "TerminateProcess: error %lu", (unsigned long)GetLastError());
    return HRESULT_FROM_WIN32(GetLastError());
  }
  return S_OK;
}

static HRESULT do_status(fake_proc *p, json_t *doc, char **r, char *err, size_t n) {
  (void)doc;
  (void)err;
  (void)n;
  *r = fake_proc_status(p);
  return *r ? S_OK : E_OUTOFMEMORY;
}

static HRESULT do_info(fake_proc *p, json_t *doc, char **r, char *err, size_t n) {
  return do_status(p, doc, r, err, n);
}

/* ConsoleSize and CloseHandle are accepted and logged: the fake's processes have no console to resize, and their
 * stdin is the caller's pipe end to close. */
static HRESULT do_modify(fake_proc *p, json_t *doc, char **r, char *err, size_t n) {
  (void)r;
  if (!doc) {
    snprintf(err, n, "a ProcessModifyRequest is required");
    return FAKE_HCS_E_INVALID_JSON;
  }
  if (p->exited) {
    snprintf(err, n, "the process has exited");
    return FAKE_HCS_E_PROCESS_ALREADY_STOPPED;
  }
  const char *opn = json_string_value(json_object_get(doc, "Operation"));
  if (!opn || !json_object_get(doc, opn)) {
    snprintf(err, n, "Operation %s needs its settings object of the same name", opn ? opn : "(none)");
    return FAKE_HCS_E_INVALID_JSON;
  }
  return S_OK;
}

HRESULT WINAPI HcsTerminateProcess(HCS_PROCESS process, HCS_OPERATION operation, PCWSTR options) {
  return proc_call("HcsTerminateProcess", process, operation, options, NULL, do_terminate);
}

HRESULT WINAPI HcsSignalProcess(HCS_PROCESS process, HCS_OPERATION operation, PCWSTR options) {
  return proc_call("HcsSignalProcess", process, operation, options ? options : L"{\"Signal\":\"CtrlC\"}",
                   &FS_SIGNAL_OPTIONS, do_signal);
}

HRESULT WINAPI HcsGetProcessProperties(HCS_PROCESS process, HCS_OPERATION operation, PCWSTR propertyQuery) {
  return proc_call("HcsGetProcessProperties", process, operation, propertyQuery, &FS_PROPERTY_QUERY, do_status);
}

HRESULT WINAPI HcsGetProcessInfo(HCS_PROCESS process, HCS_OPERATION operation) {
  return proc_call("HcsGetProcessInfo", process, operation, NULL, NULL, do_info);
}

HRESULT WINAPI HcsModifyProcess(HCS_PROCESS process, HCS_OPERATION operation, PCWSTR settings) {
  return proc_call("HcsModifyProcess", process, operation, settings, &FS_PROCESS_MODIFY, do_modify);
}
