/* The handlers' error paths through the real socket with the fake backend: Kill / Update / Checkpoint with
 * bad input or a failing runtime, Delete while an operation or an exec is in flight, Create and exec Start
 * failures (synchronous and reported later), Stats and Pids failures; and stdio (task_io.c) end to end:
 * FIFOs and file:// outputs handed to the "process" (the fake keeps the fds), stdin pumped until CloseIO
 * gives EOF, and a pty from the fake (output, input, resize). */
#include "svc_env.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "containerd/runc/options.pb-c.h"

/* ------------------------------------------------------------------ helpers */

typedef struct pending_call {
  bool answered;
  int code;
  char msg[CS_ERR_MSG_MAX];
} pending_call;

static pending_call *PC;
static void on_answer(void *data, int code, const char *msg, const uint8_t *p, size_t n) {
  pending_call *pc = data;
  pc->answered = true;
  pc->code = code;
  snprintf(pc->msg, sizeof pc->msg, "%s", msg ? msg : "");
}
static bool answered(void) { return PC->answered; }
static bool op_pending(void) { return E->rt->n_pending > 0; }

/* Send without waiting for the answer (the fake in manual mode holds the backend op). */
static void send_async(const char *method, const ProtobufCMessage *req, pending_call *pc) {
  uint8_t buf[4096];
  size_t len = protobuf_c_message_pack(req, buf);
  cs_err err;
  *pc = (pending_call){0};
  assert_int_equal(ttrpc_client_call(E->client, TASK, method, buf, len, NULL, 0, 0, on_answer, pc, &err), 0);
}

static void wait_answer(pending_call *pc) {
  PC = pc;
  run_until(answered);
  assert_true(pc->answered);
}

static int kill_(const char *id, const char *exec_id, uint32_t sig, bool all, char *msg) {
  Containerd__Task__V2__KillRequest k = CONTAINERD__TASK__V2__KILL_REQUEST__INIT;
  k.id = (char *)id;
  k.exec_id = (char *)(exec_id ? exec_id : "");
  k.signal = sig;
  k.all = all;
  return call("Kill", &k.base, NULL, NULL, msg);
}

static int exec_(const char *id, const char *exec_id, bool terminal, const char *in, const char *out,
                 const char *err_path) {
  Containerd__Task__V2__ExecProcessRequest x = CONTAINERD__TASK__V2__EXEC_PROCESS_REQUEST__INIT;
  Google__Protobuf__Any spec = GOOGLE__PROTOBUF__ANY__INIT;
  spec.type_url = "types.containerd.io/opencontainers/runtime-spec/1/Process";
  spec.value.data = (uint8_t *)"{\"args\":[\"true\"]}";
  spec.value.len = strlen((char *)spec.value.data);
  x.id = (char *)id;
  x.exec_id = (char *)exec_id;
  x.spec = &spec;
  x.terminal = terminal;
  x.stdin_ = (char *)(in ? in : "");
  x.stdout_ = (char *)(out ? out : "");
  x.stderr_ = (char *)(err_path ? err_path : "");
  return call("Exec", &x.base, NULL, NULL, NULL);
}

static int create_io(const char *id, bool terminal, const char *in, const char *out, const char *err_path,
                     char *msg) {
  Containerd__Task__V2__CreateTaskRequest r = CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
  r.id = (char *)id;
  r.bundle = E->dir;
  r.terminal = terminal;
  r.stdin_ = (char *)(in ? in : "");
  r.stdout_ = (char *)(out ? out : "");
  r.stderr_ = (char *)(err_path ? err_path : "");
  return call("Create", &r.base, NULL, NULL, msg);
}

static int update_(const char *id, const char *json) {
  Containerd__Task__V2__UpdateTaskRequest u = CONTAINERD__TASK__V2__UPDATE_TASK_REQUEST__INIT;
  Google__Protobuf__Any res = GOOGLE__PROTOBUF__ANY__INIT;
  u.id = (char *)id;
  if (json) {
    res.type_url = "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources";
    res.value.data = (uint8_t *)json;
    res.value.len = strlen(json);
    u.resources = &res;
  }
  return call("Update", &u.base, NULL, NULL, NULL);
}

static int pid_of(const char *id, const char *exec_id) {
  Containerd__Task__V2__StateRequest r = CONTAINERD__TASK__V2__STATE_REQUEST__INIT;
  r.id = (char *)id;
  r.exec_id = (char *)(exec_id ? exec_id : "");
  Containerd__Task__V2__StateResponse *resp = NULL;
  assert_int_equal(call("State", &r.base, &containerd__task__v2__state_response__descriptor, (void **)&resp, NULL), 0);
  int pid = (int)resp->pid;
  containerd__task__v2__state_response__free_unpacked(resp, NULL);
  assert_true(pid > 0);
  return pid;
}

/* The service makes its backend at the first Create: one task makes sure the fake exists. */
static fake_rt *backend_up(void) {
  assert_int_equal(create("boot"), 0);
  return E->rt;
}

static void fail_next(const char *op, int code, bool async) {
  E->rt->fail_code = code;
  snprintf(E->rt->fail_op, sizeof E->rt->fail_op, "%s", op);
  E->rt->fail_async = async;
}

static void fifo(char *path, size_t len, const char *name) {
  snprintf(path, len, "%s/%s", E->dir, name);
  assert_int_equal(mkfifo(path, 0600), 0);
}

/* Read what fd has within about 2 s while the shim's loop turns (its pumps run on it): until want is seen. */
static void read_until(int fd, const char *want, char *got, size_t cap) {
  size_t n = 0;
  got[0] = '\0';
  for (int i = 0; i < 2000 && !strstr(got, want); i++) {
    uv_run(&E->loop, UV_RUN_NOWAIT);
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (poll(&pfd, 1, 1) == 1) {
      ssize_t r = read(fd, got + n, cap - 1 - n);
      if (r > 0) n += (size_t)r, got[n] = '\0';
    }
  }
  assert_non_null(strstr(got, want));
}

/* The fd reads EOF (every writer gone) within about 2 s of loop turns. */
static bool reads_eof(int fd) {
  for (int i = 0; i < 2000; i++) {
    uv_run(&E->loop, UV_RUN_NOWAIT);
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (poll(&pfd, 1, 1) == 1) {
      char b[64];
      ssize_t r = read(fd, b, sizeof b);
      if (r == 0) return true;
      if (r < 0 && errno != EAGAIN) return false;
    }
  }
  return false;
}

/* ------------------------------------------------------------------ Kill */

static void test_kill_errors(void **state) {
  char msg[CS_ERR_MSG_MAX];
  assert_int_equal(create("k1"), 0);
  assert_int_equal(simple("Start", "k1", NULL), 0);
  assert_int_equal(kill_("nosuch", NULL, 9, false, msg), CS_NOT_FOUND);
  /* signal 0 and past the last real-time signal are refused before the runtime sees them */
  assert_int_equal(kill_("k1", NULL, 0, false, msg), CS_INVALID_ARGUMENT);
  assert_non_null(strstr(msg, "signal 0"));
  assert_int_equal(kill_("k1", NULL, 65, false, msg), CS_INVALID_ARGUMENT);
  assert_false(fake_rt_called(E->rt, "kill k1 0 0"));
  /* an exec that was never started has no pid to signal */
  assert_int_equal(exec_("k1", "x1", false, NULL, NULL, NULL), 0);
  assert_int_equal(kill_("k1", "x1", 9, false, msg), CS_FAILED_PRECONDITION);
  assert_non_null(strstr(msg, "not started"));
  /* the runtime failing: refused at once, or reported later; the code is the runtime's */
  fail_next("kill", CS_UNKNOWN, false);
  assert_int_equal(kill_("k1", NULL, 15, false, msg), CS_UNKNOWN);
  fail_next("kill", CS_DEADLINE_EXCEEDED, true);
  assert_int_equal(kill_("k1", NULL, 15, false, msg), CS_DEADLINE_EXCEEDED);
  assert_int_equal(state_of("k1", NULL, NULL), 2); /* still running: nothing changed */
  /* a good one reaches the runtime with the container (pid 0) and `all` */
  assert_int_equal(kill_("k1", NULL, 9, true, msg), 0);
  assert_true(fake_rt_called(E->rt, "kill k1 9 0 all"));
  /* after the exit: the init is gone (NotFound) but `all` still reaches the container's other processes */
  fake_rt_exit(E->rt, 1000, 137);
  assert_int_equal(kill_("k1", NULL, 9, false, msg), CS_NOT_FOUND);
  assert_int_equal(kill_("k1", NULL, 9, true, msg), 0);
}

/* ------------------------------------------------------------------ Update, Checkpoint */

static void test_update_errors(void **state) {
  assert_int_equal(create("u1"), 0);
  assert_int_equal(simple("Start", "u1", NULL), 0);
  assert_int_equal(update_("u1", NULL), CS_INVALID_ARGUMENT); /* no resources */
  assert_int_equal(update_("nosuch", "{}"), CS_NOT_FOUND);
  fail_next("update", CS_INTERNAL, true);
  assert_int_equal(update_("u1", "{\"memory\":{\"limit\":1048576}}"), CS_INTERNAL);
  assert_int_equal(update_("u1", "{\"memory\":{\"limit\":1048576}}"), 0);
  assert_true(fake_rt_called(E->rt, "update u1"));
  fake_rt_exit(E->rt, 1000, 0);
  assert_int_equal(update_("u1", "{}"), CS_NOT_FOUND); /* finished */
}

static void test_checkpoint_errors(void **state) {
  char msg[CS_ERR_MSG_MAX];
  assert_int_equal(create("c1"), 0);
  assert_int_equal(simple("Start", "c1", NULL), 0);
  Containerd__Task__V2__CheckpointTaskRequest c = CONTAINERD__TASK__V2__CHECKPOINT_TASK_REQUEST__INIT;
  Google__Protobuf__Any opts = GOOGLE__PROTOBUF__ANY__INIT;
  c.id = "c1";
  /* options that do not decode as containerd.runc.v1.CheckpointOptions */
  static uint8_t garbage[] = {0x0a, 0xff, 0xff, 0xff};
  opts.type_url = "containerd.runc.v1.CheckpointOptions";
  opts.value.data = garbage;
  opts.value.len = sizeof garbage;
  c.options = &opts;
  c.path = "/tmp/image";
  assert_int_equal(call("Checkpoint", &c.base, NULL, NULL, msg), CS_INVALID_ARGUMENT);
  assert_non_null(strstr(msg, "do not decode"));
  /* no image path anywhere */
  c.options = NULL;
  c.path = "";
  assert_int_equal(call("Checkpoint", &c.base, NULL, NULL, msg), CS_INVALID_ARGUMENT);
  assert_non_null(strstr(msg, "no image path"));
  /* the image path from the options wins over the request's; the runtime's refusal comes back */
  Containerd__Runc__V1__CheckpointOptions o = CONTAINERD__RUNC__V1__CHECKPOINT_OPTIONS__INIT;
  o.image_path = "/tmp/from-options";
  o.exit = true;
  uint8_t ob[256];
  opts.value.data = ob;
  opts.value.len = containerd__runc__v1__checkpoint_options__pack(&o, ob);
  c.options = &opts;
  c.path = "/tmp/from-request";
  assert_int_equal(call("Checkpoint", &c.base, NULL, NULL, msg), CS_FAILED_PRECONDITION);
  assert_true(fake_rt_called(E->rt, "checkpoint c1 /tmp/from-options exit"));
  c.id = "nosuch";
  assert_int_equal(call("Checkpoint", &c.base, NULL, NULL, msg), CS_NOT_FOUND);
}

/* ------------------------------------------------------------------ Delete while something is in flight */

static void test_delete_in_flight(void **state) {
  char msg[CS_ERR_MSG_MAX];
  assert_int_equal(create("d1"), 0);
  /* a Start the runtime has not finished: Delete refuses, the Start then completes normally */
  E->rt->manual = true;
  Containerd__Task__V2__StartRequest s = CONTAINERD__TASK__V2__START_REQUEST__INIT;
  s.id = "d1";
  s.exec_id = "";
  pending_call start;
  send_async("Start", &s.base, &start);
  run_until(op_pending);
  assert_int_equal(simple("Delete", "d1", NULL), CS_FAILED_PRECONDITION);
  assert_int_equal(simple("Start", "d1", NULL), CS_FAILED_PRECONDITION); /* and a second Start */
  fake_rt_complete(E->rt);
  wait_answer(&start);
  assert_int_equal(start.code, 0);
  E->rt->manual = false;
  /* a running exec: neither it nor (after the init exits) the task may be deleted */
  assert_int_equal(exec_("d1", "x1", false, NULL, NULL, NULL), 0);
  assert_int_equal(simple("Start", "d1", "x1"), 0);
  assert_int_equal(simple("Delete", "d1", "x1"), CS_FAILED_PRECONDITION);
  fake_rt_exit(E->rt, 1000, 0);
  Containerd__Task__V2__DeleteRequest d = CONTAINERD__TASK__V2__DELETE_REQUEST__INIT;
  d.id = "d1";
  assert_int_equal(call("Delete", &d.base, NULL, NULL, msg), CS_FAILED_PRECONDITION);
  assert_non_null(strstr(msg, "running exec x1"));
  fake_rt_exit(E->rt, 1001, 3);
  assert_int_equal(simple("Delete", "d1", "x1"), 0);
  /* the runtime's delete failing (later): the task stays, a retry works */
  fail_next("delete", CS_UNKNOWN, true);
  assert_int_equal(simple("Delete", "d1", NULL), CS_UNKNOWN);
  assert_int_equal(state_of("d1", NULL, NULL), 3);
  fail_next("delete", CS_INTERNAL, false);
  assert_int_equal(simple("Delete", "d1", NULL), CS_INTERNAL);
  assert_int_equal(simple("Delete", "d1", NULL), 0);
  assert_int_equal(state_of("d1", NULL, NULL), -CS_NOT_FOUND);
  /* a created (never started) task is deleted with force and reports 137 */
  assert_int_equal(create("d2"), 0);
  Containerd__Task__V2__DeleteResponse *dr = NULL;
  d.id = "d2";
  assert_int_equal(call("Delete", &d.base, &containerd__task__v2__delete_response__descriptor, (void **)&dr, NULL), 0);
  assert_int_equal(dr->exit_status, 137);
  containerd__task__v2__delete_response__free_unpacked(dr, NULL);
  assert_true(fake_rt_called(E->rt, "delete d2 force"));
}

/* ------------------------------------------------------------------ Create and Start failures */

static void test_create_start_failures(void **state) {
  char msg[CS_ERR_MSG_MAX];
  start_events_server(E);
  backend_up();
  fail_next("create", CS_UNKNOWN, false);
  assert_int_equal(create("f1"), CS_UNKNOWN);
  assert_int_equal(state_of("f1", NULL, NULL), -CS_NOT_FOUND);
  fail_next("create", CS_RESOURCE_EXHAUSTED, true);
  assert_int_equal(create("f1"), CS_RESOURCE_EXHAUSTED);
  assert_int_equal(state_of("f1", NULL, NULL), -CS_NOT_FOUND); /* not kept: the id can be used again */
  /* runtime options that do not decode */
  Containerd__Task__V2__CreateTaskRequest r = CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
  Google__Protobuf__Any o = GOOGLE__PROTOBUF__ANY__INIT;
  static uint8_t garbage[] = {0x0a, 0xff, 0xff};
  o.type_url = "containerd.runc.v1.Options";
  o.value.data = garbage;
  o.value.len = sizeof garbage;
  r.id = "f2";
  r.bundle = E->dir;
  r.options = &o;
  assert_int_equal(call("Create", &r.base, NULL, NULL, msg), CS_INVALID_ARGUMENT);
  assert_non_null(strstr(msg, "runtime options"));
  /* a checkpoint to restore from that is not there */
  r.options = NULL;
  r.checkpoint = "/nonexistent/cshim-checkpoint";
  assert_int_equal(call("Create", &r.base, NULL, NULL, msg), CS_NOT_FOUND);
  /* the init's start failing later leaves it created; an exec whose start fails never ran: stopped, 255 */
  assert_int_equal(create("f3"), 0);
  fail_next("start", CS_UNKNOWN, true);
  assert_int_equal(simple("Start", "f3", NULL), CS_UNKNOWN);
  assert_int_equal(state_of("f3", NULL, NULL), 1);
  assert_int_equal(simple("Start", "f3", NULL), 0);
  assert_int_equal(exec_("f3", "x1", false, NULL, NULL, NULL), 0);
  fail_next("exec", CS_UNKNOWN, true);
  assert_int_equal(simple("Start", "f3", "x1"), CS_UNKNOWN);
  uint32_t st = 0;
  assert_int_equal(state_of("f3", "x1", &st), 3);
  assert_int_equal(st, 255);
  Containerd__Task__V2__WaitRequest w = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;
  w.id = "f3";
  w.exec_id = "x1";
  Containerd__Task__V2__WaitResponse *wr = NULL;
  assert_int_equal(call("Wait", &w.base, &containerd__task__v2__wait_response__descriptor, (void **)&wr, NULL), 0);
  assert_int_equal(wr->exit_status, 255);
  containerd__task__v2__wait_response__free_unpacked(wr, NULL);
  /* refused at once by the runtime: the exec stays created and can be started again */
  assert_int_equal(exec_("f3", "x2", false, NULL, NULL, NULL), 0);
  fail_next("exec", CS_INTERNAL, false);
  assert_int_equal(simple("Start", "f3", "x2"), CS_INTERNAL);
  assert_int_equal(state_of("f3", "x2", NULL), 1);
  /* exec into a stopped container: refused, and an exec created before the stop never runs */
  fake_rt_exit(E->rt, pid_of("f3", NULL), 0);
  assert_int_equal(exec_("f3", "x3", false, NULL, NULL, NULL), CS_FAILED_PRECONDITION);
  assert_int_equal(simple("Start", "f3", "x2"), CS_FAILED_PRECONDITION);
  assert_int_equal(state_of("f3", "x2", &st), 3);
  assert_int_equal(st, 255);
  /* no create event for a failed create: boot's and f3's only */
  run_until(events_done);
  int creates = 0;
  for (int i = 0; i < E->n_topics; i++) creates += !strcmp(E->topics[i], "/tasks/create");
  assert_int_equal(creates, 2);
}

/* ------------------------------------------------------------------ Stats, Pids */

static void test_stats_pids_failures(void **state) {
  assert_int_equal(create("s1"), 0);
  assert_int_equal(simple("Start", "s1", NULL), 0);
  E->rt->stats_fail_code = CS_UNAVAILABLE;
  Containerd__Task__V2__StatsRequest s = CONTAINERD__TASK__V2__STATS_REQUEST__INIT;
  s.id = "s1";
  assert_int_equal(call("Stats", &s.base, NULL, NULL, NULL), CS_UNAVAILABLE);
  Containerd__Task__V2__PidsRequest p = CONTAINERD__TASK__V2__PIDS_REQUEST__INIT;
  p.id = "s1";
  assert_int_equal(call("Pids", &p.base, NULL, NULL, NULL), CS_UNAVAILABLE);
  E->rt->stats_fail_code = 0;
  assert_int_equal(call("Stats", &s.base, NULL, NULL, NULL), 0);
  /* Pids names the exec a pid belongs to (ProcessDetails) */
  assert_int_equal(exec_("s1", "x1", false, NULL, NULL, NULL), 0);
  assert_int_equal(simple("Start", "s1", "x1"), 0); /* pid 1001, the fake's newest: Pids lists it first */
  Containerd__Task__V2__PidsResponse *pr = NULL;
  assert_int_equal(call("Pids", &p.base, &containerd__task__v2__pids_response__descriptor, (void **)&pr, NULL), 0);
  assert_int_equal(pr->n_processes, 2);
  assert_int_equal(pr->processes[0]->pid, 1001);
  assert_non_null(pr->processes[0]->info);
  Containerd__Runc__V1__ProcessDetails *d = containerd__runc__v1__process_details__unpack(
      NULL, pr->processes[0]->info->value.len, pr->processes[0]->info->value.data);
  assert_non_null(d);
  assert_string_equal(d->exec_id, "x1");
  containerd__runc__v1__process_details__free_unpacked(d, NULL);
  assert_null(pr->processes[1]->info);
  containerd__task__v2__pids_response__free_unpacked(pr, NULL);
}

/* ------------------------------------------------------------------ stdio: FIFOs and files */

static void test_stdio_fifos(void **state) {
  char in[128], out[128], errp[128], got[256];
  backend_up()->keep_stdio = true;
  fifo(in, sizeof in, "in");
  fifo(out, sizeof out, "out");
  fifo(errp, sizeof errp, "err");
  /* containerd opens its read ends first; stdin it opens for writing after Create */
  int out_r = open(out, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  int err_r = open(errp, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  assert_true(out_r >= 0 && err_r >= 0);
  assert_int_equal(create_io("io1", false, in, out, errp, NULL), 0);
  int in_w = open(in, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  assert_true(in_w >= 0);
  assert_int_equal(simple("Start", "io1", NULL), 0);
  /* the process's stdout and stderr are the FIFOs themselves */
  fake_rt *f = E->rt;
  assert_true(f->io_fd[0] >= 0 && f->io_fd[1] >= 0 && f->io_fd[2] >= 0);
  assert_int_equal(write(f->io_fd[1], "to-stdout\n", 10), 10);
  assert_int_equal(write(f->io_fd[2], "to-stderr\n", 10), 10);
  read_until(out_r, "to-stdout", got, sizeof got);
  read_until(err_r, "to-stderr", got, sizeof got);
  /* stdin is pumped from the FIFO into the process's pipe */
  assert_int_equal(fcntl(f->io_fd[0], F_SETFL, O_NONBLOCK), 0);
  assert_int_equal(write(in_w, "typed\n", 6), 6);
  read_until(f->io_fd[0], "typed", got, sizeof got);
  /* CloseIO: once the client's writer is gone too, the process reads EOF */
  Containerd__Task__V2__CloseIORequest c = CONTAINERD__TASK__V2__CLOSE_IOREQUEST__INIT;
  c.id = "io1";
  c.stdin_ = true;
  assert_int_equal(call("CloseIO", &c.base, NULL, NULL, NULL), 0);
  close(in_w);
  assert_true(reads_eof(f->io_fd[0]));
  /* a process without a terminal cannot be resized: the backend says so */
  Containerd__Task__V2__ResizePtyRequest rz = CONTAINERD__TASK__V2__RESIZE_PTY_REQUEST__INIT;
  rz.id = "io1";
  rz.width = 80;
  rz.height = 24;
  assert_int_equal(call("ResizePty", &rz.base, NULL, NULL, NULL), CS_UNIMPLEMENTED);

  /* an exec's stdout into a file:// URI, stderr into a FIFO nobody reads yet (the open must not block) */
  char file_uri[160], file[128], lonely[128];
  snprintf(file, sizeof file, "%s/exec.log", E->dir);
  snprintf(file_uri, sizeof file_uri, "file://%s", file);
  fifo(lonely, sizeof lonely, "lonely");
  assert_int_equal(exec_("io1", "x1", false, NULL, file_uri, lonely), 0);
  assert_int_equal(simple("Start", "io1", "x1"), 0);
  assert_int_equal(f->io_fd[0], -1); /* no stdin: /dev/null for the process */
  assert_int_equal(write(f->io_fd[1], "logged\n", 7), 7);
  int lf = open(file, O_RDONLY | O_CLOEXEC);
  assert_true(lf >= 0);
  assert_int_equal(read(lf, got, sizeof got), 7);
  close(lf);
  assert_int_equal(write(f->io_fd[2], "waits\n", 6), 6); /* held in the FIFO for a reader to come */
  int lonely_r = open(lonely, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  read_until(lonely_r, "waits", got, sizeof got);
  close(lonely_r);

  /* outputs the shim cannot open: refused with the reason, nothing created */
  assert_int_equal(exec_("io1", "x2", false, NULL, "binary:///usr/bin/logger", NULL), CS_UNIMPLEMENTED);
  assert_int_equal(exec_("io1", "x3", false, "/nonexistent/stdin", NULL, NULL), CS_NOT_FOUND);
  assert_int_equal(state_of("io1", "x2", NULL), -CS_NOT_FOUND);
  char msg[CS_ERR_MSG_MAX];
  assert_int_equal(create_io("io2", false, NULL, "/nonexistent/dir/out", NULL, msg), CS_NOT_FOUND);
  assert_non_null(strstr(msg, "/nonexistent/dir/out"));
  close(out_r);
  close(err_r);
}

/* ------------------------------------------------------------------ stdio: a terminal */

static void test_terminal(void **state) {
  char in[128], out[128], got[512];
  backend_up()->give_console = true;
  fifo(in, sizeof in, "tin");
  fifo(out, sizeof out, "tout");
  int out_r = open(out, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  assert_true(out_r >= 0);
  assert_int_equal(create_io("tt", true, in, out, NULL, NULL), 0);
  int in_w = open(in, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  assert_true(in_w >= 0);
  assert_int_equal(simple("Start", "tt", NULL), 0);
  fake_rt *f = E->rt;
  assert_true(f->tty >= 0);
  /* the process writes to its terminal: the shim copies it to the stdout FIFO */
  assert_int_equal(write(f->tty, "prompt$ ", 8), 8);
  read_until(out_r, "prompt$ ", got, sizeof got);
  /* typed input reaches the process through the pty */
  assert_int_equal(fcntl(f->tty, F_SETFL, O_NONBLOCK), 0);
  assert_int_equal(write(in_w, "ls\n", 3), 3);
  read_until(f->tty, "ls", got, sizeof got);
  /* the window size is set on the pty itself */
  Containerd__Task__V2__ResizePtyRequest rz = CONTAINERD__TASK__V2__RESIZE_PTY_REQUEST__INIT;
  rz.id = "tt";
  rz.width = 132;
  rz.height = 43;
  assert_int_equal(call("ResizePty", &rz.base, NULL, NULL, NULL), 0);
  struct winsize ws;
  assert_int_equal(ioctl(f->tty, TIOCGWINSZ, &ws), 0);
  assert_int_equal(ws.ws_col, 132);
  assert_int_equal(ws.ws_row, 43);
  /* a terminal exec gets its own pty */
  assert_int_equal(exec_("tt", "x1", true, NULL, out, NULL), 0);
  assert_int_equal(simple("Start", "tt", "x1"), 0);
  assert_int_equal(write(f->tty, "from-exec", 9), 9);
  read_until(out_r, "from-exec", got, sizeof got);
  rz.exec_id = "x1";
  rz.width = 90;
  rz.height = 20;
  assert_int_equal(call("ResizePty", &rz.base, NULL, NULL, NULL), 0);
  assert_int_equal(ioctl(f->tty, TIOCGWINSZ, &ws), 0);
  assert_int_equal(ws.ws_col, 90);
  /* the process goes: its terminal closes (EIO on the master), the shim's copy ends without error */
  fake_rt_close_stdio(f);
  fake_rt_exit(f, pid_of("tt", "x1"), 0);
  assert_int_equal(simple("Delete", "tt", "x1"), 0);
  fake_rt_exit(f, pid_of("tt", NULL), 0);
  assert_int_equal(simple("Delete", "tt", NULL), 0);
  close(in_w);
  close(out_r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_kill_errors, setup, teardown),
    cmocka_unit_test_setup_teardown(test_update_errors, setup, teardown),
    cmocka_unit_test_setup_teardown(test_checkpoint_errors, setup, teardown),
    cmocka_unit_test_setup_teardown(test_delete_in_flight, setup, teardown),
    cmocka_unit_test_setup_teardown(test_create_start_failures, setup, teardown),
    cmocka_unit_test_setup_teardown(test_stats_pids_failures, setup, teardown),
    cmocka_unit_test_setup_teardown(test_stdio_fifos, setup, teardown),
    cmocka_unit_test_setup_teardown(test_terminal, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
