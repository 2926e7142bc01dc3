#include "cli_os.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

const char cli_os_exe_suffix[] = "";
const char cli_os_path_list_sep = ':';
const char cli_os_address_form[] = "unix:///path or /path";

void cli_os_init(void) { signal(SIGPIPE, SIG_IGN); }

int cli_os_random(void *buf, size_t n, cs_err *err) {
  if (getrandom(buf, n, 0) != (ssize_t)n) return cs_err_sys(err, errno, "getrandom");
  return 0;
}

bool cli_os_path_is_abs(const char *p) { return p && p[0] == '/'; }

int cli_os_realpath(const char *in, char *out, size_t len) {
  char buf[PATH_MAX];
  if (!realpath(in, buf)) return -1;
  if (snprintf(out, len, "%s", buf) >= (int)len) {
    errno = ENAMETOOLONG;
    return -1;
  }
  return 0;
}

bool cli_os_executable(const char *p) { return access(p, X_OK) == 0; }

const char *cli_os_last_sep(const char *p) { return strrchr(p, '/'); }

int cli_os_mkdir(const char *path, int mode) { return mkdir(path, (mode_t)mode); }

int cli_os_replace(const char *from, const char *to) { return rename(from, to); }

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)ftw;
  /* Keep going: remove what can be removed; the caller checks the top directory is gone. */
  if (flag == FTW_DP || flag == FTW_D) rmdir(path);
  else unlink(path);
  return 0;
}

void cli_os_remove_tree(const char *dir) {
  char rootfs[PATH_MAX + 8];
  snprintf(rootfs, sizeof rootfs, "%s/rootfs", dir);
  /* A shim that died may have left the rootfs mounted (bind or overlay); detach it so the walk below,
   * which stays on the bundle's own filesystem, can remove the empty mountpoint. */
  for (int i = 0; i < 8 && umount2(rootfs, MNT_DETACH) == 0; i++) {
  }
  nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

bool cli_os_pid_alive(int pid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen(path, "re");
  if (!f) return false;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  /* "pid (comm) S ...": comm may hold spaces and parens, the state follows the last ')'. A zombie is gone
   * (the shim's parent is init, which reaps it in its own time). */
  const char *p = strrchr(buf, ')');
  return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

uint64_t cli_os_rss(uint32_t pid) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%u/status", pid);
  FILE *f = fopen(path, "re");
  if (!f) return 0;
  unsigned long long kb = 0;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "VmRSS: %llu kB", &kb) == 1) break;
  fclose(f);
  return (uint64_t)kb * 1024;
}

bool cli_os_address_ok(const char *addr) { return strncmp(addr, "unix://", 7) == 0 || addr[0] == '/'; }

static bool socket_answers(const char *path) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof sa.sun_path) return false;
  strcpy(sa.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
  close(fd);
  return ok;
}

/* A dead shim's socket file stays behind in /run/containerd/s; only ever remove it once nothing answers. */
void cli_os_address_cleanup(const char *addr) {
  if (!addr[0]) return;
  const char *path = strncmp(addr, "unix://", 7) == 0 ? addr + 7 : addr;
  if (strncmp(path, "/run/containerd/s/", 18) != 0) return;
  if (!socket_answers(path)) unlink(path);
}

/* What ctr forwards minus the job-control and fatal ones: the process decides what they mean. */
const int cli_os_forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
const size_t cli_os_nforwarded = sizeof cli_os_forwarded / sizeof cli_os_forwarded[0];

int cli_os_task_signal(int sig) { return sig; }

static const struct {
  const char *name;
  int sig;
} signals[] = {
  {"HUP", SIGHUP},   {"INT", SIGINT},       {"QUIT", SIGQUIT}, {"ILL", SIGILL},   {"TRAP", SIGTRAP},
  {"ABRT", SIGABRT}, {"IOT", SIGIOT},       {"BUS", SIGBUS},   {"FPE", SIGFPE},   {"KILL", SIGKILL},
  {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},     {"USR2", SIGUSR2}, {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},
  {"TERM", SIGTERM}, {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT}, {"STOP", SIGSTOP},
  {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},     {"TTOU", SIGTTOU}, {"URG", SIGURG},   {"XCPU", SIGXCPU},
  {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},
  {"PWR", SIGPWR},   {"SYS", SIGSYS},
};

int cli_os_signal_by_name(const char *name) {
  for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
    if (strcasecmp(name, signals[i].name) == 0) return signals[i].sig;
  return -1;
}

static void forwarded_set(sigset_t *set) {
  sigemptyset(set);
  for (size_t i = 0; i < cli_os_nforwarded; i++) sigaddset(set, cli_os_forwarded[i]);
}

/* Declared in cli_attach.h: blocked signals stay pending until released or handled by the loop. */
void cli_signals_hold(void) {
  sigset_t set;
  forwarded_set(&set);
  sigprocmask(SIG_BLOCK, &set, NULL);
}

void cli_signals_release(void) {
  sigset_t set;
  forwarded_set(&set);
  sigprocmask(SIG_UNBLOCK, &set, NULL);
}
