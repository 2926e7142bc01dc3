/* Our client against containerd's Go ttrpc server (gottrpc server): unary calls, status codes, metadata,
 * 64 calls in flight on one connection, a deadline. Exit 0 when every check passed.
 *   ttrpc_interop_client SOCKET */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tt_service.h"
#include "tt_util.h"

static int failures;

#define CHECK(cond, ...)                                                   \
  do {                                                                     \
    if (!(cond)) {                                                         \
      failures++;                                                          \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                 \
      fprintf(stderr, __VA_ARGS__);                                        \
      fputc('\n', stderr);                                                 \
    }                                                                      \
  } while (0)

typedef struct concurrent {
  int done, bad;
} concurrent;

typedef struct one_call {
  concurrent *c;
  char want[32];
} one_call;

static void on_echo(void *data, int code, const char *msg, const uint8_t *payload, size_t len) {
  one_call *oc = data;
  char type[64], value[64];
  if (code != CS_OK || tt_any_unpack(payload, len, type, sizeof type, value, sizeof value) < 0 ||
      strcmp(value, oc->want) != 0)
    oc->c->bad++;
  oc->c->done++;
}

static void on_sleep(void *data, int code, const char *msg, const uint8_t *payload, size_t len) {
  int *out = data;
  *out = code;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s SOCKET\n", argv[0]);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  uv_loop_t loop;
  uv_loop_init(&loop);
  ttrpc_client *c = ttrpc_client_new(&loop);
  cs_err err;
  if (ttrpc_client_connect_sync(c, argv[1], &err) < 0) {
    fprintf(stderr, "connect: %s\n", err.msg);
    return 1;
  }
  uint8_t p[256], *out = NULL;
  size_t n = tt_any_pack("echo", "hello from c", 12, p, sizeof p), len = 0;
  char type[64], value[256];

  CHECK(ttrpc_client_call_sync(c, TT_SERVICE, "Echo", p, n, NULL, 0, 0, &out, &len, &err) == 0, "Echo: %s", err.msg);
  CHECK(out && tt_any_unpack(out, len, type, sizeof type, value, sizeof value) == 0 && !strcmp(type, "echo") &&
            !strcmp(value, "hello from c"),
        "Echo reply");
  free(out);
  out = NULL;

  CHECK(ttrpc_client_call_sync(c, TT_SERVICE, "Empty", NULL, 0, NULL, 0, 0, &out, &len, &err) == 0 && len == 0,
        "Empty: %s", err.msg);
  free(out);
  out = NULL;

  const int codes[] = {CS_CANCELLED, CS_INVALID_ARGUMENT, CS_NOT_FOUND, CS_ALREADY_EXISTS, CS_FAILED_PRECONDITION,
                       CS_UNIMPLEMENTED, CS_INTERNAL, CS_UNAVAILABLE, CS_DEADLINE_EXCEEDED};
  for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
    char code[16], msg[64];
    snprintf(code, sizeof code, "%d", codes[i]);
    snprintf(msg, sizeof msg, "go failure %d", codes[i]);
    n = tt_any_pack(code, msg, strlen(msg), p, sizeof p);
    int r = ttrpc_client_call_sync(c, TT_SERVICE, "Fail", p, n, NULL, 0, 0, &out, &len, &err);
    CHECK(r == -1 && err.code == codes[i] && !strcmp(err.msg, msg), "Fail %d: rc %d code %d msg %s", codes[i], r,
          err.code, err.msg);
  }
  CHECK(ttrpc_client_call_sync(c, TT_SERVICE, "Nope", NULL, 0, NULL, 0, 0, &out, &len, &err) == -1 &&
            err.code == CS_UNIMPLEMENTED,
        "unknown method: code %d %s", err.code, err.msg);
  CHECK(ttrpc_client_call_sync(c, "no.such.Service", "Echo", NULL, 0, NULL, 0, 0, &out, &len, &err) == -1 &&
            err.code == CS_UNIMPLEMENTED,
        "unknown service: code %d %s", err.code, err.msg);

  const ttrpc_kv md[] = {{"containerd-namespace-ttrpc", "k8s.io"}, {"x-b", "2"}};
  CHECK(ttrpc_client_call_sync(c, TT_SERVICE, "Meta", NULL, 0, md, 2, 0, &out, &len, &err) == 0, "Meta: %s", err.msg);
  CHECK(out && tt_any_unpack(out, len, type, sizeof type, value, sizeof value) == 0 && !strcmp(type, "k8s.io") &&
            !strcmp(value, "containerd-namespace-ttrpc=k8s.io;x-b=2"),
        "Meta reply: %s %s", type, value);
  free(out);
  out = NULL;

  /* 64 calls in flight at once on this one connection; Go answers each from its own goroutine. */
  concurrent cc = {0, 0};
  one_call calls[64];
  for (int i = 0; i < 64; i++) {
    calls[i].c = &cc;
    snprintf(calls[i].want, sizeof calls[i].want, "call-%d", i);
    n = tt_any_pack("x", calls[i].want, strlen(calls[i].want), p, sizeof p);
    CHECK(ttrpc_client_call(c, TT_SERVICE, "Echo", p, n, NULL, 0, 0, on_echo, &calls[i], &err) == 0, "call %d: %s", i,
          err.msg);
  }
  while (cc.done < 64) uv_run(&loop, UV_RUN_ONCE);
  CHECK(cc.bad == 0, "%d concurrent replies wrong", cc.bad);

  /* Our deadline goes out as timeout_nano; Go's handler sees its context expire. */
  int sleep_code = -1;
  CHECK(ttrpc_client_call(c, TT_SERVICE, "Sleep", NULL, 0, NULL, 0, 50 * 1000 * 1000, on_sleep, &sleep_code, &err) == 0,
        "Sleep: %s", err.msg);
  while (sleep_code < 0) uv_run(&loop, UV_RUN_ONCE);
  CHECK(sleep_code == CS_DEADLINE_EXCEEDED, "Sleep: code %d", sleep_code);
  n = tt_any_pack("again", "", 0, p, sizeof p);
  CHECK(ttrpc_client_call_sync(c, TT_SERVICE, "Echo", p, n, NULL, 0, 0, &out, &len, &err) == 0, "Echo after: %s",
        err.msg);
  free(out);

  ttrpc_client_close(c);
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0, "loop not empty at exit");
  if (failures) {
    fprintf(stderr, "c client vs go server: %d checks failed\n", failures);
    return 1;
  }
  printf("c client vs go server: all checks passed\n");
  return 0;
}
