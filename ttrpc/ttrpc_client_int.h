/* Client internals shared by ttrpc_client.c (connection, frames), ttrpc_pending.c (the table of calls
 * waiting for an answer) and ttrpc_client_sync.c. */
#ifndef TTRPC_CLIENT_INT_H
#define TTRPC_CLIENT_INT_H

#include "ttrpc.h"
#include "ttrpc_conn.h"

typedef struct ttrpc_pending {
  struct ttrpc_pending *next; /* hash chain */
  uint32_t id;
  bool stream;
  bool has_timer;
  ttrpc_reply_cb reply;
  ttrpc_stream_cb on_msg;
  void *data;
  ttrpc_client *cl;
  uv_timer_t timer;
} ttrpc_pending;

enum ttrpc_client_state { TTRPC_CL_IDLE, TTRPC_CL_CONNECTING, TTRPC_CL_CONNECTED, TTRPC_CL_DEAD };

struct ttrpc_client {
  ttrpc_conn conn; /* first: conn callbacks cast back to the client */
  uv_loop_t *loop;
  uv_connect_t creq;
  ttrpc_connect_cb connect_cb;
  void *connect_data;
  enum ttrpc_client_state state;
  bool user_closed;
  uint32_t next_id;
  ttrpc_pending **tab; /* open hashing on stream id; ids are odd and sequential, so id>>1 spreads well */
  size_t tab_size, npending;
  void (*on_close)(void *data);
  void *on_close_data;
};

int ttrpc_pending_add(ttrpc_client *c, ttrpc_pending *p);
ttrpc_pending *ttrpc_pending_find(const ttrpc_client *c, uint32_t id);
/* Remove p from the table, run its callback with the final status, and free it. */
void ttrpc_pending_complete(ttrpc_pending *p, int code, const char *msg, const uint8_t *payload, size_t len);
/* Complete every pending call with code (connection lost or client closed). */
void ttrpc_pending_fail_all(ttrpc_client *c, int code, const char *msg);
void ttrpc_pending_free_table(ttrpc_client *c);

#endif
