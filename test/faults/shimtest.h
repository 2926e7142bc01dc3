/* shimtest: what the load, fault and security drivers share — TAP output, bundles, the shim's `start`,
 * a TTRPC client per socket, the Task API calls, and an events server standing in for containerd.
 *
 * A driver is run by its bash script as: DRIVER SHIM WORK NS
 *   SHIM  the containerd-shim-cshim-v2 binary under test
 *   WORK  a fresh absolute temp dir (the script removes it): WORK/rootfs is a busybox rootfs and
 *         WORK/spec.json a `runc spec` template
 *   NS    a namespace of this run only: runc state in /run/containerd/runc/NS, cgroups under /NS/
 * The driver records what it started (WORK/shim.pids, WORK/sockets, WORK/fake.pids) so the script's
 * EXIT trap can remove whatever a failed or killed run left behind.
 *
 * Everything runs on one libuv loop; the synchronous calls turn it, so the events server (on the same
 * loop) keeps taking events while a driver waits for a reply. */
#ifndef SHIMTEST_H
#define SHIMTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "containerd/task/v2/shim.pb-c.h"
#include "cs_err.h"
#include "ttrpc.h"

#define ST_TASK "containerd.task.v2.Task"
#define ST_SEC 1000000000LL
#define ST_MAX_EVENTS 4096

/* One event the shim forwarded, decoded. */
typedef struct st_event {
  char topic[32];
  char type_url[64];
  char ns[64];          /* envelope namespace */
  char md_ns[64];       /* containerd-namespace-ttrpc metadata of the Forward call */
  char container_id[96];
  char exec_id[96];     /* TaskExit.id (exec id or container id), TaskExecAdded/Started.exec_id */
  uint32_t pid;
  uint32_t exit_status;
} st_event;

typedef struct st_env {
  uv_loop_t *loop;
  const char *shim;
  const char *work;
  const char *ns;
  char rootfs[512];
  char address[512];   /* the containerd address the shim is told about (-address): WORK/ctd.sock */
  char evsock[512];    /* TTRPC_ADDRESS: WORK/ctd.sock.ttrpc */
  ttrpc_server *evserver;
  st_event *events;
  size_t n_events;
  bool ev_reject;      /* the events server answers Forward with Unavailable (containerd busy) */
  int n_test;
  int pass, fail;
  uint64_t t0;
} st_env;

/* ------------------------------------------------------------------ TAP */
int st_init(st_env *e, int argc, char **argv);
/* ok/not ok line; returns cond. */
bool st_check(st_env *e, bool cond, const char *fmt, ...) CS_PRINTF(3, 4);
void st_diag(const char *fmt, ...) CS_PRINTF(1, 2);
/* "1..N", "N passed, M failed"; returns the exit code (0 only if nothing failed and something ran). */
int st_finish(st_env *e);
double st_elapsed(const st_env *e);

/* ------------------------------------------------------------------ files and processes */
/* Writes DIR/config.json from the template: args (NULL-terminated), rootfs WORK/rootfs, cgroupsPath
 * /NS/ID, no terminal; sandbox (or NULL) becomes the io.kubernetes.cri.sandbox-id annotation. */
int st_bundle(st_env *e, const char *dir, const char *id, const char *const *args, const char *sandbox);
/* snprintf into buf that aborts the driver on truncation (paths must never be cut short); returns buf. */
char *st_path(char *buf, size_t n, const char *fmt, ...) CS_PRINTF(3, 4);
/* Append a line to WORK/NAME (the cleanup lists). */
void st_record(st_env *e, const char *name, const char *fmt, ...) CS_PRINTF(3, 4);
/* Runs `SHIM -namespace NS -address ADDR -publish-binary /bin/true -id ID start` in bundle with
 * TTRPC_ADDRESS=ttrpc_addr (e->evsock if NULL). Returns its exit status (-1 if it could not run); its
 * combined stdout+stderr in out. */
int st_shim_start(st_env *e, const char *bundle, const char *id, const char *ttrpc_addr, char *out, size_t outlen);
/* st_shim_start that must succeed: the socket path (without unix://) in sock; -1 on failure (reported). */
int st_shim_start_ok(st_env *e, const char *bundle, const char *id, char *sock, size_t socklen);
/* Pids of serving shims whose command line names our -address. */
size_t st_shim_pids(st_env *e, pid_t *out, size_t max);
/* The serving shim started for id (its -id), waiting up to timeout_ms for it: `start` returns before the
 * daemon it forked has exec'd itself. 0 if none. */
pid_t st_shim_pid(st_env *e, const char *id, unsigned timeout_ms);
bool st_pid_alive(pid_t pid);
/* VmRSS in KiB, -1 if the process is gone. */
long st_rss_kib(pid_t pid);
/* Turn the loop for ms milliseconds (the events server keeps serving). */
void st_sleep(st_env *e, unsigned ms);
/* Turn the loop until cond(data) or ms pass; returns cond's last value. */
bool st_wait_until(st_env *e, unsigned ms, bool (*cond)(st_env *e, void *data), void *data);
/* Read whatever is available from a non-blocking fd, appending to buf (NUL-terminated). */
void st_drain_fd(int fd, char *buf, size_t cap, size_t *len);

/* ------------------------------------------------------------------ events server */
int st_events_listen(st_env *e, const char *path);
void st_events_close(st_env *e);
size_t st_events_for(const st_env *e, const char *container_id, const st_event **out, size_t max);

/* ------------------------------------------------------------------ Task API */
ttrpc_client *st_connect(st_env *e, const char *sock, cs_err *err);
void st_close(st_env *e, ttrpc_client *c);
/* One unary call; returns the status code (msg gets the message, may be NULL). With rdesc, *resp is the
 * unpacked reply (free with protobuf_c_message_free_unpacked). */
int st_rpc(st_env *e, ttrpc_client *c, const char *method, const ProtobufCMessage *req,
           const ProtobufCMessageDescriptor *rdesc, ProtobufCMessage **resp, int64_t timeout_ns, char *msg);

typedef struct st_create_opts {
  const char *binary_name;           /* runc options binary_name, or NULL for no options */
  Containerd__Types__Mount **rootfs; /* NULL-terminated, or NULL */
  int64_t timeout_ns;                /* 0: 60 s */
} st_create_opts;

int st_create(st_env *e, ttrpc_client *c, const char *id, const char *bundle, const st_create_opts *o,
              uint32_t *pid, char *msg);
int st_start(st_env *e, ttrpc_client *c, const char *id, uint32_t *pid, char *msg);
/* status: containerd.v1.types.Status (1 created, 2 running, 3 stopped). */
int st_state(st_env *e, ttrpc_client *c, const char *id, int *status, uint32_t *exit_status, char *msg);
int st_wait(st_env *e, ttrpc_client *c, const char *id, int64_t timeout_ns, uint32_t *exit_status, char *msg);
int st_kill(st_env *e, ttrpc_client *c, const char *id, uint32_t sig, bool all, char *msg);
int st_delete(st_env *e, ttrpc_client *c, const char *id, uint32_t *exit_status, char *msg);
int st_connect_rpc(st_env *e, ttrpc_client *c, const char *id, uint32_t *shim_pid, uint32_t *task_pid, char *msg);
int st_shutdown(st_env *e, ttrpc_client *c, char *msg);
/* Shutdown (containerd takes a closed connection as success), close c, and wait up to 15 s for the shim
 * process to exit. Returns whether it did; the reply code goes to *code if code is not NULL. */
bool st_shutdown_exit(st_env *e, ttrpc_client *c, pid_t pid, int *code);
/* Best effort: kill -9 (all), wait, delete. */
void st_remove_task(st_env *e, ttrpc_client *c, const char *id);

#endif
