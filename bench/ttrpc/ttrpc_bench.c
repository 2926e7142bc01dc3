/* Empty-method round trips over our transport.
 *   ttrpc_bench server SOCKET                 serve cshim.test.v1.Test/Empty until SIGTERM; prints "ready"
 *   ttrpc_bench client SOCKET CONNS CALLS [THREADS]
 *       CONNS connections spread over THREADS threads (default 1), each with its own loop; one call in
 *       flight per connection, CALLS calls per connection; prints p50/p99 (ns) and calls/s
 * The output line matches the Go side's (test/interop/gottrpc bench) so run.sh can tabulate both. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ttrpc.h"

#define SERVICE "cshim.test.v1.Test"
#define WARMUP 100

/* ---------------------------------------------------------------- server */

typedef struct bench_server {
  ttrpc_server *srv;
  uv_signal_t term, intr;
} bench_server;

static void empty(ttrpc_call *c, const uint8_t *p, size_t n, void *data) { ttrpc_call_reply(c, NULL, 0); }

static void on_signal(uv_signal_t *s, int signum) {
  bench_server *b = s->data;
  ttrpc_server_close(b->srv, NULL, NULL);
  uv_close((uv_handle_t *)&b->term, NULL);
  uv_close((uv_handle_t *)&b->intr, NULL);
}

static int run_server(const char *path) {
  static const ttrpc_method methods[] = {{"Empty", empty, false}};
  uv_loop_t loop;
  uv_loop_init(&loop);
  bench_server b;
  memset(&b, 0, sizeof b);
  b.srv = ttrpc_server_new(&loop);
  cs_err err;
  if (ttrpc_server_register(b.srv, SERVICE, methods, 1, NULL, &err) < 0 || ttrpc_server_listen(b.srv, path, &err) < 0) {
    fprintf(stderr, "ttrpc_bench server: %s\n", err.msg);
    return 1;
  }
  uv_signal_init(&loop, &b.term);
  uv_signal_init(&loop, &b.intr);
  b.term.data = b.intr.data = &b;
  uv_signal_start(&b.term, on_signal, SIGTERM);
  uv_signal_start(&b.intr, on_signal, SIGINT);
  printf("ready\n");
  fflush(stdout);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return 0;
}

/* ---------------------------------------------------------------- client */

typedef struct bench_conn {
  ttrpc_client *cl;
  struct bench_run *run;
  long done;      /* measured calls completed */
  long warm;      /* warm-up calls completed */
  uint64_t t0;
  uint64_t *lat;  /* this connection's slice of the latency array */
} bench_conn;

typedef struct bench_run {
  long calls;
  int active;
  int failed;
  uint64_t start;
} bench_run;


static void issue(bench_conn *c);

static void on_reply(void *data, int code, const char *msg, const uint8_t *p, size_t n) {
  bench_conn *c = data;
  uint64_t now = uv_hrtime();
  if (code != CS_OK) {
    fprintf(stderr, "call failed: %d %s\n", code, msg);
    c->run->failed = 1;
    c->run->active--;
    return;
  }
  if (c->warm < WARMUP) c->warm++;
  else c->lat[c->done++] = now - c->t0;
  if (c->done == c->run->calls) {
    c->run->active--;
    return;
  }
  issue(c);
}

static void issue(bench_conn *c) {
  cs_err err;
  c->t0 = uv_hrtime();
  if (ttrpc_client_call(c->cl, SERVICE, "Empty", NULL, 0, NULL, 0, 0, on_reply, c, &err) < 0) {
    fprintf(stderr, "call: %s\n", err.msg);
    c->run->failed = 1;
    c->run->active--;
  }
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* One client thread: its own loop and its share of the connections, as a multi-threaded program would
 * use the library (one loop per thread). */
typedef struct bench_thread {
  uv_thread_t tid;
  const char *path;
  int conns;
  long calls;
  uint64_t *lat;
  uv_barrier_t *ready, *go;
  uint64_t end;
  int rc;
} bench_thread;

static void client_thread(void *arg) {
  bench_thread *t = arg;
  uv_loop_t loop;
  uv_loop_init(&loop);
  bench_run run = {t->calls, t->conns, 0, 0};
  bench_conn *cs = calloc((size_t)t->conns, sizeof *cs);
  cs_err err;
  for (int i = 0; i < t->conns && t->rc == 0; i++) {
    cs[i].run = &run;
    cs[i].lat = t->lat + (size_t)i * (size_t)t->calls;
    cs[i].cl = ttrpc_client_new(&loop);
    if (ttrpc_client_connect_sync(cs[i].cl, t->path, &err) < 0) {
      fprintf(stderr, "connect: %s\n", err.msg);
      t->rc = 1;
      break;
    }
    /* Warm-up calls are not timed. */
    for (long w = 0; w < WARMUP && t->rc == 0; w++) {
      if (ttrpc_client_call_sync(cs[i].cl, SERVICE, "Empty", NULL, 0, NULL, 0, 0, NULL, NULL, &err) < 0) {
        fprintf(stderr, "warm-up: %s\n", err.msg);
        t->rc = 1;
      }
    }
    cs[i].warm = WARMUP;
  }
  uv_barrier_wait(t->ready);
  uv_barrier_wait(t->go);
  if (t->rc == 0) {
    for (int i = 0; i < t->conns; i++) issue(&cs[i]);
    while (run.active > 0) uv_run(&loop, UV_RUN_ONCE);
    if (run.failed) t->rc = 1;
  }
  t->end = uv_hrtime();
  for (int i = 0; i < t->conns; i++)
    if (cs[i].cl) ttrpc_client_close(cs[i].cl);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  free(cs);
}

static int run_client(const char *path, int conns, long calls, int threads) {
  if (threads < 1) threads = 1;
  if (threads > conns) threads = conns;
  size_t total = (size_t)conns * (size_t)calls;
  uint64_t *lat = calloc(total, sizeof *lat);
  bench_thread *ts = calloc((size_t)threads, sizeof *ts);
  uv_barrier_t ready, go;
  uv_barrier_init(&ready, (unsigned)threads + 1);
  uv_barrier_init(&go, (unsigned)threads + 1);
  int given = 0;
  for (int i = 0; i < threads; i++) {
    ts[i] = (bench_thread){.path = path, .calls = calls, .ready = &ready, .go = &go};
    ts[i].conns = conns / threads + (i < conns % threads);
    ts[i].lat = lat + (size_t)given * (size_t)calls;
    given += ts[i].conns;
    uv_thread_create(&ts[i].tid, client_thread, &ts[i]);
  }
  uv_barrier_wait(&ready);
  uint64_t start = uv_hrtime(), end = start;
  uv_barrier_wait(&go);
  int rc = 0;
  for (int i = 0; i < threads; i++) {
    uv_thread_join(&ts[i].tid);
    if (ts[i].rc) rc = 1;
    if (ts[i].end > end) end = ts[i].end;
  }
  uv_barrier_destroy(&ready);
  uv_barrier_destroy(&go);
  free(ts);
  if (rc == 0) {
    qsort(lat, total, sizeof *lat, cmp_u64);
    printf("p50_ns=%llu p99_ns=%llu calls_per_s=%.0f\n", (unsigned long long)lat[(size_t)(0.50 * (double)(total - 1))],
           (unsigned long long)lat[(size_t)(0.99 * (double)(total - 1))], (double)total / ((double)(end - start) / 1e9));
  }
  free(lat);
  return rc;
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  if (argc == 3 && !strcmp(argv[1], "server")) return run_server(argv[2]);
  if ((argc == 5 || argc == 6) && !strcmp(argv[1], "client"))
    return run_client(argv[2], atoi(argv[3]), atol(argv[4]), argc == 6 ? atoi(argv[5]) : 1);
  fprintf(stderr, "usage: %s server SOCKET | client SOCKET CONNS CALLS [THREADS]\n", argv[0]);
  return 2;
}
