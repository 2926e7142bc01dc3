/* The stand-in OCI runtime: see fake_runc.h. */
#include "fake_runc.h"

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static char fake_dir[4096];

static bool fake_has(const char *name, char *text, size_t cap) {
  char p[4200];
  snprintf(p, sizeof p, "%s/%s", fake_dir, name);
  FILE *f = fopen(p, "r");
  if (!f) return false;
  size_t n = text ? fread(text, 1, cap - 1, f) : 0;
  if (text) text[n] = '\0';
  fclose(f);
  return true;
}

static void fake_write(const char *path, const char *text) {
  FILE *f = fopen(path, "a");
  if (!f) return;
  fputs(text, f);
  fclose(f);
}

static void send_console(const char *sock_path) {
  int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0) _exit(5);
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock_path);
  if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) _exit(6);
  char name[] = "/dev/pts/x";
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int))];
  } ctl;
  memset(&ctl, 0, sizeof ctl);
  struct iovec iov = {.iov_base = name, .iov_len = sizeof name};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
  struct cmsghdr *h = CMSG_FIRSTHDR(&msg);
  h->cmsg_level = SOL_SOCKET;
  h->cmsg_type = SCM_RIGHTS;
  h->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(h), &master, sizeof master);
  if (sendmsg(s, &msg, 0) < 0) _exit(7);
  close(s);
  close(master);
}

/* The container's process: the runtime exits, it stays (the test's subreaper adopts it). */
static void spawn_process(const char *pidfile, int status) {
  pid_t p = fork();
  if (p == 0) {
    if (status >= 0) _exit(status);
    for (;;) pause();
  }
  char buf[32], list[4200];
  snprintf(buf, sizeof buf, "%d", (int)p);
  unlink(pidfile);
  fake_write(pidfile, buf);
  snprintf(list, sizeof list, "%s/spawned", fake_dir);
  snprintf(buf, sizeof buf, "%d\n", (int)p);
  fake_write(list, buf); /* the test kills what is left, whatever happened */
}

int fake_runc_main(int argc, char **argv) {
  const char *log = NULL, *pidfile = NULL, *console = NULL, *work = NULL, *cmd = NULL, *id = NULL, *sig = NULL;
  char line[4096] = "";
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    bool val = i + 1 < argc;
    if (!cmd) {
      if (strcmp(a, "--log") == 0 && val) log = argv[++i];
      else if (strcmp(a, "--root") == 0 && val) snprintf(fake_dir, sizeof fake_dir, "%s", argv[++i]);
      else if ((strcmp(a, "--log-format") == 0 || strcmp(a, "--criu") == 0) && val) i++;
      else if (a[0] != '-') cmd = a;
      if (!cmd) continue;
    } else if (strcmp(a, "--pid-file") == 0 && val) pidfile = argv[i + 1];
    else if (strcmp(a, "--console-socket") == 0 && val) console = argv[i + 1];
    else if (strcmp(a, "--work-path") == 0 && val) work = argv[i + 1];
    else if (a[0] != '-' && a != cmd) { /* operands: the id, then (kill) the signal */
      bool is_val = i > 0 && argv[i - 1][0] == '-' && strcmp(argv[i - 1], "--detach") != 0 &&
                    strcmp(argv[i - 1], "--all") != 0 && strcmp(argv[i - 1], "--force") != 0 &&
                    strncmp(argv[i - 1], "--no-", 5) != 0 && strcmp(argv[i - 1], "--leave-running") != 0 &&
                    strcmp(argv[i - 1], "--tcp-established") != 0 && strcmp(argv[i - 1], "--ext-unix-sk") != 0 &&
                    strcmp(argv[i - 1], "--shell-job") != 0 && strcmp(argv[i - 1], "--file-locks") != 0;
      if (!is_val) {
        if (!id) id = a;
        else if (!sig) sig = a;
      }
    }
    size_t n = strlen(line);
    snprintf(line + n, sizeof line - n, "%s%s", n ? " " : "", a);
  }
  if (!cmd) return 2;
  if (getenv("FAKE_RUNC_DIR")) snprintf(fake_dir, sizeof fake_dir, "%s", getenv("FAKE_RUNC_DIR"));
  if (!fake_dir[0]) return 2; /* no state dir: write nothing anywhere */
  char calls[4200];
  snprintf(calls, sizeof calls, "%s/calls", fake_dir);
  size_t n = strlen(line);
  snprintf(line + n, sizeof line - n, "\n");
  fake_write(calls, line);

  char name[64], text[2048];
  if (strcmp(cmd, "checkpoint") == 0 && work) { /* what CRIU leaves in the work dir */
    char p[4200];
    mkdir(work, 0700);
    snprintf(p, sizeof p, "%s/dump.log", work);
    fake_write(p, "(00.01) Dumping\n(00.02) Error (criu/sk-inet.c:190): inet: Connected TCP socket, consider using --tcp-established\n");
  }
  snprintf(name, sizeof name, "fail-%s", cmd);
  if (fake_has(name, text, sizeof text)) {
    if (!text[0]) return 3;
    if (log) {
      char json[2300];
      snprintf(json, sizeof json, "{\"level\":\"error\",\"msg\":\"%s\",\"time\":\"2024-01-01T00:00:00Z\"}\n", text);
      fake_write(log, json);
    }
    return 1;
  }
  snprintf(name, sizeof name, "stderr-%s", cmd);
  if (fake_has(name, text, sizeof text)) {
    fprintf(stderr, "some noise\n%s\n", text);
    return 1;
  }
  if (strcmp(cmd, "create") == 0 || strcmp(cmd, "restore") == 0 || strcmp(cmd, "exec") == 0) {
    if (console && !fake_has("noconsole", NULL, 0)) send_console(console);
    if (pidfile) spawn_process(pidfile, fake_has("exec-exits", NULL, 0) && strcmp(cmd, "exec") == 0 ? 3 : -1);
    if (pidfile && id && strcmp(cmd, "exec") != 0) { /* for kill */
      char p[4200], pid[32] = "";
      FILE *f = fopen(pidfile, "r");
      if (f && fgets(pid, sizeof pid, f)) {
        snprintf(p, sizeof p, "%s/pid-%s", fake_dir, id);
        unlink(p);
        fake_write(p, pid);
      }
      if (f) fclose(f);
    }
  } else if (strcmp(cmd, "kill") == 0 && id && sig && fake_has("kill-signals", NULL, 0)) {
    char name2[300], pid[32];
    snprintf(name2, sizeof name2, "pid-%s", id);
    if (fake_has(name2, pid, sizeof pid)) kill(atoi(pid), atoi(sig));
  } else if (strcmp(cmd, "features") == 0) {
    fputs("{\"ociVersionMin\":\"1.0.0\",\"ociVersionMax\":\"1.1.0\",\"hooks\":[\"prestart\"]}", stdout);
  } else if (strcmp(cmd, "ps") == 0) {
    if (fake_has("ps-out", text, sizeof text)) fputs(text, stdout);
    else fputs("[]", stdout);
  } else if (strcmp(cmd, "update") == 0) {
    char p[4200], buf[4096];
    snprintf(p, sizeof p, "%s/resources", fake_dir);
    ssize_t r = read(0, buf, sizeof buf - 1);
    buf[r > 0 ? r : 0] = '\0';
    fake_write(p, buf);
  }
  return 0;
}

