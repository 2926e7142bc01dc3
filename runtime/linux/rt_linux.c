/* The backend object: construction, the container table, in-flight operations and their completion, and
 * the routing of unclaimed exits. The operations themselves are in rt_linux_lifecycle.c / rt_linux_procs.c
 * / rt_linux_stats.c. */
#include "rt_linux_int.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cs_log.h"
#include "rt_linux_cmd.h"
#include "rt_linux_spec.h"

const rt_ops rt_linux_ops = {
    .name = "linux",
    .create = rt_linux_create,
    .start = rt_linux_start,
    .exec = rt_linux_exec_op,
    .kill = rt_linux_kill,
    .delete = rt_linux_delete,
    .pause = rt_linux_pause,
    .resume = rt_linux_resume,
    .update = rt_linux_update,
    .pids = rt_linux_pids,
    .checkpoint = rt_linux_checkpoint,
    .resize = rt_linux_resize,
    .stats = rt_linux_stats,
    .stats_quick = rt_linux_stats_quick,
    .stats_lean = rt_linux_stats_lean,
    .stats_async = rt_linux_stats_async,
    .destroy = rt_linux_destroy,
};

/* ------------------------------------------------------------------ containers */

static uint32_t id_hash(const char *id) {
  uint32_t h = 2166136261u; /* FNV-1a */
  for (const unsigned char *p = (const unsigned char *)id; *p; p++) h = (h ^ *p) * 16777619u;
  return h;
}

static rt_linux_ctr **bucket_of(rt_linux *be, uint32_t hash) {
  return &be->bucket[hash % (sizeof be->bucket / sizeof be->bucket[0])];
}

rt_linux_ctr *rt_linux_ctr_find(rt_linux *be, const char *id) {
  uint32_t h = id_hash(id);
  for (rt_linux_ctr *c = *bucket_of(be, h); c; c = c->hnext)
    if (c->hash == h && !strcmp(c->id, id)) return c;
  return NULL;
}

rt_linux_ctr *rt_linux_ctr_add(rt_linux *be, const char *id, const char *bundle, cs_err *err) {
  size_t idlen = strlen(id);
  /* Not a rule of ours (the caller checked the id, rt.h): only the record's size. */
  if (idlen >= sizeof ((rt_linux_ctr *)0)->id)
    return cs_err_set(err, CS_INTERNAL, "container id longer than %d characters: the caller broke rt.h", CS_ID_MAX), NULL;
  rt_linux_ctr *c = calloc(1, sizeof *c);
  if (c) c->bundle = strdup(bundle);
  if (!c || !c->bundle) {
    free(c);
    cs_err_sys(err, ENOMEM, "container %s", id);
    return NULL;
  }
  memcpy(c->id, id, idlen + 1);
  if ((size_t)snprintf(c->log_path, sizeof c->log_path, "%s/log.json", bundle) >= sizeof c->log_path) {
    free(c->bundle), free(c);
    cs_err_set(err, CS_INVALID_ARGUMENT, "bundle path too long: %s", bundle);
    return NULL;
  }
  c->be = be;
  c->io_fd[0] = c->io_fd[1] = c->io_fd[2] = -1;
  c->next = be->ctrs;
  be->ctrs = c;
  c->hash = id_hash(id);
  rt_linux_ctr **b = bucket_of(be, c->hash);
  c->hnext = *b;
  *b = c;
  return c;
}

static void ctr_free(rt_linux_ctr *c) {
  rt_linux_unwatch_ctr(c);
  for (rt_linux_exec *e = c->execs, *n; e; e = n) {
    n = e->next;
    free(e->exec_id);
    free(e);
  }
  for (int i = 0; i < 3; i++)
    if (c->io_fd[i] >= 0) close(c->io_fd[i]);
  free(c->checkpoint);
  free(c->runc);
  free(c->bundle);
  free(c);
}

void rt_linux_ctr_remove(rt_linux *be, rt_linux_ctr *c) {
  for (rt_linux_ctr **p = &be->ctrs; *p; p = &(*p)->next) {
    if (*p == c) {
      *p = c->next;
      break;
    }
  }
  for (rt_linux_ctr **p = bucket_of(be, c->hash); *p; p = &(*p)->hnext) {
    if (*p == c) {
      *p = c->hnext;
      break;
    }
  }
  ctr_free(c);
}

rt_linux_exec *rt_linux_exec_find(rt_linux_ctr *c, const char *exec_id) {
  for (rt_linux_exec *e = c->execs; e; e = e->next)
    if (!strcmp(e->exec_id, exec_id)) return e;
  return NULL;
}

/* ------------------------------------------------------------------ exits */

/* An exec's record stays after its exit (start(exec_id) may still come), but only the last few. */
void rt_linux_exec_exited(rt_linux_ctr *c, rt_linux_exec *x) {
  x->exited = true;
  if (++c->n_exited_execs <= RT_LINUX_EXITED_EXECS) return;
  rt_linux_exec **oldest = NULL;
  for (rt_linux_exec **p = &c->execs; *p; p = &(*p)->next) /* newest first: the last exited one is oldest */
    if ((*p)->exited) oldest = p;
  if (!oldest) return;
  rt_linux_exec *o = *oldest;
  *oldest = o->next;
  free(o->exec_id);
  free(o);
  c->n_exited_execs--;
}

static bool execs_running(const rt_linux *be) {
  for (const rt_linux_op *o = be->inflight.next; o != &be->inflight; o = o->next)
    if (o->exec_watch) return true;
  return false;
}

static void on_unclaimed_exit(void *data, int pid, int status, int64_t at) {
  rt_linux *be = data;
  if (be->destroyed) return;
  for (rt_linux_ctr *c = be->ctrs; c; c = c->next)
    for (rt_linux_exec *x = c->execs; x; x = x->next)
      if (x->pid == pid && !x->exited) {
        rt_linux_exec_exited(c, x);
        goto found;
      }
  if (execs_running(be)) {
    if (be->early.n == be->early.cap) {
      size_t cap = be->early.cap ? be->early.cap * 2 : 8;
      int *p = realloc(be->early.pid, cap * sizeof *p);
      if (p) be->early.pid = p, be->early.cap = cap;
    }
    if (be->early.n < be->early.cap) be->early.pid[be->early.n++] = pid;
    else CS_WARN("exit of pid %d while an exec runs: out of memory keeping it", pid);
  }
found:
  if (rt_linux_killall_on_exit(be, pid, status, at)) return;
  if (be->base.events.exit) be->base.events.exit(be->base.events.data, pid, status, at);
}

void rt_linux_exec_begin(rt_linux_op *op) {
  op->exec_watch = true;
  op->early_from = op->be->early.base + op->be->early.n;
}

bool rt_linux_exec_end(rt_linux_op *op, int pid) {
  rt_linux *be = op->be;
  bool exited = false;
  for (size_t i = op->early_from - be->early.base; pid > 0 && i < be->early.n && !exited; i++)
    exited = be->early.pid[i] == pid;
  op->exec_watch = false;
  /* What no exec still in flight can be looking for goes. */
  size_t keep_from = be->early.base + be->early.n;
  for (rt_linux_op *o = be->inflight.next; o != &be->inflight; o = o->next)
    if (o->exec_watch && o->early_from < keep_from) keep_from = o->early_from;
  size_t drop = keep_from - be->early.base;
  if (drop == 0) return exited;
  memmove(be->early.pid, be->early.pid + drop, (be->early.n - drop) * sizeof *be->early.pid);
  be->early.n -= drop;
  be->early.base = keep_from;
  if (be->early.n == 0) {
    free(be->early.pid);
    be->early.pid = NULL;
    be->early.cap = 0;
  }
  return exited;
}

/* ------------------------------------------------------------------ operations */

static void list_add(rt_linux_op *head, rt_linux_op *op) {
  op->next = head->next;
  op->prev = head;
  head->next->prev = op;
  head->next = op;
}

static void list_del(rt_linux_op *op) {
  if (!op->next) return;
  op->prev->next = op->next;
  op->next->prev = op->prev;
  op->next = op->prev = NULL;
}

rt_linux_op *rt_linux_op_new(rt_linux *be, const char *what, const char *id, const char *exec_id,
                             rt_done_cb done, void *data, cs_err *err) {
  rt_linux_op *op = calloc(1, sizeof *op);
  if (op) {
    op->id = id ? strdup(id) : NULL;
    op->exec_id = exec_id ? strdup(exec_id) : NULL;
  }
  if (!op || (id && !op->id) || (exec_id && !op->exec_id)) {
    if (op) free(op->id), free(op->exec_id), free(op);
    cs_err_sys(err, ENOMEM, "%s", what);
    return NULL;
  }
  op->be = be;
  op->what = what;
  op->done = done;
  op->data = data;
  op->console.fd = -1;
  return op;
}

void rt_linux_op_free(rt_linux_op *op) {
  list_del(op);
  if (op->console_open) rt_linux_console_close(&op->console);
  if (op->tmpfile[0]) unlink(op->tmpfile);
  if (op->rm_workdir && op->workdir[0]) rt_linux_rm_rf(op->workdir);
  free(op->id);
  free(op->exec_id);
  free(op);
}

static void on_runtime_exit(void *data, const rt_linux_runc_result *res) {
  rt_linux_op *op = data;
  op->call = NULL; /* freed by the runc layer after this returns */
  op->finish(op, res);
}

int rt_linux_op_run(rt_linux_op *op, rt_linux_ctr *c, const char *const *args, const int *stdio,
                    const char *input, size_t input_len, rt_linux_op_finish finish, cs_err *err) {
  op->finish = finish;
  op->call = rt_linux_runc_run(rt_linux_ctr_runc(op->be, c), c->log_path, args, stdio, input, input_len, on_runtime_exit, op, err);
  if (!op->call) {
    cs_err_wrap(err, "OCI runtime %s failed", op->what);
    rt_linux_op_free(op);
    return -1;
  }
  list_add(&op->be->inflight, op);
  return 0;
}

void rt_linux_op_complete(rt_linux_op *op, const rt_result *res, const cs_err *err) {
  list_del(op);
  rt_result empty = {.pid = 0, .console_fd = -1};
  if (!res || err) res = &empty;
  if (op->pids_done) {
    if (err) op->pids_done(op->data, NULL, 0, err);
  } else if (op->done) {
    op->done(op->data, res, err);
  }
  rt_linux_op_free(op);
}

static void deferred_fn(rt_defer_item *it, bool dropped) {
  rt_linux_op *op = (rt_linux_op *)((char *)it - offsetof(rt_linux_op, deferred));
  if (!dropped) {
    rt_linux_op_complete(op, &op->res, op->failed ? &op->err : NULL);
    return;
  }
  if (!op->failed && op->res.console_fd >= 0) close(op->res.console_fd);
  rt_linux_op_free(op);
}

void rt_linux_op_defer(rt_linux_op *op, const rt_result *res, const cs_err *err) {
  op->res = res ? *res : (rt_result){.pid = 0, .console_fd = -1};
  op->failed = err != NULL;
  if (err) op->err = *err;
  op->deferred.fn = deferred_fn;
  rt_defer_push(&op->be->defer, &op->deferred);
}

/* ------------------------------------------------------------------ helpers */

int rt_linux_read_pidfile(const char *path, int *pid, cs_err *err) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return cs_err_sys(err, errno, "failed to retrieve OCI runtime container pid: %s", path);
  char buf[32];
  ssize_t n;
  do n = read(fd, buf, sizeof buf - 1);
  while (n < 0 && errno == EINTR);
  close(fd);
  if (n <= 0) return cs_err_set(err, CS_UNKNOWN, "failed to retrieve OCI runtime container pid: %s is empty", path);
  buf[n] = '\0';
  char *end;
  long v = strtol(buf, &end, 10);
  if (v <= 0 || v > 0x7fffffff || (*end && *end != '\n'))
    return cs_err_set(err, CS_UNKNOWN, "failed to retrieve OCI runtime container pid: bad pid file %s", path);
  *pid = (int)v;
  return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  remove(path);
  return 0;
}

void rt_linux_rm_rf(const char *path) {
  nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ------------------------------------------------------------------ construction */

static void maybe_free(rt_linux *be) {
  if (be->destroyed && be->open_handles == 0) free(be);
}

static void on_handle_closed(uv_handle_t *h) {
  rt_linux *be = h->data;
  be->open_handles--;
  maybe_free(be);
}

void rt_linux_destroy(rt_backend *b) {
  rt_linux *be = (rt_linux *)b;
  if (!be || be->destroyed) return;
  be->destroyed = true;
  while (be->inflight.next != &be->inflight) {
    rt_linux_op *op = be->inflight.next;
    rt_linux_runc_cancel(op->call);
    op->call = NULL;
    rt_linux_op_free(op);
  }
  while (be->ctrs) rt_linux_ctr_remove(be, be->ctrs);
  free(be->early.pid);
  be->early.pid = NULL;
  rt_linux_counters_shared_release(&be->counters);
  rt_reaper_close(be->reaper);
  rt_defer_close(&be->defer, on_handle_closed); /* what is queued is freed, not delivered */
}

rt_backend *rt_linux_new(uv_loop_t *loop, const rt_linux_opts *opts, const rt_events *ev, cs_err *err) {
  static const rt_linux_opts defaults = {0};
  if (!opts) opts = &defaults;
  rt_linux *be = calloc(1, sizeof *be);
  if (!be) {
    cs_err_sys(err, ENOMEM, "linux backend");
    return NULL;
  }
  be->base.ops = &rt_linux_ops;
  be->base.loop = loop;
  if (ev) be->base.events = *ev;
  be->inflight.next = be->inflight.prev = &be->inflight;
  be->no_pivot = opts->no_pivot_root;
  be->no_new_keyring = opts->no_new_keyring;
  rt_linux_runc *rc = &be->runc;
  rc->loop = loop;
  rc->systemd_cgroup = opts->systemd_cgroup;
  const char *bin = opts->binary && *opts->binary ? opts->binary : "runc";
  const char *base = strrchr(bin, '/') ? strrchr(bin, '/') + 1 : bin;
  snprintf(rc->name, sizeof rc->name, "%s", base);
  if (rt_linux_cmd_resolve(bin, rc->path, sizeof rc->path, err) != 0) goto fail;
  if (opts->ns && *opts->ns) {
    if (strchr(opts->ns, '/') || !strcmp(opts->ns, ".") || !strcmp(opts->ns, "..") ||
        strlen(opts->ns) >= sizeof be->ns) {
      cs_err_set(err, CS_INVALID_ARGUMENT, "namespace \"%s\" cannot name a runtime state directory", opts->ns);
      goto fail;
    }
    snprintf(be->ns, sizeof be->ns, "%s", opts->ns);
  }
  if (opts->root && *opts->root) {
    if (rt_linux_join_root(be, opts->root, rc->root, sizeof rc->root, err) != 0) goto fail;
  } else if ((size_t)snprintf(rc->root, sizeof rc->root, RT_LINUX_DEFAULT_ROOT "/%s",
                              be->ns[0] ? be->ns : "default") >= sizeof rc->root) {
    cs_err_set(err, CS_INVALID_ARGUMENT, "runtime root too long");
    goto fail;
  }
  if (opts->criu && *opts->criu) snprintf(rc->criu, sizeof rc->criu, "%s", opts->criu);
  if (opts->console_dir) snprintf(be->console_dir, sizeof be->console_dir, "%s", opts->console_dir);
  be->reaper = rt_reaper_new(loop, on_unclaimed_exit, be, err);
  if (!be->reaper) goto fail;
  rc->reaper = be->reaper;
  rt_defer_init(&be->defer, loop);
  be->defer.idle.data = be;
  be->open_handles = 1;
  return &be->base;
fail:
  free(be);
  return NULL;
}

/* runc-v2 gives runc `--root <Root>/<namespace>` (filepath.Join): one state dir per namespace, so the same id
 * in two namespaces does not collide, and `runc --root /run/containerd/runc/<ns> list` finds the containers. */
int rt_linux_join_root(rt_linux *be, const char *root, char *out, size_t len, cs_err *err) {
  size_t n = strlen(root);
  while (n > 1 && root[n - 1] == '/') n--;
  int w = be->ns[0] ? snprintf(out, len, "%.*s%s%s", (int)n, root, n == 1 && root[0] == '/' ? "" : "/", be->ns)
                    : snprintf(out, len, "%.*s", (int)n, root);
  if (w < 0 || (size_t)w >= len) return cs_err_set(err, CS_INVALID_ARGUMENT, "runtime root too long: %s", root);
  return 0;
}

rt_linux_runc *rt_linux_ctr_runc(rt_linux *be, rt_linux_ctr *c) { return c && c->runc ? c->runc : &be->runc; }

int rt_linux_ctr_set_runtime(rt_linux *be, rt_linux_ctr *c, const char *binary, const char *root, cs_err *err) {
  const rt_linux_runc *d = &be->runc;
  char joined[PATH_MAX];
  if (root && *root) {
    if (rt_linux_join_root(be, root, joined, sizeof joined, err) != 0) return -1;
    root = joined;
  }
  bool same_bin = !binary || !*binary || !strcmp(binary, d->name) || !strcmp(binary, d->path);
  bool same_root = !root || !*root || !strcmp(root, d->root);
  if (same_bin && same_root) return 0;
  rt_linux_runc *rc = malloc(sizeof *rc);
  if (!rc) return cs_err_sys(err, ENOMEM, "runtime settings");
  *rc = *d;
  if (!same_bin) {
    const char *base = strrchr(binary, '/') ? strrchr(binary, '/') + 1 : binary;
    snprintf(rc->name, sizeof rc->name, "%s", base);
    if (rt_linux_cmd_resolve(binary, rc->path, sizeof rc->path, err) != 0) {
      free(rc);
      return -1;
    }
  }
  if (!same_root && snprintf(rc->root, sizeof rc->root, "%s", root) >= (int)sizeof rc->root) {
    free(rc);
    return cs_err_set(err, CS_INVALID_ARGUMENT, "runtime root too long");
  }
  free(c->runc);
  c->runc = rc;
  return 0;
}

rt_reaper *rt_linux_reaper(rt_backend *b) {
  return ((rt_linux *)b)->reaper;
}

int rt_linux_adopt(rt_backend *b, const char *id, const char *bundle, int pid, cs_err *err) {
  rt_linux *be = (rt_linux *)b;
  if (!bundle || !*bundle) return cs_err_set(err, CS_INVALID_ARGUMENT, "adopt %s: empty bundle", id);
  if (rt_linux_ctr_find(be, id)) return cs_err_set(err, CS_ALREADY_EXISTS, "container %s already exists", id);
  rt_linux_ctr *c = rt_linux_ctr_add(be, id, bundle, err);
  if (!c) return -1;
  c->pid = pid;
  c->kill_all_on_exit = rt_linux_spec_kill_all_on_exit(bundle);
  if (pid > 0) rt_linux_watch_ctr(c);
  return 0;
}
