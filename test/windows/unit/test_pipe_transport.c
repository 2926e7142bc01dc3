/* The TTRPC transport on Windows named pipes (run under Wine by ctest):
 *  - a C client and a C server talk over \\.\pipe\... (unary OK, error status, unknown method);
 *  - ttrpc_server_set_private: the pipe's DACL read back through GetSecurityInfo as SDDL is exactly
 *    SYSTEM + Administrators + our own user, protected, on the first instance and on instances libuv
 *    creates after accepting (every Wine process runs as one user, so the descriptor itself is checked,
 *    not an access refused to another user);
 *  - a second server on a live name is refused with AlreadyExists (Windows: libuv's
 *    FILE_FLAG_FIRST_PIPE_INSTANCE; Wine ignores that flag, so there the transport's probe is what refuses);
 *  - addresses that are not pipe names fail with InvalidArgument; dialing a missing pipe fails. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include <windows.h>
#include <aclapi.h>
#include <sddl.h>

#include "ttrpc.h"
#include "tw_tap.h"

#define SVC "cshim.test.v1.Echo"

static void echo(ttrpc_call *c, const uint8_t *p, size_t n, void *data) { ttrpc_call_reply(c, p, n); }
static void fail(ttrpc_call *c, const uint8_t *p, size_t n, void *data) {
  ttrpc_call_reply_error(c, CS_FAILED_PRECONDITION, "fail: as asked");
}
static const ttrpc_method methods[] = {{"Echo", echo, false}, {"Fail", fail, false}};

static void on_server_closed(void *data) { *(int *)data = 1; }

/* The SDDL of the pipe as a client sees it: open it (this is a connection the server accepts) with
 * READ_CONTROL and read the DACL. Returns a LocalAlloc'd string or NULL. */
static char *pipe_sddl(const char *name, HANDLE *conn) {
  *conn = CreateFileA(name, GENERIC_READ | GENERIC_WRITE | READ_CONTROL, 0, NULL, OPEN_EXISTING, 0, NULL);
  if (*conn == INVALID_HANDLE_VALUE) {
    printf("# open %s: error %lu\n", name, GetLastError());
    return NULL;
  }
  PSECURITY_DESCRIPTOR sd = NULL;
  PACL dacl = NULL;
  DWORD rc = GetSecurityInfo(*conn, SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION, NULL, NULL, &dacl, NULL, &sd);
  if (rc != ERROR_SUCCESS) {
    printf("# GetSecurityInfo: error %lu\n", rc);
    return NULL;
  }
  LPWSTR w = NULL;
  char *s = NULL;
  if (ConvertSecurityDescriptorToStringSecurityDescriptorW(sd, SDDL_REVISION_1, DACL_SECURITY_INFORMATION, &w,
                                                           NULL)) {
    int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
    s = LocalAlloc(LMEM_FIXED, (SIZE_T)n);
    if (s) WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL);
    LocalFree(w);
  }
  LocalFree(sd);
  return s;
}

static int own_sid(char *out, size_t n) {
  HANDLE tok;
  union {
    TOKEN_USER tu;
    char buf[SECURITY_MAX_SID_SIZE + sizeof(TOKEN_USER)];
  } u;
  DWORD len;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok)) return -1;
  BOOL ok = GetTokenInformation(tok, TokenUser, &u, sizeof u, &len);
  CloseHandle(tok);
  char *s;
  if (!ok || !ConvertSidToStringSidA(u.tu.User.Sid, &s)) return -1;
  snprintf(out, n, "%s", s);
  LocalFree(s);
  return 0;
}

/* Turn the loop until the server has accepted `want` connections (the accept completes on the loop). */
static int wait_conns(uv_loop_t *loop, ttrpc_server *s, size_t want) {
  for (int i = 0; i < 5000 && ttrpc_server_connections(s) < want; i++) {
    uv_run(loop, UV_RUN_NOWAIT);
    if (ttrpc_server_connections(s) < want) Sleep(1); /* yield to the pipe's completion, then look again */
  }
  return ttrpc_server_connections(s) >= want ? 0 : -1;
}

int main(void) {
  tw_tap t = {0};
  uv_loop_t loop;
  uv_loop_init(&loop);
  cs_err err;
  char name[128];
  snprintf(name, sizeof name, "\\\\.\\pipe\\cshim-unit-%lu-transport", GetCurrentProcessId());

  /* ---- server with the private DACL, and a client on the same loop */
  ttrpc_server *srv = ttrpc_server_new(&loop);
  TW_CHECK(&t, srv && ttrpc_server_register(srv, SVC, methods, 2, NULL, &err) == 0, "register a service");
  ttrpc_server_set_private(srv, true);
  int r = ttrpc_server_listen(srv, name, &err);
  TW_CHECK(&t, r == 0, "listen on %s", name);
  if (r < 0) printf("# %s\n", err.msg);

  ttrpc_client *cl = ttrpc_client_new(&loop);
  r = ttrpc_client_connect_sync(cl, name, &err);
  TW_CHECK(&t, r == 0, "client connects over the named pipe");
  if (r < 0) printf("# %s\n", err.msg);
  uint8_t *out = NULL;
  size_t out_len = 0;
  const char msg[] = "hello over a named pipe";
  r = ttrpc_client_call_sync(cl, SVC, "Echo", (const uint8_t *)msg, sizeof msg, NULL, 0, 5000000000LL, &out,
                             &out_len, &err);
  TW_CHECK(&t, r == 0 && out_len == sizeof msg && memcmp(out, msg, sizeof msg) == 0, "unary call echoes");
  free(out);
  out = NULL;
  /* 1 MiB: more than one pipe buffer (libuv's instances have 64 KiB), so frames are reassembled. */
  size_t big_n = 1u << 20;
  uint8_t *big = malloc(big_n);
  for (size_t i = 0; big && i < big_n; i++) big[i] = (uint8_t)(i * 7);
  r = ttrpc_client_call_sync(cl, SVC, "Echo", big, big_n, NULL, 0, 5000000000LL, &out, &out_len, &err);
  TW_CHECK(&t, r == 0 && out_len == big_n && memcmp(out, big, big_n) == 0, "a 1 MiB message both ways");
  free(out);
  free(big);
  out = NULL;
  r = ttrpc_client_call_sync(cl, SVC, "Fail", NULL, 0, NULL, 0, 5000000000LL, &out, &out_len, &err);
  TW_CHECK(&t, r < 0 && err.code == CS_FAILED_PRECONDITION && strstr(err.msg, "as asked"),
           "an error status arrives with its code and message");
  r = ttrpc_client_call_sync(cl, SVC, "Nope", NULL, 0, NULL, 0, 5000000000LL, &out, &out_len, &err);
  TW_CHECK(&t, r < 0 && err.code == CS_UNIMPLEMENTED, "an unknown method is Unimplemented, the server serves on");
  r = ttrpc_client_call_sync(cl, SVC, "Echo", (const uint8_t *)"x", 1, NULL, 0, 5000000000LL, &out, &out_len, &err);
  TW_CHECK(&t, r == 0 && out_len == 1, "the connection still works after the errors");
  free(out);
  out = NULL;

  /* ---- the DACL, as a client opening the pipe sees it */
  char sid[200], want[300];
  TW_CHECK(&t, own_sid(sid, sizeof sid) == 0, "our user's SID: %s", sid);
  snprintf(want, sizeof want, "D:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FA;;;%s)", sid);
  HANDLE conns[3];
  size_t nconn = ttrpc_server_connections(srv);
  for (int i = 0; i < 3; i++) {
    /* Each open takes one pending instance; libuv creates the next ones after the accepts, without
     * WRITE_DAC and without our help: they must carry the same DACL (it belongs to the pipe). */
    char *sddl = pipe_sddl(name, &conns[i]);
    TW_CHECK(&t, sddl && strcmp(sddl, want) == 0, "connection %d sees DACL %s", i + 1, sddl ? sddl : "(none)");
    if (sddl && strcmp(sddl, want) != 0) printf("# want %s\n", want);
    LocalFree(sddl);
    TW_CHECK(&t, wait_conns(&loop, srv, nconn + (size_t)i + 1) == 0, "the server accepted connection %d", i + 1);
  }
  for (int i = 0; i < 3; i++)
    if (conns[i] != INVALID_HANDLE_VALUE) CloseHandle(conns[i]);

  /* ---- without the option the pipe keeps the system's default (Windows: Everyone may read; Wine: none) */
  ttrpc_server *srv4 = ttrpc_server_new(&loop);
  char open_name[128];
  snprintf(open_name, sizeof open_name, "\\\\.\\pipe\\cshim-unit-%lu-default", GetCurrentProcessId());
  r = ttrpc_server_listen(srv4, open_name, &err);
  HANDLE c4 = INVALID_HANDLE_VALUE;
  char *dflt = r == 0 ? pipe_sddl(open_name, &c4) : NULL;
  TW_CHECK(&t, r == 0 && (!dflt || strcmp(dflt, want) != 0), "a server not made private keeps the default DACL (%s)",
           dflt ? dflt : "none");
  LocalFree(dflt);
  if (c4 != INVALID_HANDLE_VALUE) CloseHandle(c4);
  int closed4 = 0;
  ttrpc_server_close(srv4, on_server_closed, &closed4);

  /* ---- a second server on the live name */
  ttrpc_server *srv2 = ttrpc_server_new(&loop);
  r = ttrpc_server_listen(srv2, name, &err);
  TW_CHECK(&t, r < 0 && err.code == CS_ALREADY_EXISTS, "a second server on a live pipe is refused (%s)",
           r < 0 ? err.msg : "it listened");
  int closed2 = 0;
  ttrpc_server_close(srv2, on_server_closed, &closed2);

  /* ---- bad addresses */
  ttrpc_server *srv3 = ttrpc_server_new(&loop);
  r = ttrpc_server_listen(srv3, "/run/containerd/x.sock", &err);
  TW_CHECK(&t, r < 0 && err.code == CS_INVALID_ARGUMENT, "a unix path is not a pipe name: %s", err.msg);
  char longname[300];
  snprintf(longname, sizeof longname, "\\\\.\\pipe\\%0280d", 1);
  r = ttrpc_server_listen(srv3, longname, &err);
  TW_CHECK(&t, r < 0 && err.code == CS_INVALID_ARGUMENT, "a pipe name over 256 characters is refused");
  int closed3 = 0;
  ttrpc_server_close(srv3, on_server_closed, &closed3);
  ttrpc_client *cl2 = ttrpc_client_new(&loop);
  char missing[128];
  snprintf(missing, sizeof missing, "\\\\.\\pipe\\cshim-unit-%lu-nobody", GetCurrentProcessId());
  r = ttrpc_client_connect_sync(cl2, missing, &err);
  TW_CHECK(&t, r < 0 && err.code == CS_NOT_FOUND, "dialing a pipe nobody serves fails: %s", err.msg);
  ttrpc_client_close(cl2);

  /* ---- teardown: everything closes, nothing is left on the loop */
  ttrpc_client_close(cl);
  int closed = 0;
  ttrpc_server_close(srv, on_server_closed, &closed);
  for (int i = 0; i < 5000 && !(closed && closed2 && closed3 && closed4); i++) uv_run(&loop, UV_RUN_NOWAIT);
  TW_CHECK(&t, closed && closed2 && closed3 && closed4, "servers closed");
  uv_run(&loop, UV_RUN_DEFAULT);
  TW_CHECK(&t, uv_loop_close(&loop) == 0, "no handle left on the loop");
  return tw_done(&t);
}
