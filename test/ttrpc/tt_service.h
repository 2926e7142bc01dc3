/* The test service "cshim.test.v1.Test", registered on a server by the unit, integration and interop tests.
 * Request and reply messages are google.protobuf.Any where a structure is needed (Go has it built in).
 *   Echo     reply = request bytes                  Empty   reply = nothing
 *   Fail     Any{type_url=code, value=message} → that error status
 *   Decode   payload must be an Any, else InvalidArgument
 *   Meta     reply Any{type_url=namespace metadata value, value="k=v;..."}
 *   Hold     Any{type_url=N}: held until N Hold calls are in, then all answered in reverse order
 *   Sleep    never answered; counts the cancellation (deadline or disconnect)
 *   Stats    reply Any{type_url="stats", value="conns=C cancelled=X bp=B held=H"}
 *   Count    stream: Any{type_url=N[:code]} → N data frames "0".."N-1", then close (or error code)
 *   Forever  stream: one frame per millisecond until cancelled
 *   Flood    stream: 64 KiB frames until ttrpc_stream_send says 1 (counted in bp), then close
 *   Errno    Any{type_url=errno} → ttrpc_call_reply_err of cs_err_sys(errno)
 *   Deadline reply Any{type_url="set"|"none", value=ns left before the deadline} */
#ifndef TT_SERVICE_H
#define TT_SERVICE_H

#include <stddef.h>

#include "ttrpc.h"

#define TT_SERVICE "cshim.test.v1.Test"

typedef struct tt_held tt_held;

typedef struct tt_service {
  uv_loop_t *loop;
  ttrpc_server *srv;
  unsigned cancelled;  /* Sleep/Forever calls cancelled */
  unsigned bp_hits;    /* Flood streams that met backpressure */
  size_t bp_queued;    /* bytes sent before backpressure */
  tt_held *held;
  size_t nheld;
} tt_service;

int tt_service_register(tt_service *t, uv_loop_t *loop, ttrpc_server *srv, cs_err *err);

/* A server running the test service on its own loop in its own thread, for tests that drive it over
 * real sockets with blocking peers. */
typedef struct tt_server_thread {
  uv_thread_t tid;
  uv_loop_t loop;
  uv_async_t stop;
  uv_sem_t ready;
  ttrpc_server *srv;
  tt_service svc;
  char path[256];
  int rc;            /* listen result */
  int loop_close_rc; /* uv_loop_close after shutdown: 0 when every handle was released */
} tt_server_thread;

int tt_server_start(tt_server_thread *t, const char *path);
void tt_server_stop(tt_server_thread *t);

#endif
