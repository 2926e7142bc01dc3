/* Writes the seed corpus: small valid inputs for each target, so fuzzing starts from real protocol instead
 * of having to discover protobuf framing and the Task API's id rules from nothing.
 *
 *   fuzz_gen_corpus <dir>     writes <dir>/fuzz_envelope/, <dir>/fuzz_frame/, <dir>/fuzz_task/
 *
 * Run it (build-fuzz/test/fuzz/fuzz_gen_corpus test/fuzz/corpus) when an input format changes, and commit
 * the result; scripts/fuzz.sh only reads the committed files. File names say what a seed exercises. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <pb_encode.h>

#include "containerd/runc/options.pb-c.h"
#include "containerd/task/v2/shim.pb-c.h"
#include "containerd/types/mount.pb-c.h"
#include "cshim/stats.pb.h"
#include "fuzz_sandbox.h"
#include "ttrpc.h"
#include "ttrpc_envelope.h"

#define SB FUZZ_SANDBOX_DIR

/* ------------------------------------------------------------------ output */

typedef struct buf {
  uint8_t *p;
  size_t n, cap;
} buf;

static void put(buf *b, const void *p, size_t n) {
  if (b->n + n > b->cap) {
    b->cap = (b->n + n) * 2 + 64;
    b->p = realloc(b->p, b->cap);
    if (!b->p) abort();
  }
  if (n) memcpy(b->p + b->n, p, n);
  b->n += n;
}

static void put_u8(buf *b, uint8_t v) { put(b, &v, 1); }

static const char *g_root;

static void write_seed(const char *target, const char *name, const buf *b) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", g_root, target);
  if (mkdir(path, 0755) < 0 && errno != EEXIST) {
    perror(path);
    exit(1);
  }
  snprintf(path, sizeof path, "%s/%s/%s", g_root, target, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(b->p, 1, b->n, f) != b->n || fclose(f) != 0) {
    perror(path);
    exit(1);
  }
}

/* ------------------------------------------------------------------ envelopes and frames */

static void request(buf *b, const char *svc, const char *method, const void *payload, size_t n, int64_t timeout,
                    const ttrpc_kv *md, size_t nmd) {
  size_t max = ttrpc_request_max_size(svc, method, n, md, nmd), len = 0;
  uint8_t *tmp = malloc(max);
  cs_err err;
  if (!tmp || ttrpc_request_encode(tmp, max, &len, svc, method, payload, n, timeout, md, nmd, &err) < 0) abort();
  put(b, tmp, len);
  free(tmp);
}

static void response(buf *b, int code, const char *msg, const void *payload, size_t n) {
  size_t max = ttrpc_response_max_size(msg ? strlen(msg) : 0, n), len = 0;
  uint8_t *tmp = malloc(max);
  cs_err err;
  if (!tmp || ttrpc_response_encode(tmp, max, &len, code, msg, msg ? strlen(msg) : 0, payload, n, &err) < 0) abort();
  put(b, tmp, len);
  free(tmp);
}

static void frame(buf *b, uint32_t id, uint8_t type, uint8_t flags, const buf *payload) {
  uint8_t h[TTRPC_HEADER_SIZE];
  ttrpc_frame_header fh = {(uint32_t)payload->n, id, type, flags};
  ttrpc_header_encode(&fh, h);
  put(b, h, sizeof h);
  put(b, payload->p, payload->n);
}

static void req_frame(buf *b, uint32_t id, uint8_t flags, const char *method, const void *p, size_t n,
                      int64_t timeout, const ttrpc_kv *md, size_t nmd) {
  buf e = {0};
  request(&e, "fuzz.v1.Frame", method, p, n, timeout, md, nmd);
  frame(b, id, TTRPC_REQUEST, flags, &e);
  free(e.p);
}

static void resp_frame(buf *b, uint32_t id, int code, const char *msg, const void *p, size_t n) {
  buf e = {0};
  response(&e, code, msg, p, n);
  frame(b, id, TTRPC_RESPONSE, 0, &e);
  free(e.p);
}

static void data_frame(buf *b, uint32_t id, uint8_t flags, const char *s) {
  buf e = {0};
  put(&e, s, strlen(s));
  frame(b, id, TTRPC_DATA, flags, &e);
  free(e.p);
}

static void gen_envelope(void) {
  const ttrpc_kv md[] = {{"containerd-namespace-ttrpc", "default"}, {"x-a", ""}, {"", "v"}};
  buf b = {0};
  request(&b, "containerd.task.v2.Task", "State", "\x0a\x02t1", 4, 0, NULL, 0);
  write_seed("fuzz_envelope", "request-state", &b);
  b.n = 0;
  request(&b, "containerd.task.v2.Task", "Create", "\x0a\x02t1\x12\x04/b/x", 10, 2000000000, md, 3);
  write_seed("fuzz_envelope", "request-metadata-timeout", &b);
  b.n = 0;
  request(&b, "s", "m", NULL, 0, -1, md, 1);
  write_seed("fuzz_envelope", "request-negative-timeout", &b);
  b.n = 0;
  response(&b, CS_OK, NULL, "\x08\x01", 2);
  write_seed("fuzz_envelope", "response-ok", &b);
  b.n = 0;
  response(&b, CS_NOT_FOUND, "container t1: not found", NULL, 0);
  write_seed("fuzz_envelope", "response-error", &b);
  free(b.p);
}

/* fuzz_frame input: [mode][options][stream]. mode bit 0: client end; bits 1-2: chunking (0 byte by byte,
 * 1 small, 2 larger, 3 one write). options: see fuzz_frame.c. */
static void frame_seed(const char *name, uint8_t mode, uint8_t opts, const buf *stream) {
  buf b = {0};
  put_u8(&b, mode);
  put_u8(&b, opts);
  put(&b, stream->p, stream->n);
  write_seed("fuzz_frame", name, &b);
  free(b.p);
}

static void gen_frame(void) {
  buf s = {0};
  const ttrpc_kv echo_md[] = {{"X-Echo", "from-metadata"}};

  /* server end */
  req_frame(&s, 1, 0, "Echo", "hello", 5, 0, NULL, 0);
  req_frame(&s, 3, 0, "Empty", NULL, 0, 0, NULL, 0);
  req_frame(&s, 5, 0, "Fail", "\x05not found", 10, 0, NULL, 0);
  req_frame(&s, 7, 0, "Echo", NULL, 0, 0, echo_md, 1);
  frame_seed("server-unary", 6, 0x11, &s);
  frame_seed("server-unary-bytewise", 0, 0x22, &s);

  s.n = 0;
  req_frame(&s, 1, 0, "Hold", NULL, 0, 0, NULL, 0);
  req_frame(&s, 3, 0, "HoldStream", NULL, 0, 0, NULL, 0);
  req_frame(&s, 5, 0, "Hold", NULL, 0, -1, NULL, 0); /* deadline already past */
  req_frame(&s, 7, 0, "Release", "late", 4, 0, NULL, 0);
  frame_seed("server-hold-release", 2, 0x33, &s);
  frame_seed("server-peer-stops-reading", 2, 0x40, &s); /* 0x40: the target stops reading mid-stream */

  /* The target stops reading before the first write (options 0x44 draw shut_after = 0 from the PRNG), so
   * the replies Release sends fail inside ttrpc_call_reply / ttrpc_stream_send, cancel callbacks set. */
  s.n = 0;
  req_frame(&s, 1, 0, "Hold", NULL, 0, 0, NULL, 0);
  req_frame(&s, 3, 0, "HoldStream", NULL, 0, 0, NULL, 0);
  req_frame(&s, 5, 0, "Release", "\x01keep-cancel", 12, 0, NULL, 0);
  frame_seed("server-release-with-cancel-set", 6, 0x44, &s);

  /* ReleaseLater with payload bit 1: the target stops reading, then a timer answers the held calls. */
  s.n = 0;
  req_frame(&s, 1, 0, "Hold", NULL, 0, 0, NULL, 0);
  req_frame(&s, 3, 0, "HoldStream", NULL, 0, 0, NULL, 0);
  req_frame(&s, 5, 0, "Hold", NULL, 0, 0, NULL, 0);
  req_frame(&s, 7, 0, "ReleaseLater", "\x03from a timer", 13, 0, NULL, 0);
  frame_seed("server-release-later-peer-gone", 6, 0x11, &s);
  s.n = 0;
  req_frame(&s, 1, 0, "HoldStream", NULL, 0, 0, NULL, 0);
  req_frame(&s, 3, 0, "HoldStream", NULL, 0, 0, NULL, 0);
  req_frame(&s, 5, 0, "ReleaseLater", "\x00", 1, 0, NULL, 0);
  frame_seed("server-release-later", 6, 0x11, &s);

  s.n = 0;
  req_frame(&s, 1, TTRPC_FLAG_REMOTE_CLOSED, "Stream", "\x03\x00", 2, 0, NULL, 0);
  req_frame(&s, 3, TTRPC_FLAG_REMOTE_CLOSED, "Stream", "\x02\x01", 2, 0, NULL, 0);
  req_frame(&s, 5, TTRPC_FLAG_REMOTE_CLOSED, "Stream", "\x01\x02", 2, 0, NULL, 0);
  req_frame(&s, 7, TTRPC_FLAG_REMOTE_OPEN, "Stream", NULL, 0, 0, NULL, 0);
  data_frame(&s, 7, 0, "client data");
  frame_seed("server-streams", 4, 0x44, &s);

  s.n = 0;
  req_frame(&s, 2, 0, "Echo", "even", 4, 0, NULL, 0);        /* even id */
  req_frame(&s, 5, 0, "Echo", "x", 1, 0, NULL, 0);
  req_frame(&s, 5, 0, "Echo", "reused", 6, 0, NULL, 0);      /* id reused */
  data_frame(&s, 9, 0, "nobody");                            /* data on no stream */
  {
    buf junk = {0};
    put(&junk, "\x0a\x7f" "x\xff\xff", 5);
    frame(&s, 11, TTRPC_REQUEST, 0, &junk);                  /* bad envelope */
    frame(&s, 13, 0x7f, 0, &junk);                           /* unknown type */
    free(junk.p);
  }
  req_frame(&s, 15, 0, "Nope", NULL, 0, 0, NULL, 0);
  req_frame(&s, 17, 0, "Big", "\xc0", 1, 0, NULL, 0);        /* under the limit */
  req_frame(&s, 19, 0, "Big", "\x40", 1, 0, NULL, 0);        /* over it */
  frame_seed("server-rejections", 6, 0x55, &s);

  s.n = 0;
  {
    uint8_t h[TTRPC_HEADER_SIZE];
    ttrpc_frame_header fh = {TTRPC_MAX_MESSAGE + 1, 1, TTRPC_REQUEST, 0};
    ttrpc_header_encode(&fh, h);
    put(&s, h, sizeof h); /* an oversized frame: its payload is skipped as it streams in */
    put(&s, "partial", 7);
  }
  frame_seed("server-oversize", 6, 0x66, &s);

  /* client end: calls 1, 3, 5, 7 and streams 9, 11 are in flight */
  s.n = 0;
  resp_frame(&s, 3, CS_OK, NULL, "three", 5);
  resp_frame(&s, 1, CS_NOT_FOUND, "gone", NULL, 0);
  data_frame(&s, 9, 0, "s9-a");
  data_frame(&s, 9, TTRPC_FLAG_REMOTE_CLOSED, "s9-b");
  data_frame(&s, 11, 0, "s11-a");
  data_frame(&s, 11, TTRPC_FLAG_REMOTE_CLOSED | TTRPC_FLAG_NO_DATA, "");
  resp_frame(&s, 5, CS_OK, NULL, NULL, 0);
  resp_frame(&s, 7, CS_OK, NULL, "seven", 5);
  resp_frame(&s, 99, CS_OK, NULL, "unknown id", 10);
  frame_seed("client-replies", 7, 0x00, &s);
  frame_seed("client-replies-callbacks", 3, 0x0f, &s);
  frame_seed("client-replies-timeout", 5, 0x11, &s);
  frame_seed("client-peer-stops-reading", 3, 0x41, &s);

  s.n = 0;
  resp_frame(&s, 9, CS_UNAVAILABLE, "stream failed", NULL, 0);
  {
    buf junk = {0};
    put(&junk, "\x0a\x7f", 2);
    frame(&s, 1, TTRPC_RESPONSE, 0, &junk);                  /* undecodable response */
    free(junk.p);
    uint8_t h[TTRPC_HEADER_SIZE];
    ttrpc_frame_header fh = {TTRPC_MAX_MESSAGE + 100, 3, TTRPC_RESPONSE, 0};
    ttrpc_header_encode(&fh, h);
    put(&s, h, sizeof h);
  }
  frame_seed("client-errors", 7, 0x08, &s);
  free(s.p);
}

/* ------------------------------------------------------------------ fuzz_task sequences */

enum {
  STATE, CREATE, START, DELETE, PIDS, PAUSE, RESUME, CHECKPOINT, KILL, EXEC, RESIZE, CLOSEIO, UPDATE, WAIT, STATS,
  CONNECT, SHUTDOWN, WATCH, A_EXIT, A_MANUAL, A_COMPLETE, A_FAIL, A_CANCEL, A_RECONNECT, A_TICK
};
#define NOWAIT 0x20
#define EXPIRED 0x40

static void rec(buf *b, int op, const void *p, size_t n) {
  put_u8(b, (uint8_t)op);
  put_u8(b, (uint8_t)(n & 0xff));
  put_u8(b, (uint8_t)(n >> 8));
  put(b, p, n);
}

static void rec_msg(buf *b, int op, const ProtobufCMessage *m) {
  size_t n = protobuf_c_message_get_packed_size(m);
  uint8_t *tmp = malloc(n ? n : 1);
  protobuf_c_message_pack(m, tmp);
  rec(b, op, tmp, n);
  free(tmp);
}

static void t_create(buf *b, int op, const char *id, bool io, bool terminal, size_t nmounts,
                     Containerd__Types__Mount **mounts) {
  Containerd__Task__V2__CreateTaskRequest r = CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
  r.id = (char *)id;
  r.bundle = SB "/b";
  r.terminal = terminal;
  if (io) {
    r.stdin_ = SB "/in";
    r.stdout_ = SB "/out";
    r.stderr_ = terminal ? "" : SB "/err";
  }
  r.n_rootfs = nmounts;
  r.rootfs = mounts;
  rec_msg(b, op, &r.base);
}

/* The many requests shaped {1 id, 2 exec_id} (State, Start, Delete, Wait) share StateRequest's encoding. */
static void t_simple(buf *b, int op, const char *id, const char *exec_id) {
  Containerd__Task__V2__StateRequest r = CONTAINERD__TASK__V2__STATE_REQUEST__INIT;
  r.id = (char *)id;
  r.exec_id = (char *)(exec_id ? exec_id : "");
  rec_msg(b, op, &r.base);
}

static void t_exec(buf *b, const char *id, const char *exec_id, bool io) {
  Containerd__Task__V2__ExecProcessRequest r = CONTAINERD__TASK__V2__EXEC_PROCESS_REQUEST__INIT;
  Google__Protobuf__Any spec = GOOGLE__PROTOBUF__ANY__INIT;
  static char json[] = "{\"args\":[\"sh\"],\"cwd\":\"/\"}";
  spec.type_url = "types.containerd.io/opencontainers/runtime-spec/1/Process";
  spec.value.data = (uint8_t *)json;
  spec.value.len = strlen(json);
  r.id = (char *)id;
  r.exec_id = (char *)exec_id;
  r.spec = &spec;
  if (io) {
    r.stdin_ = SB "/in";
    r.stdout_ = "file://" SB "/exec.log";
  }
  rec_msg(b, EXEC, &r.base);
}

static void t_kill(buf *b, int op, const char *id, const char *exec_id, uint32_t sig, bool all) {
  Containerd__Task__V2__KillRequest r = CONTAINERD__TASK__V2__KILL_REQUEST__INIT;
  r.id = (char *)id;
  r.exec_id = (char *)(exec_id ? exec_id : "");
  r.signal = sig;
  r.all = all;
  rec_msg(b, op, &r.base);
}

static void t_id(buf *b, int op, const char *id) { /* PidsRequest-shaped: {1 id} */
  Containerd__Task__V2__PidsRequest r = CONTAINERD__TASK__V2__PIDS_REQUEST__INIT;
  r.id = (char *)id;
  rec_msg(b, op, &r.base);
}

static void t_exit(buf *b, int pid_index, int status) {
  uint8_t p[2] = {(uint8_t)pid_index, (uint8_t)status};
  rec(b, A_EXIT, p, 2);
}

static void t_watch(buf *b, int op, const char *id, uint64_t interval_ms, uint32_t count) {
  cshim_stats_v1_WatchRequest w = cshim_stats_v1_WatchRequest_init_zero;
  if (id) {
    w.ids_count = 1;
    snprintf(w.ids[0], sizeof w.ids[0], "%s", id);
  }
  w.interval_ms = interval_ms;
  w.count = count;
  uint8_t tmp[cshim_stats_v1_WatchRequest_size];
  pb_ostream_t os = pb_ostream_from_buffer(tmp, sizeof tmp);
  if (!pb_encode(&os, cshim_stats_v1_WatchRequest_fields, &w)) abort();
  rec(b, op, tmp, os.bytes_written);
}

static void gen_task(void) {
  buf b = {0};

  /* The whole lifecycle of a container with an exec, the order containerd drives it. */
  t_create(&b, CREATE, "t1", true, false, 0, NULL);
  t_simple(&b, STATE, "t1", NULL);
  t_simple(&b, START, "t1", NULL);
  t_id(&b, PIDS, "t1");
  t_exec(&b, "t1", "e1", true);
  t_simple(&b, START, "t1", "e1");
  t_simple(&b, WAIT | NOWAIT, "t1", "e1");
  t_exit(&b, 1, 0);
  t_simple(&b, DELETE, "t1", "e1");
  t_kill(&b, KILL, "t1", NULL, 15, false);
  t_exit(&b, 0, 143);
  t_simple(&b, WAIT, "t1", NULL);
  t_simple(&b, DELETE, "t1", NULL);
  rec(&b, SHUTDOWN, NULL, 0);
  write_seed("fuzz_task", "lifecycle", &b);

  b.n = 0;
  t_create(&b, CREATE, "t1", false, false, 0, NULL);
  t_simple(&b, START, "t1", NULL);
  t_id(&b, PAUSE, "t1");
  t_id(&b, STATS, "t1");
  t_id(&b, RESUME, "t1");
  t_id(&b, CONNECT, "t1");
  {
    Containerd__Task__V2__UpdateTaskRequest u = CONTAINERD__TASK__V2__UPDATE_TASK_REQUEST__INIT;
    Google__Protobuf__Any res = GOOGLE__PROTOBUF__ANY__INIT;
    static char json[] = "{\"cpu\":{\"shares\":512}}";
    res.type_url = "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources";
    res.value.data = (uint8_t *)json;
    res.value.len = strlen(json);
    u.id = "t1";
    u.resources = &res;
    rec_msg(&b, UPDATE, &u.base);
    Containerd__Task__V2__ResizePtyRequest rz = CONTAINERD__TASK__V2__RESIZE_PTY_REQUEST__INIT;
    rz.id = "t1";
    rz.width = 80;
    rz.height = 24;
    rec_msg(&b, RESIZE, &rz.base);
    Containerd__Task__V2__CloseIORequest c = CONTAINERD__TASK__V2__CLOSE_IOREQUEST__INIT;
    c.id = "t1";
    c.stdin_ = true;
    rec_msg(&b, CLOSEIO, &c.base);
    Containerd__Task__V2__CheckpointTaskRequest ck = CONTAINERD__TASK__V2__CHECKPOINT_TASK_REQUEST__INIT;
    Containerd__Runc__V1__CheckpointOptions co = CONTAINERD__RUNC__V1__CHECKPOINT_OPTIONS__INIT;
    uint8_t cobuf[256];
    Google__Protobuf__Any opts = GOOGLE__PROTOBUF__ANY__INIT;
    co.exit = true;
    co.image_path = SB "/ckpt";
    opts.type_url = "containerd.runc.v1.CheckpointOptions";
    opts.value.data = cobuf;
    opts.value.len = containerd__runc__v1__checkpoint_options__pack(&co, cobuf);
    ck.id = "t1";
    ck.options = &opts;
    rec_msg(&b, CHECKPOINT, &ck.base);
  }
  t_kill(&b, KILL, "t1", NULL, 9, true);
  write_seed("fuzz_task", "running-ops", &b);

  /* Exit races: an exit while Start is in flight, an exec's exit before its pid is known. */
  b.n = 0;
  t_create(&b, CREATE, "t2", false, false, 0, NULL);
  rec(&b, A_MANUAL, NULL, 0);
  t_simple(&b, START | NOWAIT, "t2", NULL);
  t_exit(&b, 0, 3);
  rec(&b, A_COMPLETE, NULL, 0);
  t_simple(&b, STATE, "t2", NULL);
  t_exec(&b, "t2", "e1", false);
  t_simple(&b, DELETE | NOWAIT, "t2", NULL);
  t_simple(&b, DELETE | NOWAIT, "t2", NULL);
  rec(&b, A_COMPLETE, NULL, 0);
  write_seed("fuzz_task", "exit-races", &b);

  b.n = 0;
  t_create(&b, CREATE, "t3", false, false, 0, NULL);
  t_simple(&b, START, "t3", NULL);
  t_exec(&b, "t3", "x1", false);
  rec(&b, A_MANUAL, NULL, 0);
  t_simple(&b, START | NOWAIT, "t3", "x1");
  t_exit(&b, 1, 1);
  rec(&b, A_COMPLETE, NULL, 0);
  t_simple(&b, WAIT, "t3", "x1");
  write_seed("fuzz_task", "exec-exit-before-pid", &b);

  /* Waits cut off: an expired deadline, a dropped connection. */
  b.n = 0;
  t_create(&b, CREATE, "t4", false, false, 0, NULL);
  t_simple(&b, START, "t4", NULL);
  t_simple(&b, WAIT | EXPIRED, "t4", NULL);
  t_simple(&b, WAIT | NOWAIT, "t4", NULL);
  rec(&b, A_RECONNECT, NULL, 0);
  t_simple(&b, STATE, "t4", NULL);
  write_seed("fuzz_task", "wait-cancelled", &b);

  /* Backend failures. */
  b.n = 0;
  t_create(&b, CREATE, "t5", false, false, 0, NULL);
  uint8_t code = CS_INTERNAL - 1;
  rec(&b, A_FAIL, &code, 1);
  t_simple(&b, START, "t5", NULL);
  rec(&b, A_FAIL, &code, 1);
  t_simple(&b, DELETE, "t5", NULL);
  rec(&b, A_FAIL, &code, 1);
  t_create(&b, CREATE, "t6", false, false, 0, NULL);
  write_seed("fuzz_task", "backend-failures", &b);

  /* Stats stream: all tasks, one task that goes away, a client cancel. */
  b.n = 0;
  t_create(&b, CREATE, "t7", false, false, 0, NULL);
  t_create(&b, CREATE, "t8", false, false, 0, NULL);
  t_watch(&b, WATCH | NOWAIT, NULL, 10, 2);
  t_watch(&b, WATCH | NOWAIT, "t8", 10, 0);
  t_simple(&b, DELETE, "t8", NULL);
  rec(&b, A_TICK, NULL, 0);
  t_watch(&b, WATCH | NOWAIT, "t7", 0, 0);
  rec(&b, A_CANCEL, NULL, 0);
  write_seed("fuzz_task", "watch", &b);

  /* Rootfs mounts (inside the sandbox: a tmpfs, a read-only bind) and a terminal. */
  b.n = 0;
  {
    Containerd__Types__Mount m1 = CONTAINERD__TYPES__MOUNT__INIT, m2 = CONTAINERD__TYPES__MOUNT__INIT;
    char *o1[] = {"nosuid", "size=1m", "rprivate"}, *o2[] = {"rbind", "ro"};
    m1.type = "tmpfs";
    m1.source = SB "/src";
    m1.options = o1;
    m1.n_options = 3;
    m2.type = "bind";
    m2.source = SB "/src";
    m2.options = o2;
    m2.n_options = 2;
    Containerd__Types__Mount *ms[] = {&m1, &m2};
    t_create(&b, CREATE, "m1", false, false, 2, ms);
    t_simple(&b, DELETE, "m1", NULL);
    Containerd__Types__Mount m3 = CONTAINERD__TYPES__MOUNT__INIT;
    char *o3[] = {"lowerdir=" SB "/src", "upperdir=" SB "/b/u", "workdir=" SB "/b/w"};
    m3.type = "overlay";
    m3.source = SB "/src"; /* a sandbox path, so the seed goes out unrewritten */
    m3.options = o3;
    m3.n_options = 3;
    Containerd__Types__Mount *ms3[] = {&m3};
    t_create(&b, CREATE, "m2", false, false, 1, ms3);
  }
  t_create(&b, CREATE, "tty", true, true, 0, NULL);
  write_seed("fuzz_task", "mounts-terminal", &b);

  /* Bad input: ids, bundle, unknown task, undecodable payload. */
  b.n = 0;
  {
    Containerd__Task__V2__CreateTaskRequest r = CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
    r.id = "bad..id";
    r.bundle = SB "/b";
    rec_msg(&b, CREATE, &r.base);
    r.id = "ok";
    r.bundle = "relative";
    rec_msg(&b, CREATE, &r.base);
  }
  t_simple(&b, STATE, "missing", NULL);
  t_kill(&b, KILL, "missing", NULL, 99, false);
  rec(&b, START, "\x0a\xff", 2);
  write_seed("fuzz_task", "bad-input", &b);

  free(b.p);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  g_root = argv[1];
  if (mkdir(g_root, 0755) < 0 && errno != EEXIST) {
    perror(g_root);
    return 1;
  }
  gen_envelope();
  gen_frame();
  gen_task();
  return 0;
}
