/* cshim-streamclient: a client of the shim's push stream cshim.stats.v1.Stats/Watch, for the e2e tests.
 *
 * Go's ttrpc 1.1 has no streaming, so this is written against our own client (ttrpc_client_stream) and
 * decodes each Sample with nanopb, exactly as any C consumer of the stream would.
 *
 *   cshim-streamclient -a ADDRESS [-n NS] [-i INTERVAL_MS] [-c COUNT] [-t CLOSE_AFTER_MS] [-T TIMEOUT_MS] [ID...]
 *
 * ADDRESS is the shim socket (unix:///run/containerd/s/HASH or a plain path). No ID watches every task.
 * Output, one line each, flushed as it happens:
 *   sample seq=S id=ID ts=NS gone=0|1 dropped=N cpu_ns=N mem_usage=N mem_limit=N oom_kill=N pids=N
 *          blkio_write=N net_rx=N net_tx=N            (blkio and net summed over devices / interfaces)
 *   end code=C msg=TEXT      the server ended the stream (code 0: a clean end)
 *   closed samples=N         -t elapsed: this client closed the connection (the way a consumer stops)
 *   timeout samples=N        -T elapsed first (a liveness bound, default 60 s)
 * Exit status: 0 after a clean end or close, 1 on an error status or transport failure, 2 usage, 3 timeout.
 */
#include <pb_decode.h>
#include <pb_encode.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "cshim/stats.pb.h"
#include "ttrpc.h"

#define NS_KEY "containerd-namespace-ttrpc"

typedef struct client {
  uv_loop_t *loop;
  ttrpc_client *tc;
  uv_timer_t close_timer, timeout_timer;
  unsigned long long samples;
  int exit_code;
  bool done;
} client;

static void usage(void) {
  fprintf(stderr, "usage: cshim-streamclient -a ADDRESS [-n NS] [-i INTERVAL_MS] [-c COUNT] [-t CLOSE_AFTER_MS] "
                  "[-T TIMEOUT_MS] [ID...]\n");
  exit(2);
}

static void finish(client *c, int code) {
  if (c->done) return;
  c->done = true;
  c->exit_code = code;
  uv_timer_stop(&c->close_timer);
  uv_timer_stop(&c->timeout_timer);
  uv_close((uv_handle_t *)&c->close_timer, NULL);
  uv_close((uv_handle_t *)&c->timeout_timer, NULL);
  /* Closing the connection is how a consumer stops a TTRPC stream: there is no cancel message. */
  ttrpc_client_close(c->tc);
}

static void print_sample(const cshim_stats_v1_Sample *s) {
  unsigned long long bw = 0, rx = 0, tx = 0;
  for (pb_size_t i = 0; i < s->blkio_count; i++) bw += s->blkio[i].write_bytes;
  for (pb_size_t i = 0; i < s->net_count; i++) rx += s->net[i].rx_bytes, tx += s->net[i].tx_bytes;
  printf("sample seq=%llu id=%s ts=%lld gone=%d dropped=%llu cpu_ns=%llu mem_usage=%llu mem_limit=%llu "
         "oom_kill=%llu pids=%llu blkio_write=%llu net_rx=%llu net_tx=%llu\n",
         (unsigned long long)s->seq, s->id, (long long)s->timestamp_ns, s->task_gone ? 1 : 0,
         (unsigned long long)s->dropped, (unsigned long long)s->cpu.usage_ns, (unsigned long long)s->memory.usage,
         (unsigned long long)s->memory.limit, (unsigned long long)s->memory.oom_kill,
         (unsigned long long)s->pids.current, bw, rx, tx);
  fflush(stdout);
}

static void on_stream(void *data, bool last, int code, const char *msg, const uint8_t *payload, size_t len) {
  client *c = data;
  if (c->done) return; /* our own close cancels the stream: already reported */
  if (!last) {
    /* The Sample struct is large (fixed arrays): keep it off the stack. */
    static cshim_stats_v1_Sample s;
    memset(&s, 0, sizeof s);
    pb_istream_t is = pb_istream_from_buffer(payload, len);
    if (!pb_decode(&is, cshim_stats_v1_Sample_fields, &s)) {
      printf("error decode: %s\n", PB_GET_ERROR(&is));
      fflush(stdout);
      finish(c, 1);
      return;
    }
    c->samples++;
    print_sample(&s);
    return;
  }
  printf("end code=%d msg=%s\n", code, msg ? msg : "");
  fflush(stdout);
  finish(c, code == CS_OK ? 0 : 1);
}

static void on_close_timer(uv_timer_t *t) {
  client *c = t->data;
  printf("closed samples=%llu\n", c->samples);
  fflush(stdout);
  finish(c, 0);
}

static void on_timeout(uv_timer_t *t) {
  client *c = t->data;
  printf("timeout samples=%llu\n", c->samples);
  fflush(stdout);
  finish(c, 3);
}

int main(int argc, char **argv) {
  const char *address = NULL, *ns = "default";
  unsigned long long interval = 0, count = 0, close_after = 0, timeout = 60000;
  int opt;
  while ((opt = getopt(argc, argv, "a:n:i:c:t:T:")) != -1) {
    switch (opt) {
    case 'a': address = optarg; break;
    case 'n': ns = optarg; break;
    case 'i': interval = strtoull(optarg, NULL, 10); break;
    case 'c': count = strtoull(optarg, NULL, 10); break;
    case 't': close_after = strtoull(optarg, NULL, 10); break;
    case 'T': timeout = strtoull(optarg, NULL, 10); break;
    default: usage();
    }
  }
  if (!address) usage();
  signal(SIGPIPE, SIG_IGN);

  static cshim_stats_v1_WatchRequest req; /* 5 KB of fixed id slots */
  if (argc - optind > (int)(sizeof req.ids / sizeof req.ids[0])) usage();
  for (int i = optind; i < argc; i++) {
    if (strlen(argv[i]) >= sizeof req.ids[0]) usage();
    snprintf(req.ids[req.ids_count++], sizeof req.ids[0], "%s", argv[i]);
  }
  req.interval_ms = interval;
  req.count = (uint32_t)count;
  uint8_t buf[cshim_stats_v1_WatchRequest_size];
  pb_ostream_t os = pb_ostream_from_buffer(buf, sizeof buf);
  if (!pb_encode(&os, cshim_stats_v1_WatchRequest_fields, &req)) {
    fprintf(stderr, "encode WatchRequest: %s\n", PB_GET_ERROR(&os));
    return 1;
  }

  client c = {.loop = uv_default_loop()};
  cs_err err;
  c.tc = ttrpc_client_new(c.loop);
  if (!c.tc) {
    fprintf(stderr, "out of memory\n");
    return 1;
  }
  if (ttrpc_client_connect_sync(c.tc, address, &err) < 0) {
    printf("error connect: %s\n", err.msg);
    return 1;
  }
  ttrpc_kv md = {NS_KEY, ns};
  if (ttrpc_client_stream(c.tc, "cshim.stats.v1.Stats", "Watch", buf, os.bytes_written, &md, 1, on_stream, &c, NULL,
                          &err) < 0) {
    printf("error stream: %s\n", err.msg);
    ttrpc_client_close(c.tc);
    uv_run(c.loop, UV_RUN_DEFAULT);
    return 1;
  }
  uv_timer_init(c.loop, &c.close_timer);
  uv_timer_init(c.loop, &c.timeout_timer);
  c.close_timer.data = c.timeout_timer.data = &c;
  if (close_after) uv_timer_start(&c.close_timer, on_close_timer, close_after, 0);
  uv_timer_start(&c.timeout_timer, on_timeout, timeout, 0);
  uv_run(c.loop, UV_RUN_DEFAULT);
  uv_loop_close(c.loop);
  return c.exit_code;
}
