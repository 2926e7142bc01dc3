#include "tt_util.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "google/protobuf/any.pb-c.h"
#include "ttrpc_envelope.h"

/* A hung peer fails the test after this long; nothing asserts on speed. */
#define GIVE_UP_NS (60ull * 1000 * 1000 * 1000)

int tt_tmpdir(char *out, size_t n) {
  const char *base = getenv("TMPDIR");
  snprintf(out, n, "%s/ttrpc-test-XXXXXX", base && *base ? base : "/tmp");
  return mkdtemp(out) ? 0 : -1;
}

void tt_rmdir(const char *dir) {
  DIR *d = opendir(dir);
  if (d) {
    struct dirent *e;
    while ((e = readdir(d))) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      char p[4096];
      snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
      unlink(p);
    }
    closedir(d);
  }
  rmdir(dir);
}

int tt_raw_connect(const char *path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int tt_write_all(int fd, const void *p, size_t n) {
  const uint8_t *b = p;
  while (n) {
    ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) {
      struct pollfd pfd = {fd, POLLOUT, 0};
      poll(&pfd, 1, 10);
      continue;
    }
    if (w <= 0) return -1;
    b += w;
    n -= (size_t)w;
  }
  return 0;
}

int tt_send_frame(int fd, uint32_t id, uint8_t type, uint8_t flags, const void *p, size_t n) {
  uint8_t hdr[TTRPC_HEADER_SIZE];
  ttrpc_frame_header h = {(uint32_t)n, id, type, flags};
  ttrpc_header_encode(&h, hdr);
  if (tt_write_all(fd, hdr, sizeof hdr) < 0) return -1;
  return n ? tt_write_all(fd, p, n) : 0;
}

int tt_send_request(int fd, uint32_t id, uint8_t flags, const char *svc, const char *method, const void *payload,
                    size_t n, int64_t timeout_ns, const ttrpc_kv *md, size_t nmd) {
  size_t max = ttrpc_request_max_size(svc, method, n, md, nmd), len = 0;
  uint8_t *buf = malloc(max);
  cs_err err;
  int r = -1;
  if (buf && ttrpc_request_encode(buf, max, &len, svc, method, payload, n, timeout_ns, md, nmd, &err) == 0)
    r = tt_send_frame(fd, id, TTRPC_REQUEST, flags, buf, len);
  free(buf);
  return r;
}

static int read_exact(int fd, uv_loop_t *loop, uint8_t *p, size_t n) {
  uint64_t start = uv_hrtime();
  while (n) {
    ssize_t r = recv(fd, p, n, MSG_DONTWAIT);
    if (r > 0) {
      p += r;
      n -= (size_t)r;
      continue;
    }
    if (r == 0) return -1;
    if (errno != EAGAIN && errno != EINTR) return -1;
    if (uv_hrtime() - start > GIVE_UP_NS) return -1;
    if (loop) uv_run(loop, UV_RUN_NOWAIT);
    struct pollfd pfd = {fd, POLLIN, 0};
    poll(&pfd, 1, loop ? 1 : 50);
  }
  return 0;
}

int tt_recv_frame(int fd, uv_loop_t *loop, tt_frame *f) {
  uint8_t hdr[TTRPC_HEADER_SIZE];
  f->payload = NULL;
  if (read_exact(fd, loop, hdr, sizeof hdr) < 0) return -1;
  ttrpc_header_decode(hdr, &f->h);
  f->payload = malloc(f->h.length ? f->h.length : 1);
  if (!f->payload) return -1;
  if (read_exact(fd, loop, f->payload, f->h.length) < 0) {
    tt_frame_free(f);
    return -1;
  }
  return 0;
}

void tt_frame_free(tt_frame *f) {
  free(f->payload);
  f->payload = NULL;
}

int tt_recv_response(int fd, uv_loop_t *loop, tt_resp *r) {
  tt_frame f;
  memset(r, 0, sizeof *r);
  if (tt_recv_frame(fd, loop, &f) < 0) return -1;
  r->id = f.h.stream_id;
  r->type = f.h.type;
  r->flags = f.h.flags;
  int rc = 0;
  if (f.h.type == TTRPC_RESPONSE) {
    ttrpc_response_view v;
    cs_err err;
    if (ttrpc_response_decode(f.payload, f.h.length, &v, &err) < 0) {
      rc = -1;
    } else {
      r->code = v.code;
      snprintf(r->msg, sizeof r->msg, "%.*s", (int)v.message.n, v.message.p ? (const char *)v.message.p : "");
      r->len = v.payload.n < sizeof r->payload ? v.payload.n : sizeof r->payload;
      if (r->len) memcpy(r->payload, v.payload.p, r->len);
    }
  } else {
    r->len = f.h.length < sizeof r->payload ? f.h.length : sizeof r->payload;
    if (r->len) memcpy(r->payload, f.payload, r->len);
  }
  tt_frame_free(&f);
  return rc;
}

int tt_wait_eof(int fd, uv_loop_t *loop) {
  uint8_t b[4096];
  uint64_t start = uv_hrtime();
  for (;;) {
    ssize_t r = recv(fd, b, sizeof b, MSG_DONTWAIT);
    if (r == 0 || (r < 0 && errno == ECONNRESET)) return 0;
    if (r < 0 && errno != EAGAIN && errno != EINTR) return -1;
    if (uv_hrtime() - start > GIVE_UP_NS) return -1;
    if (loop) uv_run(loop, UV_RUN_NOWAIT);
    struct pollfd pfd = {fd, POLLIN, 0};
    poll(&pfd, 1, loop ? 1 : 50);
  }
}

static void close_left(uv_handle_t *h, void *arg) {
  if (uv_is_closing(h)) return;
  uv_close(h, NULL);
  (*(int *)arg)++;
}

int tt_loop_drain(uv_loop_t *loop) {
  int left = 0;
  for (int i = 0; i < 100 && uv_loop_alive(loop); i++) uv_run(loop, UV_RUN_NOWAIT);
  uv_walk(loop, close_left, &left);
  uv_run(loop, UV_RUN_DEFAULT);
  return left;
}

size_t tt_any_pack(const char *type_url, const void *value, size_t n, uint8_t *out, size_t cap) {
  Google__Protobuf__Any a = GOOGLE__PROTOBUF__ANY__INIT;
  a.type_url = (char *)type_url;
  a.value.data = (uint8_t *)value;
  a.value.len = n;
  size_t sz = google__protobuf__any__get_packed_size(&a);
  if (sz > cap) return 0;
  return google__protobuf__any__pack(&a, out);
}

int tt_any_unpack(const uint8_t *p, size_t n, char *type_url, size_t tsz, char *value, size_t vsz) {
  Google__Protobuf__Any *a = google__protobuf__any__unpack(NULL, n, p);
  if (!a) return -1;
  if (type_url) snprintf(type_url, tsz, "%s", a->type_url ? a->type_url : "");
  if (value) snprintf(value, vsz, "%.*s", (int)a->value.len, a->value.data ? (const char *)a->value.data : "");
  google__protobuf__any__free_unpacked(a, NULL);
  return 0;
}
