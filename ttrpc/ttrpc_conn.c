/* Frame reassembly and write buffering for one connection (see ttrpc_conn.h). */
#include "ttrpc_conn.h"

#include <stdlib.h>
#include <string.h>

#include "ttrpc_err.h"

/* A fresh or idle connection holds a small read buffer; one that carried a big frame gives the memory back
 * once the buffer is empty again, so many idle connections stay cheap. */
#define RBUF_MIN (16u * 1024)
#define RBUF_KEEP (64u * 1024)
#define WBUF_MIN (4u * 1024)
#define WBUF_KEEP (256u * 1024)

static ttrpc_conn *conn_of(void *handle) { return (ttrpc_conn *)handle; /* pipe is the first member */ }

void ttrpc_conn_init(ttrpc_conn *c, const ttrpc_conn_ops *ops, void *owner) {
  memset(c, 0, sizeof *c);
  c->ops = ops;
  c->owner = owner;
}

static void die(ttrpc_conn *c, int status) {
  if (c->dead) return;
  c->dead = true;
  uv_read_stop((uv_stream_t *)&c->pipe);
  c->ops->on_dead(c, status);
}

static void wbuf_trim(ttrpc_wbuf *b) {
  if (b->len == 0 && b->cap > WBUF_KEEP) {
    free(b->p);
    *b = (ttrpc_wbuf){NULL, 0, 0};
  }
}

static void on_write(uv_write_t *req, int status);

static void flush(ttrpc_conn *c) {
  if (c->writing || c->corked || c->dead || c->out.len == 0) return;
  ttrpc_wbuf tmp = c->inflight;
  c->inflight = c->out;
  c->out = tmp;
  c->out.len = 0;
  /* Most replies fit in the socket buffer: writing them now saves a loop turn and a write request. */
  uv_buf_t b = uv_buf_init((char *)c->inflight.p, (unsigned)c->inflight.len);
  int r = uv_try_write((uv_stream_t *)&c->pipe, &b, 1);
  if (r >= 0 && (size_t)r == c->inflight.len) {
    c->inflight.len = 0;
    wbuf_trim(&c->inflight);
    return;
  }
  if (r < 0 && r != UV_EAGAIN) {
    die(c, r);
    return;
  }
  size_t done = r > 0 ? (size_t)r : 0;
  b = uv_buf_init((char *)c->inflight.p + done, (unsigned)(c->inflight.len - done));
  r = uv_write(&c->wreq, (uv_stream_t *)&c->pipe, &b, 1, on_write);
  if (r < 0) {
    die(c, r);
    return;
  }
  c->writing = true;
}

static void on_write(uv_write_t *req, int status) {
  ttrpc_conn *c = conn_of(req->handle);
  c->writing = false;
  c->inflight.len = 0;
  wbuf_trim(&c->inflight);
  if (status < 0) {
    if (!c->closing) die(c, status);
    return;
  }
  flush(c);
}

uint8_t *ttrpc_conn_reserve(ttrpc_conn *c, size_t max_len) {
  if (c->dead) return NULL;
  size_t need = c->out.len + TTRPC_HEADER_SIZE + max_len;
  if (need > c->out.cap) {
    size_t cap = c->out.cap ? c->out.cap * 2 : WBUF_MIN;
    if (cap < need) cap = need;
    uint8_t *p = realloc(c->out.p, cap);
    if (!p) return NULL;
    c->out.p = p;
    c->out.cap = cap;
  }
  return c->out.p + c->out.len + TTRPC_HEADER_SIZE;
}

void ttrpc_conn_commit(ttrpc_conn *c, uint32_t stream_id, uint8_t type, uint8_t flags, size_t len) {
  ttrpc_frame_header h = {(uint32_t)len, stream_id, type, flags};
  ttrpc_header_encode(&h, c->out.p + c->out.len);
  c->out.len += TTRPC_HEADER_SIZE + len;
  flush(c);
}

int ttrpc_conn_send(ttrpc_conn *c, uint32_t stream_id, uint8_t type, uint8_t flags, const uint8_t *payload,
                    size_t len) {
  uint8_t *p = ttrpc_conn_reserve(c, len);
  if (!p) return -1;
  if (len) memcpy(p, payload, len);
  ttrpc_conn_commit(c, stream_id, type, flags, len);
  return 0;
}

void ttrpc_conn_cork(ttrpc_conn *c, bool on) {
  c->corked = on;
  if (!on) flush(c);
}

size_t ttrpc_conn_queued(const ttrpc_conn *c) { return c->out.len + (c->writing ? c->inflight.len : 0); }

/* ---------------------------------------------------------------- read side */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)suggested;
  ttrpc_conn *c = conn_of(h);
  if (!c->rbuf) {
    c->rbuf = malloc(RBUF_MIN);
    c->rcap = c->rbuf ? RBUF_MIN : 0;
  } else if (c->rcap - c->rlen < 512 && c->discard == 0) {
    uint8_t *p = realloc(c->rbuf, c->rcap * 2);
    if (p) {
      c->rbuf = p;
      c->rcap *= 2;
    }
  }
  *buf = uv_buf_init((char *)c->rbuf + c->rlen, (unsigned)(c->rcap - c->rlen));
}

/* Dispatch every complete frame in rbuf, then keep the partial tail at the front. Returns the size the
 * buffer must have to hold the frame in progress (0 if no payload is pending). */
static size_t parse(ttrpc_conn *c) {
  size_t pos = 0, need = 0;
  while (!c->dead) {
    size_t avail = c->rlen - pos;
    if (c->discard) {
      size_t take = avail < c->discard ? avail : c->discard;
      pos += take;
      c->discard -= (uint32_t)take;
      if (c->discard) break;
      c->ops->on_oversize(c, &c->discard_hdr);
      continue;
    }
    if (avail < TTRPC_HEADER_SIZE) break;
    ttrpc_frame_header h;
    ttrpc_header_decode(c->rbuf + pos, &h);
    if (h.length > TTRPC_MAX_MESSAGE) {
      /* Skip the payload as it streams in: it is never held in memory. */
      c->discard = h.length;
      c->discard_hdr = h;
      pos += TTRPC_HEADER_SIZE;
      continue;
    }
    if (avail - TTRPC_HEADER_SIZE < h.length) {
      need = TTRPC_HEADER_SIZE + (size_t)h.length;
      break;
    }
    c->ops->on_frame(c, &h, c->rbuf + pos + TTRPC_HEADER_SIZE);
    pos += TTRPC_HEADER_SIZE + h.length;
  }
  if (pos) {
    memmove(c->rbuf, c->rbuf + pos, c->rlen - pos);
    c->rlen -= pos;
  }
  return need;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  (void)buf;
  ttrpc_conn *c = conn_of(s);
  if (nread < 0) {
    die(c, (int)nread);
    return;
  }
  if (nread == 0) return;
  c->rlen += (size_t)nread;
  c->corked = true;
  size_t need = parse(c);
  c->corked = false;
  if (c->dead) return;
  if (need > c->rcap) {
    uint8_t *p = realloc(c->rbuf, need);
    if (!p) {
      die(c, UV_ENOBUFS);
      return;
    }
    c->rbuf = p;
    c->rcap = need;
  } else if (c->rlen == 0 && c->rcap > RBUF_KEEP) {
    free(c->rbuf);
    c->rbuf = NULL;
    c->rcap = 0;
  }
  flush(c);
}

int ttrpc_conn_start(ttrpc_conn *c, cs_err *err) {
  int r = uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
  if (r < 0) return ttrpc_err_uv(err, r, "ttrpc: read start");
  return 0;
}

static void on_close(uv_handle_t *h) {
  ttrpc_conn *c = conn_of(h);
  free(c->rbuf);
  free(c->out.p);
  free(c->inflight.p);
  c->rbuf = c->out.p = c->inflight.p = NULL;
  c->ops->on_closed(c);
}

void ttrpc_conn_close(ttrpc_conn *c) {
  if (c->closing) return;
  c->closing = true;
  c->dead = true;
  uv_close((uv_handle_t *)&c->pipe, on_close);
}
