/* The shim binary's own entry points, run as containerd runs them, against a stand-in OCI runtime (no runc;
 * test/linux/fake_runc.h: this test binary run as fake-runc): -v, bad flags, -info (the runtime's features),
 * `delete` after a dead shim (the DeleteResponse on stdout, the runtime's force delete), `start` (its
 * argument errors; as root also the address it answers, a second start joining the same shim), and the
 * serving process on a -socket: a task's life through the Task API, Shutdown, SIGTERM, the idle exit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "containerd/runc/options.pb-c.h"
#include "containerd/task/v2/shim.pb-c.h"
#include "containerd/types/introspection.pb-c.h"
#include "fake_runc.h"
#include "google/protobuf/any.pb-c.h"
#include "ttrpc.h"

#ifndef CSHIM_BIN
#error CSHIM_BIN must name the shim binary
#endif

#define TASK "containerd.task.v2.Task"

static char dir[64], bundle[96], fake[96];
static pid_t live_shim; /* a serving shim a failed assertion left running: teardown stops it */

static void put(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static bool file_has(const char *path, const char *needle) {
  char buf[16384] = {0};
  FILE *f = fopen(path, "r");
  if (!f) return false;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return strstr(buf, needle) != NULL;
}

static bool calls_have(const char *needle) {
  char p[128];
  snprintf(p, sizeof p, "%s/calls", dir);
  return file_has(p, needle);
}

/* runc v1 Options naming the stand-in runtime, as an Any (what containerd writes on stdin / in Create). */
static size_t runtime_options(uint8_t *out) {
  Containerd__Runc__V1__Options o = CONTAINERD__RUNC__V1__OPTIONS__INIT;
  o.binary_name = fake;
  char root[128];
  snprintf(root, sizeof root, "%s/state", dir);
  o.root = root;
  uint8_t v[512];
  size_t vn = containerd__runc__v1__options__pack(&o, v);
  Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
  any.type_url = (char *)"containerd.runc.v1.Options";
  any.value.data = v;
  any.value.len = vn;
  return google__protobuf__any__pack(&any, out);
}

typedef struct run_result {
  int status; /* exit code, or -1 */
  uint8_t out[16384];
  size_t out_len;
  char err[8192];
} run_result;

/* Run the shim with args (NULL-terminated) in cwd, stdin from in; wait for it. */
static void run_shim(const char *const *args, const char *cwd, const uint8_t *in, size_t in_len, run_result *r) {
  int ip[2], op[2], ep[2];
  assert_int_equal(pipe(ip), 0);
  assert_int_equal(pipe(op), 0);
  assert_int_equal(pipe(ep), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    if (chdir(cwd) != 0) _exit(126);
    dup2(ip[0], 0);
    dup2(op[1], 1);
    dup2(ep[1], 2);
    for (int i = 0; i < 2; i++) close(ip[i]), close(op[i]), close(ep[i]);
    char *argv[32];
    int n = 0;
    argv[n++] = (char *)CSHIM_BIN;
    for (int i = 0; args[i] && n < 31; i++) argv[n++] = (char *)args[i];
    argv[n] = NULL;
    execv(CSHIM_BIN, argv);
    _exit(127);
  }
  close(ip[0]);
  close(op[1]);
  close(ep[1]);
  if (in_len) assert_int_equal(write(ip[1], in, in_len), (ssize_t)in_len);
  close(ip[1]);
  memset(r, 0, sizeof *r);
  ssize_t n;
  while ((n = read(op[0], r->out + r->out_len, sizeof r->out - r->out_len)) > 0) r->out_len += (size_t)n;
  size_t el = 0;
  while ((n = read(ep[0], r->err + el, sizeof r->err - 1 - el)) > 0) el += (size_t)n;
  r->err[el] = '\0';
  close(op[0]);
  close(ep[0]);
  int st;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/shimcmd-XXXXXX");
  assert_non_null(mkdtemp(dir));
  snprintf(bundle, sizeof bundle, "%s/b", dir);
  assert_int_equal(mkdir(bundle, 0700), 0);
  char p[160];
  snprintf(p, sizeof p, "%s/config.json", bundle);
  put(p, "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sleep\",\"60\"],\"cwd\":\"/\"},"
         "\"linux\":{\"namespaces\":[{\"type\":\"pid\"}]}}");
  snprintf(fake, sizeof fake, "%s/fake-runc", dir);
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  assert_true(n > 0);
  self[n] = '\0';
  assert_int_equal(symlink(self, fake), 0);
  setenv("FAKE_RUNC_DIR", dir, 1);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  if (live_shim > 0) {
    kill(live_shim, SIGKILL);
    waitpid(live_shim, NULL, 0);
    live_shim = 0;
  }
  char p[128];
  snprintf(p, sizeof p, "%s/spawned", dir);
  FILE *f = fopen(p, "r");
  int pid;
  while (f && fscanf(f, "%d", &pid) == 1) kill(pid, SIGKILL);
  if (f) fclose(f);
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  assert_int_equal(system(cmd), 0);
  return 0;
}

static void test_version_and_flags(void **state) {
  (void)state;
  run_result r;
  const char *v[] = {"-v", NULL};
  run_shim(v, dir, NULL, 0, &r);
  assert_int_equal(r.status, 0);
  r.out[r.out_len < sizeof r.out ? r.out_len : sizeof r.out - 1] = '\0';
  assert_non_null(strstr((char *)r.out, "Version:"));
  assert_non_null(strstr((char *)r.out, "Revision:"));
  const char *bad[] = {"-no-such-flag", NULL};
  run_shim(bad, dir, NULL, 0, &r);
  assert_int_equal(r.status, 2);
  assert_non_null(strstr(r.err, "no-such-flag"));
  const char *act[] = {"-namespace", "ns", "-id", "x", "frob", NULL};
  run_shim(act, dir, NULL, 0, &r);
  assert_int_equal(r.status, 2);
  assert_non_null(strstr(r.err, "unknown action frob"));
}

/* -info: RuntimeInfo with the runtime's own features JSON (the runtime named by the options on stdin). */
static void test_info(void **state) {
  (void)state;
  uint8_t opts[1024];
  size_t n = runtime_options(opts);
  run_result r;
  const char *a[] = {"-info", NULL};
  run_shim(a, dir, opts, n, &r);
  assert_int_equal(r.status, 0);
  Containerd__Types__RuntimeInfo *ri = containerd__types__runtime_info__unpack(NULL, r.out_len, r.out);
  assert_non_null(ri);
  assert_non_null(ri->features);
  assert_int_equal(ri->features->value.len, strlen("{\"ociVersionMin\":\"1.0.0\",\"ociVersionMax\":\"1.1.0\",\"hooks\":[\"prestart\"]}"));
  assert_memory_equal(ri->features->value.data, "{\"ociVersionMin\"", 16);
  assert_non_null(ri->options);
  containerd__types__runtime_info__free_unpacked(ri, NULL);
  assert_true(calls_have("features\n"));
  /* a runtime without `features`: still an answer, without them */
  char p[128];
  snprintf(p, sizeof p, "%s/fail-features", dir);
  put(p, "unknown command features");
  run_shim(a, dir, opts, n, &r);
  assert_int_equal(r.status, 0);
  ri = containerd__types__runtime_info__unpack(NULL, r.out_len, r.out);
  assert_non_null(ri);
  assert_null(ri->features);
  containerd__types__runtime_info__free_unpacked(ri, NULL);
}

/* delete after a dead shim: the runtime Create chose (saved in the bundle) force-deletes; the response
 * carries the init pid from the bundle and runc-v2's 137. */
static void test_delete(void **state) {
  (void)state;
  char p[160], line[256];
  snprintf(p, sizeof p, "%s/cshim-runtime", bundle);
  snprintf(line, sizeof line, "%s\n%s/state\n", fake, dir);
  put(p, line);
  snprintf(p, sizeof p, "%s/init.pid", bundle);
  put(p, "4242\n");
  run_result r;
  const char *a[] = {"-namespace", "ns1", "-address", "/nonexistent/ctd.sock", "-publish-binary", "/bin/true",
                     "-id", "c1", "-bundle", bundle, "delete", NULL};
  run_shim(a, dir, NULL, 0, &r);
  assert_int_equal(r.status, 0);
  Containerd__Task__V2__DeleteResponse *d = containerd__task__v2__delete_response__unpack(NULL, r.out_len, r.out);
  assert_non_null(d);
  assert_int_equal(d->pid, 4242);
  assert_int_equal(d->exit_status, 137);
  assert_non_null(d->exited_at);
  assert_true(d->exited_at->seconds > 0);
  containerd__task__v2__delete_response__free_unpacked(d, NULL);
  assert_true(calls_have("delete --force c1\n"));
  assert_string_equal(r.err, ""); /* a cleanup that went as expected says nothing */

  /* the runtime refuses: still a response (containerd needs one), the reason as a warning on stderr */
  snprintf(p, sizeof p, "%s/fail-delete", dir);
  put(p, "permission denied while deleting");
  run_shim(a, bundle, NULL, 0, &r);
  assert_int_equal(r.status, 0);
  assert_true(r.out_len > 0);
  assert_non_null(strstr(r.err, "delete c1"));
  assert_non_null(strstr(r.err, "permission denied while deleting"));
  /* the runtime no longer knows it: a quiet success */
  put(p, "container does not exist");
  run_shim(a, bundle, NULL, 0, &r);
  assert_int_equal(r.status, 0);
  assert_null(strstr(r.err, "does not exist"));
  unlink(p);

  /* a bad id is refused before anything runs */
  const char *bad[] = {"-namespace", "ns1", "-id", "../c1", "-bundle", bundle, "delete", NULL};
  run_shim(bad, dir, NULL, 0, &r);
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "task id"));
  assert_int_equal(r.out_len, 0);
}

/* start: its required flags; as root (the socket dir is /run/containerd/s) the address it answers, the
 * address file, a second start of the same id joining the running shim, and that shim's Shutdown. */
static void test_start(void **state) {
  (void)state;
  run_result r;
  const char *noid[] = {"-namespace", "ns1", "-address", "/x/ctd.sock", "start", NULL};
  run_shim(noid, bundle, NULL, 0, &r);
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "start: -id is required"));
  const char *noaddr[] = {"-namespace", "ns1", "-id", "s1", "start", NULL};
  run_shim(noaddr, bundle, NULL, 0, &r);
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "start: -address is required"));

  char ctd[128];
  snprintf(ctd, sizeof ctd, "%s/ctd.sock", dir);
  const char *a[] = {"-namespace", "shimcmd", "-address", ctd, "-publish-binary", "/bin/true", "-id", "s1", "start", NULL};
  unsetenv("MAX_SHIM_VERSION");
  setenv("TTRPC_ADDRESS", "", 1);
  run_shim(a, bundle, NULL, 0, &r);
  if (geteuid() != 0) { /* the shim socket directory is root's */
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "/run/containerd"));
    unsetenv("TTRPC_ADDRESS");
    return;
  }
  assert_int_equal(r.status, 0);
  r.out[r.out_len] = '\0';
  assert_memory_equal(r.out, "unix:///run/containerd/s/", 25);
  char addr[256];
  snprintf(addr, sizeof addr, "%.250s", (char *)r.out);
  char p[160];
  snprintf(p, sizeof p, "%s/address", bundle);
  assert_true(file_has(p, addr));
  /* MAX_SHIM_VERSION=2: the same shim, answered as bootstrap JSON */
  setenv("MAX_SHIM_VERSION", "2", 1);
  run_shim(a, bundle, NULL, 0, &r);
  unsetenv("MAX_SHIM_VERSION");
  assert_int_equal(r.status, 0);
  r.out[r.out_len] = '\0';
  assert_non_null(strstr((char *)r.out, "\"version\":2"));
  assert_non_null(strstr((char *)r.out, addr));

  uv_loop_t loop;
  uv_loop_init(&loop);
  ttrpc_client *c = ttrpc_client_new(&loop);
  cs_err err;
  assert_int_equal(ttrpc_client_connect_sync(c, addr, &err), 0);
  Containerd__Task__V2__ShutdownRequest sd = CONTAINERD__TASK__V2__SHUTDOWN_REQUEST__INIT;
  sd.id = (char *)"s1";
  uint8_t buf[256], *reply = NULL;
  size_t len = containerd__task__v2__shutdown_request__pack(&sd, buf), rlen = 0;
  assert_int_equal(ttrpc_client_call_sync(c, TASK, "Shutdown", buf, len, NULL, 0, 0, &reply, &rlen, &err), 0);
  free(reply);
  ttrpc_client_close(c);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  /* the shim removes its socket on the way out */
  const char *sock = addr + strlen("unix://");
  for (int i = 0; i < 5000 && access(sock, F_OK) == 0; i++) usleep(1000);
  assert_int_not_equal(access(sock, F_OK), 0);
  /* the serving process (start's child, adopted by us as the subreaper) exited cleanly */
  int st = 0;
  pid_t got = 0;
  for (int i = 0; i < 10000 && (got = waitpid(-1, &st, WNOHANG)) == 0; i++) usleep(1000);
  assert_true(got > 0);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 0);
  unsetenv("TTRPC_ADDRESS");
}

/* ------------------------------------------------------------------ the serving process on -socket */

typedef struct served {
  pid_t pid;
  char sock[128];
  uv_loop_t loop;
  ttrpc_client *c;
} served;

static void serve(served *s, const char *id, const char *idle_ms) {
  snprintf(s->sock, sizeof s->sock, "%s/%s.sock", dir, id);
  char logp[128];
  snprintf(logp, sizeof logp, "%s/%s.log", dir, id);
  s->pid = fork();
  assert_true(s->pid >= 0);
  if (s->pid == 0) {
    if (chdir(bundle) != 0) _exit(126);
    int fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) dup2(fd, 1), dup2(fd, 2);
    setenv("TTRPC_ADDRESS", "", 1); /* set but empty: events are only logged */
    if (idle_ms) setenv("CSHIM_IDLE_EXIT_MS", idle_ms, 1);
    else setenv("CSHIM_IDLE_EXIT_MS", "0", 1);
    execl(CSHIM_BIN, CSHIM_BIN, "-namespace", "ns1", "-id", id, "-socket", s->sock, "-debug", (char *)NULL);
    _exit(127);
  }
  live_shim = s->pid;
  /* The socket file exists from bind() on, before listen(): wait until a connect succeeds (deadline 5 s). */
  uv_loop_init(&s->loop);
  cs_err err;
  int rc = -1;
  for (int i = 0; i < 5000 && rc != 0; i++) {
    s->c = ttrpc_client_new(&s->loop);
    if ((rc = ttrpc_client_connect_sync(s->c, s->sock, &err)) != 0) {
      ttrpc_client_close(s->c);
      uv_run(&s->loop, UV_RUN_NOWAIT);
      usleep(1000);
    }
  }
  assert_int_equal(rc, 0);
}

static int call(served *s, const char *method, const ProtobufCMessage *req, const ProtobufCMessageDescriptor *desc,
                void **out, char *msg) {
  uint8_t buf[4096], *reply = NULL;
  size_t len = protobuf_c_message_pack(req, buf), rlen = 0;
  cs_err err;
  if (ttrpc_client_call_sync(s->c, TASK, method, buf, len, NULL, 0, 0, &reply, &rlen, &err) < 0) {
    if (msg) snprintf(msg, CS_ERR_MSG_MAX, "%s", err.msg);
    return err.code;
  }
  if (desc && out) *out = protobuf_c_message_unpack(desc, NULL, rlen, reply);
  free(reply);
  return 0;
}

/* Wait for the serving process to exit (deadline 10 s); returns its exit code. */
static int wait_exit(served *s) {
  if (s->c) ttrpc_client_close(s->c);
  s->c = NULL;
  uv_run(&s->loop, UV_RUN_DEFAULT);
  uv_loop_close(&s->loop);
  int st = 0;
  pid_t got = 0;
  for (int i = 0; i < 10000 && (got = waitpid(s->pid, &st, WNOHANG)) == 0; i++) usleep(1000);
  live_shim = 0;
  if (got == 0) {
    kill(s->pid, SIGKILL);
    waitpid(s->pid, &st, 0);
    return -1;
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_serve_task(void **state) {
  (void)state;
  char p[128];
  snprintf(p, sizeof p, "%s/kill-signals", dir);
  put(p, "");
  served s;
  serve(&s, "t1", NULL);
  char msg[CS_ERR_MSG_MAX];

  Containerd__Task__V2__CreateTaskRequest cr = CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
  cr.id = (char *)"t1";
  cr.bundle = bundle;
  uint8_t opts[1024];
  size_t on = runtime_options(opts);
  Google__Protobuf__Any *any = google__protobuf__any__unpack(NULL, on, opts);
  cr.options = any;
  Containerd__Task__V2__CreateTaskResponse *crr = NULL;
  assert_int_equal(call(&s, "Create", &cr.base, &containerd__task__v2__create_task_response__descriptor, (void **)&crr, msg), 0);
  google__protobuf__any__free_unpacked(any, NULL);
  assert_non_null(crr);
  int pid = (int)crr->pid;
  containerd__task__v2__create_task_response__free_unpacked(crr, NULL);
  assert_true(pid > 0);
  assert_true(calls_have("create --bundle "));
  snprintf(p, sizeof p, "%s/cshim-runtime", bundle);
  assert_true(file_has(p, fake)); /* for a `delete` after a crash */

  Containerd__Task__V2__StartRequest st = CONTAINERD__TASK__V2__START_REQUEST__INIT;
  st.id = (char *)"t1";
  assert_int_equal(call(&s, "Start", &st.base, NULL, NULL, msg), 0);
  assert_true(calls_have("start t1\n"));

  Containerd__Task__V2__StateRequest sr = CONTAINERD__TASK__V2__STATE_REQUEST__INIT;
  sr.id = (char *)"t1";
  Containerd__Task__V2__StateResponse *srr = NULL;
  assert_int_equal(call(&s, "State", &sr.base, &containerd__task__v2__state_response__descriptor, (void **)&srr, msg), 0);
  assert_int_equal(srr->pid, (uint32_t)pid);
  assert_int_equal(srr->status, CONTAINERD__V1__TYPES__STATUS__RUNNING);
  containerd__task__v2__state_response__free_unpacked(srr, NULL);

  Containerd__Task__V2__StatsRequest str = CONTAINERD__TASK__V2__STATS_REQUEST__INIT;
  str.id = (char *)"t1";
  Containerd__Task__V2__StatsResponse *strr = NULL;
  int rc = call(&s, "Stats", &str.base, &containerd__task__v2__stats_response__descriptor, (void **)&strr, msg);
  if (rc == 0) { /* the stand-in's process is in the test's own cgroup: counters of some cgroup */
    assert_non_null(strr->stats);
    assert_non_null(strstr(strr->stats->type_url, "Metrics"));
    containerd__task__v2__stats_response__free_unpacked(strr, NULL);
  }

  /* an unknown id, and a bad signal, answered with what is wrong */
  Containerd__Task__V2__KillRequest kr = CONTAINERD__TASK__V2__KILL_REQUEST__INIT;
  kr.id = (char *)"nope";
  kr.signal = 9;
  assert_int_equal(call(&s, "Kill", &kr.base, NULL, NULL, msg), CS_NOT_FOUND);
  assert_non_null(strstr(msg, "nope"));
  kr.id = (char *)"t1";
  kr.signal = 9;
  assert_int_equal(call(&s, "Kill", &kr.base, NULL, NULL, msg), 0);
  assert_true(calls_have("kill t1 9\n"));
  Containerd__Task__V2__WaitRequest wr = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;
  wr.id = (char *)"t1";
  Containerd__Task__V2__WaitResponse *wrr = NULL;
  assert_int_equal(call(&s, "Wait", &wr.base, &containerd__task__v2__wait_response__descriptor, (void **)&wrr, msg), 0);
  assert_int_equal(wrr->exit_status, 137);
  containerd__task__v2__wait_response__free_unpacked(wrr, NULL);

  Containerd__Task__V2__DeleteRequest dr = CONTAINERD__TASK__V2__DELETE_REQUEST__INIT;
  dr.id = (char *)"t1";
  Containerd__Task__V2__DeleteResponse *drr = NULL;
  assert_int_equal(call(&s, "Delete", &dr.base, &containerd__task__v2__delete_response__descriptor, (void **)&drr, msg), 0);
  assert_int_equal(drr->exit_status, 137);
  assert_int_equal(drr->pid, (uint32_t)pid);
  containerd__task__v2__delete_response__free_unpacked(drr, NULL);
  assert_true(calls_have("delete t1\n"));

  Containerd__Task__V2__ShutdownRequest sd = CONTAINERD__TASK__V2__SHUTDOWN_REQUEST__INIT;
  sd.id = (char *)"t1";
  assert_int_equal(call(&s, "Shutdown", &sd.base, NULL, NULL, msg), 0);
  assert_int_equal(wait_exit(&s), 0);
  assert_int_not_equal(access(s.sock, F_OK), 0); /* the socket is gone */
}

/* SIGTERM stops a serving shim cleanly; with no task and no client it exits by itself after the grace. */
static void test_serve_stop(void **state) {
  (void)state;
  char logp[128];
  snprintf(logp, sizeof logp, "%s/log", bundle); /* containerd's log FIFO; a file here */
  put(logp, "");
  served s;
  serve(&s, "t2", NULL);
  kill(s.pid, SIGTERM);
  assert_int_equal(wait_exit(&s), 0);
  assert_int_not_equal(access(s.sock, F_OK), 0);
  assert_true(file_has(logp, "cshim serving"));
  assert_true(file_has(logp, "signal 15"));
  unlink(logp);

  serve(&s, "t3", "50");
  ttrpc_client_close(s.c); /* containerd went away */
  s.c = NULL;
  assert_int_equal(wait_exit(&s), 0);
  assert_int_not_equal(access(s.sock, F_OK), 0);

  /* a socket path it cannot listen on */
  served bad = {0};
  snprintf(bad.sock, sizeof bad.sock, "%s/no/such/dir/x.sock", dir);
  bad.pid = fork();
  if (bad.pid == 0) {
    if (chdir(bundle) != 0) _exit(126);
    int fd = open("/dev/null", O_WRONLY);
    dup2(fd, 1), dup2(fd, 2);
    execl(CSHIM_BIN, CSHIM_BIN, "-namespace", "ns1", "-id", "t4", "-socket", bad.sock, (char *)NULL);
    _exit(127);
  }
  int st;
  assert_int_equal(waitpid(bad.pid, &st, 0), bad.pid);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 1);
}

int main(int argc, char **argv) {
  char self[4096];
  snprintf(self, sizeof self, "%s", argv[0]);
  if (strcmp(basename(self), "fake-runc") == 0) return fake_runc_main(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  prctl(PR_SET_CHILD_SUBREAPER, 1); /* start's serving process is reparented to us, and reaped here */
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_version_and_flags, setup, teardown),
      cmocka_unit_test_setup_teardown(test_info, setup, teardown),
      cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
      cmocka_unit_test_setup_teardown(test_start, setup, teardown),
      cmocka_unit_test_setup_teardown(test_serve_task, setup, teardown),
      cmocka_unit_test_setup_teardown(test_serve_stop, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
