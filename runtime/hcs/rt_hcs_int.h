/* Internals of the HCS backend, shared by rt_hcs_core.c (state, jobs, exits) and rt_hcs.c (the ops).
 * Everything here is touched on the loop thread only, except rt_hcs_job's run() (a worker thread, which
 * reads its inputs and writes its outputs in the job and nothing else) and the event queue (under lock). */
#ifndef RT_HCS_INT_H
#define RT_HCS_INT_H

#include <stdbool.h>

#include "rt_defer.h"
#include "hcs_async.h"
#include "rt_hcs.h"

enum rt_hcs_ctr_state { CTR_CREATING, CTR_CREATED, CTR_RUNNING, CTR_PAUSED, CTR_STOPPED, CTR_DELETED };
enum rt_hcs_proc_state { PROC_NEW, PROC_STARTING, PROC_RUNNING, PROC_EXITED };

typedef struct rt_hcs rt_hcs;

/* Processes one kill --all signals (a Windows container rarely has more than a handful). */
#define RT_HCS_MAX_KILL 64

/* What HCS hands back to our callbacks, on its own threads: enough to find the object on the loop by key,
 * never a pointer to loop-owned state. Freed only after the handle it was registered on is closed. */
typedef struct rt_hcs_src {
  rt_hcs *be;
  char *ctr_id;
  unsigned long seq; /* 0: the compute system; else the process's sequence number */
} rt_hcs_src;

typedef struct rt_hcs_proc {
  struct rt_hcs_proc *next;
  unsigned long seq;
  char *exec_id;            /* NULL: the init process */
  char *params;             /* ProcessParameters JSON */
  char *path[3];
  hcs_process handle;
  rt_hcs_src *src;
  int pid;
  bool terminal;            /* created with a console (ResizePty applies) */
  int state;                /* enum rt_hcs_proc_state */
  int status;
  int64_t exited_at;
  bool probing;             /* an exit-code query is in flight */
  bool pending_exit;        /* exited while still STARTING: reported when start completes */
  bool pending_has_code;
  int pending_code;
} rt_hcs_proc;

typedef struct rt_hcs_ctr {
  struct rt_hcs_ctr *next;
  char *id;
  char *uvm_id;             /* Hyper-V only */
  int isolation;
  int state;                /* enum rt_hcs_ctr_state */
  unsigned jobs;            /* jobs in flight that reference this container */
  bool busy;                /* create or delete in flight */
  hcs_system system, uvm;
  rt_hcs_src *src;
  rt_hcs_proc *procs;
  char **endpoints;
  size_t n_endpoints;
  char *scratch;            /* process isolation without root.path: the scratch layer folder the backend mounts */
  bool layers_mounted;      /* activated and prepared (hcs_layers.h): Delete and teardown must undo it */
  char *netns;              /* the HNS namespace the backend made for the endpoints (rt_hcs_attach.c); NULL: none */
} rt_hcs_ctr;

typedef struct rt_hcs_event {
  struct rt_hcs_event *next;
  int type;                 /* HCS_EVENT_* */
  char *ctr_id;
  unsigned long seq;
  bool has_code;
  int code;
  int64_t at_ns;
} rt_hcs_event;

struct rt_hcs {
  rt_backend base;          /* first: rt_backend* <-> rt_hcs* */
  rt_hcs_config cfg;
  char owner[64];
  uv_async_t async;
  rt_defer defer;           /* jobs with nothing to run: completed from the loop, dropped at destroy */
  uv_mutex_t lock;          /* guards closing, evq */
  bool closing;
  rt_hcs_event *evq_head, *evq_tail;
  rt_hcs_ctr *ctrs;
  unsigned long next_seq;
  unsigned refs;            /* owner + jobs in flight + the async and defer handles until closed */
  hcs_async *ops;           /* HCS operations completed on the loop (stats queries) */
};

/* A unit of work: run() on a worker thread (NULL: nothing to do, just complete on the loop, through
 * rt_defer), then done() on the loop, then the caller's callback unless the backend is being destroyed. */
typedef struct rt_hcs_job rt_hcs_job;
struct rt_hcs_job {
  uv_work_t work;
  rt_defer_item deferred;   /* a job with nothing to run completes through rt_hcs.defer */
  rt_hcs *be;
  rt_hcs_ctr *ctr;
  rt_hcs_proc *proc;
  int (*run)(rt_hcs_job *j);
  void (*done)(rt_hcs_job *j);
  rt_done_cb cb;
  rt_pids_cb pids_cb;
  void *data;
  int rc;
  cs_err err;
  rt_result res;
  /* inputs and outputs, by kind */
  char *doc, *uvm_doc;
  char **docs;              /* NULL-terminated */
  char **endpoints;         /* borrowed from ctr */
  size_t n_endpoints;
  hcs_system system, uvm;
  hcs_process process;
  hcs_process_information pi;
  hcs_process handles[RT_HCS_MAX_KILL]; /* kill: the processes to signal */
  size_t n_handles;
  bool terminate;           /* kill: SIGKILL */
  bool pause;               /* pause (true) or resume */
  bool exited;
  int exit_code;
  bool mounted;             /* create: the layers (docs) were mounted; delete: unmount scratch (doc) */
  int *pids;
  size_t n_pids;
  /* create/delete's network and utility-VM steps (rt_hcs_attach.c) */
  char **attach;            /* Hyper-V: the ModifySettingRequests that give the VM the container's storage */
  bool make_netns;          /* create: put the endpoints in a namespace of the backend's own */
  char *netns;              /* create: the namespace made (output); delete: the one to remove */
  size_t n_ns_endpoints;    /* endpoints added to netns so far */
};

int64_t rt_hcs_now_ns(void);
rt_hcs_ctr *rt_hcs_find(rt_hcs *be, const char *id);
rt_hcs_proc *rt_hcs_find_pid(rt_hcs_ctr *c, int pid);
rt_hcs_proc *rt_hcs_find_exec(rt_hcs_ctr *c, const char *exec_id);
rt_hcs_proc *rt_hcs_init_proc(rt_hcs_ctr *c);
rt_hcs_src *rt_hcs_src_new(rt_hcs *be, const char *ctr_id, unsigned long seq);

rt_hcs_job *rt_hcs_job_new(rt_hcs *be, rt_hcs_ctr *c, rt_hcs_proc *p, cs_err *err);
/* Queue it; on failure the job is freed and err set. */
int rt_hcs_job_queue(rt_hcs_job *j, cs_err *err);

/* Unlink a container (no more lookups) and free it once no job references it. Processes still running
 * are reported exited with RT_HCS_EXIT_UNKNOWN first. */
void rt_hcs_ctr_remove(rt_hcs *be, rt_hcs_ctr *c);
void rt_hcs_ctr_free(rt_hcs *be, rt_hcs_ctr *c);

/* A process has exited (from an event, a probe or the container going away); reported once. */
void rt_hcs_proc_exited(rt_hcs *be, rt_hcs_ctr *c, rt_hcs_proc *p, bool has_code, int code, int64_t at_ns);

/* Teardown (the vtable's destroy): no callbacks after it; memory goes when the last job completes. */
void rt_hcs_destroy(rt_backend *b);

/* Create's network and utility-VM steps and their undoing (rt_hcs_attach.c), on a job's worker thread.
 * check: every endpoint the spec names exists (NotFound naming it), before anything is made.
 * net_attach: with make_netns, an HNS namespace holding the endpoints, named in j->doc; undone by itself on
 * failure. uvm_attach: j->attach then a NIC per endpoint on the running VM j->uvm. The detach calls undo
 * what they find and only warn: the container is going away either way. */
int rt_hcs_net_check(rt_hcs_job *j);
int rt_hcs_net_attach(rt_hcs_job *j);
void rt_hcs_net_detach(rt_hcs_job *j);
int rt_hcs_uvm_attach(rt_hcs_job *j);
void rt_hcs_uvm_detach(rt_hcs_job *j);
/* The vtable's stats_async (rt_hcs_stats.c). */
int rt_hcs_stats_async(rt_backend *b, const char *id, rt_stats_req *req, rt_stats_cb cb, cs_err *err);

/* The HCS callbacks (HCS threads). */
void HCS_CALLBACK rt_hcs_on_system_event(hcs_event *ev, void *ctx);
void HCS_CALLBACK rt_hcs_on_process_event(hcs_event *ev, void *ctx);
void rt_hcs_on_async(uv_async_t *a);

#endif
