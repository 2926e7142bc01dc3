/* Named-pipe endpoints (see ttrpc_sock.h). libuv serves \\.\pipe\ names natively through uv_pipe_t. */
#include "ttrpc_sock.h"

#include <stdio.h>
#include <string.h>

/* uv.h (through ttrpc.h) before windows.h: it brings winsock2.h, which must come first. */
#include <windows.h>
#include <sddl.h>

#include "cs_log.h"

#define PIPE_PREFIX "\\\\.\\pipe\\"
#define PIPE_NAME_MAX 256 /* CreateNamedPipe: "The entire pipe name string can be up to 256 characters" */

int ttrpc_sock_path(const char *addr, const char **path, cs_err *err) {
  if (!addr) return cs_err_set(err, CS_INVALID_ARGUMENT, "ttrpc: no pipe address");
  size_t n = strlen(addr), p = sizeof PIPE_PREFIX - 1;
  if (n <= p || _strnicmp(addr, PIPE_PREFIX, p) != 0)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "ttrpc: %s is not a named pipe (\\\\.\\pipe\\<name>)", addr);
  if (n > PIPE_NAME_MAX)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "ttrpc: pipe name too long (%lu > %d): %s", (unsigned long)n,
                      PIPE_NAME_MAX, addr);
  *path = addr;
  return 0;
}

static int to_wide(const char *s, WCHAR *out, int cap, cs_err *err) {
  if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, out, cap) == 0)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "ttrpc: pipe name is not valid UTF-8: %s", s);
  return 0;
}

/* libuv creates the first instance with FILE_FLAG_FIRST_PIPE_INSTANCE, so on Windows a second server's
 * bind fails atomically (ERROR_ACCESS_DENIED -> UV_EADDRINUSE -> AlreadyExists). Wine 8 does not enforce
 * that flag (a second server on a live name succeeds there), so we also ask whether the pipe exists:
 * WaitNamedPipe finds any live server, idle (TRUE) or busy (ERROR_SEM_TIMEOUT), without connecting to it.
 * On Windows this probe only makes the common case's message clearer; the flag closes the race. */
int ttrpc_sock_claim(const char *path, cs_err *err) {
  WCHAR w[PIPE_NAME_MAX + 1];
  if (to_wide(path, w, PIPE_NAME_MAX + 1, err) < 0) return -1;
  if (WaitNamedPipeW(w, 1) || GetLastError() == ERROR_SEM_TIMEOUT)
    return cs_err_set(err, CS_ALREADY_EXISTS, "ttrpc: %s: a server is already listening there", path);
  return 0;
}

/* The pipe's DACL: full access for SYSTEM, Administrators and the user this process runs as (its token's
 * user, not its owner: an elevated administrator's token owner is the Administrators group); nobody else,
 * not even read (the default pipe DACL lets Everyone and Anonymous read; Wine 8 gives a pipe no DACL at
 * all). Protected: nothing inherited.
 * FILE_ALL_ACCESS includes FILE_CREATE_PIPE_INSTANCE, which libuv needs for the instances it adds later.
 *
 * Why setting it on one instance is enough: Windows keeps a named pipe's security descriptor on the pipe
 * itself (NPFS' per-name FCB), not per instance. CreateNamedPipe for a later instance does not replace
 * it: it is an open of the existing pipe, checked against that DACL for FILE_CREATE_PIPE_INSTANCE, and its
 * own security attributes are ignored. libuv's uv_pipe_bind creates the first instance with WRITE_DAC and
 * keeps it in handle->handle (what uv_fileno returns), and always keeps an instance pending while it
 * listens, so the pipe object and this DACL live as long as the server (libuv's own uv_pipe_chmod relies
 * on the same). Call between uv_pipe_bind and uv_listen: no client can have been accepted yet, and a
 * client that opened the first instance in the microseconds before could only have opened it for reading
 * (default DACL), which gets it nothing on a request/response protocol. */
int ttrpc_pipe_make_private(uv_pipe_t *bound, const char *path, cs_err *err) {
  uv_os_fd_t h;
  if (uv_fileno((const uv_handle_t *)bound, &h) < 0)
    return cs_err_set(err, CS_FAILED_PRECONDITION, "ttrpc: %s: the pipe is not bound", path);
  HANDLE tok = NULL;
  union {
    TOKEN_USER tu;
    char buf[SECURITY_MAX_SID_SIZE + sizeof(TOKEN_USER)];
  } user;
  DWORD len = 0;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok))
    return cs_err_set(err, CS_INTERNAL, "ttrpc: %s: open process token: error %lu", path, GetLastError());
  BOOL ok = GetTokenInformation(tok, TokenUser, &user, sizeof user, &len);
  DWORD e = GetLastError();
  CloseHandle(tok);
  if (!ok) return cs_err_set(err, CS_INTERNAL, "ttrpc: %s: token user: error %lu", path, e);
  char *sid = NULL;
  if (!ConvertSidToStringSidA(user.tu.User.Sid, &sid))
    return cs_err_set(err, CS_INTERNAL, "ttrpc: %s: user SID: error %lu", path, GetLastError());
  char sddl[256];
  snprintf(sddl, sizeof sddl, "D:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FA;;;%s)", sid);
  LocalFree(sid);
  PSECURITY_DESCRIPTOR sd = NULL;
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorA(sddl, SDDL_REVISION_1, &sd, NULL))
    return cs_err_set(err, CS_INTERNAL, "ttrpc: %s: security descriptor %s: error %lu", path, sddl, GetLastError());
  /* The whole descriptor, whose control carries SE_DACL_PROTECTED (the "P"): SetSecurityInfo with
   * PROTECTED_DACL_SECURITY_INFORMATION does the same on Windows, but Wine 8 drops the flag there. */
  BOOL set = SetKernelObjectSecurity(h, DACL_SECURITY_INFORMATION, sd);
  e = GetLastError();
  LocalFree(sd);
  if (!set) return cs_err_set(err, CS_PERMISSION_DENIED, "ttrpc: %s: set the pipe's DACL: error %lu", path, e);
  return 0;
}

/* No SIGPIPE on Windows: a write to a closed pipe fails with an error. */
void ttrpc_sock_check_sigpipe(void) {}
