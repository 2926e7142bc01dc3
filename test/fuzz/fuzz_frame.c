/* fuzz_frame: the frame header codec and a connection's frame reassembly, on both ends of a connection.
 *
 * Input: byte 0 = mode (bit 0: which end is fuzzed; bits 1-2: how the stream is cut into writes),
 *        byte 1 = options (client end: bits 0-4, what the callbacks do; both ends: bit 6, the peer stops
 *                 reading after a few chunks so the fuzzed end's writes fail mid-stream; both bytes seed
 *                 the chunk-size PRNG),
 *        the rest = the raw byte stream the fuzzed end receives.
 *
 * Server end: a real ttrpc_server adopts one end of a socketpair; the target writes the stream from the
 * other end in chunks of fuzzed sizes, turning the loop in between, and reads back what the server sends.
 * A small service (below) offers every reply shape: immediate, error, held and answered later (from a
 * handler or a timer) or cancelled, server streams, a reply at the size limit. Checked: the server only
 * ever sends well-formed frames (RESPONSE frames decode); when the input ended on a frame boundary the
 * connection still works (an Echo on a fresh stream id is answered, unless its peer stopped reading);
 * closing frees every call, handle and fd.
 *
 * Client end: a real ttrpc_client connected over a unix socket with calls and streams in flight; the stream
 * is what "the server" sends it. Callbacks may start calls, cancel streams or close the client, as a real
 * user would, mid-frame. Checked: every call's callback runs exactly once, a stream's last callback once
 * and nothing after it, nothing after ttrpc_client_close returns; everything is freed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "ttrpc.h"
#include "ttrpc_envelope.h"

#define SVC "fuzz.v1.Frame"
#define PING_ID 0xffffffffu

/* ================================================================== the service behind the fuzzed server */

typedef struct held {
  struct held *next, *prev;
  struct srv_env *env;
  ttrpc_call *call;
  bool stream;
  bool answering; /* release_all is finishing it: a cancel arriving meanwhile must leave it alone */
} held;

typedef struct srv_env {
  held head; /* circular list of calls held for later */
  int nbig;
  uv_timer_t later;   /* ReleaseLater: answers from a timer, outside any read batch */
  int peer_fd;        /* the target's end of the socketpair */
  bool peer_shut;     /* ReleaseLater made the target stop reading */
  bool later_keep_cancel;
  uint8_t later_payload[64];
  size_t later_len;
} srv_env;

/* Zero pages (bss): a reply at the 4 MiB limit costs no memory until the transport copies it. */
static uint8_t big_reply[TTRPC_MAX_MESSAGE];

static void held_unlink(held *h) {
  h->prev->next = h->next;
  h->next->prev = h->prev;
}

/* The transport cancelled a held call (deadline passed, or the peer went): finish it, which sends nothing
 * more but frees it — the contract in ttrpc.h. */
static void held_cancel(ttrpc_call *c, void *data) {
  held *h = data;
  FUZZ_CHECK(ttrpc_call_cancelled(c));
  if (h->answering) return; /* the write of our own reply failed: the reply in progress finishes the call */
  held_unlink(h);
  ttrpc_call_reply_error(c, CS_CANCELLED, "held call cancelled");
  free(h);
}

static void hold(ttrpc_call *c, srv_env *e, bool stream) {
  held *h = calloc(1, sizeof *h);
  FUZZ_CHECK(h != NULL);
  h->env = e;
  h->call = c;
  h->stream = stream;
  h->next = &e->head;
  h->prev = e->head.prev;
  e->head.prev->next = h;
  e->head.prev = h;
  ttrpc_call_set_cancel(c, held_cancel, h);
}

static void check_names(ttrpc_call *c, const char *method) {
  FUZZ_CHECK(strcmp(ttrpc_call_service(c), SVC) == 0);
  FUZZ_CHECK(strcmp(ttrpc_call_method(c), method) == 0);
}

static void m_echo(ttrpc_call *c, const uint8_t *p, size_t n, void *data) {
  (void)data;
  check_names(c, "Echo");
  /* Metadata lookups walk the call's copies of the peer's strings. */
  const char *v = ttrpc_call_metadata(c, "x-echo");
  if (v) ttrpc_call_reply(c, (const uint8_t *)v, strlen(v));
  else ttrpc_call_reply(c, p, n);
}

static void m_empty(ttrpc_call *c, const uint8_t *p, size_t n, void *data) {
  (void)p, (void)n, (void)data;
  check_names(c, "Empty");
  ttrpc_call_reply(c, NULL, 0);
}

static void m_fail(ttrpc_call *c, const uint8_t *p, size_t n, void *data) {
  (void)data;
  int code = n ? p[0] % 20 : 0; /* includes OK (must not read as success) and codes past the last one */
  int len = n > 1 ? (int)(n - 1 > 300 ? 300 : n - 1) : 0;
  ttrpc_call_reply_error(c, code, "%.*s", len, n > 1 ? (const char *)p + 1 : "");
}

static void m_hold(ttrpc_call *c, const uint8_t *p, size_t n, void *data) {
  (void)p, (void)n;
  hold(c, data, false);
}

static void m_hold_stream(ttrpc_call *c, const uint8_t *p, size_t n, void *data) {
  (void)p, (void)n;
  hold(c, data, true);
}

/* Answer every held call, newest first: replies out of request order. keep_cancel leaves the cancel
 * callbacks set while replying (allowed by ttrpc.h): if a write fails, the transport cancels calls from
 * inside the reply. */
static void release_all(srv_env *e, const uint8_t *p, size_t n, bool keep_cancel) {
  while (e->head.prev != &e->head) {
    held *h = e->head.prev;
    held_unlink(h);
    h->answering = true;
    if (!keep_cancel) ttrpc_call_set_cancel(h->call, NULL, NULL);
    if (h->stream) {
      int rc = ttrpc_stream_send(h->call, p, n);
      FUZZ_CHECK(rc >= -1 && rc <= 1);
      ttrpc_stream_close(h->call);
    } else {
      ttrpc_call_reply(h->call, p, n);
    }
    free(h);
  }
}

/* Release: from the handler, i.e. inside the read batch, where replies are coalesced and written after
 * it. An odd first payload byte keeps the cancel callbacks set. */
static void m_release(ttrpc_call *c, const uint8_t *p, size_t n, void *data) {
  release_all(data, p, n, n && (p[0] & 1));
  ttrpc_call_reply(c, NULL, 0);
}

static void on_later(uv_timer_t *t) {
  srv_env *e = t->data;
  release_all(e, e->later_payload, e->later_len, e->later_keep_cancel);
}

/* ReleaseLater: the same from a timer on the next loop turn, as a stream tick or a backend completion
 * would: each reply is written at once, not coalesced. The call itself is held and answered by the timer
 * too, so the read batch writes nothing; with payload bit 1 the target stops reading right now, and every
 * write the timer makes fails inside ttrpc_call_reply / ttrpc_stream_send while other calls of the
 * connection are still open (bit 0: with their cancel callbacks set). */
static void m_release_later(ttrpc_call *c, const uint8_t *p, size_t n, void *data) {
  srv_env *e = data;
  e->later_len = n < sizeof e->later_payload ? n : sizeof e->later_payload;
  if (e->later_len) memcpy(e->later_payload, p, e->later_len);
  e->later_keep_cancel = n && (p[0] & 1);
  hold(c, e, false);
  if (n && (p[0] & 2) && !e->peer_shut) {
    shutdown(e->peer_fd, SHUT_RD);
    e->peer_shut = true;
  }
  uv_timer_start(&e->later, on_later, 0, 0);
}

static void m_stream(ttrpc_call *c, const uint8_t *p, size_t n, void *data) {
  (void)data;
  int frames = n ? p[0] % 6 : 0, end = n > 1 ? p[1] % 3 : 0;
  for (int i = 0; i < frames; i++) {
    int rc = ttrpc_stream_send(c, p, n);
    FUZZ_CHECK(rc >= -1 && rc <= 1);
  }
  if (end == 0) ttrpc_stream_close(c);
  else if (end == 1) ttrpc_call_reply_error(c, CS_ABORTED, "stream failed after %d frames", frames);
  else ttrpc_call_reply(c, p, n); /* a streaming method's success with data: data frame + close */
}

/* Replies around the size limit (TTRPC_MAX_MESSAGE minus the envelope's room): too big must turn into a
 * ResourceExhausted status, not a frame the peer refuses. Twice per input at most: each costs 4 MiB. */
static void m_big(ttrpc_call *c, const uint8_t *p, size_t n, void *data) {
  srv_env *e = data;
  if (e->nbig++ >= 2) {
    ttrpc_call_reply(c, NULL, 0);
    return;
  }
  int delta = n ? (int8_t)p[0] : 0;
  ttrpc_call_reply(c, big_reply, (size_t)((long)TTRPC_MAX_MESSAGE - 64 + delta));
}

static const ttrpc_method srv_methods[] = {
  {"Echo", m_echo, false},     {"Empty", m_empty, false},   {"Fail", m_fail, false},
  {"Hold", m_hold, false},     {"Release", m_release, false}, {"Stream", m_stream, true},
  {"HoldStream", m_hold_stream, true}, {"Big", m_big, false}, {"ReleaseLater", m_release_later, false},
};

/* ================================================================== reading what the fuzzed end sends */

/* Frames the fuzzed end wrote to us, reassembled with our own reader. */
typedef struct rx {
  uint8_t *buf;
  size_t len, cap;
  bool eof;
  bool ping_sent; /* only then is a response on PING_ID ours (the input may use that id too) */
  bool got_ping;
} rx;

/* Read what is there and check every complete frame. Requests (client end) are only counted; responses
 * (server end) must be well-formed. */
static void rx_pump(rx *r, int fd, bool from_server) {
  for (;;) {
    if (r->cap - r->len < 65536) {
      size_t cap = r->cap ? r->cap * 2 : 65536 * 2;
      r->buf = realloc(r->buf, cap);
      FUZZ_CHECK(r->buf != NULL);
      r->cap = cap;
    }
    ssize_t n = read(fd, r->buf + r->len, r->cap - r->len);
    if (n > 0) {
      r->len += (size_t)n;
      continue;
    }
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) r->eof = true;
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  size_t pos = 0;
  while (r->len - pos >= TTRPC_HEADER_SIZE) {
    ttrpc_frame_header h;
    ttrpc_header_decode(r->buf + pos, &h);
    /* Whatever we fuzz, what comes back must never exceed the limit the peer enforces. */
    FUZZ_CHECK(h.length <= TTRPC_MAX_MESSAGE);
    if (r->len - pos - TTRPC_HEADER_SIZE < h.length) break;
    const uint8_t *payload = r->buf + pos + TTRPC_HEADER_SIZE;
    if (from_server) {
      FUZZ_CHECK(h.type == TTRPC_RESPONSE || h.type == TTRPC_DATA);
      if (h.type == TTRPC_RESPONSE) {
        ttrpc_response_view v;
        cs_err err;
        FUZZ_CHECK(ttrpc_response_decode(payload, h.length, &v, &err) == 0);
        /* Frames of the input may have drawn answers on PING_ID too (data on a dead stream, ...): only
         * the echo of our ping counts. */
        if (h.stream_id == PING_ID && r->ping_sent && v.code == CS_OK && v.payload.n == 4 &&
            memcmp(v.payload.p, "ping", 4) == 0)
          r->got_ping = true;
      }
    } else {
      FUZZ_CHECK(h.type == TTRPC_REQUEST);
      ttrpc_request_view v;
      cs_err err;
      FUZZ_CHECK(ttrpc_request_decode(payload, h.length, &v, &err) == 0);
    }
    pos += TTRPC_HEADER_SIZE + h.length;
  }
  memmove(r->buf, r->buf + pos, r->len - pos);
  r->len -= pos;
}

/* Where the fuzzed stream stands after the whole input: did it end on a frame boundary, and which request
 * stream id did the server see last (new requests must use a larger one). Mirrors ttrpc_conn's parser. */
static bool stream_ends_on_boundary(const uint8_t *p, size_t n, uint32_t *last_request_id) {
  size_t pos = 0;
  *last_request_id = 0;
  while (pos < n) {
    if (n - pos < TTRPC_HEADER_SIZE) return false;
    ttrpc_frame_header h;
    ttrpc_header_decode(p + pos, &h);
    if (n - pos - TTRPC_HEADER_SIZE < h.length) return false;
    if (h.type == TTRPC_REQUEST && h.stream_id % 2 == 1 && h.length <= TTRPC_MAX_MESSAGE &&
        h.stream_id > *last_request_id)
      *last_request_id = h.stream_id;
    pos += TTRPC_HEADER_SIZE + h.length;
  }
  return true;
}

static size_t next_chunk(fuzz_rng *rng, int mode, size_t left) {
  size_t c;
  switch (mode) {
  case 0: c = 1; break;                                  /* byte by byte: every split point */
  case 1: c = 1 + fuzz_rng_next(rng) % 16; break;        /* header splits */
  case 2: c = 1 + fuzz_rng_next(rng) % 4096; break;      /* payload splits */
  default: c = left; break;                              /* one write */
  }
  return c < left ? c : left;
}

static void turn(uv_loop_t *loop, int n) {
  for (int i = 0; i < n; i++) uv_run(loop, UV_RUN_NOWAIT);
}

/* The target's end stops reading (shutdown SHUT_RD): the fuzzed end's next writes fail with EPIPE, and it
 * must tear the connection down cleanly from inside whatever callback was writing. */
#define OPT_PEER_SHUT 0x40

/* Write the stream from `fd` in chunks, turning the loop so the fuzzed end reads as it arrives, until done
 * or *stop. With shut_after >= 0 the target stops reading after that many chunks; *no_read says it was
 * made to stop reading elsewhere. */
static void feed(uv_loop_t *loop, int fd, const uint8_t *p, size_t n, int mode, fuzz_rng *rng, rx *r,
                 bool from_server, const bool *stop, const bool *no_read, int shut_after) {
  size_t pos = 0;
  int stalled = 0, chunks = 0;
  bool shut = false;
  while (pos < n && !r->eof && !(stop && *stop)) {
    if (shut_after >= 0 && chunks++ == shut_after) {
      shutdown(fd, SHUT_RD);
      shut = true;
    }
    long w = fuzz_write_some(fd, p + pos, next_chunk(rng, mode, n - pos));
    if (w < 0) break; /* the fuzzed end closed the connection */
    pos += (size_t)w;
    turn(loop, 2);
    if (!shut && !(no_read && *no_read)) rx_pump(r, fd, from_server);
    /* A full socket buffer drains as the loop reads; only a reader that stopped for good stalls. */
    stalled = w ? 0 : stalled + 1;
    FUZZ_CHECK(stalled < 100000);
  }
  if (shut) r->eof = true;
}

static void on_server_closed(void *data) { *(bool *)data = true; }

static void fuzz_server(const uint8_t *p, size_t n, int mode, int opts, fuzz_rng *rng) {
  uv_loop_t loop;
  FUZZ_CHECK(uv_loop_init(&loop) == 0);
  srv_env env = {0};
  env.head.next = env.head.prev = &env.head;
  uv_timer_init(&loop, &env.later);
  env.later.data = &env;
  ttrpc_server *s = ttrpc_server_new(&loop);
  cs_err err;
  FUZZ_CHECK(s && ttrpc_server_register(s, SVC, srv_methods, sizeof srv_methods / sizeof *srv_methods, &env,
                                        &err) == 0);
  int sv[2];
  FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  FUZZ_CHECK(fcntl(sv[1], F_SETFL, O_NONBLOCK) == 0);
  FUZZ_CHECK(ttrpc_server_adopt_fd(s, sv[0], &err) == 0);
  env.peer_fd = sv[1];

  rx r = {0};
  int shut_after = (opts & OPT_PEER_SHUT) ? (int)(fuzz_rng_next(rng) % 8) : -1;
  feed(&loop, sv[1], p, n, mode, rng, &r, true, NULL, &env.peer_shut, shut_after);
  turn(&loop, 4);
  if (!r.eof && !env.peer_shut) rx_pump(&r, sv[1], true);

  /* Still sane: after whole frames, a new request on a fresh id is answered. (After a partial frame the
   * ping would be read as the rest of it, so there is nothing to expect.) */
  uint32_t last_id;
  if (!(opts & OPT_PEER_SHUT) && !env.peer_shut && stream_ends_on_boundary(p, n, &last_id) &&
      last_id < PING_ID) {
    FUZZ_CHECK(!r.eof && ttrpc_server_connections(s) == 1);
    size_t max = ttrpc_request_max_size(SVC, "Echo", 4, NULL, 0), len = 0;
    uint8_t frame[TTRPC_HEADER_SIZE + 64];
    FUZZ_CHECK(max <= 64);
    FUZZ_CHECK(ttrpc_request_encode(frame + TTRPC_HEADER_SIZE, max, &len, SVC, "Echo", (const uint8_t *)"ping", 4,
                                    0, NULL, 0, &err) == 0);
    ttrpc_frame_header h = {(uint32_t)len, PING_ID, TTRPC_REQUEST, 0};
    ttrpc_header_encode(&h, frame);
    r.ping_sent = true;
    feed(&loop, sv[1], frame, TTRPC_HEADER_SIZE + len, 3, rng, &r, true, NULL, NULL, -1);
    for (int i = 0; i < 1000 && !r.got_ping && !r.eof; i++) {
      turn(&loop, 1);
      rx_pump(&r, sv[1], true);
    }
    FUZZ_CHECK(r.got_ping);
  }

  /* Shutdown: every held call is cancelled (and finished by held_cancel), then the server frees itself. */
  bool closed = false;
  uv_close((uv_handle_t *)&env.later, NULL);
  ttrpc_server_close(s, on_server_closed, &closed);
  close(sv[1]);
  while (!closed) uv_run(&loop, UV_RUN_ONCE);
  uv_run(&loop, UV_RUN_DEFAULT);
  FUZZ_CHECK(env.head.next == &env.head);
  FUZZ_CHECK(uv_loop_close(&loop) == 0);
  free(r.buf);
}

/* ================================================================== the fuzzed client */

enum {
  OPT_CALL_FROM_REPLY = 1 << 0,  /* an OK reply starts another call */
  OPT_CANCEL_ON_DATA = 1 << 1,   /* the first data frame of a stream cancels it */
  OPT_CLOSE_ON_DATA = 1 << 2,    /* the second data frame on any stream closes the client */
  OPT_CLOSE_ON_ERROR = 1 << 3,   /* an error reply closes the client */
  OPT_TIMEOUT = 1 << 4,          /* one call has a deadline */
};

#define MAX_CALLS 24

typedef struct cl_call {
  struct cl_env *env;
  uint32_t id;
  bool stream;
  int finals; /* unary: callbacks; stream: last=true callbacks */
  int msgs;
} cl_call;

typedef struct cl_env {
  ttrpc_client *c;
  uv_loop_t *loop;
  int opts;
  bool closed;       /* ttrpc_client_close was called (by us or a callback) */
  bool close_returned;
  bool dropped;      /* the connection died (a failed write): the client reads no more */
  bool stop_feed;    /* closed or dropped: writing more would only fill the socket buffer */
  int data_frames;
  int ncalls;
  cl_call calls[MAX_CALLS];
} cl_env;

static void cl_close(cl_env *e) {
  if (e->closed) return;
  e->closed = e->stop_feed = true;
  ttrpc_client_close(e->c);
}

/* ttrpc_client_on_close: the connection dropped. The client stops reading but keeps its socket until
 * ttrpc_client_close, so the target must stop writing to it. */
static void on_dropped(void *data) {
  cl_env *e = data;
  FUZZ_CHECK(!e->closed && !e->dropped); /* once, and never after the user closed it */
  e->dropped = e->stop_feed = true;
}

static void start_unary(cl_env *e, int64_t timeout_ns);

static void on_reply(void *data, int code, const char *msg, const uint8_t *p, size_t n) {
  cl_call *k = data;
  cl_env *e = k->env;
  FUZZ_CHECK(!e->close_returned);
  FUZZ_CHECK(msg != NULL);
  FUZZ_CHECK(code != CS_OK || n == 0 || p != NULL);
  k->finals++;
  FUZZ_CHECK(k->finals == 1);
  if (code == CS_OK && (e->opts & OPT_CALL_FROM_REPLY) && !e->closed) start_unary(e, 0);
  if (code != CS_OK && (e->opts & OPT_CLOSE_ON_ERROR)) cl_close(e);
}

static void on_stream(void *data, bool last, int code, const char *msg, const uint8_t *p, size_t n) {
  cl_call *k = data;
  cl_env *e = k->env;
  FUZZ_CHECK(!e->close_returned);
  FUZZ_CHECK(k->finals == 0); /* nothing after the last callback */
  FUZZ_CHECK(msg != NULL);
  if (last) {
    k->finals++;
    return;
  }
  FUZZ_CHECK(code == CS_OK && p != NULL && n > 0);
  k->msgs++;
  e->data_frames++;
  if ((e->opts & OPT_CANCEL_ON_DATA) && k->msgs == 1 && !e->closed) {
    ttrpc_client_stream_cancel(e->c, k->id);
    FUZZ_CHECK(k->finals == 1);
  }
  if ((e->opts & OPT_CLOSE_ON_DATA) && e->data_frames == 2) cl_close(e);
}

static cl_call *new_call(cl_env *e, bool stream) {
  if (e->ncalls >= MAX_CALLS) return NULL;
  cl_call *k = &e->calls[e->ncalls];
  memset(k, 0, sizeof *k);
  k->env = e;
  k->stream = stream;
  return k;
}

static void start_unary(cl_env *e, int64_t timeout_ns) {
  cl_call *k = new_call(e, false);
  if (!k) return;
  cs_err err;
  if (ttrpc_client_call(e->c, SVC, "Echo", (const uint8_t *)"req", 3, NULL, 0, timeout_ns, on_reply, k, &err) == 0)
    e->ncalls++;
}

static void start_stream(cl_env *e) {
  cl_call *k = new_call(e, true);
  if (!k) return;
  cs_err err;
  if (ttrpc_client_stream(e->c, SVC, "Stream", NULL, 0, NULL, 0, on_stream, k, &k->id, &err) == 0) e->ncalls++;
}

static char g_sock_dir[64], g_sock_path[108];
static int g_listen_fd = -1;

static void cleanup_sock_dir(void) {
  if (g_listen_fd >= 0) close(g_listen_fd);
  unlink(g_sock_path);
  rmdir(g_sock_dir);
}

/* One listening socket for the whole run: the client under test connects to it, the target accepts. */
static void listen_once(void) {
  if (g_listen_fd >= 0) return;
  const char *tmp = getenv("TMPDIR");
  snprintf(g_sock_dir, sizeof g_sock_dir, "%s/cshim-fuzz-frame-XXXXXX", tmp && strlen(tmp) < 32 ? tmp : "/tmp");
  FUZZ_CHECK(mkdtemp(g_sock_dir) != NULL);
  snprintf(g_sock_path, sizeof g_sock_path, "%s/s", g_sock_dir);
  g_listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  snprintf(a.sun_path, sizeof a.sun_path, "%s", g_sock_path);
  FUZZ_CHECK(bind(g_listen_fd, (struct sockaddr *)&a, sizeof a) == 0);
  FUZZ_CHECK(listen(g_listen_fd, 16) == 0);
  atexit(cleanup_sock_dir);
}

static void on_connect(void *data, int status) {
  FUZZ_CHECK(status == 0);
  *(bool *)data = true;
}

static void fuzz_client(const uint8_t *p, size_t n, int mode, int opts, fuzz_rng *rng) {
  uv_loop_t loop;
  FUZZ_CHECK(uv_loop_init(&loop) == 0);
  cl_env *e = calloc(1, sizeof *e);
  FUZZ_CHECK(e != NULL);
  e->loop = &loop;
  e->opts = opts;
  e->c = ttrpc_client_new(&loop);
  FUZZ_CHECK(e->c != NULL);
  ttrpc_client_on_close(e->c, on_dropped, e);
  bool connected = false;
  cs_err err;
  FUZZ_CHECK(ttrpc_client_connect(e->c, g_sock_path, on_connect, &connected, &err) == 0);
  while (!connected) uv_run(&loop, UV_RUN_ONCE);
  int fd = accept4(g_listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  FUZZ_CHECK(fd >= 0);

  /* In flight when the stream arrives: unary ids 1, 3, 5, 7 (7 maybe with a deadline), streams 9, 11. */
  for (int i = 0; i < 3; i++) start_unary(e, 0);
  start_unary(e, (opts & OPT_TIMEOUT) ? 1000 : 0);
  start_stream(e);
  start_stream(e);
  FUZZ_CHECK(e->ncalls == 6);

  rx r = {0};
  int shut_after = (opts & OPT_PEER_SHUT) ? (int)(fuzz_rng_next(rng) % 8) : -1;
  feed(&loop, fd, p, n, mode, rng, &r, false, &e->stop_feed, NULL, shut_after);
  turn(&loop, 4);
  if (!r.eof) rx_pump(&r, fd, false);

  cl_close(e);
  e->close_returned = true;
  uv_run(&loop, UV_RUN_DEFAULT);
  close(fd);
  for (int i = 0; i < e->ncalls; i++) FUZZ_CHECK(e->calls[i].finals == 1);
  FUZZ_CHECK(uv_loop_close(&loop) == 0);
  free(r.buf);
  free(e);
}

/* ================================================================== entry points */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  fuzz_process_init();
  listen_once(); /* now, so the fd counts per input are not thrown off by it */
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  int fds_before = fuzz_count_fds();
  const uint8_t *p = data + 2;
  size_t n = size - 2;

  /* The header codec is a bijection between 10 bytes and the struct. */
  if (n >= TTRPC_HEADER_SIZE) {
    ttrpc_frame_header h;
    uint8_t back[TTRPC_HEADER_SIZE];
    ttrpc_header_decode(p, &h);
    ttrpc_header_encode(&h, back);
    FUZZ_CHECK(memcmp(back, p, TTRPC_HEADER_SIZE) == 0);
  }

  fuzz_rng rng;
  fuzz_rng_seed(&rng, (uint32_t)data[0] << 8 | data[1]);
  int mode = (data[0] >> 1) & 3;
  if (data[0] & 1) fuzz_client(p, n, mode, data[1], &rng);
  else fuzz_server(p, n, mode, data[1], &rng);

  FUZZ_CHECK(fuzz_count_fds() == fds_before);
  return 0;
}
