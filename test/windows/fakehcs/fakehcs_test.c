/* The fake HCS checked through the DLLs as the product loads them: LoadLibraryExW(..., LOAD_LIBRARY_SEARCH_SYSTEM32)
 * and GetProcAddress, with the SDK's prototypes. Run under Wine by ctest (label `windows`):
 *   fakehcs_test.exe --install <dir with the three DLLs>   copies them into system32 first
 *   fakehcs_test.exe --spin                                  (child) burns CPU in user mode, then waits for stdin EOF
 *   fakehcs_test.exe --wait                                  (child) waits for stdin EOF */
#include <windows.h>
#include <computecore.h>
#include <computenetwork.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

static int failures;

#define CHECK(cond, ...)                          \
  do {                                            \
    if (cond) {                                   \
      printf("ok   ");                            \
    } else {                                      \
      printf("FAIL ");                            \
      failures++;                                 \
    }                                             \
    printf(__VA_ARGS__);                          \
    printf("\n");                                 \
    fflush(stdout);                               \
  } while (0)

/* ------------------------------------------------------------------ child modes */

static ULONGLONG self_user(void) {
  FILETIME c, e, k, u;
  GetProcessTimes(GetCurrentProcess(), &c, &e, &k, &u);
  return ((ULONGLONG)u.dwHighDateTime << 32) | u.dwLowDateTime;
}

static void drain_stdin(void) {
  char b[256];
  DWORD n;
  while (ReadFile(GetStdHandle(STD_INPUT_HANDLE), b, sizeof b, &n, NULL) && n) {
  }
}

static int child_spin(void) {
  volatile unsigned long long x = 1;
  /* 1 s of user time, measured by the process itself, however slow the machine. */
  while (self_user() < 10000000ULL)
    for (int i = 0; i < 1000000; i++) x = x * 6364136223846793005ULL + 1442695040888963407ULL;
  printf("spun %llu\n", self_user());
  fflush(stdout);
  drain_stdin();
  return (int)(x & 0);
}

/* ------------------------------------------------------------------ the DLLs */

#define FN(name) static __typeof__(&name) p##name
FN(HcsCreateOperation);
FN(HcsCloseOperation);
FN(HcsWaitForOperationResult);
FN(HcsWaitForOperationResultAndProcessInfo);
FN(HcsCreateComputeSystem);
FN(HcsOpenComputeSystem);
FN(HcsCloseComputeSystem);
FN(HcsStartComputeSystem);
FN(HcsTerminateComputeSystem);
FN(HcsPauseComputeSystem);
FN(HcsGetComputeSystemProperties);
FN(HcsModifyComputeSystem);
FN(HcsSetComputeSystemCallback);
FN(HcsCreateProcess);
FN(HcsOpenProcess);
FN(HcsCloseProcess);
FN(HcsSignalProcess);
FN(HcsGetProcessProperties);
FN(HcsSetProcessCallback);
FN(HcnOpenEndpoint);
FN(HcnQueryEndpointProperties);
FN(HcnCloseEndpoint);
typedef HRESULT(WINAPI *hns_call_fn)(PCWSTR, PCWSTR, PCWSTR, PWSTR *);
static hns_call_fn pHNSCall;

typedef void (*any_fn)(void);
#define LOAD(mod, name) ((p##name = (__typeof__(p##name))(any_fn)GetProcAddress(mod, #name)) != NULL)

static HMODULE load_system32(const WCHAR *name) {
  HMODULE m = LoadLibraryExW(name, NULL, LOAD_LIBRARY_SEARCH_SYSTEM32);
  CHECK(m != NULL, "LoadLibraryExW(%ls, LOAD_LIBRARY_SEARCH_SYSTEM32) (error %lu)", name, m ? 0 : GetLastError());
  return m;
}

static WCHAR *widen(const char *s) {
  int n = MultiByteToWideChar(CP_UTF8, 0, s, -1, NULL, 0);
  WCHAR *w = malloc((size_t)n * sizeof *w);
  MultiByteToWideChar(CP_UTF8, 0, s, -1, w, n);
  return w;
}

static char *narrow(const WCHAR *w) {
  if (!w) return NULL;
  int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
  char *s = malloc((size_t)n);
  WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL);
  return s;
}

/* A Unix path as Wine sees it (Z:\...), a Windows path as is. */
static WCHAR *win_path(const char *p) {
  char buf[MAX_PATH * 2];
  if (p[0] == '/') {
    snprintf(buf, sizeof buf, "Z:%s", p);
    for (char *c = buf; *c; c++)
      if (*c == '/') *c = '\\';
    p = buf;
  }
  return widen(p);
}

static bool same_file(const WCHAR *a, const WCHAR *b) {
  HANDLE fa = CreateFileW(a, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
  HANDLE fb = CreateFileW(b, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_DELETE, NULL, OPEN_EXISTING, 0, NULL);
  bool same = fa != INVALID_HANDLE_VALUE && fb != INVALID_HANDLE_VALUE;
  char ba[65536], bb[65536];
  while (same) {
    DWORD na = 0, nb = 0;
    if (!ReadFile(fa, ba, sizeof ba, &na, NULL) || !ReadFile(fb, bb, sizeof bb, &nb, NULL) || na != nb ||
        memcmp(ba, bb, na) != 0)
      same = false;
    else if (na == 0)
      break;
  }
  if (fa != INVALID_HANDLE_VALUE) CloseHandle(fa);
  if (fb != INVALID_HANDLE_VALUE) CloseHandle(fb);
  return same;
}

/* Copies the DLLs into system32 unless the same bytes are there. Through a temporary name and a rename: other
 * tests of the prefix may have the old DLL loaded, and overwriting a mapped file in place would pull it from
 * under them. */
static int install(const char *dir) {
  static const WCHAR *const names[] = {L"computecore.dll", L"vmcompute.dll", L"computenetwork.dll"};
  WCHAR sys[MAX_PATH], *wdir = win_path(dir);
  GetSystemDirectoryW(sys, MAX_PATH);
  int rc = 0;
  for (int i = 0; i < 3; i++) {
    WCHAR from[MAX_PATH * 2], to[MAX_PATH * 2], tmp[MAX_PATH * 2];
    swprintf(from, MAX_PATH * 2, L"%ls\\%ls", wdir, names[i]);
    swprintf(to, MAX_PATH * 2, L"%ls\\%ls", sys, names[i]);
    swprintf(tmp, MAX_PATH * 2, L"%ls\\%ls.%lu.tmp", sys, names[i], (unsigned long)GetCurrentProcessId());
    if (same_file(from, to)) continue;
    /* A DLL a running process has loaded cannot be replaced, but it can be renamed aside (Windows and Wine). */
    WCHAR aside[MAX_PATH * 2];
    swprintf(aside, MAX_PATH * 2, L"%ls\\%ls.%lu.old", sys, names[i], (unsigned long)GetCurrentProcessId());
    bool copied = CopyFileW(from, tmp, FALSE);
    bool moved = copied && (MoveFileExW(tmp, to, MOVEFILE_REPLACE_EXISTING) ||
                            (MoveFileExW(to, aside, MOVEFILE_REPLACE_EXISTING) && MoveFileExW(tmp, to, 0)));
    if (!moved) {
      fprintf(stderr, "install: %ls -> %ls: error %lu\n", from, to, GetLastError());
      DeleteFileW(tmp);
      rc = -1;
    }
  }
  /* Copies set aside by earlier runs go once nothing has them loaded any more. */
  WCHAR pattern[MAX_PATH * 2], old[MAX_PATH * 2];
  swprintf(pattern, MAX_PATH * 2, L"%ls\\*.old", sys);
  WIN32_FIND_DATAW fd;
  HANDLE fh = FindFirstFileW(pattern, &fd);
  for (BOOL more = fh != INVALID_HANDLE_VALUE; more; more = FindNextFileW(fh, &fd)) {
    swprintf(old, MAX_PATH * 2, L"%ls\\%ls", sys, fd.cFileName);
    if (wcsncmp(fd.cFileName, L"compute", 7) == 0 || wcsncmp(fd.cFileName, L"vmcompute", 9) == 0) DeleteFileW(old);
  }
  if (fh != INVALID_HANDLE_VALUE) FindClose(fh);
  free(wdir);
  return rc;
}

/* ------------------------------------------------------------------ helpers */

/* One synchronous call: create the operation, let `issue` start the call, wait, keep the result document. */
typedef struct result {
  HRESULT call_hr, hr;
  char *doc;
  HCS_PROCESS_INFORMATION pi;
} result;

static void result_free(result *r) {
  free(r->doc);
  memset(r, 0, sizeof *r);
}

static result finish(HCS_OPERATION op, HRESULT call_hr, bool want_pi) {
  result r;
  memset(&r, 0, sizeof r);
  r.call_hr = call_hr;
  PWSTR doc = NULL;
  if (SUCCEEDED(call_hr))
    r.hr = want_pi ? pHcsWaitForOperationResultAndProcessInfo(op, 30000, &r.pi, &doc)
                   : pHcsWaitForOperationResult(op, 30000, &doc);
  else
    r.hr = call_hr;
  r.doc = narrow(doc);
  if (doc) LocalFree(doc);
  pHcsCloseOperation(op);
  return r;
}

static result create_system(const char *id, const char *config, HCS_SYSTEM *sys) {
  WCHAR *wid = widen(id), *wcfg = widen(config);
  HCS_OPERATION op = pHcsCreateOperation(NULL, NULL);
  result r = finish(op, pHcsCreateComputeSystem(wid, wcfg, op, NULL, sys), false);
  free(wid);
  free(wcfg);
  return r;
}

static result system_call(HRESULT(WINAPI *fn)(HCS_SYSTEM, HCS_OPERATION, PCWSTR), HCS_SYSTEM sys, const char *doc) {
  WCHAR *w = doc ? widen(doc) : NULL;
  HCS_OPERATION op = pHcsCreateOperation(NULL, NULL);
  result r = finish(op, fn(sys, op, w), false);
  free(w);
  return r;
}

static result modify_system(HCS_SYSTEM sys, const char *doc) {
  WCHAR *w = widen(doc);
  HCS_OPERATION op = pHcsCreateOperation(NULL, NULL);
  result r = finish(op, pHcsModifyComputeSystem(sys, op, w, NULL), false);
  free(w);
  return r;
}

static result create_process(HCS_SYSTEM sys, const char *params, HCS_PROCESS *proc) {
  WCHAR *w = widen(params);
  HCS_OPERATION op = pHcsCreateOperation(NULL, NULL);
  result r = finish(op, pHcsCreateProcess(sys, w, op, NULL, proc), true);
  free(w);
  return r;
}

/* What a callback saw: the event, its data, and the thread it ran on. */
typedef struct seen {
  HANDLE ev;
  LONG type;
  DWORD tid;
  char data[512];
} seen;

static void CALLBACK on_event(HCS_EVENT *e, void *ctx) {
  seen *s = ctx;
  char *d = narrow(e->EventData);
  snprintf(s->data, sizeof s->data, "%s", d ? d : "");
  free(d);
  s->tid = GetCurrentThreadId();
  InterlockedExchange(&s->type, (LONG)e->Type);
  SetEvent(s->ev);
}

static void seen_init(seen *s) {
  memset(s, 0, sizeof *s);
  s->ev = CreateEventW(NULL, TRUE, FALSE, NULL);
}

static char *read_all(HANDLE h) {
  size_t len = 0, cap = 4096;
  char *buf = malloc(cap);
  DWORD n;
  while (ReadFile(h, buf + len, (DWORD)(cap - len - 1), &n, NULL) && n) {
    len += n;
    if (cap - len < 256) buf = realloc(buf, cap *= 2);
  }
  buf[len] = '\0';
  return buf;
}

static json_int_t json_path_int(const char *doc, const char *a, const char *b, const char *c) {
  json_t *d = json_loads(doc ? doc : "", 0, NULL);
  json_t *v = json_object_get(json_object_get(json_object_get(d, a), b), c);
  json_int_t n = json_is_integer(v) ? json_integer_value(v) : -1;
  json_decref(d);
  return n;
}

static const char *config_doc =
    "{\"Owner\":\"fakehcs_test\",\"SchemaVersion\":{\"Major\":2,\"Minor\":1},"
    "\"Container\":{\"Storage\":{\"Layers\":[{\"Id\":\"0b5a3f2e-0000-5000-8000-000000000001\",\"Path\":\"C:\\\\layers\\\\base\"}],"
    "\"Path\":\"C:\\\\scratch\"},\"Memory\":{\"SizeInMB\":256},\"Processor\":{\"Count\":1}},"
    "\"ShouldTerminateOnLastHandleClosed\":true}";

/* ------------------------------------------------------------------ the checks */

static void test_echo(HCS_SYSTEM sys) {
  HCS_PROCESS proc = NULL;
  result r = create_process(sys,
                            "{\"CommandLine\":\"cmd /c echo hello & exit 3\",\"Environment\":{\"A\":\"x=y\"},"
                            "\"CreateStdInPipe\":true,\"CreateStdOutPipe\":true,\"CreateStdErrPipe\":true}",
                            &proc);
  CHECK(r.hr == S_OK && proc, "HcsCreateProcess cmd /c echo hello & exit 3 (0x%08lX %s)", (unsigned long)r.hr,
        r.doc ? r.doc : "");
  CHECK(r.pi.ProcessId && r.pi.StdInput && r.pi.StdOutput && r.pi.StdError,
        "HCS_PROCESS_INFORMATION: pid %lu and the three std handles", (unsigned long)r.pi.ProcessId);
  if (!proc) return;
  seen s;
  seen_init(&s);
  CHECK(pHcsSetProcessCallback(proc, HcsEventOptionNone, &s, on_event) == S_OK, "HcsSetProcessCallback");
  CloseHandle(r.pi.StdInput);
  char *out = read_all(r.pi.StdOutput);
  CloseHandle(r.pi.StdOutput);
  CloseHandle(r.pi.StdError);
  CHECK(strstr(out, "hello") != NULL, "stdout has \"hello\" (got \"%s\")", out);
  free(out);
  bool fired = WaitForSingleObject(s.ev, 30000) == WAIT_OBJECT_0;
  if (!fired) {
    /* It may have ended before the callback was registered (HCS does not replay): ask its status instead. */
    HCS_OPERATION op = pHcsCreateOperation(NULL, NULL);
    result st = finish(op, pHcsGetProcessProperties(proc, op, NULL), false);
    CHECK(st.doc && strstr(st.doc, "\"ExitCode\":3"), "exit code 3 by HcsGetProcessProperties (%s)", st.doc);
    result_free(&st);
  } else {
    CHECK(s.type == HcsEventProcessExited, "the callback got HcsEventProcessExited (0x%lx)", (unsigned long)s.type);
    CHECK(strstr(s.data, "\"ExitCode\":3") != NULL, "exit code 3 in the event data (%s)", s.data);
    CHECK(s.tid != GetCurrentThreadId(), "the callback ran on another thread");
  }
  pHcsCloseProcess(proc);
  CloseHandle(s.ev);
  result_free(&r);
}

static void test_stats(HCS_SYSTEM sys) {
  WCHAR self[MAX_PATH];
  GetModuleFileNameW(NULL, self, MAX_PATH);
  char *uself = narrow(self), params[1024];
  /* JSON-escape the backslashes of the path. */
  char esc[MAX_PATH * 2];
  size_t k = 0;
  for (const char *c = uself; *c && k < sizeof esc - 2; c++) {
    if (*c == '\\') esc[k++] = '\\';
    esc[k++] = *c;
  }
  esc[k] = '\0';
  free(uself);
  snprintf(params, sizeof params,
           "{\"CommandLine\":\"\\\"%s\\\" --spin\",\"CreateStdInPipe\":true,\"CreateStdOutPipe\":true}", esc);
  HCS_PROCESS proc = NULL;
  result r = create_process(sys, params, &proc);
  CHECK(r.hr == S_OK && proc, "HcsCreateProcess of a CPU-bound process (0x%08lX %s)", (unsigned long)r.hr,
        r.doc ? r.doc : "");
  if (!proc) return;
  /* It prints "spun" once it has burnt its user time; stats are read while it still runs. */
  char line[64] = "";
  DWORD n = 0;
  ReadFile(r.pi.StdOutput, line, sizeof line - 1, &n, NULL);
  CHECK(strncmp(line, "spun", 4) == 0, "the CPU-bound child ran (\"%.*s\")", (int)n, line);
  result st = system_call(pHcsGetComputeSystemProperties, sys, "{\"PropertyTypes\":[\"Statistics\",\"ProcessList\"]}");
  json_int_t user = json_path_int(st.doc, "Statistics", "Processor", "RuntimeUser100ns");
  json_int_t kernel = json_path_int(st.doc, "Statistics", "Processor", "RuntimeKernel100ns");
  json_int_t total = json_path_int(st.doc, "Statistics", "Processor", "TotalRuntime100ns");
  CHECK(st.hr == S_OK, "HcsGetComputeSystemProperties Statistics+ProcessList (0x%08lX)", (unsigned long)st.hr);
  /* Wine reads another process's times from /proc/<pid>/stat and its own differently: the two views of the same
   * second differ, so the bound is a tenth of what the child counted itself. User above kernel is what tells the
   * figures apart: the child spent its second computing, not in system calls. */
  CHECK(user >= 1000000, "RuntimeUser100ns %lld >= 0.1 s of the child's 1 s", (long long)user);
  CHECK(user > kernel, "user time %lld > kernel time %lld for a CPU-bound process", (long long)user, (long long)kernel);
  CHECK(total == user + kernel, "TotalRuntime100ns = user + kernel");
  char pid[48];
  snprintf(pid, sizeof pid, "\"ProcessId\":%lu", (unsigned long)r.pi.ProcessId);
  CHECK(st.doc && strstr(st.doc, "\"ProcessList\"") && strstr(st.doc, pid), "ProcessList lists pid %lu",
        (unsigned long)r.pi.ProcessId);
  result_free(&st);

  /* CtrlShutdown ends it as a console process's default handler would. */
  seen s;
  seen_init(&s);
  pHcsSetProcessCallback(proc, HcsEventOptionNone, &s, on_event);
  HCS_OPERATION op = pHcsCreateOperation(NULL, NULL);
  result sig = finish(op, pHcsSignalProcess(proc, op, L"{\"Signal\":\"CtrlShutdown\"}"), false);
  CHECK(sig.hr == S_OK, "HcsSignalProcess CtrlShutdown (0x%08lX)", (unsigned long)sig.hr);
  CHECK(WaitForSingleObject(s.ev, 30000) == WAIT_OBJECT_0 && strstr(s.data, "\"ExitCode\":3221225786"),
        "it exits with STATUS_CONTROL_C_EXIT (%s)", s.data);
  op = pHcsCreateOperation(NULL, NULL);
  result again = finish(op, pHcsSignalProcess(proc, op, L"{\"Signal\":\"CtrlC\"}"), false);
  CHECK(again.hr == (HRESULT)0x8037011F, "signalling it again: HCS_E_PROCESS_ALREADY_STOPPED (0x%08lX)",
        (unsigned long)again.hr);
  CloseHandle(r.pi.StdInput);
  CloseHandle(r.pi.StdOutput);
  pHcsCloseProcess(proc);
  CloseHandle(s.ev);
  result_free(&sig);
  result_free(&again);
  result_free(&r);
}

static void test_bad_input(HCS_SYSTEM sys) {
  HCS_SYSTEM bad = NULL;
  result r = create_system("fakehcs-test-bad",
                           "{\"SchemaVersion\":{\"Major\":2,\"Minor\":1},\"Container\":{\"Storage\":{\"Layers\":"
                           "[{\"Id\":\"x\",\"Path\":\"C:\\\\l\"}],\"Path\":\"C:\\\\s\"},\"Memroy\":{\"SizeInMB\":1}}}",
                           &bad);
  CHECK(r.hr == (HRESULT)0xC037010D && !bad, "unknown field Container.Memroy: HCS_E_INVALID_JSON (0x%08lX)",
        (unsigned long)r.hr);
  CHECK(r.doc && strstr(r.doc, "Container.Memroy"), "the error document names the field (%s)", r.doc);
  result_free(&r);
  r = create_system("fakehcs-test-bad", "{not json", &bad);
  CHECK(r.hr == (HRESULT)0xC037010D, "a document that does not parse: HCS_E_INVALID_JSON (0x%08lX)",
        (unsigned long)r.hr);
  result_free(&r);
  r = create_system("fakehcs-test-bad", "{\"SchemaVersion\":{\"Major\":2,\"Minor\":1},\"Container\":{\"Storage\":"
                    "{\"Layers\":[],\"Path\":\"C:\\\\s\"},\"Memory\":{\"SizeInMB\":\"256\"}}}", &bad);
  CHECK(r.hr == (HRESULT)0xC037010D, "a string where schema2 has a number: HCS_E_INVALID_JSON (0x%08lX %s)",
        (unsigned long)r.hr, r.doc);
  result_free(&r);
  HCS_PROCESS proc = NULL;
  r = create_process(sys, "{\"CommandLine\":\"cmd /c exit 0\",\"CreateStdOutPipes\":true}", &proc);
  CHECK(r.hr == (HRESULT)0xC037010D && !proc, "process document with an unknown field: HCS_E_INVALID_JSON (0x%08lX)",
        (unsigned long)r.hr);
  result_free(&r);
  r = modify_system(sys,
                  "{\"ResourcePath\":\"Container/Memory/SizeInMB\",\"RequestType\":\"Update\",\"Settings\":512}");
  CHECK(r.hr == S_OK, "HcsModifyComputeSystem memory update (0x%08lX %s)", (unsigned long)r.hr, r.doc ? r.doc : "");
  result_free(&r);
  r = modify_system(sys,
                  "{\"ResourcePath\":\"Container/Memory/SizeInMB\",\"RequestType\":\"Upgrade\",\"Settings\":512}");
  CHECK(r.hr == (HRESULT)0xC037010D, "RequestType outside the enum: HCS_E_INVALID_JSON (0x%08lX)", (unsigned long)r.hr);
  result_free(&r);
  r = system_call(pHcsGetComputeSystemProperties, sys, "{\"PropertyTypes\":[\"Statistic\"]}");
  CHECK(r.hr == (HRESULT)0xC037010D, "an unknown property type: HCS_E_INVALID_JSON (0x%08lX)", (unsigned long)r.hr);
  result_free(&r);

  HCS_SYSTEM none = NULL;
  HRESULT hr = pHcsOpenComputeSystem(L"no-such-system", GENERIC_ALL, &none);
  CHECK(hr == (HRESULT)0xC037010E && !none, "HcsOpenComputeSystem of an unknown id: HCS_E_SYSTEM_NOT_FOUND (0x%08lX)",
        (unsigned long)hr);
  HCS_PROCESS np = NULL;
  hr = pHcsOpenProcess(sys, 999999, GENERIC_ALL, &np);
  CHECK(hr == (HRESULT)0x80070490 && !np, "HcsOpenProcess of an unknown pid: ERROR_NOT_FOUND (0x%08lX)",
        (unsigned long)hr);
  HCS_OPERATION op = pHcsCreateOperation(NULL, NULL);
  hr = pHcsStartComputeSystem((HCS_SYSTEM)(void *)&op, op, NULL);
  CHECK(hr == E_HANDLE, "a handle that is not one: E_HANDLE (0x%08lX)", (unsigned long)hr);
  pHcsCloseOperation(op);
  r = create_system("fakehcs-test", config_doc, &bad);
  CHECK(r.hr == (HRESULT)0xC037010F, "a second system with the same id: HCS_E_SYSTEM_ALREADY_EXISTS (0x%08lX)",
        (unsigned long)r.hr);
  result_free(&r);
}

/* Eight processes at once, their exits on waiter threads; half of the callbacks close their own process handle
 * from inside the callback (what a caller that frees on exit does), which must neither deadlock nor crash. */
typedef struct closer {
  seen s;
  HCS_PROCESS proc;
  bool close_in_cb;
} closer;

static void CALLBACK on_exit_close(HCS_EVENT *e, void *ctx) {
  closer *c = ctx;
  if (c->close_in_cb) pHcsCloseProcess(c->proc);
  on_event(e, &c->s);
}

static void test_many(HCS_SYSTEM sys) {
  enum { N = 8 };
  closer c[N];
  int started = 0, right = 0;
  for (int i = 0; i < N; i++) {
    seen_init(&c[i].s);
    c[i].close_in_cb = i % 2 == 0;
    char params[128];
    snprintf(params, sizeof params, "{\"CommandLine\":\"cmd /c exit %d\",\"CreateStdOutPipe\":true}", 10 + i);
    c[i].proc = NULL;
    result r = create_process(sys, params, &c[i].proc);
    if (r.hr == S_OK && c[i].proc) {
      started++;
      if (r.pi.StdOutput) CloseHandle(r.pi.StdOutput);
      pHcsSetProcessCallback(c[i].proc, HcsEventOptionNone, &c[i], on_exit_close);
    }
    result_free(&r);
  }
  CHECK(started == N, "%d processes started at once", started);
  for (int i = 0; i < N; i++) {
    if (!c[i].proc) continue;
    char want[32];
    snprintf(want, sizeof want, "\"ExitCode\":%d,", 10 + i);
    bool fired = WaitForSingleObject(c[i].s.ev, 30000) == WAIT_OBJECT_0;
    if (!fired) {
      /* Exited before its callback was set (HCS does not replay): its status says so. */
      HCS_OPERATION op = pHcsCreateOperation(NULL, NULL);
      result st = finish(op, pHcsGetProcessProperties(c[i].proc, op, NULL), false);
      if (st.doc && strstr(st.doc, want)) right++;
      result_free(&st);
      if (c[i].close_in_cb) pHcsCloseProcess(c[i].proc);
    } else if (strstr(c[i].s.data, want)) {
      right++;
    }
    if (!c[i].close_in_cb) pHcsCloseProcess(c[i].proc);
    CloseHandle(c[i].s.ev);
  }
  CHECK(right == started, "every exit code arrived with its own process (%d of %d)", right, started);
}

/* The shapes runtime/hcs/hcs_doc.c builds for Hyper-V isolation (utility VM, hosted container, NIC hot-add):
 * every field must be in the fake's schema table. Pause is refused for process isolation, served for a VM. */
static void test_hyperv_documents(void) {
  static const char uvm[] =
      "{\"Owner\":\"cshim\",\"SchemaVersion\":{\"Major\":2,\"Minor\":1},\"VirtualMachine\":{\"StopOnReset\":true,"
      "\"Chipset\":{\"Uefi\":{\"BootThis\":{\"DevicePath\":\"\\\\EFI\\\\Microsoft\\\\Boot\\\\bootmgfw.efi\","
      "\"DeviceType\":\"VmbFs\"}}},\"ComputeTopology\":{\"Memory\":{\"SizeInMB\":1024,\"AllowOvercommit\":true},"
      "\"Processor\":{\"Count\":2}},\"Devices\":{\"Scsi\":{\"0\":{\"Attachments\":{\"0\":{\"Path\":\"C:\\\\s\\\\vm\\\\sandbox.vhdx\","
      "\"Type\":\"VirtualDisk\"}}}},\"HvSocket\":{\"HvSocketConfig\":{\"DefaultBindSecurityDescriptor\":"
      "\"D:P(A;;FA;;;SY)(A;;FA;;;BA)\"}},\"VirtualSmb\":{\"DirectFileMappingInMB\":1024,\"Shares\":[{\"Name\":\"os\","
      "\"Path\":\"C:\\\\l\\\\UtilityVM\\\\Files\",\"Options\":{\"ReadOnly\":true,\"PseudoOplocks\":true,"
      "\"TakeBackupPrivilege\":true,\"CacheIo\":true,\"ShareRead\":true}}]}},\"GuestConnection\":{}},"
      "\"ShouldTerminateOnLastHandleClosed\":true}";
  static const char hosted[] =
      "{\"Owner\":\"cshim\",\"SchemaVersion\":{\"Major\":2,\"Minor\":1},\"HostingSystemId\":\"fakehcs-test-uvm\","
      "\"HostedSystem\":{\"SchemaVersion\":{\"Major\":2,\"Minor\":1},\"Container\":{\"Storage\":{\"Layers\":"
      "[{\"Id\":\"0b5a3f2e-0000-5000-8000-000000000001\",\"Path\":\"\\\\\\\\?\\\\VMSMB\\\\VSMB-{dcc079ae-60ba-4d07-847c-3493609c0870}\\\\s0\"}],"
      "\"Path\":\"C:\\\\c\\\\x\"},\"Networking\":{\"Namespace\":\"6e3a1f10-2b7c-4d55-9a0e-1c2d3e4f5a6b\"}}},"
      "\"ShouldTerminateOnLastHandleClosed\":true}";
  HCS_SYSTEM vm = NULL, ctr = NULL;
  result r = create_system("fakehcs-test-uvm", uvm, &vm);
  CHECK(r.hr == S_OK && vm, "a utility VM document as hcs_doc_uvm builds it (0x%08lX %s)", (unsigned long)r.hr,
        r.doc ? r.doc : "");
  result_free(&r);
  if (vm) {
    r = system_call(pHcsStartComputeSystem, vm, NULL);
    result_free(&r);
  }
  /* Before its storage is in the VM, a hosted container is refused. */
  r = create_system("fakehcs-test-hosted", hosted, &ctr);
  CHECK(r.hr == (HRESULT)0x80070490 && !ctr, "a hosted container with no combined layers at its root: ERROR_NOT_FOUND "
        "(0x%08lX %s)", (unsigned long)r.hr, r.doc ? r.doc : "");
  result_free(&r);
  /* The storage as hcs_uvm_doc.c hot-adds it: a layer share, the scratch on Lun 1 mapped at the root, the layers
   * combined over it. Out of order (layers before their disk) and twice are refused. */
  static const char *const attach[] = {
      "{\"ResourcePath\":\"VirtualMachine/Devices/VirtualSmb/Shares\",\"RequestType\":\"Add\",\"Settings\":{"
      "\"Name\":\"s0\",\"Path\":\"C:\\\\l\\\\top\",\"Options\":{\"ReadOnly\":true}}}",
      "{\"ResourcePath\":\"VirtualMachine/Devices/Scsi/0/Attachments/1\",\"RequestType\":\"Add\",\"Settings\":{"
      "\"Path\":\"C:\\\\s\\\\sandbox.vhdx\",\"Type\":\"VirtualDisk\"},\"GuestRequest\":{\"ResourceType\":"
      "\"MappedVirtualDisk\",\"RequestType\":\"Add\",\"Settings\":{\"ContainerPath\":\"C:\\\\c\\\\x\",\"Lun\":1}}}",
      "{\"GuestRequest\":{\"ResourceType\":\"CombinedLayers\",\"RequestType\":\"Add\",\"Settings\":{"
      "\"ContainerRootPath\":\"C:\\\\c\\\\x\",\"Layers\":[{\"Id\":\"0b5a3f2e-0000-5000-8000-000000000001\","
      "\"Path\":\"\\\\\\\\?\\\\VMSMB\\\\VSMB-{dcc079ae-60ba-4d07-847c-3493609c0870}\\\\s0\"}]}}}",
  };
  if (vm) {
    r = modify_system(vm, attach[2]);
    CHECK(r.hr == (HRESULT)0x80070490, "combined layers before their root disk: ERROR_NOT_FOUND (0x%08lX %s)",
          (unsigned long)r.hr, r.doc ? r.doc : "");
    result_free(&r);
    for (int i = 0; i < 3; i++) {
      r = modify_system(vm, attach[i]);
      CHECK(r.hr == S_OK, "hot-add %d as hcs_uvm_doc.c builds it (0x%08lX %s)", i, (unsigned long)r.hr, r.doc ? r.doc : "");
      result_free(&r);
    }
    r = modify_system(vm, attach[1]);
    CHECK(r.hr == E_INVALIDARG, "the same Lun twice: E_INVALIDARG (0x%08lX)", (unsigned long)r.hr);
    result_free(&r);
  }
  r = create_system("fakehcs-test-hosted", hosted, &ctr);
  CHECK(r.hr == S_OK && ctr, "a hosted container document (0x%08lX %s)", (unsigned long)r.hr, r.doc ? r.doc : "");
  result_free(&r);
  if (vm) {
    r = modify_system(vm, "{\"ResourcePath\":\"VirtualMachine/Devices/NetworkAdapters/6e3a1f10-2b7c-4d55-9a0e-1c2d3e4f5a6b\","
                          "\"RequestType\":\"Add\",\"Settings\":{\"EndpointId\":\"6e3a1f10-2b7c-4d55-9a0e-1c2d3e4f5a6b\","
                          "\"MacAddress\":\"00-15-5D-01-02-03\"}}");
    CHECK(r.hr == S_OK, "NIC hot-add as hcs_doc_nic_add builds it (0x%08lX %s)", (unsigned long)r.hr, r.doc ? r.doc : "");
    result_free(&r);
    r = modify_system(vm, "{\"ResourcePath\":\"VirtualMachine/Devices/NetworkAdapters/6e3a1f10-2b7c-4d55-9a0e-1c2d3e4f5a6b\","
                          "\"RequestType\":\"Remove\"}");
    CHECK(r.hr == S_OK, "NIC removal as hcs_doc_nic_remove builds it (0x%08lX %s)", (unsigned long)r.hr, r.doc ? r.doc : "");
    result_free(&r);
    r = modify_system(vm, "{\"ResourcePath\":\"VirtualMachine/Devices/NetworkAdapters/6e3a1f10-2b7c-4d55-9a0e-1c2d3e4f5a6b\","
                          "\"RequestType\":\"Remove\"}");
    CHECK(r.hr == (HRESULT)0x80070490, "removing a NIC that is not there: ERROR_NOT_FOUND (0x%08lX)", (unsigned long)r.hr);
    result_free(&r);
  }
  if (ctr) pHcsCloseComputeSystem(ctr);
  if (vm) pHcsCloseComputeSystem(vm);
  r = create_system("fakehcs-test-hosted", hosted, &ctr);
  CHECK(r.hr == (HRESULT)0xC037010E, "a hosted container whose VM is gone: HCS_E_SYSTEM_NOT_FOUND (0x%08lX)",
        (unsigned long)r.hr);
  result_free(&r);
  if (ctr) pHcsCloseComputeSystem(ctr);
}

static void test_terminate(HCS_SYSTEM sys) {
  WCHAR self[MAX_PATH];
  GetModuleFileNameW(NULL, self, MAX_PATH);
  char *uself = narrow(self), esc[MAX_PATH * 2], params[1024];
  size_t k = 0;
  for (const char *c = uself; *c && k < sizeof esc - 2; c++) {
    if (*c == '\\') esc[k++] = '\\';
    esc[k++] = *c;
  }
  esc[k] = '\0';
  free(uself);
  snprintf(params, sizeof params, "{\"CommandLine\":\"\\\"%s\\\" --wait\",\"CreateStdInPipe\":true}", esc);
  HCS_PROCESS proc = NULL;
  result r = create_process(sys, params, &proc);
  CHECK(r.hr == S_OK && proc, "HcsCreateProcess of a process that waits (0x%08lX)", (unsigned long)r.hr);
  seen ps, ss;
  seen_init(&ps);
  seen_init(&ss);
  if (proc) pHcsSetProcessCallback(proc, HcsEventOptionNone, &ps, on_event);
  pHcsSetComputeSystemCallback(sys, HcsEventOptionNone, &ss, on_event);
  result t = system_call(pHcsTerminateComputeSystem, sys, NULL);
  CHECK(t.hr == S_OK, "HcsTerminateComputeSystem (0x%08lX)", (unsigned long)t.hr);
  CHECK(WaitForSingleObject(ps.ev, 30000) == WAIT_OBJECT_0 && ps.type == HcsEventProcessExited,
        "its process's exit arrived (%s)", ps.data);
  CHECK(WaitForSingleObject(ss.ev, 30000) == WAIT_OBJECT_0 && ss.type == HcsEventSystemExited,
        "HcsEventSystemExited arrived (%s)", ss.data);
  result_free(&t);
  t = system_call(pHcsTerminateComputeSystem, sys, NULL);
  CHECK(t.hr == (HRESULT)0xC0370110, "terminating it again: HCS_E_SYSTEM_ALREADY_STOPPED (0x%08lX)",
        (unsigned long)t.hr);
  result_free(&t);
  if (r.pi.StdInput) CloseHandle(r.pi.StdInput);
  if (proc) pHcsCloseProcess(proc);
  CloseHandle(ps.ev);
  CloseHandle(ss.ev);
  result_free(&r);
}

static void test_hns(const WCHAR *dir) {
  HMODULE vc = load_system32(L"vmcompute.dll"), cn = load_system32(L"computenetwork.dll");
  if (!vc || !cn || !LOAD(vc, HNSCall) || !LOAD(cn, HcnOpenEndpoint) || !LOAD(cn, HcnQueryEndpointProperties) ||
      !LOAD(cn, HcnCloseEndpoint)) {
    CHECK(0, "the HNS exports are there");
    return;
  }
  WCHAR cfg[MAX_PATH];
  swprintf(cfg, MAX_PATH, L"%ls\\fakehcs-test-hns.json", dir);
  const char *text = "{\"Endpoints\":[{\"Id\":\"6e3a1f10-2b7c-4d55-9a0e-1c2d3e4f5a6b\",\"Name\":\"ep0\","
                     "\"MacAddress\":\"00-15-5D-01-02-03\",\"Stats\":{\"BytesReceived\":1234,\"BytesSent\":99,"
                     "\"PacketsReceived\":7,\"PacketsSent\":3}}]}";
  HANDLE f = CreateFileW(cfg, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
  DWORD w;
  WriteFile(f, text, (DWORD)strlen(text), &w, NULL);
  CloseHandle(f);
  SetEnvironmentVariableW(L"CSHIM_FAKEHCS_CONFIG", cfg);
  PWSTR resp = NULL;
  HRESULT hr = pHNSCall(L"GET", L"/endpointstats/6e3a1f10-2b7c-4d55-9a0e-1c2d3e4f5a6b", L"", &resp);
  char *r = narrow(resp);
  CHECK(hr == S_OK && r && strstr(r, "\"Success\":true") && strstr(r, "\"BytesReceived\":1234"),
        "HNSCall GET /endpointstats/<id>: the configured counters (%s)", r);
  free(r);
  CoTaskMemFree(resp);
  hr = pHNSCall(L"GET", L"/endpointstats/00000000-0000-0000-0000-000000000000", L"", &resp);
  r = narrow(resp);
  CHECK(hr == S_OK && r && strstr(r, "\"Success\":false"), "HNSCall for an unknown endpoint: Success false (%s)", r);
  free(r);
  CoTaskMemFree(resp);
  GUID g = {0x6e3a1f10, 0x2b7c, 0x4d55, {0x9a, 0x0e, 0x1c, 0x2d, 0x3e, 0x4f, 0x5a, 0x6b}};
  HCN_ENDPOINT ep = NULL;
  PWSTR rec = NULL, props = NULL;
  hr = pHcnOpenEndpoint(&g, &ep, &rec);
  CHECK(hr == S_OK && ep, "HcnOpenEndpoint of the configured endpoint (0x%08lX)", (unsigned long)hr);
  if (ep) {
    hr = pHcnQueryEndpointProperties(ep, L"{\"SchemaVersion\":{\"Major\":2,\"Minor\":0},\"Flags\":0}", &props, &rec);
    r = narrow(props);
    CHECK(hr == S_OK && r && strstr(r, "00-15-5D-01-02-03"), "HcnQueryEndpointProperties: its MacAddress (%s)", r);
    free(r);
    CoTaskMemFree(props);
    pHcnCloseEndpoint(ep);
  }
  g.Data1 = 1;
  ep = NULL;
  hr = pHcnOpenEndpoint(&g, &ep, &rec);
  CHECK(hr == (HRESULT)0x803B0002, "HcnOpenEndpoint of an unknown id: HCN_E_ENDPOINT_NOT_FOUND (0x%08lX)",
        (unsigned long)hr);
  CoTaskMemFree(rec);
  DeleteFileW(cfg);
  SetEnvironmentVariableW(L"CSHIM_FAKEHCS_CONFIG", NULL);
}

static void test_log(const WCHAR *log) {
  HANDLE f = CreateFileW(log, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL);
  char *text = f != INVALID_HANDLE_VALUE ? read_all(f) : NULL;
  if (f != INVALID_HANDLE_VALUE) CloseHandle(f);
  bool found = false;
  /* Every line is a JSON object; the creation's document carries the memory cap. */
  int lines = 0, bad = 0;
  for (char *line = text ? strtok(text, "\n") : NULL; line; line = strtok(NULL, "\n")) {
    lines++;
    json_t *j = json_loads(line, 0, NULL);
    if (!j) bad++;
    const char *call = json_string_value(json_object_get(j, "call"));
    json_t *mb = json_object_get(json_object_get(json_object_get(json_object_get(j, "doc"), "Container"), "Memory"),
                                 "SizeInMB");
    if (call && strcmp(call, "HcsCreateComputeSystem") == 0 && json_integer_value(mb) == 256) found = true;
    json_decref(j);
  }
  CHECK(lines > 10 && bad == 0, "the call log: %d JSON lines, %d bad", lines, bad);
  CHECK(found, "the log shows Container.Memory.SizeInMB 256 in the HcsCreateComputeSystem document");
  free(text);
}

/* vmcompute's layer calls, as hcsshim's internal/wclayer makes them (prototypes: its //sys lines). */
typedef struct drv_info {
  int Flavour;
  PCWSTR HomeDir;
} drv_info;
typedef struct layer_desc {
  GUID LayerId;
  UINT32 Flags;
  PCWSTR Pathp;
} layer_desc;
typedef HRESULT(WINAPI *layer_fn)(const drv_info *, PCWSTR);
typedef HRESULT(WINAPI *prepare_fn)(const drv_info *, PCWSTR, const layer_desc *, UINT32);
typedef HRESULT(WINAPI *mount_path_fn)(const drv_info *, PCWSTR, SIZE_T *, PWSTR);
typedef HRESULT(WINAPI *name_to_guid_fn)(PCWSTR, GUID *);
typedef int(WINAPI *active_fn)(void);

static void test_layers(const WCHAR *tmp) {
  HMODULE vc = load_system32(L"vmcompute.dll");
  if (!vc) return;
  layer_fn activate = (layer_fn)(any_fn)GetProcAddress(vc, "ActivateLayer");
  prepare_fn prepare = (prepare_fn)(any_fn)GetProcAddress(vc, "PrepareLayer");
  mount_path_fn mount_path = (mount_path_fn)(any_fn)GetProcAddress(vc, "GetLayerMountPath");
  layer_fn unprepare = (layer_fn)(any_fn)GetProcAddress(vc, "UnprepareLayer");
  layer_fn deactivate = (layer_fn)(any_fn)GetProcAddress(vc, "DeactivateLayer");
  name_to_guid_fn n2g = (name_to_guid_fn)(any_fn)GetProcAddress(vc, "NameToGuid");
  active_fn active = (active_fn)(any_fn)GetProcAddress(vc, "FakeHcsActiveLayers");
  CHECK(activate && prepare && mount_path && unprepare && deactivate && n2g && active,
        "vmcompute.dll exports the layer calls");
  if (!activate || !prepare || !mount_path || !unprepare || !deactivate || !n2g || !active) return;
  WCHAR home[MAX_PATH], base[MAX_PATH], scratch[MAX_PATH];
  swprintf(home, MAX_PATH, L"%ls\\fakehcs-layers-%lu", tmp, (unsigned long)GetCurrentProcessId());
  swprintf(base, MAX_PATH, L"%ls\\base", home);
  swprintf(scratch, MAX_PATH, L"%ls\\scratch", home);
  CreateDirectoryW(home, NULL);
  CreateDirectoryW(base, NULL);
  CreateDirectoryW(scratch, NULL);
  drv_info di = {1, home}, bad_flavour = {0, home};
  layer_desc d = {.Flags = 0, .Pathp = base};
  n2g(L"base", &d.LayerId);

  CHECK(activate(&bad_flavour, L"scratch") == E_INVALIDARG, "ActivateLayer with Flavour 0: E_INVALIDARG");
  CHECK(activate(&di, L"missing") == (HRESULT)0x80070003, "ActivateLayer of a folder that does not exist: path not found");
  CHECK(prepare(&di, L"scratch", &d, 1) == (HRESULT)0x80070490, "PrepareLayer before ActivateLayer: not found");
  CHECK(activate(&di, L"scratch") == S_OK && active() == 1, "ActivateLayer: one layer active");
  layer_desc wrong = d;
  wrong.LayerId.Data1 ^= 1;
  CHECK(prepare(&di, L"scratch", &wrong, 1) == E_INVALIDARG, "PrepareLayer with a LayerId not NameToGuid(base): E_INVALIDARG");
  SIZE_T len = 0;
  CHECK(mount_path(&di, L"scratch", &len, NULL) == (HRESULT)0x80070490, "GetLayerMountPath of an unprepared layer: not found");
  SetEnvironmentVariableW(L"CSHIM_FAKEHCS_LAYER_FAIL", L"PrepareLayer=0x80070020");
  CHECK(prepare(&di, L"scratch", &d, 1) == (HRESULT)0x80070020, "CSHIM_FAKEHCS_LAYER_FAIL fails PrepareLayer with its HRESULT");
  SetEnvironmentVariableW(L"CSHIM_FAKEHCS_LAYER_FAIL", NULL);
  CHECK(prepare(&di, L"scratch", &d, 1) == S_OK, "PrepareLayer over the base layer");
  WCHAR buf[128] = L"";
  CHECK(mount_path(&di, L"scratch", &len, NULL) == S_OK && len > 10 && len < 128, "GetLayerMountPath length (%lu)",
        (unsigned long)len);
  CHECK(mount_path(&di, L"scratch", &len, buf) == S_OK && wcsncmp(buf, L"\\\\?\\Volume{", 11) == 0 &&
            buf[wcslen(buf) - 1] == L'}',
        "GetLayerMountPath: a volume GUID path (%ls)", buf);
  CHECK(deactivate(&di, L"base") == (HRESULT)0x80070490, "DeactivateLayer of a layer never activated: not found");
  CHECK(unprepare(&di, L"scratch") == S_OK && deactivate(&di, L"scratch") == S_OK && active() == 0,
        "UnprepareLayer + DeactivateLayer: nothing left active");
  RemoveDirectoryW(scratch);
  RemoveDirectoryW(base);
  RemoveDirectoryW(home);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--spin") == 0) return child_spin();
  if (argc > 1 && strcmp(argv[1], "--wait") == 0) {
    drain_stdin();
    return 0;
  }
  if (argc > 2 && strcmp(argv[1], "--install") == 0 && install(argv[2]) < 0) return 2;

  WCHAR dir[MAX_PATH], log[MAX_PATH];
  GetTempPathW(MAX_PATH, dir);
  size_t dl = wcslen(dir);
  if (dl && dir[dl - 1] == L'\\') dir[dl - 1] = L'\0';
  swprintf(log, MAX_PATH, L"%ls\\fakehcs-test-%lu.log", dir, (unsigned long)GetCurrentProcessId());
  SetEnvironmentVariableW(L"CSHIM_FAKEHCS_LOG", log);

  HMODULE cc = load_system32(L"computecore.dll");
  if (!cc || !LOAD(cc, HcsCreateOperation) || !LOAD(cc, HcsCloseOperation) || !LOAD(cc, HcsWaitForOperationResult) ||
      !LOAD(cc, HcsWaitForOperationResultAndProcessInfo) || !LOAD(cc, HcsCreateComputeSystem) ||
      !LOAD(cc, HcsOpenComputeSystem) || !LOAD(cc, HcsCloseComputeSystem) || !LOAD(cc, HcsStartComputeSystem) ||
      !LOAD(cc, HcsTerminateComputeSystem) || !LOAD(cc, HcsPauseComputeSystem) || !LOAD(cc, HcsGetComputeSystemProperties) ||
      !LOAD(cc, HcsModifyComputeSystem) || !LOAD(cc, HcsSetComputeSystemCallback) || !LOAD(cc, HcsCreateProcess) ||
      !LOAD(cc, HcsOpenProcess) || !LOAD(cc, HcsCloseProcess) || !LOAD(cc, HcsSignalProcess) ||
      !LOAD(cc, HcsGetProcessProperties) || !LOAD(cc, HcsSetProcessCallback)) {
    CHECK(0, "computecore.dll exports the HCS calls");
    return 1;
  }
  HCS_SYSTEM sys = NULL;
  result r = create_system("fakehcs-test", config_doc, &sys);
  CHECK(r.hr == S_OK && sys, "HcsCreateComputeSystem (0x%08lX %s)", (unsigned long)r.hr, r.doc ? r.doc : "");
  result_free(&r);
  if (!sys) return 1;
  r = system_call(pHcsStartComputeSystem, sys, NULL);
  CHECK(r.hr == S_OK, "HcsStartComputeSystem (0x%08lX)", (unsigned long)r.hr);
  result_free(&r);

  test_echo(sys);
  test_stats(sys);
  test_many(sys);
  test_bad_input(sys);
  r = system_call(pHcsPauseComputeSystem, sys, NULL);
  CHECK(r.hr == (HRESULT)0x80070032, "pause of a process-isolated container: not supported (0x%08lX)",
        (unsigned long)r.hr);
  result_free(&r);
  test_terminate(sys);
  pHcsCloseComputeSystem(sys);
  test_hyperv_documents();
  test_hns(dir);
  test_layers(dir);
  test_log(log);
  DeleteFileW(log);
  printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
  return failures ? 1 : 0;
}
