/* The shim binary on Windows (containerd 1.6's contract: runtime/v2/shim/util_windows.go, shim_windows.go):
 *   start   the serving process is a detached copy of this program (no console, own process group, out of
 *           containerd's job where allowed); start returns once it serves
 *           \\.\pipe\ProtectedPrefix\Administrators\containerd-shim-<ns>-<id>-pipe.
 *   serve   TTRPC on that pipe with a DACL for SYSTEM, Administrators and our user (ttrpc's private
 *           endpoint); the log served on \\.\pipe\containerd-shim-<ns>-<id>-log, which containerd dials
 *           (and re-dials after a restart).
 * See shim_os.h for the interface; the common steps are shim_start.c / shim_serve.c. */
#include <uv.h> /* before windows.h: it includes winsock2.h */
#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

#include "cs_log.h"
#include "cs_win_str.h"
#include "shim_os.h"

#define PIPE_PREFIX "\\\\.\\pipe\\"
/* Only administrators may create pipes under this prefix (as runhcs's pipes). */
#define SHIM_PIPE_PREFIX PIPE_PREFIX "ProtectedPrefix\\Administrators\\"
/* The serving process reads the handle of start's readiness event from here. */
#define READY_ENV "CSHIM_READY_EVENT"
/* How long start waits for the serving process to serve its pipe. */
#define START_TIMEOUT_MS 20000
/* Log bytes queued towards one slow log reader before that reader's lines are dropped. */
#define LOG_CLIENT_MAX (1024 * 1024)
/* The last log bytes, replayed to a reader that connects: containerd dials the log pipe only after start
 * has returned, and re-dials after a restart. */
#define LOG_BACKLOG 16384
/* The buffer between cs_log's writes and the loop that sends them on. */
#define LOG_PIPE_BUFFER (1024 * 1024)

/* ------------------------------------------------------------------ helpers */

/* Is a server listening on this pipe name? WaitNamedPipe finds a live server, idle (TRUE) or with every
 * instance busy (ERROR_SEM_TIMEOUT), without connecting to it. */
static bool pipe_served(const char *name) {
  wchar_t *w = cs_win_wide(name);
  if (!w) return false;
  bool served = WaitNamedPipeW(w, 1) || GetLastError() == ERROR_SEM_TIMEOUT;
  free(w);
  return served;
}

/* ------------------------------------------------------------------ start */

int shim_os_address(const shim_args *a, const char *group, char *out, size_t len, cs_err *err) {
  int n = snprintf(out, len, SHIM_PIPE_PREFIX "containerd-shim-%s-%s-pipe", a->ns, group);
  if (n < 0 || (size_t)n >= len || n > 256)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "pipe name for namespace %s, id %s is too long", a->ns, group);
  return 0;
}

/* Only a quick answer for the common case (the pod's shim, or a second start for a live id): the serving
 * process itself claims the name atomically (see shim_os_spawn). */
int shim_os_claim(const char *address, shim_claim *c, cs_err *err) {
  (void)err;
  memset(c, 0, sizeof *c);
  return pipe_served(address) ? 1 : 0;
}

void shim_os_unclaim(shim_claim *c) { (void)c; }

int shim_os_write_address(const char *address, cs_err *err) {
  FILE *f = fopen(".address", "wb");
  if (!f) return cs_err_sys(err, errno, "write address file");
  size_t len = strlen(address);
  if (fwrite(address, 1, len, f) != len || fflush(f) != 0 || !FlushFileBuffers((HANDLE)_get_osfhandle(_fileno(f)))) {
    fclose(f);
    return cs_err_set(err, CS_INTERNAL, "write address file: error %lu", GetLastError());
  }
  fclose(f);
  /* rename() cannot replace an existing file on Windows. */
  if (!MoveFileExW(L".address", L"address", MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH))
    return cs_err_set(err, CS_INTERNAL, "rename address file: error %lu", GetLastError());
  return 0;
}

size_t shim_os_read_stdin(uint8_t *keep, size_t cap) {
  HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
  /* A console (someone typing start by hand) would never reach EOF. */
  if (!in || in == INVALID_HANDLE_VALUE || GetFileType(in) == FILE_TYPE_CHAR) return 0;
  char buf[4096];
  DWORD n;
  size_t kept = 0;
  while (ReadFile(in, buf, sizeof buf, &n, NULL) && n > 0) {
    size_t take = cap - kept < (size_t)n ? cap - kept : (size_t)n;
    if (take) memcpy(keep + kept, buf, take);
    kept += take;
  }
  return kept;
}

/* The serving process inherits exactly two handles (STARTUPINFOEX's handle list): NUL for its std handles
 * (it must not hold containerd's pipe to start's output, or containerd would wait for its EOF forever)
 * and the readiness event. */
static int create_server(wchar_t *exe, wchar_t *cmdline, HANDLE nul, HANDLE ready, PROCESS_INFORMATION *pi,
                         cs_err *err) {
  SIZE_T size = 0;
  InitializeProcThreadAttributeList(NULL, 1, 0, &size);
  LPPROC_THREAD_ATTRIBUTE_LIST attrs = malloc(size);
  if (!attrs || !InitializeProcThreadAttributeList(attrs, 1, 0, &size)) {
    free(attrs);
    return cs_err_set(err, CS_INTERNAL, "start: attribute list: error %lu", GetLastError());
  }
  HANDLE inherit[2] = {nul, ready};
  int rc = 0;
  if (!UpdateProcThreadAttribute(attrs, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, inherit, sizeof inherit, NULL, NULL)) {
    rc = cs_err_set(err, CS_INTERNAL, "start: handle list: error %lu", GetLastError());
    goto out;
  }
  STARTUPINFOEXW si;
  memset(&si, 0, sizeof si);
  si.StartupInfo.cb = sizeof si;
  si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
  si.StartupInfo.hStdInput = si.StartupInfo.hStdOutput = si.StartupInfo.hStdError = nul;
  si.lpAttributeList = attrs;
  /* Detached from containerd's console and its Ctrl events, and out of its job so that closing the job
   * (containerd exiting) does not take running containers' shims with it. */
  DWORD flags = DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP | CREATE_UNICODE_ENVIRONMENT | EXTENDED_STARTUPINFO_PRESENT;
  if (CreateProcessW(exe, cmdline, NULL, NULL, TRUE, flags | CREATE_BREAKAWAY_FROM_JOB, NULL, NULL,
                     &si.StartupInfo, pi))
    goto out;
  /* A job without JOB_OBJECT_LIMIT_BREAKAWAY_OK refuses breakaway: run inside it rather than not at all. */
  if (GetLastError() == ERROR_ACCESS_DENIED &&
      CreateProcessW(exe, cmdline, NULL, NULL, TRUE, flags, NULL, NULL, &si.StartupInfo, pi))
    goto out;
  rc = cs_err_set(err, CS_INTERNAL, "start: create the serving process: error %lu", GetLastError());
out:
  DeleteProcThreadAttributeList(attrs);
  free(attrs);
  return rc;
}

int shim_os_spawn(const shim_args *a, const char *self_exe, const char *address, shim_claim *c,
                  const uint8_t *opts, size_t opts_len, cs_err *err) {
  (void)opts; /* no ShimCgroup on Windows */
  (void)opts_len;
  (void)c;
  char cmd[4096];
  size_t pos = 0;
  const char *argv[10];
  int n = 0;
  argv[n++] = self_exe;
  argv[n++] = "-namespace";
  argv[n++] = a->ns;
  argv[n++] = "-id";
  argv[n++] = a->id;
  argv[n++] = "-address";
  argv[n++] = a->address;
  argv[n++] = "-socket";
  argv[n++] = address;
  if (a->debug) argv[n++] = "-debug";
  for (int i = 0; i < n; i++)
    if (cs_win_quote_arg(cmd, sizeof cmd, &pos, argv[i]) < 0) return cs_err_set(err, CS_INVALID_ARGUMENT, "start: command line too long");

  SECURITY_ATTRIBUTES sa = {.nLength = sizeof sa, .bInheritHandle = TRUE};
  HANDLE ready = CreateEventW(&sa, TRUE, FALSE, NULL);
  HANDLE nul = CreateFileW(L"NUL", GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, &sa,
                           OPEN_EXISTING, 0, NULL);
  wchar_t *wexe = cs_win_wide(self_exe), *wcmd = cs_win_wide(cmd);
  PROCESS_INFORMATION pi;
  memset(&pi, 0, sizeof pi);
  int rc = -1;
  if (!ready || nul == INVALID_HANDLE_VALUE || !wexe || !wcmd) {
    cs_err_set(err, CS_INTERNAL, "start: error %lu", GetLastError());
    goto out;
  }
  char val[32];
  snprintf(val, sizeof val, "%llu", (unsigned long long)(uintptr_t)ready);
  SetEnvironmentVariableA(READY_ENV, val);
  rc = create_server(wexe, wcmd, nul, ready, &pi, err);
  SetEnvironmentVariableA(READY_ENV, NULL);
  if (rc < 0) goto out;
  HANDLE wait[2] = {ready, pi.hProcess};
  DWORD w = WaitForMultipleObjects(2, wait, FALSE, START_TIMEOUT_MS);
  if (w == WAIT_OBJECT_0) {
    rc = 0;
  } else if (w == WAIT_OBJECT_0 + 1) {
    DWORD code = 0;
    GetExitCodeProcess(pi.hProcess, &code);
    /* Another start for the same address won the race (its server holds the name; ours was refused):
     * that shim is the answer. */
    if (pipe_served(address)) rc = 1;
    else rc = cs_err_set(err, CS_INTERNAL, "start: the serving process exited with code %lu before serving %s",
                         (unsigned long)code, address);
  } else {
    TerminateProcess(pi.hProcess, 1);
    rc = cs_err_set(err, CS_DEADLINE_EXCEEDED, "start: %s not served within %d ms", address, START_TIMEOUT_MS);
  }
out:
  if (pi.hProcess) CloseHandle(pi.hProcess);
  if (pi.hThread) CloseHandle(pi.hThread);
  if (ready) CloseHandle(ready);
  if (nul != INVALID_HANDLE_VALUE) CloseHandle(nul);
  free(wexe);
  free(wcmd);
  return rc;
}

/* ------------------------------------------------------------------ the log pipe */

/* cs_log writes lines to a CRT fd synchronously; a client pipe that stops reading must not stall the loop,
 * so the fd is the write end of an anonymous pipe in PIPE_NOWAIT mode (a full buffer drops the line, which
 * cs_log counts) and the loop drains the read end and sends each chunk to every connected reader, each with
 * a bounded queue. */
typedef struct log_client {
  struct log_client *next;
  uv_pipe_t pipe;
  struct shim_os_serve *owner;
  size_t queued;
} log_client;

typedef struct log_write {
  uv_write_t req;
  log_client *client;
  size_t len;
  char *buf; /* shared by the writes of one chunk */
  int *refs;
} log_write;

struct shim_os_serve {
  uv_loop_t *loop;
  char address[300];
  char log_name[300];
  bool log_listening, log_reading;
  uv_pipe_t log_server;
  uv_pipe_t log_source; /* read end of the pipe cs_log writes to */
  log_client *clients;
  char backlog[LOG_BACKLOG];
  size_t backlog_len;
  void (*stop_cb)(void *data);
  void *stop_data;
};

static void client_closed(uv_handle_t *h) {
  log_client *c = h->data;
  free(c);
}

static void client_drop(shim_os_serve *s, log_client *c) {
  for (log_client **pp = &s->clients; *pp; pp = &(*pp)->next) {
    if (*pp == c) {
      *pp = c->next;
      break;
    }
  }
  uv_close((uv_handle_t *)&c->pipe, client_closed);
}

static void log_written(uv_write_t *req, int status) {
  log_write *w = (log_write *)req;
  w->client->queued -= w->len;
  if (--*w->refs == 0) {
    free(w->buf);
    free(w->refs);
  }
  /* A reader gone (containerd restarting): it re-dials and gets a new connection. */
  if (status < 0 && status != UV_ECANCELED && !uv_is_closing((uv_handle_t *)&w->client->pipe))
    client_drop(w->client->owner, w->client);
  free(w);
}

static void log_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  (void)h, (void)hint;
  buf->base = malloc(16384);
  buf->len = buf->base ? 16384 : 0;
}

static void log_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf) {
  shim_os_serve *s = st->data;
  if (n <= 0) {
    free(buf->base);
    return;
  }
  size_t k = (size_t)n < LOG_BACKLOG ? (size_t)n : LOG_BACKLOG;
  if (s->backlog_len + k > LOG_BACKLOG) { /* keep the newest bytes */
    size_t drop = s->backlog_len + k - LOG_BACKLOG;
    memmove(s->backlog, s->backlog + drop, s->backlog_len - drop);
    s->backlog_len -= drop;
  }
  memcpy(s->backlog + s->backlog_len, buf->base + (size_t)n - k, k);
  s->backlog_len += k;
  int *refs = malloc(sizeof *refs);
  if (!refs) {
    free(buf->base);
    return;
  }
  *refs = 1; /* held until every write is issued */
  for (log_client *c = s->clients; c; c = c->next) {
    if (c->queued + (size_t)n > LOG_CLIENT_MAX) continue; /* a slow reader loses lines, the loop goes on */
    log_write *w = malloc(sizeof *w);
    if (!w) continue;
    w->client = c;
    w->len = (size_t)n;
    w->buf = buf->base;
    w->refs = refs;
    uv_buf_t b = uv_buf_init(buf->base, (unsigned)n);
    (*refs)++;
    if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, log_written) < 0) {
      (*refs)--;
      free(w);
      continue;
    }
    c->queued += (size_t)n;
  }
  if (--*refs == 0) {
    free(buf->base);
    free(refs);
  }
}

static void log_connection(uv_stream_t *server, int status) {
  shim_os_serve *s = server->data;
  if (status < 0) return;
  log_client *c = calloc(1, sizeof *c);
  if (!c) return;
  c->owner = s;
  uv_pipe_init(s->loop, &c->pipe, 0);
  c->pipe.data = c;
  if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0) {
    uv_close((uv_handle_t *)&c->pipe, client_closed);
    return;
  }
  c->next = s->clients;
  s->clients = c;
  /* What was logged before it came (from a line's start: the backlog may begin mid-line). */
  const char *from = memchr(s->backlog, '\n', s->backlog_len);
  size_t off = s->backlog_len == LOG_BACKLOG && from ? (size_t)(from - s->backlog) + 1 : 0;
  if (s->backlog_len <= off) return;
  log_write *w = malloc(sizeof *w);
  int *refs = malloc(sizeof *refs);
  char *copy = malloc(s->backlog_len - off);
  if (!w || !refs || !copy) {
    free(w), free(refs), free(copy);
    return;
  }
  memcpy(copy, s->backlog + off, s->backlog_len - off);
  *refs = 1;
  w->client = c;
  w->len = s->backlog_len - off;
  w->buf = copy;
  w->refs = refs;
  uv_buf_t b = uv_buf_init(copy, (unsigned)w->len);
  if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, log_written) < 0) {
    free(w), free(refs), free(copy);
    return;
  }
  c->queued += w->len;
}

/* Failing to serve the log is not fatal: the shim serves tasks without it (and says so nowhere else). */
static void log_setup(shim_os_serve *s, const shim_args *a) {
  snprintf(s->log_name, sizeof s->log_name, PIPE_PREFIX "containerd-shim-%s-%s-log", a->ns, a->id ? a->id : "");
  HANDLE rd = NULL, wr = NULL;
  SECURITY_ATTRIBUTES sa = {.nLength = sizeof sa, .bInheritHandle = FALSE};
  if (!CreatePipe(&rd, &wr, &sa, LOG_PIPE_BUFFER)) return;
  DWORD mode = PIPE_READMODE_BYTE | PIPE_NOWAIT;
  int rfd = _open_osfhandle((intptr_t)rd, _O_BINARY | _O_RDONLY);
  int wfd = _open_osfhandle((intptr_t)wr, _O_BINARY | _O_WRONLY);
  if (rfd < 0 || wfd < 0 || !SetNamedPipeHandleState(wr, &mode, NULL, NULL)) {
    if (rfd >= 0) _close(rfd);
    else CloseHandle(rd);
    if (wfd >= 0) _close(wfd);
    else CloseHandle(wr);
    return;
  }
  uv_pipe_init(s->loop, &s->log_source, 0);
  s->log_source.data = s;
  if (uv_pipe_open(&s->log_source, rfd) < 0 ||
      uv_read_start((uv_stream_t *)&s->log_source, log_alloc, log_read) < 0) {
    _close(rfd);
    _close(wfd);
    uv_close((uv_handle_t *)&s->log_source, NULL);
    return;
  }
  s->log_reading = true;
  uv_unref((uv_handle_t *)&s->log_source);
  cs_log_setup(wfd, a->debug ? CS_LOG_DEBUG : CS_LOG_INFO);

  cs_err err;
  uv_pipe_init(s->loop, &s->log_server, 0);
  s->log_server.data = s;
  int r = uv_pipe_bind(&s->log_server, s->log_name);
  if (r == 0 && ttrpc_pipe_make_private(&s->log_server, s->log_name, &err) < 0) r = UV_EACCES;
  if (r == 0) r = uv_listen((uv_stream_t *)&s->log_server, 8, log_connection);
  if (r < 0) {
    uv_close((uv_handle_t *)&s->log_server, NULL);
    CS_WARN("log pipe %s: %s", s->log_name, uv_strerror(r));
    return;
  }
  s->log_listening = true;
  uv_unref((uv_handle_t *)&s->log_server);
}

/* ------------------------------------------------------------------ serve */

shim_os_serve *shim_os_serve_new(const shim_args *a, uv_loop_t *loop, cs_err *err) {
  shim_os_serve *s = calloc(1, sizeof *s);
  if (!s) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory"), NULL;
  s->loop = loop;
  cs_log_setup(-1, CS_LOG_INFO);
  log_setup(s, a);
  return s;
}

/* A detached process has no console, so no Ctrl event reaches it: containerd stops a Windows shim with
 * Shutdown, or terminates it. */
void shim_os_on_stop(shim_os_serve *s, void (*cb)(void *data), void *data) {
  s->stop_cb = cb;
  s->stop_data = data;
}

/* `start` waits on this event (inherited, its handle value in READY_ENV) until the pipe is served. */
static void signal_ready(void) {
  const char *v = getenv(READY_ENV);
  if (!v || !*v) return;
  HANDLE ev = (HANDLE)(uintptr_t)strtoull(v, NULL, 10);
  SetEvent(ev);
  CloseHandle(ev);
  SetEnvironmentVariableA(READY_ENV, NULL);
}

int shim_os_listen(shim_os_serve *s, ttrpc_server *srv, const shim_args *a, cs_err *err) {
  if (!a->socket || !*a->socket)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "serve: -socket \\\\.\\pipe\\... is required on Windows");
  snprintf(s->address, sizeof s->address, "%s", a->socket);
  /* The pipe's DACL admits SYSTEM, Administrators and our user (the counterpart of SO_PEERCRED). libuv
   * creates the first instance with FILE_FLAG_FIRST_PIPE_INSTANCE, so on Windows a second server for a
   * live name fails atomically (two racing starts: one serves, the other's start answers that one).
   * Wine does not enforce that flag; ttrpc also refuses a name WaitNamedPipe finds served. */
  ttrpc_server_set_private(srv, true);
  if (ttrpc_server_listen(srv, s->address, err) < 0) {
    s->address[0] = '\0';
    return -1;
  }
  signal_ready();
  return 0;
}

const char *shim_os_served(const shim_os_serve *s) { return s->address; }

/* A named pipe disappears with its last handle: nothing to remove. */
void shim_os_unlisten(shim_os_serve *s) { s->address[0] = '\0'; }

/* The log source is left open: closing it would wait for libuv's reader, blocked in ReadFile on a pipe
 * whose write end cs_log keeps; the process exits right after this. */
void shim_os_serve_free(shim_os_serve *s) {
  if (!s) return;
  while (s->clients) client_drop(s, s->clients);
  if (s->log_listening) uv_close((uv_handle_t *)&s->log_server, NULL);
  s->log_listening = false;
}

/* ------------------------------------------------------------------ the rest */

void shim_os_binary_stdout(void) { _setmode(_fileno(stdout), _O_BINARY); }

int shim_os_self_exe(char *out, size_t len, cs_err *err) {
  size_t n = len;
  int r = uv_exepath(out, &n);
  if (r < 0) return cs_err_set(err, CS_INTERNAL, "cannot find own executable: %s", uv_strerror(r));
  return 0;
}
