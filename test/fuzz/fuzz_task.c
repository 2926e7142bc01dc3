/* fuzz_task: every Task API request decoder and handler, over the fake compute backend, through a real
 * TTRPC client/server pair (unix socket in the sandbox), as sequences of calls.
 *
 * Input: records of [op:1][len:2, little-endian][payload:len] (a short last record takes what is left).
 *   op & 31 selects:  0..17  a method: State Create Start Delete Pids Pause Resume Checkpoint Kill Exec
 *                            ResizePty CloseIO Update Wait Stats Connect Shutdown (containerd.task.v2.Task)
 *                            and Watch (cshim.stats.v1.Stats, a server stream); the payload is the request
 *                     18     a process exit from the fake backend: payload[0] picks the pid (<128: one of
 *                            the fake's pids 1000..1015, else an unknown one), payload[1] the status
 *                     19     toggle the fake's manual mode (ops stay pending until completed)
 *                     20     complete the oldest pending backend op
 *                     21     make the next backend op fail with code payload[0] % 16 + 1
 *                     22     cancel the newest Watch stream on the client side
 *                     23     drop the connection and reconnect (containerd restarting)
 *                     24     let real time pass once per input (≤ 12 ms), so Watch timers tick again
 *                     25..31 a method again (op - 25): the lifecycle calls get more weight
 *   op & 0x20: do not wait for the reply (requests pipeline, replies come back out of order)
 *   op & 0x40: the request carries an already-expired deadline: held calls get DeadlineExceeded
 *
 * Checked: every call's callback runs exactly once (also on disconnect); a successful reply decodes as the
 * method's response type (Empty replies are empty); stream samples decode; after the input everything is
 * freed: calls, processes, libuv handles (uv_loop_close succeeds), fds. Paths are contained: see
 * fuzz_sandbox.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pb_decode.h>

#include "containerd/task/v2/shim.pb-c.h"
#include "containerd/types/mount.pb-c.h"
#include "cshim/stats.pb.h"
#include "fake_rt.h"
#include "fuzz_sandbox.h"
#include "fuzz_util.h"
#include "stats_stream.h"
#include "task_events.h"
#include "task_service.h"
#include "task_service_int.h" /* stats_stream_close_all, for FUZZ_SKIP_KNOWN */

typedef struct method {
  const char *service;
  const char *name;
  const ProtobufCMessageDescriptor *resp; /* NULL: google.protobuf.Empty */
  bool stream;
} method;

#define T TASK_SERVICE_NAME
static const method methods[] = {
  {T, "State", &containerd__task__v2__state_response__descriptor, false},
  {T, "Create", &containerd__task__v2__create_task_response__descriptor, false},
  {T, "Start", &containerd__task__v2__start_response__descriptor, false},
  {T, "Delete", &containerd__task__v2__delete_response__descriptor, false},
  {T, "Pids", &containerd__task__v2__pids_response__descriptor, false},
  {T, "Pause", NULL, false},
  {T, "Resume", NULL, false},
  {T, "Checkpoint", NULL, false},
  {T, "Kill", NULL, false},
  {T, "Exec", NULL, false},
  {T, "ResizePty", NULL, false},
  {T, "CloseIO", NULL, false},
  {T, "Update", NULL, false},
  {T, "Wait", &containerd__task__v2__wait_response__descriptor, false},
  {T, "Stats", &containerd__task__v2__stats_response__descriptor, false},
  {T, "Connect", &containerd__task__v2__connect_response__descriptor, false},
  {T, "Shutdown", NULL, false},
  {STATS_SERVICE_NAME, "Watch", NULL, true},
};
#define N_METHODS (sizeof methods / sizeof methods[0])
enum { M_CREATE = 1, M_EXEC = 9 };
enum { A_EXIT = 18, A_MANUAL, A_COMPLETE, A_FAIL, A_CANCEL, A_RECONNECT, A_TICK, A_METHOD_AGAIN };
#define OP_NOWAIT 0x20
#define OP_EXPIRED 0x40

/* ================================================================== containment of fuzzed paths */

static const char *sb_in, *sb_out, *sb_err, *sb_src, *sb_opt, *sb_sock, *sb_file;

/* Slots rewritten in an unpacked message, restored before protobuf-c frees it (it owns the originals). */
typedef struct fixups {
  char **slot[64];
  char *orig[64];
  char *owned[64]; /* replacement strings we allocated */
  int n;
  bool full;       /* ran out of slots: the request is not sent */
  size_t *rootfs_slot; /* rootfs mounts dropped: the count to restore */
  size_t rootfs_orig;
} fixups;

static void fix(fixups *f, char **slot, const char *replacement, bool owned) {
  if (f->n == 64) {
    f->full = true;
    return;
  }
  f->slot[f->n] = slot;
  f->orig[f->n] = *slot;
  f->owned[f->n] = owned ? (char *)replacement : NULL;
  f->n++;
  *slot = (char *)replacement;
}

static void unfix(fixups *f) {
  for (int i = f->n - 1; i >= 0; i--) {
    *f->slot[i] = f->orig[i];
    free(f->owned[i]);
  }
  if (f->rootfs_slot) *f->rootfs_slot = f->rootfs_orig;
}

/* A stdio path: "", a sandbox path, or fifo:// file:// binary:// + one. binary:// is refused without
 * being opened, so anything goes after it. */
static void fix_stdio(fixups *f, char **slot, const char *fifo) {
  const char *s = *slot;
  if (!s || !*s || strncmp(s, "binary://", 9) == 0) return;
  if (strncmp(s, "file://", 7) == 0) {
    if (!fuzz_sandbox_path_ok(s + 7)) fix(f, slot, sb_file, false);
    return;
  }
  if (!fuzz_sandbox_path_ok(strncmp(s, "fifo://", 7) == 0 ? s + 7 : s)) fix(f, slot, fifo, false);
}

/* A mount option naming paths ("lowerdir=/a:/b", "upperdir=/u"): every path must be in the sandbox, or
 * the option becomes key=<sandbox>/o. An overlay upperdir on the host would take writes made through
 * sandbox paths. */
static void fix_option(fixups *f, char **slot) {
  const char *o = *slot;
  if (!strchr(o, '/')) return;
  const char *eq = strchr(o, '=');
  bool ok = eq != NULL;
  if (ok) {
    char *copy = strdup(eq + 1);
    FUZZ_CHECK(copy != NULL);
    char *save = NULL;
    for (char *t = strtok_r(copy, ":", &save); t && ok; t = strtok_r(NULL, ":", &save))
      ok = fuzz_sandbox_path_ok(t);
    free(copy);
  }
  if (ok) return;
  size_t klen = eq ? (size_t)(eq - o) : 0;
  char *r = malloc(klen + 1 + strlen(sb_opt) + 1);
  FUZZ_CHECK(r != NULL);
  snprintf(r, klen + 1 + strlen(sb_opt) + 1, "%.*s=%s", (int)klen, o, sb_opt);
  fix(f, slot, r, true);
}

/* Create and Exec requests that decode and name anything outside the sandbox are rewritten and re-packed;
 * safe ones go out byte for byte. Returns the bytes to send (*owned set when malloc'd), or NULL to skip. */
static const uint8_t *contain(int m, const uint8_t *p, size_t n, size_t *out_n, uint8_t **owned) {
  *owned = NULL;
  *out_n = n;
  if (m != M_CREATE && m != M_EXEC) return p;
  fixups f = {0};
  ProtobufCMessage *msg = NULL;
  if (m == M_CREATE) {
    Containerd__Task__V2__CreateTaskRequest *r = containerd__task__v2__create_task_request__unpack(NULL, n, p);
    if (!r) return p; /* the server cannot decode it either: InvalidArgument, nothing touched */
    msg = &r->base;
    if (r->bundle && r->bundle[0] == '/' && !fuzz_sandbox_path_ok(r->bundle))
      fix(&f, &r->bundle, fuzz_sandbox_path("/b"), false);
    fix_stdio(&f, &r->stdin_, sb_in);
    fix_stdio(&f, &r->stdout_, sb_out);
    fix_stdio(&f, &r->stderr_, sb_err);
    if (r->n_rootfs && !fuzz_sandbox_mounts_contained()) {
      /* No private mount namespace: the shim must not mount(2) anything. */
      f.rootfs_slot = &r->n_rootfs;
      f.rootfs_orig = r->n_rootfs;
      r->n_rootfs = 0;
    }
    for (size_t i = 0; i < r->n_rootfs; i++) {
      Containerd__Types__Mount *mt = r->rootfs[i];
      /* Sources are rewritten whatever the type: with a "bind" option any type binds its source. */
      if (mt->source && *mt->source && !fuzz_sandbox_path_ok(mt->source)) fix(&f, &mt->source, sb_src, false);
      for (size_t k = 0; k < mt->n_options; k++) fix_option(&f, &mt->options[k]);
    }
  } else {
    Containerd__Task__V2__ExecProcessRequest *r = containerd__task__v2__exec_process_request__unpack(NULL, n, p);
    if (!r) return p;
    msg = &r->base;
    fix_stdio(&f, &r->stdin_, sb_in);
    fix_stdio(&f, &r->stdout_, sb_out);
    fix_stdio(&f, &r->stderr_, sb_err);
  }
  const uint8_t *ret = p;
  if (f.full) {
    ret = NULL;
  } else if (f.n || f.rootfs_slot) {
    size_t len = protobuf_c_message_get_packed_size(msg);
    *owned = malloc(len ? len : 1);
    FUZZ_CHECK(*owned != NULL);
    *out_n = protobuf_c_message_pack(msg, *owned);
    ret = *owned;
  }
  unfix(&f);
  protobuf_c_message_free_unpacked(msg, NULL);
  return ret;
}

/* ================================================================== the service and its client */

typedef struct env env;

typedef struct call_ctx {
  env *e;
  int m;
  int finals;     /* callbacks (unary) or last=true callbacks (stream): must end at exactly 1 */
  uint32_t stream_id;
  struct call_ctx *next;
} call_ctx;

struct env {
  uv_loop_t loop;
  ttrpc_server *server;
  task_service *svc;
  task_events *events;
  fake_rt *rt;            /* created by the service on the first Create */
  ttrpc_client *client;
  bool client_closing;
  call_ctx *calls;        /* every call of this input, freed at the end */
  call_ctx *last_stream;
  bool ticked;
  uv_timer_t cap;
  bool shutdown_asked;
};

static rt_backend *factory(void *data, uv_loop_t *loop, const task_runtime_opts *o, const rt_events *ev,
                           cs_err *err) {
  (void)o, (void)err;
  env *e = data;
  e->rt = (fake_rt *)fake_rt_new(loop, ev);
  return &e->rt->base;
}

static int encode_stats(const rt_sample *s, uint8_t **out, size_t *len, const char **type_url, cs_err *err) {
  (void)err;
  *out = malloc(16);
  if (!*out) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
  *len = (size_t)snprintf((char *)*out, 16, "cpu=%llu", (unsigned long long)s->cpu.usage_ns);
  *type_url = "fuzz.Sample";
  return 0;
}

static void on_shutdown(void *data) { ((env *)data)->shutdown_asked = true; }

static call_ctx *new_call(env *e, int m) {
  call_ctx *k = calloc(1, sizeof *k);
  FUZZ_CHECK(k != NULL);
  k->e = e;
  k->m = m;
  k->next = e->calls;
  e->calls = k;
  return k;
}

static bool g_trace; /* FUZZ_TRACE=1: print every reply, to see what a seed or a crash input does */
/* FUZZ_SKIP_KNOWN=1: steer around findings already reported (README.md), so long runs get past them.
 * Finding 3: a Watch stream over several tasks whose client goes away: the failed write cancels the call
 * inside ttrpc_stream_send, and watch_tick sends on the freed call for the next task. Skipped by ending
 * the streams on the server side before the client disconnects. */
static bool g_skip_known;

static void on_reply(void *data, int code, const char *msg, const uint8_t *p, size_t n) {
  call_ctx *k = data;
  if (g_trace) fprintf(stderr, "fuzz_task: %s -> %s %s\n", methods[k->m].name, cs_code_name(code), msg ? msg : "");
  FUZZ_CHECK(++k->finals == 1);
  FUZZ_CHECK(msg != NULL);
  FUZZ_CHECK(code >= CS_OK && code <= CS_UNAUTHENTICATED);
  if (code != CS_OK) return;
  const method *m = &methods[k->m];
  if (!m->resp) {
    FUZZ_CHECK(n == 0);
    return;
  }
  ProtobufCMessage *r = protobuf_c_message_unpack(m->resp, NULL, n, p);
  FUZZ_CHECK(r != NULL);
  protobuf_c_message_free_unpacked(r, NULL);
}

static void on_sample(void *data, bool last, int code, const char *msg, const uint8_t *p, size_t n) {
  call_ctx *k = data;
  if (g_trace)
    fprintf(stderr, "fuzz_task: Watch -> %s %s %s\n", last ? "end" : "sample", cs_code_name(code), msg ? msg : "");
  FUZZ_CHECK(k->finals == 0);
  FUZZ_CHECK(msg != NULL);
  if (last) {
    k->finals++;
    return;
  }
  FUZZ_CHECK(code == CS_OK);
  cshim_stats_v1_Sample s = cshim_stats_v1_Sample_init_zero;
  pb_istream_t is = pb_istream_from_buffer(p, n);
  FUZZ_CHECK(pb_decode(&is, cshim_stats_v1_Sample_fields, &s));
  FUZZ_CHECK(s.seq >= 1);
}

static void turn(env *e, int n) {
  for (int i = 0; i < n; i++) uv_run(&e->loop, UV_RUN_NOWAIT);
}

static void on_connect(void *data, int status) {
  FUZZ_CHECK(status == 0);
  *(bool *)data = true;
}

static void connect_client(env *e) {
  e->client = ttrpc_client_new(&e->loop);
  FUZZ_CHECK(e->client != NULL);
  e->client_closing = false;
  bool done = false;
  cs_err err;
  FUZZ_CHECK(ttrpc_client_connect(e->client, sb_sock, on_connect, &done, &err) == 0);
  while (!done) uv_run(&e->loop, UV_RUN_ONCE);
}

static void close_client(env *e) {
  if (!e->client) return;
  if (g_skip_known) stats_stream_close_all(e->svc);
  ttrpc_client_close(e->client);
  e->client = NULL;
  e->last_stream = NULL;
  /* Let the server see the EOF: it cancels what the client left in flight (waiters, streams). */
  for (int i = 0; i < 100 && ttrpc_server_connections(e->server) > 0; i++) uv_run(&e->loop, UV_RUN_ONCE);
  FUZZ_CHECK(ttrpc_server_connections(e->server) == 0);
}

/* Only Create and Exec touch the filesystem: inputs without them leave the sandbox as it was, and the next
 * input can skip the (comparatively costly) remount. */
static bool g_sandbox_dirty = true;

static void do_call(env *e, int op, int m, const uint8_t *p, size_t n) {
  if (m == M_CREATE || m == M_EXEC) g_sandbox_dirty = true;
  size_t len;
  uint8_t *owned;
  const uint8_t *payload = contain(m, p, n, &len, &owned);
  if (!payload) return;
  /* The fake keeps 16 pending ops; stay below (a limit of the fake, not of the shim). */
  while (e->rt && e->rt->n_pending >= 12) fake_rt_complete(e->rt);
  call_ctx *k = new_call(e, m);
  cs_err err;
  int rc;
  if (methods[m].stream) {
    rc = ttrpc_client_stream(e->client, methods[m].service, methods[m].name, payload, len, NULL, 0, on_sample, k,
                             &k->stream_id, &err);
    if (rc == 0) e->last_stream = k;
  } else {
    rc = ttrpc_client_call(e->client, methods[m].service, methods[m].name, payload, len, NULL, 0,
                           (op & OP_EXPIRED) ? -1 : 0, on_reply, k, &err);
  }
  free(owned);
  if (rc < 0) {
    k->finals = 1; /* never started: no callback is owed */
    return;
  }
  if (op & OP_NOWAIT) {
    turn(e, 1);
    return;
  }
  for (int i = 0; i < 64 && k->finals == 0; i++) uv_run(&e->loop, UV_RUN_NOWAIT);
}

static void on_cap(uv_timer_t *t) { (void)t; }

static void do_action(env *e, int a, const uint8_t *p, size_t n) {
  switch (a) {
  case A_EXIT:
    if (e->rt) {
      int pid = n > 0 && p[0] >= 128 ? 1 + p[0] : 1000 + (n > 0 ? p[0] % 16 : 0);
      fake_rt_exit(e->rt, pid, n > 1 ? p[1] : 0);
    }
    break;
  case A_MANUAL:
    if (e->rt) e->rt->manual = !e->rt->manual;
    break;
  case A_COMPLETE:
    if (e->rt) fake_rt_complete(e->rt);
    break;
  case A_FAIL:
    if (e->rt) e->rt->fail_code = (n > 0 ? p[0] % 16 : 0) + 1;
    break;
  case A_CANCEL:
    if (e->last_stream && e->client) {
      ttrpc_client_stream_cancel(e->client, e->last_stream->stream_id);
      e->last_stream = NULL;
    }
    break;
  case A_RECONNECT:
    close_client(e);
    connect_client(e);
    break;
  case A_TICK:
    if (!e->ticked) {
      e->ticked = true;
      uv_timer_start(&e->cap, on_cap, 12, 0);
      while (uv_is_active((uv_handle_t *)&e->cap)) uv_run(&e->loop, UV_RUN_ONCE);
    }
    break;
  }
  turn(e, 2);
}

static void on_server_closed(void *data) { *(bool *)data = true; }

static void run(const uint8_t *data, size_t size) {
  env *e = calloc(1, sizeof *e);
  FUZZ_CHECK(e != NULL);
  FUZZ_CHECK(uv_loop_init(&e->loop) == 0);
  uv_timer_init(&e->loop, &e->cap);
  e->events = task_events_new(&e->loop, NULL, "fuzz"); /* no containerd: events are encoded, then dropped */
  cs_err err;
  task_service_config cfg = {.loop = &e->loop, .ns = "fuzz", .events = e->events, .backend_new = factory,
                             .backend_data = e, .encode_stats = encode_stats, .on_shutdown = on_shutdown,
                             .shutdown_data = e};
  e->svc = task_service_new(&cfg, &err);
  e->server = ttrpc_server_new(&e->loop);
  FUZZ_CHECK(e->svc && e->server);
  FUZZ_CHECK(task_service_register(e->svc, e->server, &err) == 0);
  FUZZ_CHECK(stats_stream_register(e->svc, e->server, &err) == 0);
  FUZZ_CHECK(ttrpc_server_listen(e->server, sb_sock, &err) == 0);
  connect_client(e);

  size_t pos = 0;
  while (pos < size) {
    int op = data[pos++];
    size_t len = 0;
    if (size - pos >= 2) {
      len = (size_t)data[pos] | (size_t)data[pos + 1] << 8;
      pos += 2;
    } else {
      pos = size;
    }
    if (len > size - pos) len = size - pos;
    const uint8_t *p = data + pos;
    pos += len;
    int a = op & 31;
    if (a < A_EXIT) do_call(e, op, a, p, len);
    else if (a >= A_METHOD_AGAIN) do_call(e, op, a - A_METHOD_AGAIN, p, len);
    else do_action(e, a, p, len);
  }

  /* Drain the backend first: a service freed with backend ops in flight would leak their state (the
   * backend promises no callbacks after destroy), which is not what this target is after. */
  if (e->rt) {
    e->rt->manual = false;
    while (e->rt->n_pending) fake_rt_complete(e->rt);
  }
  turn(e, 4);
  close_client(e);
  task_service_free(e->svc);
  task_events_free(e->events);
  uv_close((uv_handle_t *)&e->cap, NULL);
  bool closed = false;
  ttrpc_server_close(e->server, on_server_closed, &closed);
  while (!closed) uv_run(&e->loop, UV_RUN_ONCE);
  uv_run(&e->loop, UV_RUN_DEFAULT);
  FUZZ_CHECK(uv_loop_close(&e->loop) == 0);
  while (e->calls) {
    call_ctx *k = e->calls;
    e->calls = k->next;
    FUZZ_CHECK(k->finals == 1);
    free(k);
  }
  free(e);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  fuzz_process_init();
  const char *t = getenv("FUZZ_TRACE");
  g_trace = t && *t == '1';
  const char *k = getenv("FUZZ_SKIP_KNOWN");
  g_skip_known = k && *k == '1';
  fuzz_sandbox_init();
  /* Fixed for the whole run (fuzz_sandbox_path's buffers rotate). */
  sb_in = strdup(fuzz_sandbox_path("/in"));
  sb_out = strdup(fuzz_sandbox_path("/out"));
  sb_err = strdup(fuzz_sandbox_path("/err"));
  sb_src = strdup(fuzz_sandbox_path("/src"));
  sb_opt = strdup(fuzz_sandbox_path("/o"));
  sb_sock = strdup(fuzz_sandbox_path("/shim.sock"));
  static char file_uri[512];
  snprintf(file_uri, sizeof file_uri, "file://%s", fuzz_sandbox_path("/log"));
  sb_file = file_uri;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (g_sandbox_dirty) fuzz_sandbox_reset();
  g_sandbox_dirty = false;
  int fds_before = fuzz_count_fds();
  run(data, size);
  FUZZ_CHECK(fuzz_count_fds() == fds_before);
  return 0;
}
