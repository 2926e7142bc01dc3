/* exec, pause, resume, update, pids, checkpoint, resize. */
#include "rt_linux_int.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cs_log.h"
#include "rt_linux_log.h"
#include "rt_linux_spec.h"

static rt_linux_ctr *running_ctr(rt_linux *be, const char *what, const char *id, cs_err *err) {
  rt_linux_ctr *c = id ? rt_linux_ctr_find(be, id) : NULL;
  if (!c) {
    cs_err_set(err, CS_NOT_FOUND, "%s: container %s: not found", what, id ? id : "(null)");
    return NULL;
  }
  if (c->creating || c->pid <= 0) {
    cs_err_set(err, CS_FAILED_PRECONDITION, "%s: container %s: not created", what, id);
    return NULL;
  }
  return c;
}

static void simple_finish(rt_linux_op *op, const rt_linux_runc_result *res) {
  if (res->status != 0) {
    cs_err e;
    cs_err_set(&e, rt_linux_msg_code(res->msg), "OCI runtime %s failed: %s", op->what, res->msg);
    rt_linux_op_complete(op, NULL, &e);
    return;
  }
  rt_linux_op_complete(op, NULL, NULL);
}

/* ------------------------------------------------------------------ exec */

static void exec_finish(rt_linux_op *op, const rt_linux_runc_result *res) {
  rt_linux *be = op->be;
  cs_err e;
  rt_result r = {.pid = 0, .console_fd = -1};
  bool have_pid = res->status == 0 && rt_linux_read_pidfile(op->pidfile, &r.pid, &e) == 0;
  bool exited = rt_linux_exec_end(op, have_pid ? r.pid : 0);
  if (res->status != 0) {
    cs_err_set(&e, rt_linux_msg_code(res->msg), "OCI runtime exec failed: %s", res->msg);
    rt_linux_op_complete(op, NULL, &e);
    return;
  }
  if (!have_pid) goto fail;
  if (op->console_open && (r.console_fd = rt_linux_console_take(&op->console, &e)) < 0) goto fail;
  rt_linux_ctr *c = rt_linux_ctr_find(be, op->id);
  if (c) {
    rt_linux_exec *x = calloc(1, sizeof *x);
    if (x && (x->exec_id = strdup(op->exec_id))) {
      x->pid = r.pid;
      x->next = c->execs;
      c->execs = x;
      if (exited) rt_linux_exec_exited(c, x); /* its exit came first, and went to the events as any exit */
    } else {
      free(x);
      CS_WARN("exec %s/%s: out of memory recording pid %d", op->id, op->exec_id, r.pid);
    }
  }
  rt_linux_op_complete(op, &r, NULL);
  return;
fail:
  /* The process runs but we cannot hand it over: stop it rather than leave it unowned. */
  if (r.pid > 0 && !exited) kill(r.pid, SIGKILL);
  rt_linux_op_complete(op, NULL, &e);
}

static int write_tmp(rt_linux_op *op, const char *dir, const char *data, size_t len, cs_err *err) {
  if ((size_t)snprintf(op->tmpfile, sizeof op->tmpfile, "%s/.runc-process-XXXXXX", dir) >= sizeof op->tmpfile) {
    op->tmpfile[0] = '\0';
    return cs_err_set(err, CS_INVALID_ARGUMENT, "bundle path too long");
  }
  int fd = mkostemp(op->tmpfile, O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    op->tmpfile[0] = '\0';
    return cs_err_sys(err, e, "failed to create process spec file in %s", dir);
  }
  for (size_t off = 0; off < len;) {
    ssize_t n = write(fd, data + off, len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = errno;
      close(fd);
      return cs_err_sys(err, e, "failed to write process spec %s", op->tmpfile);
    }
    off += (size_t)n;
  }
  close(fd);
  return 0;
}

int rt_linux_exec_op(rt_backend *b, const rt_exec_req *req, rt_done_cb cb, void *data, cs_err *err) {
  rt_linux *be = (rt_linux *)b;
  rt_linux_ctr *c = running_ctr(be, "exec", req->id, err);
  if (!c) return -1;
  if (!req->process_json || req->process_json_len == 0)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "exec %s: empty process spec", req->exec_id);
  rt_linux_exec *old = rt_linux_exec_find(c, req->exec_id);
  if (old && !old->exited) return cs_err_set(err, CS_ALREADY_EXISTS, "id %s: already exists", req->exec_id);
  rt_linux_op *op = rt_linux_op_new(be, "exec", req->id, req->exec_id, cb, data, err);
  if (!op) return -1;
  char *spec = NULL;
  size_t spec_len = 0;
  if (rt_linux_spec_set_terminal(req->process_json, req->process_json_len, req->io.terminal, &spec, &spec_len,
                                 err) != 0)
    goto fail;
  int wrc = write_tmp(op, c->bundle, spec, spec_len, err);
  free(spec);
  if (wrc != 0) goto fail;
  if ((size_t)snprintf(op->pidfile, sizeof op->pidfile, "%s/%s.pid", c->bundle, req->exec_id) >= sizeof op->pidfile) {
    cs_err_set(err, CS_INVALID_ARGUMENT, "bundle path too long");
    goto fail;
  }
  unlink(op->pidfile);
  if (req->io.terminal) {
    if (rt_linux_console_open(&op->console, be->console_dir, err) != 0) goto fail;
    op->console_open = true;
  }
  const char *args[12];
  size_t n = 0;
  args[n++] = "exec";
  args[n++] = "--detach";
  args[n++] = "--process";
  args[n++] = op->tmpfile;
  args[n++] = "--pid-file";
  args[n++] = op->pidfile;
  if (op->console_open) {
    args[n++] = "--console-socket";
    args[n++] = op->console.path;
  }
  args[n++] = req->id;
  args[n] = NULL;
  /* No exit is reaped before the loop runs again: beginning after the spawn misses none. */
  if (rt_linux_op_run(op, c, args, req->io.terminal ? NULL : req->io.fd, NULL, 0, exec_finish, err) != 0) return -1;
  rt_linux_exec_begin(op);
  return 0;
fail:
  rt_linux_op_free(op);
  return -1;
}

/* ------------------------------------------------------------------ pause / resume / update */

/* The counters cache the limits (they change only here, or by hand): the next sample re-reads them. */
static void update_finish(rt_linux_op *op, const rt_linux_runc_result *res) {
  rt_linux_ctr *c = rt_linux_ctr_find(op->be, op->id);
  if (c && c->counters) rt_linux_counters_limits_changed(c->counters);
  simple_finish(op, res);
}

static int simple(rt_backend *b, const char *what, const char *id, const char *const *args, const char *input,
                  size_t input_len, rt_linux_op_finish finish, rt_done_cb cb, void *data, cs_err *err) {
  rt_linux *be = (rt_linux *)b;
  rt_linux_ctr *c = running_ctr(be, what, id, err);
  if (!c) return -1;
  rt_linux_op *op = rt_linux_op_new(be, what, id, NULL, cb, data, err);
  if (!op) return -1;
  return rt_linux_op_run(op, c, args, NULL, input, input_len, finish, err);
}

int rt_linux_pause(rt_backend *b, const char *id, rt_done_cb cb, void *data, cs_err *err) {
  const char *args[] = {"pause", id, NULL};
  return simple(b, "pause", id, args, NULL, 0, simple_finish, cb, data, err);
}

int rt_linux_resume(rt_backend *b, const char *id, rt_done_cb cb, void *data, cs_err *err) {
  const char *args[] = {"resume", id, NULL};
  return simple(b, "resume", id, args, NULL, 0, simple_finish, cb, data, err);
}

int rt_linux_update(rt_backend *b, const char *id, const char *json, size_t len, rt_done_cb cb, void *data,
                    cs_err *err) {
  if (!json || len == 0) return cs_err_set(err, CS_INVALID_ARGUMENT, "update %s: empty resources", id);
  json_error_t je;
  json_t *o = json_loadb(json, len, 0, &je);
  bool ok = json_is_object(o);
  json_decref(o);
  if (!ok) return cs_err_set(err, CS_INVALID_ARGUMENT, "update %s: resources are not a JSON object: %s", id, je.text);
  const char *args[] = {"update", "--resources", "-", id, NULL};
  return simple(b, "update", id, args, json, len, update_finish, cb, data, err);
}

/* ------------------------------------------------------------------ pids */

static void pids_finish(rt_linux_op *op, const rt_linux_runc_result *res) {
  cs_err e;
  if (res->status != 0) {
    cs_err_set(&e, rt_linux_msg_code(res->msg), "failed to list processes: %s", res->msg);
    rt_linux_op_complete(op, NULL, &e);
    return;
  }
  json_error_t je;
  json_t *a = json_loadb(res->out, res->out_len, JSON_DECODE_ANY, &je);
  if (!json_is_array(a)) {
    json_decref(a);
    cs_err_set(&e, CS_UNKNOWN, "failed to list processes: unexpected output of %s ps: %.80s", op->be->runc.name,
               res->out);
    rt_linux_op_complete(op, NULL, &e);
    return;
  }
  size_t n = json_array_size(a);
  int *pids = calloc(n ? n : 1, sizeof *pids);
  size_t k = 0;
  for (size_t i = 0; pids && i < n; i++)
    if (json_is_integer(json_array_get(a, i))) pids[k++] = (int)json_integer_value(json_array_get(a, i));
  json_decref(a);
  if (!pids) {
    cs_err_sys(&e, ENOMEM, "pids");
    rt_linux_op_complete(op, NULL, &e);
    return;
  }
  op->pids_done(op->data, pids, k, NULL);
  free(pids);
  rt_linux_op_complete(op, NULL, NULL); /* pids_done already ran: complete only frees */
}

/* `runc ps` only lists the container cgroup's cgroup.procs: reading it here answers Pids in microseconds
 * instead of a runtime invocation (containerd calls Pids on every reconnect, CRI and monitors poll it). */
static int pids_from_cgroup(rt_linux_ctr *c, rt_pids_cb cb, void *data) {
  const char *dir = c->counters ? rt_linux_counters_memory_dir(c->counters) : NULL;
  if (!dir || !*dir) return -1;
  char path[PATH_MAX];
  if (snprintf(path, sizeof path, "%s/cgroup.procs", dir) >= (int)sizeof path) return -1;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap + 1);
  ssize_t r = 0;
  while (buf && (r = read(fd, buf + len, cap - len)) > 0) {
    len += (size_t)r;
    if (len == cap) {
      char *nb = realloc(buf, cap * 2 + 1);
      if (!nb) break;
      buf = nb;
      cap *= 2;
    }
  }
  close(fd);
  if (!buf || r < 0) {
    free(buf);
    return -1;
  }
  buf[len] = '\0';
  size_t n = 0;
  for (size_t i = 0; i < len; i++) n += buf[i] == '\n';
  int *pids = calloc(n ? n : 1, sizeof *pids);
  size_t k = 0;
  for (char *p = buf, *end; pids && *p && k < n; p = end) {
    long v = strtol(p, &end, 10);
    if (end == p) break;
    if (v > 0) pids[k++] = (int)v;
    while (*end == '\n') end++;
  }
  free(buf);
  if (!pids) return -1;
  cb(data, pids, k, NULL);
  free(pids);
  return 0;
}

int rt_linux_pids(rt_backend *b, const char *id, rt_pids_cb cb, void *data, cs_err *err) {
  rt_linux *be = (rt_linux *)b;
  rt_linux_ctr *c = running_ctr(be, "pids", id, err);
  if (!c) return -1;
  if (pids_from_cgroup(c, cb, data) == 0) return 0;
  rt_linux_op *op = rt_linux_op_new(be, "ps", id, NULL, NULL, data, err);
  if (!op) return -1;
  op->pids_done = cb;
  const char *args[] = {"ps", "--format", "json", id, NULL};
  return rt_linux_op_run(op, c, args, NULL, NULL, 0, pids_finish, err);
}

/* ------------------------------------------------------------------ checkpoint */

static void checkpoint_finish(rt_linux_op *op, const rt_linux_runc_result *res) {
  if (res->status == 0) {
    rt_linux_op_complete(op, NULL, NULL);
    return;
  }
  /* Keep CRIU's own account next to the bundle, as runc-v2 does (criu-dump.log), and name its first
   * error: runc itself only says "criu failed: type DUMP errno 0". */
  char dump[PATH_MAX + 16] = "", from[PATH_MAX + 16], reason[256] = "";
  rt_linux_ctr *c = rt_linux_ctr_find(op->be, op->id);
  snprintf(from, sizeof from, "%s/dump.log", op->workdir);
  int in = open(from, O_RDONLY | O_CLOEXEC), out = -1;
  if (c && in >= 0) {
    snprintf(dump, sizeof dump, "%s/criu-dump.log", c->bundle);
    if ((out = open(dump, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) dump[0] = '\0';
  }
  if (in >= 0) {
    char buf[65536]; /* the errors are early in the log: the first 64 KiB name them */
    ssize_t n, total = 0;
    while ((n = read(in, buf + total, sizeof buf - (size_t)total)) > 0) {
      if (out >= 0 && write(out, buf + total, (size_t)n) != n) {
        close(out);
        out = -1;
      }
      total += n;
      if ((size_t)total == sizeof buf) { /* keep copying the rest, keep the head for the reason */
        char rest[8192];
        while ((n = read(in, rest, sizeof rest)) > 0)
          if (out >= 0 && write(out, rest, (size_t)n) != n) break;
        break;
      }
    }
    rt_linux_criu_reason(buf, (size_t)total, reason, sizeof reason);
    close(in);
  }
  if (out >= 0) close(out);
  /* runc-v2 keeps only the first line of CRIU's error. A checkpoint that cannot be taken is a precondition
   * of the host or the container, not an unknown failure. */
  char first[CS_ERR_MSG_MAX];
  snprintf(first, sizeof first, "%s", res->msg);
  char *nl = strchr(first, '\n');
  if (nl) *nl = '\0';
  cs_err e;
  cs_err_set(&e, CS_FAILED_PRECONDITION, "checkpoint failed: %s%s%s%s%s", first, reason[0] ? ": " : "", reason,
             dump[0] ? " path= " : "", dump);
  rt_linux_op_complete(op, NULL, &e);
}

int rt_linux_checkpoint(rt_backend *b, const rt_checkpoint_req *req, rt_done_cb cb, void *data, cs_err *err) {
  rt_linux *be = (rt_linux *)b;
  rt_linux_ctr *c = running_ctr(be, "checkpoint", req->id, err);
  if (!c) return -1;
  if (!req->image_path || !*req->image_path)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "checkpoint %s: empty image path", req->id);
  rt_linux_op *op = rt_linux_op_new(be, "checkpoint", req->id, NULL, cb, data, err);
  if (!op) return -1;
  int n;
  if (req->work_path && *req->work_path) {
    n = snprintf(op->workdir, sizeof op->workdir, "%s", req->work_path);
  } else { /* runc-v2: a default work dir is temporary */
    n = snprintf(op->workdir, sizeof op->workdir, "%s/criu-work", c->bundle);
    op->rm_workdir = true;
  }
  if (n < 0 || (size_t)n >= sizeof op->workdir) {
    op->rm_workdir = false;
    rt_linux_op_free(op);
    return cs_err_set(err, CS_INVALID_ARGUMENT, "checkpoint work path too long");
  }
  const char *args[20];
  size_t k = 0;
  args[k++] = "checkpoint";
  args[k++] = "--image-path";
  args[k++] = req->image_path;
  args[k++] = "--work-path";
  args[k++] = op->workdir;
  if (req->open_tcp) args[k++] = "--tcp-established";
  if (req->external_unix_sockets) args[k++] = "--ext-unix-sk";
  if (req->terminal) args[k++] = "--shell-job";
  if (req->file_locks) args[k++] = "--file-locks";
  if (!req->exit) args[k++] = "--leave-running";
  args[k++] = req->id;
  args[k] = NULL;
  return rt_linux_op_run(op, c, args, NULL, NULL, 0, checkpoint_finish, err);
}

/* ------------------------------------------------------------------ resize */

/* The caller resizes a pty master itself (TIOCSWINSZ); it asks here only for a process without one, which
 * runc-v2 answers with success: there is nothing to resize. */
int rt_linux_resize(rt_backend *b, const char *id, int pid, uint32_t w, uint32_t h, cs_err *err) {
  (void)pid, (void)w, (void)h;
  if (!id || !rt_linux_ctr_find((rt_linux *)b, id))
    return cs_err_set(err, CS_NOT_FOUND, "resize: container %s: not found", id ? id : "(null)");
  return 0;
}
