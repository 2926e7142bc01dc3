/* fault_log: the bundle's `log` FIFO is not read (containerd stuck), then has no reader at all (containerd
 * gone), then a new reader (containerd restarted).
 *
 * A shim logs into the FIFO it finds in its bundle at start. We keep the read end open but do not read:
 * 2,000 rejected Creates each log a warning, far more than the 64 KiB the FIFO holds. Every call must
 * still be answered and the running task's State served — a log write never blocks the loop. What the
 * FIFO holds is whole lines only (a line that does not fit is dropped, never cut). Once drained, logging
 * resumes. With the reader closed (writes fail with EPIPE) the shim must not die; a new reader gets the
 * shim's lines again. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shimtest.h"

#define N_REJECTS 2000

static ttrpc_client *cl;

static bool task_running(st_env *e) {
  int status = 0;
  char msg[CS_ERR_MSG_MAX];
  return st_state(e, cl, "log-a", &status, NULL, msg) == CS_OK && status == 2;
}

/* One rejected Create (invalid id): InvalidArgument and one warning in the log. */
static int reject(st_env *e, int i) {
  char id[64], msg[CS_ERR_MSG_MAX];
  snprintf(id, sizeof id, "bad..%d", i);
  st_create_opts o = {.timeout_ns = 5 * ST_SEC}; /* a liveness bound: a blocked loop would miss it */
  return st_create(e, cl, id, "/nonexistent", &o, NULL, msg);
}

static size_t fifo_bytes(int fd) {
  int n = 0;
  return ioctl(fd, FIONREAD, &n) == 0 && n > 0 ? (size_t)n : 0;
}

/* Every line whole: starts with time=" and ends in a newline. */
static bool whole_lines(const char *buf, size_t len, size_t *nlines, char *bad, size_t badlen) {
  *nlines = 0;
  for (size_t i = 0; i < len;) {
    const char *nl = memchr(buf + i, '\n', len - i);
    if (!nl || strncmp(buf + i, "time=\"", 6) != 0) {
      snprintf(bad, badlen, "%.120s", buf + i);
      return false;
    }
    (*nlines)++;
    i = (size_t)(nl - buf) + 1;
  }
  return true;
}

int main(int argc, char **argv) {
  st_env e;
  if (st_init(&e, argc, argv) < 0) return 2;
  char bundle[1024], logpath[1100], sock[512], msg[CS_ERR_MSG_MAX];
  static char buf[1 << 20];
  int rfd = -1;
  pid_t shim = 0;
  st_events_listen(&e, NULL);
  st_path(bundle, sizeof bundle, "%s/b-log-a", e.work);
  const char *sleeper[] = {"sleep", "600", NULL};
  st_path(logpath, sizeof logpath, "%s/log", bundle);
  if (st_bundle(&e, bundle, "log-a", sleeper, NULL) < 0 || mkfifo(logpath, 0600) < 0 ||
      (rfd = open(logpath, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
    st_check(&e, false, "bundle with a log FIFO: %s", strerror(errno));
    goto out;
  }
  if (!st_check(&e, st_shim_start_ok(&e, bundle, "log-a", sock, sizeof sock) == 0, "shim started with a log FIFO"))
    goto out;
  shim = st_shim_pid(&e, "log-a", 5000);
  cs_err err;
  cl = st_connect(&e, sock, &err);
  if (!st_check(&e, cl != NULL, "connect %s", cl ? "" : err.msg)) goto out;
  int rc = st_create(&e, cl, "log-a", bundle, NULL, NULL, msg);
  if (rc == CS_OK) rc = st_start(&e, cl, "log-a", NULL, msg);
  if (!st_check(&e, rc == CS_OK, "task log-a running (%d %s)", rc, msg)) goto out;

  /* ---- nobody reads: the FIFO fills up */
  int answered = 0, states = 0, state_ok = 0;
  for (int i = 0; i < N_REJECTS; i++) {
    if (reject(&e, i) == CS_INVALID_ARGUMENT) answered++;
    if (i % 100 == 99) states++, state_ok += task_running(&e);
  }
  size_t queued = fifo_bytes(rfd);
  st_check(&e, queued >= 60 * 1024, "the unread log FIFO is full (%zu bytes waiting)", queued);
  st_check(&e, answered == N_REJECTS, "all %d rejected Creates answered InvalidArgument with the log full (%d)",
           N_REJECTS, answered);
  st_check(&e, state_ok == states, "State of the running task served throughout (%d of %d)", state_ok, states);

  size_t len = 0, nlines = 0;
  char bad[128] = "";
  st_drain_fd(rfd, buf, sizeof buf, &len);
  bool whole = whole_lines(buf, len, &nlines, bad, sizeof bad);
  st_check(&e, whole && nlines > 100, "the FIFO holds whole log lines only (%zu lines, %zu bytes)%s%s", nlines, len,
           whole ? "" : "; cut: ", bad);

  /* ---- drained: logging resumes */
  reject(&e, 999999);
  len = 0;
  bool resumed = false;
  for (int i = 0; i < 50 && !resumed; i++) {
    st_drain_fd(rfd, buf, sizeof buf, &len);
    resumed = strstr(buf, "bad..999999") != NULL;
    if (!resumed) st_sleep(&e, 50);
  }
  st_check(&e, resumed, "after draining, new lines reach the FIFO");

  /* ---- the reader goes away: writes fail with EPIPE, the shim ignores SIGPIPE */
  close(rfd);
  rfd = -1;
  answered = 0;
  for (int i = 0; i < 200; i++) answered += reject(&e, 1000000 + i) == CS_INVALID_ARGUMENT;
  st_check(&e, answered == 200 && task_running(&e) && st_pid_alive(shim),
           "with no reader the shim keeps answering (%d of 200) and is alive", answered);

  /* ---- a new reader (containerd restarted) gets the shim's lines */
  rfd = open(logpath, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  reject(&e, 2000000);
  len = 0;
  resumed = false;
  for (int i = 0; i < 50 && rfd >= 0 && !resumed; i++) {
    st_drain_fd(rfd, buf, sizeof buf, &len);
    resumed = strstr(buf, "bad..2000000") != NULL;
    if (!resumed) st_sleep(&e, 50);
  }
  st_check(&e, resumed, "a new reader of the FIFO gets the shim's log again");

out:
  if (cl) {
    st_remove_task(&e, cl, "log-a");
    int sd = 0;
    bool gone = st_shutdown_exit(&e, cl, shim, &sd);
    st_check(&e, gone, "shim %d exits after Shutdown (%d)", (int)shim, sd);
  }
  if (rfd >= 0) close(rfd);
  st_events_close(&e);
  printf("# fault_log: %.1f s\n", st_elapsed(&e));
  return st_finish(&e);
}
