/* Server internals shared by ttrpc_server.c (listener, connections), ttrpc_dispatch.c (frame → handler)
 * and ttrpc_call.c (call lifetime, replies, deadlines). */
#ifndef TTRPC_SERVER_INT_H
#define TTRPC_SERVER_INT_H

#include "ttrpc.h"
#include "ttrpc_conn.h"
#include "ttrpc_envelope.h"

typedef struct ttrpc_service {
  char *name;
  size_t name_len;
  const ttrpc_method *methods;
  size_t n;
  void *data;
} ttrpc_service;

typedef struct ttrpc_sconn {
  ttrpc_conn conn; /* first: conn callbacks cast back to the sconn */
  ttrpc_server *srv;
  struct ttrpc_sconn *prev, *next;
  ttrpc_call *calls; /* calls not yet answered, cancelled if the peer goes */
  uint32_t last_id;
} ttrpc_sconn;

struct ttrpc_server {
  uv_loop_t *loop;
  ttrpc_service *svc;
  size_t nsvc, svc_cap;
  ttrpc_accept_fn accept_fn;
  void *accept_data;
  uv_pipe_t listener; /* initialised at creation so closing always has a handle to wait for */
  bool listening;
  bool listener_closed;
  bool private_endpoint; /* ttrpc_server_set_private */
  ttrpc_sconn *conns;
  size_t nconns;
  bool closing;
  void (*close_cb)(void *data);
  void *close_data;
};

struct ttrpc_call {
  ttrpc_sconn *sc; /* NULL once answered by the transport (deadline) or the connection is gone */
  ttrpc_call *prev, *next;
  uint32_t id;
  bool stream;
  bool cancelled;
  bool has_timer;
  ttrpc_cancel_fn cancel_fn;
  void *cancel_data;
  uint64_t deadline;
  uv_timer_t timer;
  const char *service;
  const char *method;
  size_t nmd;
  ttrpc_kv md[TTRPC_MAX_METADATA];
  char strings[]; /* NUL-terminated copies of service, method and metadata, pointed to above */
};

/* Send a Response frame on a stream. Returns 0 or -1 if the connection cannot take it. */
int ttrpc_sconn_respond(ttrpc_sconn *sc, uint32_t id, int code, const char *msg, const uint8_t *payload,
                        size_t len);
/* Frame callbacks of server connections (ttrpc_dispatch.c). */
void ttrpc_server_on_frame(ttrpc_conn *conn, const ttrpc_frame_header *h, const uint8_t *payload);
void ttrpc_server_on_oversize(ttrpc_conn *conn, const ttrpc_frame_header *h);

/* Create the call for a decoded request and link it to sc; NULL when out of memory. */
ttrpc_call *ttrpc_call_new(ttrpc_sconn *sc, uint32_t id, const ttrpc_request_view *v, bool stream);
/* The connection went away: detach and run the cancel callback. */
void ttrpc_call_detach(ttrpc_call *c);

#endif
