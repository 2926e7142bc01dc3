/* State of the fake computecore.dll: operations, compute systems, processes and the handles to them.
 *
 * HCS is a service shared by every process; this fake lives inside the process that loads it, so its state is
 * process-wide by nature (one registry, one lock): a system created by the shim is not visible to another
 * process such as `cshimctl` (see README). Every handle the caller gets is looked up in the registry before use,
 * so a stale or made-up handle fails with E_HANDLE instead of crashing. */
#ifndef FAKE_HCS_INT_H
#define FAKE_HCS_INT_H

#include <windows.h>
#include <computecore.h>
#include <stdbool.h>

#include "fake_common.h"

enum { SYS_CREATED, SYS_RUNNING, SYS_PAUSED, SYS_STOPPED };

typedef struct fake_sys fake_sys;
typedef struct fake_proc fake_proc;

/* One HCS_SYSTEM / HCS_PROCESS handle. Callbacks are registered per handle, as in HCS. `busy` counts callbacks
 * running on it; closing waits for them (unless the callback itself closes the handle: then the deliverer frees
 * it after the callback returns). */
typedef struct fake_handle {
  unsigned magic;
  fake_sys *sys;
  fake_proc *proc; /* NULL for a system handle */
  HCS_EVENT_CALLBACK cb;
  const void *ctx;
  int busy;
  DWORD busy_tid;
  bool closing, orphan;
  struct fake_handle *next;
} fake_handle;

struct fake_proc {
  fake_sys *sys;
  DWORD pid;
  HANDLE h;      /* kept after exit: Statistics add up the times of processes that ended, as job accounting does */
  HANDLE waiter; /* the thread that waits for the exit and delivers HcsEventProcessExited */
  bool exited, delivered;
  DWORD exit_code;
  char *image;
  FILETIME created;
  /* The highest CPU times and I/O counts seen: a process that exited is no longer in SystemProcessInformation
   * (fake_hcs_props.c says why that is the CPU source), so its figures are kept from the last sample. */
  ULONGLONG user, kernel, rd_n, rd_b, wr_n, wr_b;
  fake_handle *handles;
  fake_proc *next;
};

struct fake_sys {
  char *id;
  char *owner;
  char *host_id;          /* HostingSystemId of a hosted container: it stops with its VM */
  int state;
  bool hyperv;            /* a VirtualMachine document: no processes of its own in the fake */
  bool terminate_on_close;
  bool forced;            /* terminated rather than shut down, for the exit event */
  unsigned long long memory_mb;
  HANDLE job;             /* every process of the system, and what they start, is in it */
  FILETIME created, started;
  fake_proc *procs;
  fake_handle *handles;
  int refs;               /* handles (system and process) + live waiter threads + the registry while not stopped */
  json_t *attached;       /* a VM's hot-added devices and guest mappings (fake_attach.c); NULL: none yet */
  fake_sys *next;
};

typedef struct fake_hcs {
  CRITICAL_SECTION lock;
  CONDITION_VARIABLE cv;  /* a callback finished; a process's exit was delivered */
  CRITICAL_SECTION spawn; /* one CreateProcess with inheritable handles at a time */
  fake_sys *systems;
  struct fake_op *ops;
} fake_hcs;

extern fake_hcs fake_g;

#define FAKE_SYS_MAGIC 0x53534346u  /* "FCSS" */
#define FAKE_PROC_MAGIC 0x50534346u

/* Lookups under fake_g.lock: NULL if h is not a live handle of that kind. */
fake_handle *fake_sys_handle(HCS_SYSTEM h);
fake_handle *fake_proc_handle(HCS_PROCESS h);
fake_handle *fake_handle_new(fake_sys *s, fake_proc *p); /* locked; takes a ref on s */
void fake_handle_close(fake_handle *h);                   /* unlocked */
void fake_sys_unref(fake_sys *s);                         /* locked; frees at 0 */

/* Calls every registered callback of `list` with the event; unlocked on entry and exit. Returns how many. */
int fake_deliver(fake_handle **list, HCS_EVENT_TYPE type, const char *data);

/* Operations: HCS_OPERATION is a fake_op. Each call runs its work synchronously and completes the operation
 * before returning; a completion callback, if any, runs on a thread-pool thread. */
typedef struct fake_op fake_op;
/* NULL (and E_INVALIDARG in *hr) unless op is a live operation that is not already running a call. */
fake_op *fake_op_begin(HCS_OPERATION op, HRESULT *hr);
/* Completes with hr and result (UTF-8, may be NULL; copied) and process information (may be NULL). */
void fake_op_complete(fake_op *op, HRESULT hr, const char *result, const HCS_PROCESS_INFORMATION *pi);
/* Fails the operation with {"Error","ErrorMessage"} and logs it. Returns S_OK (the call itself succeeded). */
HRESULT fake_op_fail(fake_op *op, const char *call, HRESULT hr, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Ends every process of s (TerminateJobObject, then each process) with the given exit code; s stops, and a thread
 * delivers HcsEventSystemExited once every process's exit has been delivered. Locked. */
void fake_sys_stop(fake_sys *s, bool forced, UINT code);

/* Properties (fake_hcs_props.c): the result document of a query, or NULL with hr/err set. Locked. */
char *fake_sys_properties(fake_sys *s, json_t *query, HRESULT *hr, char *err, size_t n);
char *fake_proc_status(fake_proc *p);
/* Updates p's kept CPU times (from snap, a SystemProcessInformation snapshot; may be NULL) and I/O counts. Locked. */
void fake_proc_sample(fake_proc *p, const void *snap);

/* A running VM's hot-adds (fake_attach.c), all locked: one ModifySettingRequest (a VM ResourcePath and/or a
 * GuestRequest), checked and applied whole or not at all; dropping them when the VM stops; and the census the
 * log carries ({"live": systems not stopped, "attached": their attachments}). */
HRESULT fake_vm_modify(fake_sys *s, json_t *req, char *err, size_t n);
void fake_vm_drop(fake_sys *s);
json_t *fake_census(void);
/* CSHIM_FAKEHCS_FAIL: S_OK, or E_FAIL with err set when this call on this system is to fail. */
HRESULT fake_injected(const char *call, const char *id, const char *doc, char *err, size_t n);

#endif
