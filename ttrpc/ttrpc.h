/* TTRPC over libuv: server and client, wire-compatible with github.com/containerd/ttrpc.
 *
 * Frame: 10-byte header (uint32 BE payload length, uint32 BE stream id, uint8 type, uint8 flags), then the
 * payload, a ttrpc.Request or ttrpc.Response (proto/ttrpc.proto) or raw stream data.
 *
 * Ownership rules (libuv style: handles are opaque, callbacks carry a `data` pointer):
 *  - A server call (ttrpc_call) is created by the transport when a request arrives and handed to the
 *    method's handler. The handler must finish it exactly once, now or later from any loop callback, with
 *    ttrpc_call_reply / ttrpc_call_reply_error (unary) or ttrpc_stream_close (server-streaming).
 *    Finishing frees it.
 *  - If the peer goes away or the request's deadline passes first, the cancel callback (if set) runs once;
 *    the transport has already answered (DeadlineExceeded) or cannot answer. The call stays valid until
 *    the handler finishes it; finishing a cancelled call sends nothing.
 *  - Payload and metadata pointers handed to a handler are valid only during the handler invocation.
 *  - A client function that returns -1 does not call its callback.
 *  - Writes go through libuv on the socket: the process must ignore SIGPIPE (signal(SIGPIPE, SIG_IGN)),
 *    or a peer that vanishes during a write kills it. ttrpc_server_new/ttrpc_client_new log a warning
 *    if SIGPIPE is still at its default action.
 */
#ifndef TTRPC_H
#define TTRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "cs_err.h"

#define TTRPC_HEADER_SIZE 10
#define TTRPC_MAX_MESSAGE (4u << 20)
#define TTRPC_MAX_METADATA 16
/* ttrpc_stream_send refuses (returns 1) while a connection has more than this many unsent bytes. */
#define TTRPC_SEND_LIMIT (1u << 20)

enum ttrpc_msg_type { TTRPC_REQUEST = 1, TTRPC_RESPONSE = 2, TTRPC_DATA = 3 };
enum ttrpc_flags { TTRPC_FLAG_REMOTE_CLOSED = 0x1, TTRPC_FLAG_REMOTE_OPEN = 0x2, TTRPC_FLAG_NO_DATA = 0x4 };

typedef struct ttrpc_kv {
  const char *key;
  const char *value;
} ttrpc_kv;

/* ---------------------------------------------------------------- frame codec (pure, for tests/fuzzers) */
typedef struct ttrpc_frame_header {
  uint32_t length;
  uint32_t stream_id;
  uint8_t type;
  uint8_t flags;
} ttrpc_frame_header;

void ttrpc_header_encode(const ttrpc_frame_header *h, uint8_t out[TTRPC_HEADER_SIZE]);
void ttrpc_header_decode(const uint8_t in[TTRPC_HEADER_SIZE], ttrpc_frame_header *h);

/* ---------------------------------------------------------------- server */
typedef struct ttrpc_server ttrpc_server;
typedef struct ttrpc_call ttrpc_call;

typedef void (*ttrpc_handler_fn)(ttrpc_call *call, const uint8_t *payload, size_t len, void *data);
typedef void (*ttrpc_cancel_fn)(ttrpc_call *call, void *data);
/* Peer check on accept (e.g. SO_PEERCRED): return 0 to accept, -1 to refuse (the transport closes it). */
typedef int (*ttrpc_accept_fn)(int fd, void *data);

typedef struct ttrpc_method {
  const char *name;      /* bare method name, "Create" */
  ttrpc_handler_fn fn;
  bool server_stream;    /* true: the handler answers with ttrpc_stream_send ... ttrpc_stream_close */
} ttrpc_method;

ttrpc_server *ttrpc_server_new(uv_loop_t *loop);
/* Register a service ("containerd.task.v2.Task"). methods must outlive the server; data goes to handlers. */
int ttrpc_server_register(ttrpc_server *s, const char *service, const ttrpc_method *methods, size_t n,
                          void *data, cs_err *err);
void ttrpc_server_set_accept_check(ttrpc_server *s, ttrpc_accept_fn fn, void *data);
/* Listen on a unix socket path (an optional "unix://" prefix is stripped) or, on Windows, a named pipe
 * \\.\pipe\<name>. Unlinks a stale socket file first; fails with AlreadyExists if a live server still
 * accepts there. */
int ttrpc_server_listen(ttrpc_server *s, const char *path, cs_err *err);
/* Admit only this process's user and administrators to the endpoint ttrpc_server_listen creates: on
 * Windows the pipe's DACL (SYSTEM, Administrators, the process's user; the counterpart of SO_PEERCRED);
 * on POSIX the socket file's mode 0600. Set before ttrpc_server_listen. */
void ttrpc_server_set_private(ttrpc_server *s, bool on);
/* The same for a pipe a program serves itself (e.g. the shim's log pipe): call between uv_pipe_bind and
 * uv_listen. path is the name given to uv_pipe_bind. */
int ttrpc_pipe_make_private(uv_pipe_t *bound, const char *path, cs_err *err);
/* Serve an already-listening socket fd (inherited from `start`). */
int ttrpc_server_listen_fd(ttrpc_server *s, int fd, cs_err *err);
/* Serve one already-connected fd (tests, socketpair). */
int ttrpc_server_adopt_fd(ttrpc_server *s, int fd, cs_err *err);
size_t ttrpc_server_connections(const ttrpc_server *s);
/* Stop listening, close all connections (cancelling their calls), then call cb once everything is closed.
 * The server is freed before cb runs. */
void ttrpc_server_close(ttrpc_server *s, void (*cb)(void *data), void *data);

/* Request metadata; NULL if absent. Keys compare case-insensitively (Go lower-cases them). */
const char *ttrpc_call_metadata(const ttrpc_call *c, const char *key);
const char *ttrpc_call_service(const ttrpc_call *c);
const char *ttrpc_call_method(const ttrpc_call *c);
/* Absolute deadline in uv_hrtime() nanoseconds, 0 for none. */
uint64_t ttrpc_call_deadline(const ttrpc_call *c);
bool ttrpc_call_cancelled(const ttrpc_call *c);
void ttrpc_call_set_cancel(ttrpc_call *c, ttrpc_cancel_fn fn, void *data);

/* Finish a unary call with OK and payload (may be NULL/0 for Empty). */
void ttrpc_call_reply(ttrpc_call *c, const uint8_t *payload, size_t len);
/* Finish a unary or streaming call with an error status. */
void ttrpc_call_reply_error(ttrpc_call *c, int code, const char *fmt, ...) CS_PRINTF(3, 4);
void ttrpc_call_reply_err(ttrpc_call *c, const cs_err *err);

/* Server-streaming: send one data frame. Returns 0, or -1 if the stream is cancelled/closed.
 * Returns 1 (and sends nothing) when the connection's unsent bytes exceed the backpressure limit, so a
 * slow client cannot grow the shim's memory: the caller drops or coalesces that sample. */
int ttrpc_stream_send(ttrpc_call *c, const uint8_t *payload, size_t len);
/* Batch: while corked, frames sent on this call's connection are buffered; uncorking writes them in one
 * go (a stream that pushes one sample per task per tick makes one syscall per tick, not per task). */
void ttrpc_stream_cork(ttrpc_call *c, bool on);
/* End a server stream successfully (data frame with remote-closed + no-data). Frees the call. */
void ttrpc_stream_close(ttrpc_call *c);

/* ---------------------------------------------------------------- client */
typedef struct ttrpc_client ttrpc_client;

/* code is a gRPC code (CS_OK on success); for transport failures code is CS_UNAVAILABLE. payload valid
 * only during the callback. */
typedef void (*ttrpc_reply_cb)(void *data, int code, const char *msg, const uint8_t *payload, size_t len);
/* Server-streaming: one call per data frame (code CS_OK, payload), then once with last=true carrying the
 * final status (CS_OK for a clean end). */
typedef void (*ttrpc_stream_cb)(void *data, bool last, int code, const char *msg, const uint8_t *payload,
                                size_t len);
typedef void (*ttrpc_connect_cb)(void *data, int status /* 0 or -errno */);

ttrpc_client *ttrpc_client_new(uv_loop_t *loop);
/* Asynchronous connect to a unix socket path (an optional "unix://" prefix is stripped). */
int ttrpc_client_connect(ttrpc_client *c, const char *path, ttrpc_connect_cb cb, void *data, cs_err *err);
/* Synchronous connect: runs the loop until connected or failed. */
int ttrpc_client_connect_sync(ttrpc_client *c, const char *path, cs_err *err);
bool ttrpc_client_connected(const ttrpc_client *c);
/* Called once if the connection drops (after all pending calls were failed with CS_UNAVAILABLE). */
void ttrpc_client_on_close(ttrpc_client *c, void (*cb)(void *data), void *data);

/* Unary call. md may be NULL. timeout_ns 0 = none (sent as timeout_nano, and enforced locally too).
 * cb is always called exactly once (also on connection loss or ttrpc_client_close). */
int ttrpc_client_call(ttrpc_client *c, const char *service, const char *method, const uint8_t *payload,
                      size_t len, const ttrpc_kv *md, size_t nmd, int64_t timeout_ns, ttrpc_reply_cb cb,
                      void *data, cs_err *err);
/* Server-streaming call: sends the request with remote-closed. Returns the stream id; cb as described. */
int ttrpc_client_stream(ttrpc_client *c, const char *service, const char *method, const uint8_t *payload,
                        size_t len, const ttrpc_kv *md, size_t nmd, ttrpc_stream_cb cb, void *data,
                        uint32_t *stream_id, cs_err *err);
/* Stop receiving a server stream early: cb runs now with last=true, CS_CANCELLED; frames the server
 * still sends for it are dropped. No-op for an unknown id. (TTRPC has no cancel message: the server
 * side learns of it only if the connection closes.) */
void ttrpc_client_stream_cancel(ttrpc_client *c, uint32_t stream_id);
/* Blocking unary call for CLIs and tests: runs the loop until the reply arrives. On CS_OK the reply
 * payload is returned in a malloc'd buffer (*out, *out_len; free with free()). Returns 0 or -1 with err
 * (err->code = the status code, err->msg = the status message). */
int ttrpc_client_call_sync(ttrpc_client *c, const char *service, const char *method, const uint8_t *payload,
                           size_t len, const ttrpc_kv *md, size_t nmd, int64_t timeout_ns, uint8_t **out,
                           size_t *out_len, cs_err *err);
/* Close the connection; pending calls get CS_CANCELLED; the client is freed once closed. */
void ttrpc_client_close(ttrpc_client *c);

#endif
