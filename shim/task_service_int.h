/* Internals shared by the task service's handler files. */
#ifndef TASK_SERVICE_INT_H
#define TASK_SERVICE_INT_H

#include <protobuf-c/protobuf-c.h>

#include "containerd/events/task.pb-c.h"
#include "containerd/task/v2/shim.pb-c.h"
#include "task_proc.h"
#include "task_service.h"

typedef struct task_exit_note {
  struct task_exit_note *next;
  int pid, status;
  int64_t at_ns;
} task_exit_note;

struct task_service {
  task_service_config cfg;
  rt_backend *rt;
  task_container *containers;
  size_t n_containers;
  int starting;                /* runtime starts/execs in flight */
  task_exit_note *unclaimed;   /* exits of pids not known yet, kept while a start is in flight */
  bool shutting_down;
  struct stats_watch *streams; /* open cshim.stats.v1.Stats/Watch streams (stats_stream.c) */
};

void stats_stream_close_all(task_service *svc);
/* A task's stream cache (task_container.stream_cache), when the task goes. */
void stats_stream_cache_free(void *cache);

/* An asynchronous operation on one process: holds a reference so the proc outlives a racing Delete. */
typedef struct task_op {
  task_service *svc;
  ttrpc_call *call;
  task_proc *proc;
  int kind;
  uint32_t arg;
} task_op;

task_op *task_op_new(task_service *svc, ttrpc_call *call, task_proc *p, int kind, cs_err *err);
void task_op_free(task_op *op);

void task_proc_ref(task_proc *p);
void task_proc_unref(task_proc *p);

/* Handlers answer each call exactly once, in one style: every check fills a cs_err and jumps to the
 * handler's one error reply at its end (ttrpc_call_reply_err); the helpers below never answer a call
 * themselves. An asynchronous handler hands the call to a task_op, whose completion answers it. */

task_container *task_find_container(task_service *svc, const char *id);
/* The process id (and exec_id, "" or NULL: the init) names. Both must pass the one id rule (cs_id.h):
 * InvalidArgument; an unknown one is NotFound. */
task_proc *task_lookup(task_service *svc, const char *id, const char *exec_id, cs_err *err);

void task_reply_msg(ttrpc_call *call, const ProtobufCMessage *m);
void task_reply_empty(ttrpc_call *call);
void task_publish(task_service *svc, const char *topic, const char *type, const ProtobufCMessage *m);
void task_timestamp(Google__Protobuf__Timestamp *ts, int64_t ns);
int64_t task_now_ns(void);
/* Deliver an exit (record once, publish TaskExit, answer waiters). */
void task_apply_exit(task_service *svc, task_proc *p, int status, int64_t at_ns);
void task_starting_done(task_service *svc, task_proc *p);
int task_ensure_backend(task_service *svc, const task_runtime_opts *opts, cs_err *err);

/* The request decoded; NULL with InvalidArgument when the payload does not decode. */
void *task_unpack(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n, cs_err *err);
/* A task's sample through the backend's stats_async (or its synchronous stats, answered before returning):
 * 0 and cb exactly once on the loop, or -1 with err and no callback. req->data and req->out are the caller's. */
int task_stats_read(task_service *svc, const char *id, rt_stats_req *req, rt_stats_cb cb, cs_err *err);

/* handlers in task_service_query.c (Pids, Stats, Connect) and task_service_ctl.c (the rest) */
void task_h_pids(ttrpc_call *call, const uint8_t *p, size_t n, void *data);
void task_h_pause(ttrpc_call *call, const uint8_t *p, size_t n, void *data);
void task_h_resume(ttrpc_call *call, const uint8_t *p, size_t n, void *data);
void task_h_checkpoint(ttrpc_call *call, const uint8_t *p, size_t n, void *data);
void task_h_update(ttrpc_call *call, const uint8_t *p, size_t n, void *data);
void task_h_resize(ttrpc_call *call, const uint8_t *p, size_t n, void *data);
void task_h_closeio(ttrpc_call *call, const uint8_t *p, size_t n, void *data);
void task_h_stats(ttrpc_call *call, const uint8_t *p, size_t n, void *data);
void task_h_connect(ttrpc_call *call, const uint8_t *p, size_t n, void *data);
void task_h_shutdown(ttrpc_call *call, const uint8_t *p, size_t n, void *data);

#endif
