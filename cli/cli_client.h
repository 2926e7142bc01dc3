/* The Task API as seen from cshimctl: a TTRPC connection to one shim, with the namespace in every
 * request's metadata, and protobuf-c messages in and out. */
#ifndef CLI_CLIENT_H
#define CLI_CLIENT_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "cli_args.h"
#include "cli_state.h"
#include "containerd/task/v2/shim.pb-c.h"
#include "cs_err.h"
#include "ttrpc.h"

#define CLI_TASK_SERVICE "containerd.task.v2.Task"
#define CLI_NS_METADATA "containerd-namespace-ttrpc"
#define CLI_RPC_TIMEOUT_NS (10LL * 1000000000LL)  /* State, Pids, Stats, Kill, ... */
#define CLI_RPC_SLOW_NS (60LL * 1000000000LL)     /* Create, Start, Delete, Exec: they run the runtime */

typedef struct cli_conn {
  uv_loop_t *loop;
  ttrpc_client *client;
  ttrpc_kv md;
  char ns[80];
} cli_conn;

int cli_conn_open(cli_conn *c, uv_loop_t *loop, const char *address, const char *ns, cs_err *err);
/* Close the connection and let the loop free it. Safe on a conn that failed to open. */
void cli_conn_close(cli_conn *c);

/* Unary Task call: pack req, wait for the answer, unpack it as resp_desc (NULL for Empty) into *resp
 * (free with protobuf_c_message_free_unpacked). Errors carry the shim's code and message. */
int cli_task_call(cli_conn *c, const char *method, const ProtobufCMessage *req,
                  const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp, int64_t timeout_ns,
                  cs_err *err);
/* The same, answered through cb on the loop (Wait while stdio is copied). */
int cli_task_call_async(cli_conn *c, const char *method, const ProtobufCMessage *req, int64_t timeout_ns,
                        ttrpc_reply_cb cb, void *data, cs_err *err);

/* Shorthands for the calls every subcommand uses. */
int cli_task_state(cli_conn *c, const char *id, const char *exec_id, Containerd__Task__V2__StateResponse **resp,
                   cs_err *err);
int cli_task_kill(cli_conn *c, const char *id, const char *exec_id, int sig, bool all, cs_err *err);
int cli_task_start(cli_conn *c, const char *id, const char *exec_id, uint32_t *pid, cs_err *err);
int cli_task_delete(cli_conn *c, const char *id, const char *exec_id, uint32_t *exit_status, cs_err *err);
/* timeout_ns 0: as long as the process runs. */
int cli_task_wait(cli_conn *c, const char *id, const char *exec_id, int64_t timeout_ns, uint32_t *exit_status,
                  cs_err *err);
int cli_task_connect(cli_conn *c, const char *id, uint32_t *shim_pid, uint32_t *task_pid, cs_err *err);
int cli_task_shutdown(cli_conn *c, const char *id, cs_err *err);

/* Status enum → "RUNNING" etc. */
const char *cli_status_name(int status);

/* What a subcommand talks to: the container's record in the state dir, or (with --address) a shim socket
 * named directly, with the namespace from --namespace. */
typedef struct cli_target {
  cli_meta meta;  /* with --address only id, ns and address are set */
  bool direct;
} cli_target;

int cli_target_resolve(const cli_globals *g, const char *id, cli_target *t, cs_err *err);
/* Resolve and connect; "container X: shim is not running" when the socket does not answer. */
int cli_target_open(const cli_globals *g, const char *id, uv_loop_t *loop, cli_target *t, cli_conn *c, cs_err *err);

#endif
