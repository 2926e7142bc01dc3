#include "rt_linux_oom.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "cs_log.h"
#include "rt_linux_cgparse.h"

struct rt_linux_oom {
  int version;
  union {
    uv_poll_t poll;      /* v1 */
    uv_fs_event_t fsev;  /* v2 */
  } h;
  bool handle_open;
  int efd;               /* v1 eventfd */
  int file_fd;           /* v1 memory.oom_control / v2 memory.events */
  char dir[PATH_MAX];
  uint64_t last_oom_kill;
  rt_linux_oom_cb cb;
  void *data;
  bool stopped;
};

static void on_closed(uv_handle_t *h) {
  rt_linux_oom *o = h->data;
  if (o->efd >= 0) close(o->efd);
  if (o->file_fd >= 0) close(o->file_fd);
  free(o);
}

void rt_linux_oom_stop(rt_linux_oom *o) {
  if (!o || o->stopped) return;
  o->stopped = true;
  if (o->handle_open) {
    uv_close((uv_handle_t *)&o->h, on_closed);
  } else {
    if (o->efd >= 0) close(o->efd);
    if (o->file_fd >= 0) close(o->file_fd);
    free(o);
  }
}

static int read_file(int fd, char *buf, size_t cap) {
  size_t got = 0;
  while (got < cap - 1) {
    ssize_t n = pread(fd, buf + got, cap - 1 - got, (off_t)got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    got += (size_t)n;
  }
  buf[got] = '\0';
  return 0;
}

/* The cgroup is gone when its files no longer read (ENODEV) or its directory is gone. */
static bool cgroup_gone(rt_linux_oom *o) {
  char buf[512];
  return read_file(o->file_fd, buf, sizeof buf) != 0 || access(o->dir, F_OK) != 0;
}

static void on_v1(uv_poll_t *h, int status, int events) {
  (void)events;
  rt_linux_oom *o = h->data;
  uint64_t n;
  ssize_t r = read(o->efd, &n, sizeof n);
  (void)r;
  if (status < 0 || cgroup_gone(o)) {
    uv_poll_stop(h); /* removed: nothing more will come; the handle goes at rt_linux_oom_stop */
    return;
  }
  o->cb(o->data);
}

static uint64_t oom_kills(rt_linux_oom *o, bool *ok) {
  char buf[512];
  uint64_t v = 0;
  *ok = read_file(o->file_fd, buf, sizeof buf) == 0;
  if (*ok) {
    const rt_linux_kv kv[] = {{"oom_kill", &v}};
    rt_linux_cg_parse_kv(buf, kv, 1);
  }
  return v;
}

static void on_v2(uv_fs_event_t *h, const char *name, int events, int status) {
  (void)name, (void)events;
  rt_linux_oom *o = h->data;
  bool ok;
  uint64_t v = oom_kills(o, &ok);
  if (status < 0 || !ok) {
    uv_fs_event_stop(h);
    return;
  }
  if (v > o->last_oom_kill) {
    o->last_oom_kill = v;
    o->cb(o->data);
  }
}

static int start_v1(rt_linux_oom *o, uv_loop_t *loop, cs_err *err) {
  char path[PATH_MAX + 32]; /* dir fits PATH_MAX; room for the file name */
  snprintf(path, sizeof path, "%s/memory.oom_control", o->dir);
  if ((o->file_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) return cs_err_sys(err, errno, "open %s", path);
  if ((o->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) return cs_err_sys(err, errno, "eventfd");
  snprintf(path, sizeof path, "%s/cgroup.event_control", o->dir);
  int ctl = open(path, O_WRONLY | O_CLOEXEC);
  if (ctl < 0) return cs_err_sys(err, errno, "open %s", path);
  char line[64];
  int n = snprintf(line, sizeof line, "%d %d", o->efd, o->file_fd);
  ssize_t w = write(ctl, line, (size_t)n);
  int e = errno;
  close(ctl);
  if (w != n) return cs_err_sys(err, e, "register OOM eventfd in %s", path);
  int rc = uv_poll_init(loop, &o->h.poll, o->efd);
  if (rc != 0) return cs_err_set(err, CS_INTERNAL, "OOM poll: %s", uv_strerror(rc));
  o->handle_open = true;
  o->h.poll.data = o;
  rc = uv_poll_start(&o->h.poll, UV_READABLE, on_v1);
  if (rc != 0) return cs_err_set(err, CS_INTERNAL, "OOM poll: %s", uv_strerror(rc));
  return 0;
}

static int start_v2(rt_linux_oom *o, uv_loop_t *loop, cs_err *err) {
  char path[PATH_MAX + 32]; /* dir fits PATH_MAX; room for the file name */
  snprintf(path, sizeof path, "%s/memory.events", o->dir);
  if ((o->file_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) return cs_err_sys(err, errno, "open %s", path);
  bool ok;
  o->last_oom_kill = oom_kills(o, &ok);
  int rc = uv_fs_event_init(loop, &o->h.fsev);
  if (rc != 0) return cs_err_set(err, CS_INTERNAL, "OOM watch: %s", uv_strerror(rc));
  o->handle_open = true;
  o->h.fsev.data = o;
  rc = uv_fs_event_start(&o->h.fsev, on_v2, path, 0);
  if (rc != 0) return cs_err_set(err, CS_INTERNAL, "OOM watch %s: %s", path, uv_strerror(rc));
  return 0;
}

rt_linux_oom *rt_linux_oom_start(uv_loop_t *loop, int version, const char *dir, rt_linux_oom_cb cb, void *data,
                                 cs_err *err) {
  if (!dir || !*dir) {
    cs_err_set(err, CS_NOT_FOUND, "no memory cgroup to watch for OOM");
    return NULL;
  }
  rt_linux_oom *o = calloc(1, sizeof *o);
  if (!o) {
    cs_err_sys(err, ENOMEM, "oom watch");
    return NULL;
  }
  o->version = version;
  o->efd = o->file_fd = -1;
  o->cb = cb;
  o->data = data;
  if ((size_t)snprintf(o->dir, sizeof o->dir, "%s", dir) >= sizeof o->dir) {
    free(o);
    cs_err_set(err, CS_INVALID_ARGUMENT, "cgroup path too long");
    return NULL;
  }
  if ((version == 2 ? start_v2(o, loop, err) : start_v1(o, loop, err)) != 0) {
    rt_linux_oom_stop(o);
    return NULL;
  }
  return o;
}
