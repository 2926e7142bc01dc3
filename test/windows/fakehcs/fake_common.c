#include "fake_common.h"

#include <objbase.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int wide_len(const char *s) { return MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0); }

static bool wide_into(const char *s, WCHAR *out, int n) {
  return MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, out, n) == n;
}

WCHAR *fake_wide(const char *s) {
  if (!s) return NULL;
  int n = wide_len(s);
  WCHAR *w = n > 0 ? malloc((size_t)n * sizeof *w) : NULL;
  if (w && !wide_into(s, w, n)) {
    free(w);
    w = NULL;
  }
  return w;
}

WCHAR *fake_wide_local(const char *s) {
  if (!s) return NULL;
  int n = wide_len(s);
  WCHAR *w = n > 0 ? LocalAlloc(LMEM_FIXED, (size_t)n * sizeof *w) : NULL;
  if (w && !wide_into(s, w, n)) {
    LocalFree(w);
    w = NULL;
  }
  return w;
}

WCHAR *fake_wide_cotask(const char *s) {
  if (!s) return NULL;
  int n = wide_len(s);
  WCHAR *w = n > 0 ? CoTaskMemAlloc((size_t)n * sizeof *w) : NULL;
  if (w && !wide_into(s, w, n)) {
    CoTaskMemFree(w);
    w = NULL;
  }
  return w;
}

char *fake_utf8(const WCHAR *w) {
  if (!w) return NULL;
  int n = WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, w, -1, NULL, 0, NULL, NULL);
  char *s = n > 0 ? malloc((size_t)n) : NULL;
  if (s && WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, w, -1, s, n, NULL, NULL) != n) {
    free(s);
    s = NULL;
  }
  return s;
}

WCHAR *fake_env_path(const char *name) {
  /* The process environment, not the C runtime's copy: a caller's SetEnvironmentVariableW counts. */
  WCHAR *wname = fake_wide(name), *v = NULL;
  DWORD n = wname ? GetEnvironmentVariableW(wname, NULL, 0) : 0;
  if (n > 1 && (v = malloc((n + 2) * sizeof *v)) && GetEnvironmentVariableW(wname, v + 2, n) != n - 1) {
    free(v);
    v = NULL;
  }
  free(wname);
  if (!v) return NULL;
  if (v[2] != L'/') {
    memmove(v, v + 2, n * sizeof *v);
    return v;
  }
  /* A Unix absolute path: Wine maps Z: to the Unix root in every prefix it makes. */
  v[0] = L'Z';
  v[1] = L':';
  for (WCHAR *c = v + 2; *c; c++)
    if (*c == L'/') *c = L'\\';
  return v;
}

json_t *fake_log_doc(const char *doc) {
  if (!doc) return json_null();
  json_t *j = json_loads(doc, JSON_DECODE_ANY, NULL);
  return j ? j : json_string(doc);
}

json_t *fake_log_hr(HRESULT hr) {
  char b[16];
  snprintf(b, sizeof b, "0x%08lX", (unsigned long)(DWORD)hr);
  return json_string(b);
}

void fake_log(const char *call, json_t *fields) {
  WCHAR *path = fake_env_path("CSHIM_FAKEHCS_LOG");
  if (!path) {
    json_decref(fields);
    return;
  }
  json_t *line = json_object();
  FILETIME now;
  GetSystemTimePreciseAsFileTime(&now);
  char ts[40];
  fake_format_time(&now, ts);
  json_object_set_new(line, "ts", json_string(ts));
  /* "caller_*": the process and thread that made the call; "pid" in the fields is an HCS process's. */
  json_object_set_new(line, "caller_pid", json_integer((json_int_t)GetCurrentProcessId()));
  json_object_set_new(line, "caller_tid", json_integer((json_int_t)GetCurrentThreadId()));
  json_object_set_new(line, "call", json_string(call));
  if (fields) json_object_update(line, fields);
  json_decref(fields);
  char *text = json_dumps(line, JSON_COMPACT);
  json_decref(line);
  if (text) {
    size_t n = strlen(text);
    char *buf = malloc(n + 2);
    if (buf) {
      memcpy(buf, text, n);
      buf[n] = '\n';
      /* Wine 8 appends by seeking to the end and then writing, so two threads or processes appending at once
       * can overwrite each other's line (seen: a line cut in half by an event line). A named mutex, shared by
       * every process of the prefix, makes each append whole; Windows' FILE_APPEND_DATA would not need it. */
      HANDLE mu = CreateMutexW(NULL, FALSE, L"Local\\cshim-fakehcs-log");
      if (mu) WaitForSingleObject(mu, 5000);
      HANDLE f = CreateFileW(path, FILE_APPEND_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                             OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
      if (f != INVALID_HANDLE_VALUE) {
        DWORD w;
        WriteFile(f, buf, (DWORD)(n + 1), &w, NULL);
        CloseHandle(f);
      }
      if (mu) {
        ReleaseMutex(mu);
        CloseHandle(mu);
      }
      free(buf);
    }
    free(text);
  }
  free(path);
}

char *fake_error_doc(HRESULT hr, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  json_t *d = json_pack("{s:I,s:s}", "Error", (json_int_t)(LONG)hr, "ErrorMessage", msg);
  char *s = d ? json_dumps(d, JSON_COMPACT) : NULL;
  json_decref(d);
  return s;
}

void fake_format_time(const FILETIME *ft, char out[40]) {
  SYSTEMTIME st;
  FileTimeToSystemTime(ft, &st);
  ULONGLONG t = ((ULONGLONG)ft->dwHighDateTime << 32) | ft->dwLowDateTime;
  snprintf(out, 40, "%04u-%02u-%02uT%02u:%02u:%02u.%07uZ", st.wYear, st.wMonth, st.wDay, st.wHour, st.wMinute,
           st.wSecond, (unsigned)(t % 10000000ULL));
}
