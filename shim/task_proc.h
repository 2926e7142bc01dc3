/* The process state machine: one task_proc per container init and per exec.
 *
 *   CREATED --start--> RUNNING --exit--> STOPPED --delete--> (freed)
 *   RUNNING --pause--> PAUSED --resume--> RUNNING          (init only)
 *   CREATED --delete--> (freed)                             (runtime delete --force)
 *
 * An exit is data: it is recorded here (status and time, once) before anyone is told, then the Wait calls
 * are answered and TaskExit is published. While a runtime start is in flight, an exit that arrives first
 * is parked and applied when the start completes, so the events still go start → exit. */
#ifndef TASK_PROC_H
#define TASK_PROC_H

#include <stdbool.h>
#include <stdint.h>

#include "task_io.h"
#include "ttrpc.h"

enum task_status { TASK_UNKNOWN = 0, TASK_CREATED = 1, TASK_RUNNING = 2, TASK_STOPPED = 3, TASK_PAUSED = 4 };

typedef struct task_waiter {
  struct task_waiter *next, *prev;
  ttrpc_call *call;
  struct task_proc *proc;
} task_waiter;

typedef struct task_proc {
  struct task_proc *next;        /* sibling execs of one container */
  struct task_container *ct;
  char *exec_id;                 /* NULL for the init process */
  int pid;
  int status;                    /* enum task_status */
  bool exited;
  uint32_t exit_status;
  int64_t exited_at_ns;
  bool starting;                 /* a runtime start/exec is in flight */
  bool exit_parked;              /* the exit arrived while starting */
  bool busy;                     /* create/delete in flight: other mutations answer FailedPrecondition */
  char *stdin_path, *stdout_path, *stderr_path;
  bool terminal;
  char *spec_json;               /* exec: the OCI Process JSON until Start */
  size_t spec_len;
  task_io *io;                   /* NULL until opened, and after Delete closed it */
  task_waiter waiters;           /* list head of Wait calls */
  int refs;                      /* in-flight operations holding this proc */
  bool removed;                  /* deleted: freed when refs drops to 0 */
} task_proc;

typedef struct task_container {
  struct task_container *next;
  struct task_service *svc;
  char *id;
  char *bundle;
  task_proc init;
  task_proc *execs;
  bool rootfs_mounted;
  uint32_t io_uid, io_gid;       /* runtime options: owner of the stdio its processes get */
  void *stream_cache;            /* stats_stream.c: the last full sample pushed for this task */
  int refs;                      /* procs' references plus in-flight operations */
  bool removed;
} task_container;

/* Record an exit once; returns false if the proc already had one. */
bool task_proc_record_exit(task_proc *p, int status, int64_t exited_at_ns);
/* Answer every Wait call with the recorded exit. */
void task_proc_answer_waiters(task_proc *p);
/* Cancel (error) every Wait call, e.g. when the proc is deleted before it exited. */
void task_proc_fail_waiters(task_proc *p, int code, const char *msg);
/* The call waits for p's exit (it is the waiter's to answer from now on); -1 with err and no waiter. */
int task_proc_add_waiter(task_proc *p, ttrpc_call *call, cs_err *err);
void task_proc_free_fields(task_proc *p);
const char *task_status_name(int status);

#endif
