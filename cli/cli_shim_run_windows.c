/* Running the shim binary once (start, delete) and capturing what it prints, on Windows: CreateProcessW
 * with anonymous pipes for its std handles, a deadline on its exit.
 *
 * The output pipes are large (CLI_CAPTURE_PIPE) so a shim never blocks writing while we wait for its exit;
 * what it printed is read after the exit with PeekNamedPipe first, so a handle some other process still
 * holds (the serving shim inherits none: shim_os_windows.c) could not make us wait forever. */
#include "cli_shim_run.h"

#include <uv.h> /* before windows.h */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

#include "cs_win_str.h"

#define CLI_CAPTURE_PIPE (1u << 20)
#define CLI_CAPTURE_MAX (1u << 20)

static void drain(HANDLE h, cli_capture *c) {
  for (;;) {
    DWORD avail = 0;
    if (!PeekNamedPipe(h, NULL, 0, NULL, &avail, NULL) || avail == 0) return;
    if (c->len + avail + 1 > c->cap) {
      size_t ncap = c->len + avail + 1;
      if (ncap > CLI_CAPTURE_MAX) ncap = CLI_CAPTURE_MAX;
      char *nb = ncap > c->cap ? realloc(c->buf, ncap) : NULL;
      if (nb) {
        c->buf = nb;
        c->cap = ncap;
      }
    }
    char sink[4096];
    bool room = c->cap > c->len + 1;
    DWORD want = room ? (DWORD)(c->cap - c->len - 1) : sizeof sink;
    if (want > avail) want = avail;
    DWORD got = 0;
    if (!ReadFile(h, room ? c->buf + c->len : sink, want, &got, NULL) || got == 0) return;
    if (room) {
      c->len += got;
      c->buf[c->len] = '\0';
    }
  }
}

int cli_shim_run(char *const argv[], const char *cwd, const uint8_t *data, size_t dlen, const char *ns,
                 const char *address, cli_capture *out, cli_capture *errout, int timeout_ms, cs_err *err) {
  char cmdline[32768];
  size_t pos = 0;
  cmdline[0] = '\0';
  for (int i = 0; argv[i]; i++)
    if (cs_win_quote_arg(cmdline, sizeof cmdline, &pos, argv[i]) < 0)
      return cs_err_set(err, CS_INVALID_ARGUMENT, "%s: command line too long", argv[0]);
  SECURITY_ATTRIBUTES sa = {.nLength = sizeof sa, .bInheritHandle = TRUE};
  HANDLE in_r = NULL, in_w = NULL, out_r = NULL, out_w = NULL, err_r = NULL, err_w = NULL;
  int rc = -1;
  wchar_t *wcmd = NULL, *wcwd = NULL;
  PROCESS_INFORMATION pi = {0};
  /* The options are small (well under the pipe buffer): written before the start, then EOF. */
  if (!CreatePipe(&in_r, &in_w, &sa, 65536) || !CreatePipe(&out_r, &out_w, &sa, CLI_CAPTURE_PIPE) ||
      (errout && !CreatePipe(&err_r, &err_w, &sa, CLI_CAPTURE_PIPE))) {
    cs_err_set(err, CS_INTERNAL, "CreatePipe: error %lu", GetLastError());
    goto out;
  }
  SetHandleInformation(in_w, HANDLE_FLAG_INHERIT, 0);
  SetHandleInformation(out_r, HANDLE_FLAG_INHERIT, 0);
  if (err_r) SetHandleInformation(err_r, HANDLE_FLAG_INHERIT, 0);
  DWORD wrote = 0;
  if (data && dlen && (!WriteFile(in_w, data, (DWORD)dlen, &wrote, NULL) || wrote != dlen)) {
    cs_err_set(err, CS_INTERNAL, "write shim options: error %lu", GetLastError());
    goto out;
  }
  CloseHandle(in_w);
  in_w = NULL;
  /* No containerd to publish to: empty TTRPC_ADDRESS. NAMESPACE/GRPC_ADDRESS as containerd 1.7 sets them.
   * Set in our own environment, which the child copies: cshimctl starts nothing else that would mind. */
  SetEnvironmentVariableA("TTRPC_ADDRESS", "");
  SetEnvironmentVariableA("GRPC_ADDRESS", address);
  SetEnvironmentVariableA("NAMESPACE", ns);
  wcmd = cs_win_wide(cmdline);
  wcwd = cs_win_wide(cwd);
  if (!wcmd || !wcwd) {
    cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
    goto out;
  }
  STARTUPINFOW si = {.cb = sizeof si, .dwFlags = STARTF_USESTDHANDLES, .hStdInput = in_r, .hStdOutput = out_w,
                     .hStdError = errout ? err_w : out_w};
  if (!CreateProcessW(NULL, wcmd, NULL, NULL, TRUE, CREATE_NO_WINDOW, NULL, wcwd, &si, &pi)) {
    cs_err_set(err, GetLastError() == ERROR_FILE_NOT_FOUND ? CS_NOT_FOUND : CS_INTERNAL, "run %s: error %lu", argv[0],
               GetLastError());
    goto out;
  }
  /* Only the child holds the write ends now. */
  CloseHandle(out_w);
  out_w = NULL;
  if (err_w) CloseHandle(err_w);
  err_w = NULL;
  CloseHandle(in_r);
  in_r = NULL;
  bool done = false;
  for (ULONGLONG deadline = GetTickCount64() + (ULONGLONG)timeout_ms; !done;) {
    ULONGLONG now = GetTickCount64();
    if (now >= deadline) break;
    DWORD w = WaitForSingleObject(pi.hProcess, (DWORD)(deadline - now < 50 ? deadline - now : 50));
    drain(out_r, out);
    if (errout) drain(err_r, errout);
    done = w == WAIT_OBJECT_0;
  }
  if (!done) {
    TerminateProcess(pi.hProcess, 1);
    WaitForSingleObject(pi.hProcess, 5000);
    cs_err_set(err, CS_DEADLINE_EXCEEDED, "%s: no answer within %d ms", argv[0], timeout_ms);
    goto out;
  }
  drain(out_r, out);
  if (errout) drain(err_r, errout);
  DWORD code = 0;
  GetExitCodeProcess(pi.hProcess, &code);
  rc = code > 255 ? 255 : (int)code;
out:
  if (pi.hProcess) CloseHandle(pi.hProcess);
  if (pi.hThread) CloseHandle(pi.hThread);
  HANDLE hs[] = {in_r, in_w, out_r, out_w, err_r, err_w};
  for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++)
    if (hs[i]) CloseHandle(hs[i]);
  free(wcmd);
  free(wcwd);
  return rc;
}
