/* create / start / kill / delete: the container lifecycle, as runc-v2's init process drives runc. */
#include "rt_linux_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cs_log.h"
#include "rt_linux_log.h"
#include "rt_linux_spec.h"

static rt_linux_ctr *need_ctr(rt_linux *be, const char *id, cs_err *err) {
  rt_linux_ctr *c = id ? rt_linux_ctr_find(be, id) : NULL;
  if (!c) cs_err_set(err, CS_NOT_FOUND, "container %s: not found", id ? id : "(null)");
  return c;
}

/* After the runtime created the container, something of ours failed (pid file, console): do not leave it
 * behind. Fire-and-forget `delete --force`, then forget the record. */
static void drop_created(rt_linux *be, rt_linux_ctr *c);

static void forget_finish(rt_linux_op *op, const rt_linux_runc_result *res) {
  if (res->status != 0) CS_WARN("cleanup of %s after a failed create: %s", op->id, res->msg);
  rt_linux_op_complete(op, NULL, NULL);
}

static void drop_created(rt_linux *be, rt_linux_ctr *c) {
  cs_err e;
  rt_linux_op *op = rt_linux_op_new(be, "delete", c->id, NULL, NULL, NULL, &e);
  const char *args[] = {"delete", "--force", c->id, NULL};
  if (!op || rt_linux_op_run(op, c, args, NULL, NULL, 0, forget_finish, &e) != 0)
    CS_WARN("cleanup of %s after a failed create: %s", c->id, e.msg);
  rt_linux_ctr_remove(be, c);
}

/* The runtime exited after create/restore: pid file, console, then the record is live. */
static void created(rt_linux_op *op, const rt_linux_runc_result *res, bool restore) {
  rt_linux *be = op->be;
  rt_linux_ctr *c = rt_linux_ctr_find(be, op->id);
  cs_err e;
  if (!c) { /* cannot happen: a creating container refuses delete; kept as a guard */
    cs_err_set(&e, CS_INTERNAL, "container %s vanished during %s", op->id, op->what);
    rt_linux_op_complete(op, NULL, &e);
    return;
  }
  c->creating = false;
  if (res->status != 0) {
    cs_err_set(&e, CS_UNKNOWN, "OCI runtime %s failed: %s", op->what, res->msg);
    if (restore)
      c->pid = 0; /* the restore may be retried: keep the record with its checkpoint */
    else
      rt_linux_ctr_remove(be, c);
    rt_linux_op_complete(op, NULL, &e);
    return;
  }
  rt_result r = {.pid = 0, .console_fd = -1};
  if (rt_linux_read_pidfile(op->pidfile, &r.pid, &e) != 0) goto fail;
  if (op->console_open && (r.console_fd = rt_linux_console_take(&op->console, &e)) < 0) goto fail;
  c->pid = r.pid;
  if (restore) {
    free(c->checkpoint);
    c->checkpoint = NULL;
    for (int i = 0; i < 3; i++)
      if (c->io_fd[i] >= 0) close(c->io_fd[i]), c->io_fd[i] = -1;
  }
  rt_linux_watch_ctr(c);
  rt_linux_op_complete(op, &r, NULL);
  return;
fail:
  drop_created(be, c);
  rt_linux_op_complete(op, NULL, &e);
}

static void create_finish(rt_linux_op *op, const rt_linux_runc_result *res) {
  created(op, res, false);
}

static void restore_finish(rt_linux_op *op, const rt_linux_runc_result *res) {
  created(op, res, true);
}

static int open_console(rt_linux_op *op, cs_err *err) {
  if (rt_linux_console_open(&op->console, op->be->console_dir, err) != 0) return -1;
  op->console_open = true;
  return 0;
}

int rt_linux_create(rt_backend *b, const rt_create_req *req, rt_done_cb cb, void *data, cs_err *err) {
  rt_linux *be = (rt_linux *)b;
  if (!req->bundle || !*req->bundle) return cs_err_set(err, CS_INVALID_ARGUMENT, "create %s: empty bundle", req->id);
  if (rt_linux_ctr_find(be, req->id))
    return cs_err_set(err, CS_ALREADY_EXISTS, "container %s: already exists", req->id);
  rt_linux_ctr *c = rt_linux_ctr_add(be, req->id, req->bundle, err);
  if (!c) return -1;
  c->kill_all_on_exit = rt_linux_spec_kill_all_on_exit(req->bundle);
  if (rt_linux_ctr_set_runtime(be, c, req->runtime, req->runtime_root, err) != 0) {
    cs_err_wrap(err, "create %s", req->id);
    goto fail;
  }
  rt_linux_op *op = rt_linux_op_new(be, "create", req->id, NULL, cb, data, err);
  if (!op) goto fail;

  if (req->checkpoint && *req->checkpoint) {
    c->terminal = req->io.terminal;
    if (!(c->checkpoint = strdup(req->checkpoint))) {
      cs_err_sys(err, ENOMEM, "create %s", req->id);
      goto fail_op;
    }
    for (int i = 0; i < 3 && !req->io.terminal; i++) {
      if (req->io.fd[i] < 0) continue;
      if ((c->io_fd[i] = fcntl(req->io.fd[i], F_DUPFD_CLOEXEC, 3)) < 0) {
        cs_err_sys(err, errno, "create %s: dup stdio", req->id);
        goto fail_op;
      }
    }
    rt_result r = {.pid = 0, .console_fd = -1};
    rt_linux_op_defer(op, &r, NULL);
    return 0;
  }

  if ((size_t)snprintf(op->pidfile, sizeof op->pidfile, "%s/init.pid", req->bundle) >= sizeof op->pidfile) {
    cs_err_set(err, CS_INVALID_ARGUMENT, "bundle path too long");
    goto fail_op;
  }
  unlink(op->pidfile); /* a stale one from an earlier run in this bundle must not be taken for ours */
  if (req->io.terminal && open_console(op, err) != 0) goto fail_op;
  const char *args[16];
  size_t n = 0;
  args[n++] = "create";
  args[n++] = "--bundle";
  args[n++] = req->bundle;
  args[n++] = "--pid-file";
  args[n++] = op->pidfile;
  if (op->console_open) {
    args[n++] = "--console-socket";
    args[n++] = op->console.path;
  }
  if (be->no_pivot) args[n++] = "--no-pivot";
  if (be->no_new_keyring) args[n++] = "--no-new-keyring";
  args[n++] = req->id;
  args[n] = NULL;
  c->creating = true;
  if (rt_linux_op_run(op, c, args, req->io.terminal ? NULL : req->io.fd, NULL, 0, create_finish, err) != 0) {
    rt_linux_ctr_remove(be, c);
    return -1;
  }
  return 0;
fail_op:
  rt_linux_op_free(op);
fail:
  rt_linux_ctr_remove(be, c);
  return -1;
}

static void start_finish(rt_linux_op *op, const rt_linux_runc_result *res) {
  cs_err e;
  if (res->status != 0) {
    cs_err_set(&e, rt_linux_msg_code(res->msg), "OCI runtime start failed: %s", res->msg);
    rt_linux_op_complete(op, NULL, &e);
    return;
  }
  rt_result r = {.pid = op->res.pid, .console_fd = -1};
  rt_linux_op_complete(op, &r, NULL);
}

static int restore(rt_linux *be, rt_linux_ctr *c, rt_linux_op *op, cs_err *err) {
  if ((size_t)snprintf(op->pidfile, sizeof op->pidfile, "%s/init.pid", c->bundle) >= sizeof op->pidfile) {
    rt_linux_op_free(op);
    return cs_err_set(err, CS_INVALID_ARGUMENT, "bundle path too long");
  }
  unlink(op->pidfile);
  if (c->terminal && open_console(op, err) != 0) {
    rt_linux_op_free(op);
    return -1;
  }
  const char *args[20];
  size_t n = 0;
  args[n++] = "restore";
  args[n++] = "--detach";
  args[n++] = "--bundle";
  args[n++] = c->bundle;
  args[n++] = "--image-path";
  args[n++] = c->checkpoint;
  args[n++] = "--pid-file";
  args[n++] = op->pidfile;
  args[n++] = "--no-subreaper"; /* we are the subreaper */
  if (op->console_open) {
    args[n++] = "--console-socket";
    args[n++] = op->console.path;
  }
  if (be->no_pivot) args[n++] = "--no-pivot";
  args[n++] = c->id;
  args[n] = NULL;
  op->what = "restore";
  c->creating = true;
  int rc = rt_linux_op_run(op, c, args, c->terminal ? NULL : c->io_fd, NULL, 0, restore_finish, err);
  if (rc != 0) c->creating = false;
  return rc;
}

int rt_linux_start(rt_backend *b, const char *id, const char *exec_id, rt_done_cb cb, void *data, cs_err *err) {
  rt_linux *be = (rt_linux *)b;
  rt_linux_ctr *c = need_ctr(be, id, err);
  if (!c) return -1;
  rt_linux_op *op = rt_linux_op_new(be, "start", id, exec_id, cb, data, err);
  if (!op) return -1;
  if (exec_id) {
    rt_linux_exec *x = rt_linux_exec_find(c, exec_id);
    if (!x) {
      rt_linux_op_free(op);
      return cs_err_set(err, CS_NOT_FOUND, "process does not exist %s", exec_id);
    }
    rt_result r = {.pid = x->pid, .console_fd = -1}; /* runc exec --detach already started it */
    rt_linux_op_defer(op, &r, NULL);
    return 0;
  }
  if (c->creating || c->busy_delete) {
    rt_linux_op_free(op);
    return cs_err_set(err, CS_FAILED_PRECONDITION, "container %s: %s in progress", id,
                      c->creating ? "create" : "delete");
  }
  if (c->checkpoint) return restore(be, c, op, err);
  if (c->pid <= 0) {
    rt_linux_op_free(op);
    return cs_err_set(err, CS_FAILED_PRECONDITION, "container %s: must be created", id);
  }
  op->res.pid = c->pid;
  const char *args[] = {"start", id, NULL};
  return rt_linux_op_run(op, c, args, NULL, NULL, 0, start_finish, err);
}

static void kill_finish(rt_linux_op *op, const rt_linux_runc_result *res) {
  if (res->status != 0) {
    cs_err e;
    char msg[CS_ERR_MSG_MAX];
    int code = rt_linux_kill_error(res->msg, msg, sizeof msg);
    cs_err_set(&e, code, "%s", msg);
    rt_linux_op_complete(op, NULL, &e);
    return;
  }
  rt_linux_op_complete(op, NULL, NULL);
}

int rt_linux_kill(rt_backend *b, const char *id, int pid, int sig, bool all, rt_done_cb cb, void *data,
                  cs_err *err) {
  rt_linux *be = (rt_linux *)b;
  if (sig < 0 || sig >= NSIG) return cs_err_set(err, CS_INVALID_ARGUMENT, "kill: bad signal %d", sig);
  if (pid < 0) return cs_err_set(err, CS_INVALID_ARGUMENT, "kill: bad pid %d", pid);
  rt_linux_op *op = rt_linux_op_new(be, "kill", id, NULL, cb, data, err);
  if (!op) return -1;
  if (pid > 0) { /* an exec process: signal it directly, as runc-v2's exec Kill does */
    if (kill(pid, sig) != 0) {
      int e = errno;
      rt_linux_op_free(op);
      if (e == ESRCH) return cs_err_set(err, CS_NOT_FOUND, "process already finished");
      return cs_err_sys(err, e, "unknown error after kill");
    }
    rt_linux_op_defer(op, NULL, NULL);
    return 0;
  }
  rt_linux_ctr *c = need_ctr(be, id, err);
  if (!c) {
    rt_linux_op_free(op);
    return -1;
  }
  char signum[16];
  snprintf(signum, sizeof signum, "%d", sig);
  const char *args[6];
  size_t n = 0;
  args[n++] = "kill";
  if (all) args[n++] = "--all";
  args[n++] = id;
  args[n++] = signum;
  args[n] = NULL;
  return rt_linux_op_run(op, c, args, NULL, NULL, 0, kill_finish, err);
}

static void delete_finish(rt_linux_op *op, const rt_linux_runc_result *res) {
  rt_linux *be = op->be;
  rt_linux_ctr *c = rt_linux_ctr_find(be, op->id);
  /* A runtime that no longer knows the container (e.g. after a checkpoint --exit) is a successful delete,
   * as in runc-v2. */
  if (res->status != 0 && !rt_linux_msg_not_exist(res->msg)) {
    if (c) c->busy_delete = false;
    cs_err e;
    cs_err_set(&e, rt_linux_msg_code(res->msg), "failed to delete task: %s", res->msg);
    rt_linux_op_complete(op, NULL, &e);
    return;
  }
  rt_result r = {.pid = c ? c->pid : 0, .console_fd = -1};
  if (c) rt_linux_ctr_remove(be, c);
  rt_linux_op_complete(op, &r, NULL);
}

int rt_linux_delete(rt_backend *b, const char *id, bool force, rt_done_cb cb, void *data, cs_err *err) {
  rt_linux *be = (rt_linux *)b;
  rt_linux_ctr *c = need_ctr(be, id, err);
  if (!c) return -1;
  if (c->creating || c->busy_delete)
    return cs_err_set(err, CS_FAILED_PRECONDITION, "container %s: %s in progress", id,
                      c->creating ? "create" : "delete");
  rt_linux_op *op = rt_linux_op_new(be, "delete", id, NULL, cb, data, err);
  if (!op) return -1;
  const char *args[] = {"delete", force ? "--force" : id, force ? id : NULL, NULL};
  if (rt_linux_op_run(op, c, args, NULL, NULL, 0, delete_finish, err) != 0) return -1;
  c->busy_delete = true;
  return 0;
}
