/* Helpers for the ttrpc tests: temp dirs, and a raw peer that writes and reads frames on a plain socket
 * so tests can send what a well-behaved client never would. */
#ifndef TT_UTIL_H
#define TT_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "ttrpc.h"

/* mkdtemp under $TMPDIR (or /tmp); out gets the path. */
int tt_tmpdir(char *out, size_t n);
/* Remove every entry of dir (sockets, flat) and dir itself. */
void tt_rmdir(const char *dir);

int tt_raw_connect(const char *path);
int tt_write_all(int fd, const void *p, size_t n);
int tt_send_frame(int fd, uint32_t id, uint8_t type, uint8_t flags, const void *p, size_t n);
int tt_send_request(int fd, uint32_t id, uint8_t flags, const char *svc, const char *method, const void *payload,
                    size_t n, int64_t timeout_ns, const ttrpc_kv *md, size_t nmd);

/* One frame read from fd. If loop is set it is turned (UV_RUN_NOWAIT) while waiting, for a server in the
 * same thread. Gives up after a generous bound (a hung test, not a speed check). payload is malloc'd. */
typedef struct tt_frame {
  ttrpc_frame_header h;
  uint8_t *payload;
} tt_frame;
int tt_recv_frame(int fd, uv_loop_t *loop, tt_frame *f);
void tt_frame_free(tt_frame *f);

/* A Response read and decoded: code, NUL-terminated message, payload copy. */
typedef struct tt_resp {
  uint32_t id;
  uint8_t type;
  uint8_t flags;
  int code;
  char msg[512];
  uint8_t payload[4096];
  size_t len;
} tt_resp;
int tt_recv_response(int fd, uv_loop_t *loop, tt_resp *r);
/* True once fd reads EOF (the server closed it), turning loop meanwhile. */
int tt_wait_eof(int fd, uv_loop_t *loop);

/* End of a test: let pending closes finish, then close whatever a failed test left open so the loop
 * always ends (a listening handle would otherwise block teardown forever). Returns how many handles had
 * to be closed that way: 0 for a test that cleaned up after itself. */
int tt_loop_drain(uv_loop_t *loop);

/* A google.protobuf.Any packed with protobuf-c, the tests' message type (Go has it as a well-known type). */
size_t tt_any_pack(const char *type_url, const void *value, size_t n, uint8_t *out, size_t cap);
int tt_any_unpack(const uint8_t *p, size_t n, char *type_url, size_t tsz, char *value, size_t vsz);

#endif
