/* One TTRPC byte stream, shared by server and client connections: frame reassembly on read, discarding of
 * oversized payloads, and write buffering with a queued-bytes count for backpressure.
 *
 * The owner embeds a ttrpc_conn, fills `ops`/`owner` and gets frames through ops->on_frame. When the peer
 * goes away (EOF, reset) or a write fails, ops->on_dead runs once; from then on nothing is read or sent.
 * The owner then calls ttrpc_conn_close(), and ops->on_closed runs from libuv's close callback: only
 * there may the memory holding the conn be freed. */
#ifndef TTRPC_CONN_H
#define TTRPC_CONN_H

#include "ttrpc.h"

typedef struct ttrpc_conn ttrpc_conn;

typedef struct ttrpc_conn_ops {
  /* A complete frame (length <= TTRPC_MAX_MESSAGE); payload valid only during the call. */
  void (*on_frame)(ttrpc_conn *c, const ttrpc_frame_header *h, const uint8_t *payload);
  /* A frame over the limit whose payload was skipped without being buffered. */
  void (*on_oversize)(ttrpc_conn *c, const ttrpc_frame_header *h);
  /* The stream is unusable; status is a libuv error (UV_EOF for a clean close). */
  void (*on_dead)(ttrpc_conn *c, int status);
  void (*on_closed)(ttrpc_conn *c);
} ttrpc_conn_ops;

typedef struct ttrpc_wbuf {
  uint8_t *p;
  size_t len, cap;
} ttrpc_wbuf;

struct ttrpc_conn {
  uv_pipe_t pipe;
  const ttrpc_conn_ops *ops;
  void *owner;
  /* read side: frames are reassembled in rbuf; discard counts payload bytes of an oversized frame */
  uint8_t *rbuf;
  size_t rlen, rcap;
  uint32_t discard;
  ttrpc_frame_header discard_hdr;
  /* write side: frames are appended to `out` while `inflight` is being written by libuv */
  ttrpc_wbuf out, inflight;
  uv_write_t wreq;
  bool writing;
  bool corked;  /* while parsing a read batch: replies are coalesced into one write */
  bool dead;
  bool closing;
};

void ttrpc_conn_init(ttrpc_conn *c, const ttrpc_conn_ops *ops, void *owner);
/* Start reading; the pipe must be initialised and connected. */
int ttrpc_conn_start(ttrpc_conn *c, cs_err *err);

/* Reserve room for a frame whose payload is at most max_len bytes; returns where the payload goes, or NULL
 * (out of memory, or the conn is dead). Complete it with ttrpc_conn_commit, with no other send between. */
uint8_t *ttrpc_conn_reserve(ttrpc_conn *c, size_t max_len);
void ttrpc_conn_commit(ttrpc_conn *c, uint32_t stream_id, uint8_t type, uint8_t flags, size_t len);
/* Reserve + copy + commit. Returns 0 or -1 (dead or out of memory). */
int ttrpc_conn_send(ttrpc_conn *c, uint32_t stream_id, uint8_t type, uint8_t flags, const uint8_t *payload,
                    size_t len);
/* Bytes accepted for sending but not yet written to the socket. */
/* Hold frames in the buffer (on) and write them all at once (off): one syscall for a burst of frames. */
void ttrpc_conn_cork(ttrpc_conn *c, bool on);
size_t ttrpc_conn_queued(const ttrpc_conn *c);
void ttrpc_conn_close(ttrpc_conn *c);

#endif
