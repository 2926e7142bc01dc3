/* cshimctl's platform parts on Windows (see cli_os.h). */
#include "cli_os.h"

#include <uv.h> /* before windows.h */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <psapi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <windows.h>

const char cli_os_exe_suffix[] = ".exe";
const char cli_os_path_list_sep = ';';
const char cli_os_address_form[] = "\\\\.\\pipe\\name";

/* No SIGPIPE on Windows (a write to a closed pipe fails with an error). Output and files are binary so that
 * what a container printed is passed on byte for byte and files hold what was written. */
void cli_os_init(void) {
  _setmode(_fileno(stdout), _O_BINARY);
  _setmode(_fileno(stderr), _O_BINARY);
  _fmode = _O_BINARY;
}

int cli_os_random(void *buf, size_t n, cs_err *err) {
  int r = uv_random(NULL, NULL, buf, n, 0, NULL);
  if (r < 0) return cs_err_set(err, CS_INTERNAL, "random: %s", uv_strerror(r));
  return 0;
}

bool cli_os_path_is_abs(const char *p) {
  if (!p) return false;
  if (((p[0] >= 'A' && p[0] <= 'Z') || (p[0] >= 'a' && p[0] <= 'z')) && p[1] == ':' && (p[2] == '\\' || p[2] == '/'))
    return true;
  return (p[0] == '\\' || p[0] == '/') && (p[1] == '\\' || p[1] == '/');
}

int cli_os_realpath(const char *in, char *out, size_t len) {
  if (GetFileAttributesA(in) == INVALID_FILE_ATTRIBUTES) {
    errno = ENOENT;
    return -1;
  }
  DWORD n = GetFullPathNameA(in, (DWORD)len, out, NULL);
  if (n == 0 || n >= len) {
    errno = n ? ENAMETOOLONG : EINVAL;
    return -1;
  }
  return 0;
}

bool cli_os_executable(const char *p) {
  DWORD a = GetFileAttributesA(p);
  return a != INVALID_FILE_ATTRIBUTES && !(a & FILE_ATTRIBUTE_DIRECTORY);
}

const char *cli_os_last_sep(const char *p) {
  const char *a = strrchr(p, '/'), *b = strrchr(p, '\\');
  return a > b ? a : b;
}

int cli_os_mkdir(const char *path, int mode) {
  (void)mode; /* the directory inherits its parent's ACL */
  return mkdir(path);
}

int cli_os_replace(const char *from, const char *to) {
  if (MoveFileExA(from, to, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) return 0;
  errno = GetLastError() == ERROR_ACCESS_DENIED ? EACCES : EIO;
  return -1;
}

void cli_os_remove_tree(const char *dir) {
  DWORD a = GetFileAttributesA(dir);
  if (a == INVALID_FILE_ATTRIBUTES) return;
  /* A junction or symlink is removed itself, never followed. */
  if ((a & FILE_ATTRIBUTE_DIRECTORY) && !(a & FILE_ATTRIBUTE_REPARSE_POINT)) {
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      char path[4200];
      if (snprintf(path, sizeof path, "%s\\%s", dir, e->d_name) < (int)sizeof path) cli_os_remove_tree(path);
    }
    if (d) closedir(d);
  }
  if (a & FILE_ATTRIBUTE_READONLY) SetFileAttributesA(dir, a & ~(DWORD)FILE_ATTRIBUTE_READONLY);
  if (a & FILE_ATTRIBUTE_DIRECTORY) RemoveDirectoryA(dir);
  else DeleteFileA(dir);
}

bool cli_os_pid_alive(int pid) {
  HANDLE h = OpenProcess(SYNCHRONIZE, FALSE, (DWORD)pid);
  if (!h) return false;
  bool alive = WaitForSingleObject(h, 0) == WAIT_TIMEOUT;
  CloseHandle(h);
  return alive;
}

uint64_t cli_os_rss(uint32_t pid) {
  HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
  if (!h) return 0;
  PROCESS_MEMORY_COUNTERS pmc;
  uint64_t rss = GetProcessMemoryInfo(h, &pmc, sizeof pmc) ? (uint64_t)pmc.WorkingSetSize : 0;
  CloseHandle(h);
  return rss;
}

bool cli_os_address_ok(const char *addr) {
  return strncmp(addr, "\\\\.\\pipe\\", 9) == 0 || strncmp(addr, "//./pipe/", 9) == 0;
}

void cli_os_address_cleanup(const char *addr) { (void)addr; /* a pipe's name goes with its last handle */ }

/* libuv delivers ^C as SIGINT, ^Break as SIGBREAK and a closed console window as SIGHUP. */
const int cli_os_forwarded[] = {SIGINT, SIGBREAK, SIGHUP};
const size_t cli_os_nforwarded = sizeof cli_os_forwarded / sizeof cli_os_forwarded[0];

/* The shim takes the task API's (Linux) numbers: ^C is INT (2), ^Break TERM (15), hang-up HUP (1). */
int cli_os_task_signal(int sig) {
  switch (sig) {
  case SIGINT: return 2;
  case SIGBREAK: return CLI_SIGTERM;
  default: return 1;
  }
}

/* What a Windows shim understands (hcsshim: KILL and TERM; the rest as Linux numbers a Linux guest takes). */
static const struct {
  const char *name;
  int sig;
} signals[] = {
  {"HUP", 1}, {"INT", 2}, {"QUIT", 3}, {"KILL", 9}, {"USR1", 10}, {"USR2", 12}, {"TERM", 15},
};

int cli_os_signal_by_name(const char *name) {
  for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
    if (_stricmp(name, signals[i].name) == 0) return signals[i].sig;
  return -1;
}

/* Not held on Windows: the console delivers ^C on a thread of its own and there is no mask to park it in.
 * A ^C during setup ends cshimctl as the console's default does; `cshimctl rm -f ID` removes what it made. */
void cli_signals_hold(void) {}
void cli_signals_release(void) {}
