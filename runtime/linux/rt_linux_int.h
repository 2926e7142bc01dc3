/* Internals shared by the rt_linux_*.c files of the backend; not for use outside runtime/linux. */
#ifndef RT_LINUX_INT_H
#define RT_LINUX_INT_H

#include <limits.h>
#include <stdbool.h>

#include "cs_id.h"
#include "rt.h"
#include "rt_linux.h"
#include "rt_linux_console.h"
#include "rt_linux_counters.h"
#include "rt_linux_oom.h"
#include "rt_defer.h"
#include "rt_linux_runc.h"

/* Exited execs whose records are kept so a late start(exec_id) still finds the pid. */
#define RT_LINUX_EXITED_EXECS 32

typedef struct rt_linux rt_linux;

typedef struct rt_linux_exec {
  struct rt_linux_exec *next;
  char *exec_id;
  int pid;
  bool exited;
} rt_linux_exec;

typedef struct rt_linux_ctr {
  /* What a stream's tick touches first, together: the tick looks every task up by id. */
  struct rt_linux_ctr *next;
  struct rt_linux_ctr *hnext; /* in its bucket of rt_linux.bucket */
  uint32_t hash;              /* of id */
  int pid;
  rt_linux_counters *counters; /* opened once, at create or first stats */
  char id[CS_ID_MAX + 1];      /* ids obey cs_id.h (rt.h) */
  rt_linux *be;
  char *bundle;
  bool creating; /* runtime create in flight */
  bool busy_delete;
  bool kill_all_on_exit;       /* no pid namespace of its own: init's exit kills the rest (rt_linux_killall.c) */
  /* Create from a checkpoint: the restore runs at start with these. */
  char *checkpoint;
  int io_fd[3];
  bool terminal;
  rt_linux_exec *execs;
  unsigned n_exited_execs;
  rt_linux_runc *runc;         /* this container's own runtime settings, NULL: the backend's */
  rt_linux_oom *oom;
  char log_path[PATH_MAX];
} rt_linux_ctr;

typedef struct rt_linux_op rt_linux_op;
typedef void (*rt_linux_op_finish)(rt_linux_op *op, const rt_linux_runc_result *res);

struct rt_linux_op {
  rt_linux_op *next, *prev; /* in flight */
  rt_linux *be;
  char *id, *exec_id;
  rt_done_cb done;
  rt_pids_cb pids_done;
  void *data;
  rt_linux_runc_call *call;
  rt_linux_op_finish finish;
  const char *what; /* "create", for messages */
  bool console_open;
  rt_linux_console console;
  char pidfile[PATH_MAX];
  char tmpfile[PATH_MAX];
  char workdir[PATH_MAX];
  bool rm_workdir, exit_after;
  /* An exec in flight (rt_linux_exec_begin): exits kept from rt_linux.early entry early_from on. */
  bool exec_watch;
  size_t early_from;
  /* kill --all after init's exit: that exit, delivered when the runtime is done (res.pid is the pid). */
  int exit_status;
  int64_t exited_at;
  /* Deferred completion (result known synchronously, delivered from the loop by rt_defer). */
  rt_defer_item deferred;
  rt_result res;
  cs_err err;
  bool failed;
};

struct rt_linux {
  rt_backend base; /* first: rt_backend * ⇄ rt_linux * */
  rt_linux_runc runc;
  rt_reaper *reaper;
  rt_linux_ctr *ctrs;
  /* ctrs by id: a stream looks up every task of a pod each tick. */
  rt_linux_ctr *bucket[256];
  rt_linux_counters_shared counters; /* the containers' counters' gates and read buffer */
  rt_linux_op inflight;          /* list sentinel */
  rt_defer defer;                /* results known at once, delivered from the loop */
  char console_dir[PATH_MAX];
  char ns[128];                  /* containerd namespace: runc's state dir is <root>/<ns>; "" to use root as is */
  bool no_pivot, no_new_keyring;
  bool destroyed;
  /* `runc exec --detach` hands its process to us (the subreaper) before it exits itself: the process can
   * exit, and be reaped, before runc's pid file is read and the exec recorded. Exits no record claims are
   * kept while an exec is in flight, so the backend's own record is made exited (it then neither refuses
   * the exec id again nor signals a pid that may be reused). Only the record: the exit itself has gone up
   * already, and ordering it after Start's reply is the service's rule (rt.h).
   * Entry i is the (base + i)-th kept; each exec op looks from where the list stood when it began, and
   * entries older than every in-flight exec's start are dropped. */
  struct {
    int *pid;
    size_t n, cap, base;
  } early;
  int open_handles;              /* defer's idle + OOM watchers closing; freed at 0 after destroy */
};

extern const rt_ops rt_linux_ops;

/* rt_linux.c: containers, ops, completion. */
rt_linux_ctr *rt_linux_ctr_find(rt_linux *be, const char *id);
rt_linux_ctr *rt_linux_ctr_add(rt_linux *be, const char *id, const char *bundle, cs_err *err);
void rt_linux_ctr_remove(rt_linux *be, rt_linux_ctr *c);
/* The runtime a container's invocations use: its own settings if its Create named others. */
rt_linux_runc *rt_linux_ctr_runc(rt_linux *be, rt_linux_ctr *c);
int rt_linux_ctr_set_runtime(rt_linux *be, rt_linux_ctr *c, const char *binary, const char *root, cs_err *err);
/* <root>/<ns> into out (root as it is when the backend has no namespace). */
int rt_linux_join_root(rt_linux *be, const char *root, char *out, size_t len, cs_err *err);
rt_linux_exec *rt_linux_exec_find(rt_linux_ctr *c, const char *exec_id);
/* Around a runtime exec: begin once op runs; end once it has exited (pid: what its pid file named, 0 if
 * none) returns whether pid has already exited since op began. */
void rt_linux_exec_begin(rt_linux_op *op);
bool rt_linux_exec_end(rt_linux_op *op, int pid);
void rt_linux_exec_exited(rt_linux_ctr *c, rt_linux_exec *x);
rt_linux_op *rt_linux_op_new(rt_linux *be, const char *what, const char *id, const char *exec_id,
                             rt_done_cb done, void *data, cs_err *err);
void rt_linux_op_free(rt_linux_op *op);
/* Run the runtime for op; on success op is in flight and op->finish runs at exit. On failure op is freed. */
int rt_linux_op_run(rt_linux_op *op, rt_linux_ctr *c, const char *const *args, const int *stdio,
                    const char *input, size_t input_len, rt_linux_op_finish finish, cs_err *err);
/* Deliver and free op. err NULL: success with res. */
void rt_linux_op_complete(rt_linux_op *op, const rt_result *res, const cs_err *err);
/* Complete from the loop later (for results known now). */
void rt_linux_op_defer(rt_linux_op *op, const rt_result *res, const cs_err *err);
int rt_linux_read_pidfile(const char *path, int *pid, cs_err *err);
void rt_linux_rm_rf(const char *path);

void rt_linux_destroy(rt_backend *be);

/* rt_linux_killall.c: an exit of the init of a container marked kill_all_on_exit starts `kill --all` and is
 * delivered once it is done (returns true: taken over); any other exit returns false. */
bool rt_linux_killall_on_exit(rt_linux *be, int pid, int status, int64_t at);

/* rt_linux_lifecycle.c */
int rt_linux_create(rt_backend *be, const rt_create_req *req, rt_done_cb cb, void *data, cs_err *err);
int rt_linux_start(rt_backend *be, const char *id, const char *exec_id, rt_done_cb cb, void *data, cs_err *err);
int rt_linux_kill(rt_backend *be, const char *id, int pid, int sig, bool all, rt_done_cb cb, void *data, cs_err *err);
int rt_linux_delete(rt_backend *be, const char *id, bool force, rt_done_cb cb, void *data, cs_err *err);

/* rt_linux_procs.c */
int rt_linux_exec_op(rt_backend *be, const rt_exec_req *req, rt_done_cb cb, void *data, cs_err *err);
int rt_linux_pause(rt_backend *be, const char *id, rt_done_cb cb, void *data, cs_err *err);
int rt_linux_resume(rt_backend *be, const char *id, rt_done_cb cb, void *data, cs_err *err);
int rt_linux_update(rt_backend *be, const char *id, const char *json, size_t len, rt_done_cb cb, void *data, cs_err *err);
int rt_linux_pids(rt_backend *be, const char *id, rt_pids_cb cb, void *data, cs_err *err);
int rt_linux_checkpoint(rt_backend *be, const rt_checkpoint_req *req, rt_done_cb cb, void *data, cs_err *err);
int rt_linux_resize(rt_backend *be, const char *id, int pid, uint32_t w, uint32_t h, cs_err *err);

/* rt_linux_stats.c */
int rt_linux_stats(rt_backend *be, const char *id, rt_sample *out, cs_err *err);
int rt_linux_stats_lean(rt_backend *be, const char *id, rt_sample *out, cs_err *err);
int rt_linux_stats_async(rt_backend *be, const char *id, rt_stats_req *req, rt_stats_cb cb, cs_err *err);
int rt_linux_stats_quick(rt_backend *be, const char *id, rt_quick *out, cs_err *err);
/* Once the init pid is known: open the counters and start the OOM watch (best effort, logged). */
void rt_linux_watch_ctr(rt_linux_ctr *c);
/* Close counters and OOM watch. */
void rt_linux_unwatch_ctr(rt_linux_ctr *c);

#endif
