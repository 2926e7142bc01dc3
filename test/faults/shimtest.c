#include "shimtest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "containerd/events/task.pb-c.h"
#include "containerd/runc/options.pb-c.h"
#include "containerd/services/events/ttrpc_events.pb-c.h"

/* ------------------------------------------------------------------ TAP */

int st_init(st_env *e, int argc, char **argv) {
  memset(e, 0, sizeof *e);
  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGPIPE, SIG_IGN);
  if (argc < 4) {
    fprintf(stderr, "usage: %s SHIM WORK NS\n", argv[0]);
    return -1;
  }
  e->shim = argv[1];
  e->work = argv[2];
  e->ns = argv[3];
  e->loop = uv_default_loop();
  e->t0 = uv_hrtime();
  snprintf(e->rootfs, sizeof e->rootfs, "%s/rootfs", e->work);
  snprintf(e->address, sizeof e->address, "%s/ctd.sock", e->work);
  snprintf(e->evsock, sizeof e->evsock, "%s/ctd.sock.ttrpc", e->work);
  e->events = calloc(ST_MAX_EVENTS, sizeof *e->events);
  return e->events ? 0 : -1;
}

bool st_check(st_env *e, bool cond, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf("%s %d - ", cond ? "ok" : "not ok", ++e->n_test);
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  if (cond) e->pass++;
  else e->fail++;
  return cond;
}

void st_diag(const char *fmt, ...) {
  char buf[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  /* every line of a multi-line diagnostic is a TAP comment */
  for (char *s = buf, *nl; s && *s; s = nl ? nl + 1 : NULL) {
    nl = strchr(s, '\n');
    printf("#   %.*s\n", nl ? (int)(nl - s) : (int)strlen(s), s);
  }
}

double st_elapsed(const st_env *e) { return (double)(uv_hrtime() - e->t0) / 1e9; }

int st_finish(st_env *e) {
  printf("1..%d\n", e->n_test);
  printf("%d passed, %d failed\n", e->pass, e->fail);
  char path[1024];
  snprintf(path, sizeof path, "%s/counts", e->work);
  FILE *f = fopen(path, "we"); /* for run.sh, which may add a failure of its own */
  if (f) fprintf(f, "%d %d\n", e->pass, e->fail), fclose(f);
  free(e->events);
  e->events = NULL;
  return e->fail == 0 && e->pass > 0 ? 0 : 1;
}

/* ------------------------------------------------------------------ files */

char *st_path(char *buf, size_t n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int len = vsnprintf(buf, n, fmt, ap);
  va_end(ap);
  if (len < 0 || (size_t)len >= n) {
    fprintf(stderr, "path too long: %s...\n", buf);
    abort();
  }
  return buf;
}

void st_record(st_env *e, const char *name, const char *fmt, ...) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", e->work, name);
  FILE *f = fopen(path, "ae");
  if (!f) return;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(f, fmt, ap);
  va_end(ap);
  fputc('\n', f);
  fclose(f);
}

int st_bundle(st_env *e, const char *dir, const char *id, const char *const *args, const char *sandbox) {
  char path[1024];
  snprintf(path, sizeof path, "%s/spec.json", e->work);
  json_error_t jerr;
  json_t *spec = json_load_file(path, 0, &jerr);
  if (!spec) {
    st_diag("spec template %s: %s", path, jerr.text);
    return -1;
  }
  json_t *proc = json_object_get(spec, "process");
  json_object_set_new(proc, "terminal", json_false());
  json_t *a = json_array();
  for (size_t i = 0; args[i]; i++) json_array_append_new(a, json_string(args[i]));
  json_object_set_new(proc, "args", a);
  json_t *root = json_object_get(spec, "root");
  json_object_set_new(root, "path", json_string(e->rootfs));
  json_object_set_new(root, "readonly", json_true());
  char cg[256];
  snprintf(cg, sizeof cg, "/%s/%s", e->ns, id);
  json_object_set_new(json_object_get(spec, "linux"), "cgroupsPath", json_string(cg));
  if (sandbox) {
    json_t *ann = json_object();
    json_object_set_new(ann, "io.kubernetes.cri.sandbox-id", json_string(sandbox));
    json_object_set_new(spec, "annotations", ann);
  }
  if (mkdir(dir, 0711) < 0 && errno != EEXIST) {
    st_diag("mkdir %s: %s", dir, strerror(errno));
    json_decref(spec);
    return -1;
  }
  snprintf(path, sizeof path, "%s/config.json", dir);
  int rc = json_dump_file(spec, path, JSON_COMPACT);
  json_decref(spec);
  if (rc < 0) st_diag("write %s failed", path);
  return rc < 0 ? -1 : 0;
}

/* ------------------------------------------------------------------ processes */

int st_shim_start(st_env *e, const char *bundle, const char *id, const char *ttrpc_addr, char *out, size_t outlen) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return -1;
  pid_t pid = fork();
  if (pid < 0) {
    close(p[0]);
    close(p[1]);
    return -1;
  }
  if (pid == 0) {
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0) dup2(null, 0);
    dup2(p[1], 1);
    dup2(p[1], 2);
    if (chdir(bundle) < 0) _exit(126);
    setenv("TTRPC_ADDRESS", ttrpc_addr ? ttrpc_addr : e->evsock, 1);
    execl(e->shim, e->shim, "-namespace", e->ns, "-address", e->address, "-publish-binary", "/bin/true", "-id",
          id, "start", (char *)NULL);
    _exit(127);
  }
  close(p[1]);
  size_t n = 0;
  for (;;) {
    ssize_t r = read(p[0], out + n, outlen - 1 - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += (size_t)r;
    if (n == outlen - 1) break;
  }
  out[n] = '\0';
  close(p[0]);
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int st_shim_start_ok(st_env *e, const char *bundle, const char *id, char *sock, size_t socklen) {
  char out[1024];
  int rc = st_shim_start(e, bundle, id, NULL, out, sizeof out);
  const char *prefix = "unix:///run/containerd/s/";
  bool good = rc == 0 && strncmp(out, prefix, strlen(prefix)) == 0 && strlen(out) == strlen(prefix) + 64;
  if (!good) {
    st_diag("shim start for %s: exit %d, output \"%s\"", id, rc, out);
    return -1;
  }
  snprintf(sock, socklen, "%s", out + strlen("unix://"));
  st_record(e, "sockets", "%s", sock);
  return 0;
}

/* Serving shims of this run (their command line names our -address and is not a start/delete
 * invocation); with id, only the one whose -id is id. */
static size_t scan_shims(st_env *e, const char *id, pid_t *out, size_t max) {
  DIR *d = opendir("/proc");
  size_t n = 0;
  if (!d) return 0;
  struct dirent *de;
  while ((de = readdir(d)) && n < max) {
    char *end;
    long pid = strtol(de->d_name, &end, 10);
    if (*end || pid <= 0 || pid == getpid()) continue;
    char path[64], buf[8192];
    snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t len = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (len <= 0) continue;
    buf[len] = '\0';
    bool match = false, id_ok = id == NULL;
    const char *prev = "";
    for (char *s = buf; s < buf + len; s += strlen(s) + 1) {
      if (!strcmp(prev, "-address") && !strcmp(s, e->address)) match = true;
      if (id && !strcmp(prev, "-id") && !strcmp(s, id)) id_ok = true;
      if (!strcmp(s, "start") || !strcmp(s, "delete")) { /* a start/delete invocation, not a server */
        match = false;
        break;
      }
      prev = s;
    }
    if (match && id_ok) out[n++] = (pid_t)pid;
  }
  closedir(d);
  return n;
}

size_t st_shim_pids(st_env *e, pid_t *out, size_t max) { return scan_shims(e, NULL, out, max); }

pid_t st_shim_pid(st_env *e, const char *id, unsigned timeout_ms) {
  pid_t pid = 0;
  for (unsigned waited = 0;; waited += 20) {
    if (scan_shims(e, id, &pid, 1) == 1) return pid;
    if (waited >= timeout_ms) return 0;
    usleep(20000);
  }
}

bool st_pid_alive(pid_t pid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return false;
  buf[n] = '\0';
  char *rp = strrchr(buf, ')');
  return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

long st_rss_kib(pid_t pid) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "re");
  if (!f) return -1;
  long kib = -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
  fclose(f);
  return kib;
}

static void on_tick(uv_timer_t *t) { (void)t; }

bool st_wait_until(st_env *e, unsigned ms, bool (*cond)(st_env *e, void *data), void *data) {
  uv_timer_t tick;
  uv_timer_init(e->loop, &tick);
  uv_timer_start(&tick, on_tick, 10, 10);
  uint64_t deadline = uv_hrtime() + (uint64_t)ms * 1000000ULL;
  bool ok = false;
  for (;;) {
    if (cond && cond(e, data)) {
      ok = true;
      break;
    }
    if (uv_hrtime() >= deadline) break;
    uv_run(e->loop, UV_RUN_ONCE);
  }
  uv_close((uv_handle_t *)&tick, NULL);
  uv_run(e->loop, UV_RUN_NOWAIT);
  return ok;
}

void st_sleep(st_env *e, unsigned ms) { st_wait_until(e, ms, NULL, NULL); }

void st_drain_fd(int fd, char *buf, size_t cap, size_t *len) {
  for (;;) {
    if (*len + 1 >= cap) {
      char junk[4096]; /* full: keep the beginning, discard the rest */
      if (read(fd, junk, sizeof junk) <= 0) break;
      continue;
    }
    ssize_t r = read(fd, buf + *len, cap - 1 - *len);
    if (r <= 0) break;
    *len += (size_t)r;
  }
  buf[*len] = '\0';
}

/* ------------------------------------------------------------------ events server */

static void copy_str(char *dst, size_t n, const char *s) { snprintf(dst, n, "%s", s ? s : ""); }

static void decode_event(st_event *ev, const Google__Protobuf__Any *any) {
  copy_str(ev->type_url, sizeof ev->type_url, any->type_url);
  const char *t = any->type_url ? any->type_url : "";
  const uint8_t *d = any->value.data;
  size_t n = any->value.len;
  if (!strcmp(t, "containerd.events.TaskCreate")) {
    Containerd__Events__TaskCreate *m = containerd__events__task_create__unpack(NULL, n, d);
    if (!m) return;
    copy_str(ev->container_id, sizeof ev->container_id, m->container_id);
    ev->pid = m->pid;
    containerd__events__task_create__free_unpacked(m, NULL);
  } else if (!strcmp(t, "containerd.events.TaskStart")) {
    Containerd__Events__TaskStart *m = containerd__events__task_start__unpack(NULL, n, d);
    if (!m) return;
    copy_str(ev->container_id, sizeof ev->container_id, m->container_id);
    ev->pid = m->pid;
    containerd__events__task_start__free_unpacked(m, NULL);
  } else if (!strcmp(t, "containerd.events.TaskExit")) {
    Containerd__Events__TaskExit *m = containerd__events__task_exit__unpack(NULL, n, d);
    if (!m) return;
    copy_str(ev->container_id, sizeof ev->container_id, m->container_id);
    copy_str(ev->exec_id, sizeof ev->exec_id, m->id);
    ev->pid = m->pid;
    ev->exit_status = m->exit_status;
    containerd__events__task_exit__free_unpacked(m, NULL);
  } else if (!strcmp(t, "containerd.events.TaskExecAdded")) {
    Containerd__Events__TaskExecAdded *m = containerd__events__task_exec_added__unpack(NULL, n, d);
    if (!m) return;
    copy_str(ev->container_id, sizeof ev->container_id, m->container_id);
    copy_str(ev->exec_id, sizeof ev->exec_id, m->exec_id);
    containerd__events__task_exec_added__free_unpacked(m, NULL);
  } else if (!strcmp(t, "containerd.events.TaskExecStarted")) {
    Containerd__Events__TaskExecStarted *m = containerd__events__task_exec_started__unpack(NULL, n, d);
    if (!m) return;
    copy_str(ev->container_id, sizeof ev->container_id, m->container_id);
    copy_str(ev->exec_id, sizeof ev->exec_id, m->exec_id);
    ev->pid = m->pid;
    containerd__events__task_exec_started__free_unpacked(m, NULL);
  } else if (!strcmp(t, "containerd.events.TaskDelete")) {
    Containerd__Events__TaskDelete *m = containerd__events__task_delete__unpack(NULL, n, d);
    if (!m) return;
    copy_str(ev->container_id, sizeof ev->container_id, m->container_id);
    copy_str(ev->exec_id, sizeof ev->exec_id, m->id);
    ev->pid = m->pid;
    ev->exit_status = m->exit_status;
    containerd__events__task_delete__free_unpacked(m, NULL);
  }
}

static void ev_forward(ttrpc_call *call, const uint8_t *p, size_t n, void *data) {
  st_env *e = data;
  if (e->ev_reject) {
    ttrpc_call_reply_error(call, CS_UNAVAILABLE, "events service busy (test)");
    return;
  }
  Containerd__Services__Events__Ttrpc__V1__ForwardRequest *r =
      containerd__services__events__ttrpc__v1__forward_request__unpack(NULL, n, p);
  if (!r || !r->envelope || !r->envelope->event) {
    if (r) containerd__services__events__ttrpc__v1__forward_request__free_unpacked(r, NULL);
    ttrpc_call_reply_error(call, CS_INVALID_ARGUMENT, "forward request does not decode");
    return;
  }
  if (e->n_events < ST_MAX_EVENTS) {
    st_event *ev = &e->events[e->n_events++];
    memset(ev, 0, sizeof *ev);
    copy_str(ev->topic, sizeof ev->topic, r->envelope->topic);
    copy_str(ev->ns, sizeof ev->ns, r->envelope->namespace_);
    copy_str(ev->md_ns, sizeof ev->md_ns, ttrpc_call_metadata(call, "containerd-namespace-ttrpc"));
    decode_event(ev, r->envelope->event);
  }
  containerd__services__events__ttrpc__v1__forward_request__free_unpacked(r, NULL);
  ttrpc_call_reply(call, NULL, 0);
}

static const ttrpc_method ev_methods[] = {{"Forward", ev_forward, false}};

int st_events_listen(st_env *e, const char *path) {
  cs_err err;
  e->evserver = ttrpc_server_new(e->loop);
  if (!e->evserver) return -1;
  if (ttrpc_server_register(e->evserver, "containerd.services.events.ttrpc.v1.Events", ev_methods, 1, e, &err) < 0 ||
      ttrpc_server_listen(e->evserver, path ? path : e->evsock, &err) < 0) {
    st_diag("events server on %s: %s", path ? path : e->evsock, err.msg);
    st_events_close(e);
    return -1;
  }
  return 0;
}

static void ev_closed(void *data) { *(bool *)data = true; }

static bool flag_set(st_env *e, void *data) {
  (void)e;
  return *(bool *)data;
}

void st_events_close(st_env *e) {
  if (!e->evserver) return;
  bool done = false;
  ttrpc_server_close(e->evserver, ev_closed, &done);
  e->evserver = NULL;
  st_wait_until(e, 5000, flag_set, &done);
}

size_t st_events_for(const st_env *e, const char *container_id, const st_event **out, size_t max) {
  size_t n = 0;
  for (size_t i = 0; i < e->n_events && n < max; i++)
    if (!strcmp(e->events[i].container_id, container_id)) out[n++] = &e->events[i];
  return n;
}

/* ------------------------------------------------------------------ Task API */

ttrpc_client *st_connect(st_env *e, const char *sock, cs_err *err) {
  ttrpc_client *c = ttrpc_client_new(e->loop);
  if (!c) {
    cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
    return NULL;
  }
  if (ttrpc_client_connect_sync(c, sock, err) < 0) {
    st_close(e, c);
    return NULL;
  }
  return c;
}

void st_close(st_env *e, ttrpc_client *c) {
  if (!c) return;
  ttrpc_client_close(c);
  uv_run(e->loop, UV_RUN_NOWAIT);
}

int st_rpc(st_env *e, ttrpc_client *c, const char *method, const ProtobufCMessage *req,
           const ProtobufCMessageDescriptor *rdesc, ProtobufCMessage **resp, int64_t timeout_ns, char *msg) {
  size_t len = protobuf_c_message_get_packed_size(req);
  uint8_t *buf = malloc(len ? len : 1);
  if (!buf) return CS_RESOURCE_EXHAUSTED;
  protobuf_c_message_pack(req, buf);
  ttrpc_kv md[1] = {{"containerd-namespace-ttrpc", e->ns}};
  uint8_t *out = NULL;
  size_t out_len = 0;
  cs_err err;
  cs_err_clear(&err);
  int rc = ttrpc_client_call_sync(c, ST_TASK, method, buf, len, md, 1, timeout_ns ? timeout_ns : 60 * ST_SEC, &out,
                                  &out_len, &err);
  free(buf);
  if (msg) snprintf(msg, CS_ERR_MSG_MAX, "%s", rc < 0 ? err.msg : "");
  if (rc < 0) return err.code ? err.code : CS_UNKNOWN;
  if (rdesc && resp) {
    *resp = protobuf_c_message_unpack(rdesc, NULL, out_len, out);
    if (!*resp) {
      free(out);
      if (msg) snprintf(msg, CS_ERR_MSG_MAX, "%s reply does not decode as %s", method, rdesc->name);
      return CS_INTERNAL;
    }
  }
  free(out);
  return CS_OK;
}

int st_create(st_env *e, ttrpc_client *c, const char *id, const char *bundle, const st_create_opts *o,
              uint32_t *pid, char *msg) {
  Containerd__Task__V2__CreateTaskRequest r = CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
  r.id = (char *)id;
  r.bundle = (char *)bundle;
  Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
  uint8_t obuf[1024];
  if (o && o->binary_name) {
    Containerd__Runc__V1__Options ro = CONTAINERD__RUNC__V1__OPTIONS__INIT;
    ro.binary_name = (char *)o->binary_name;
    any.type_url = "containerd.runc.v1.Options";
    any.value.data = obuf;
    any.value.len = containerd__runc__v1__options__pack(&ro, obuf);
    r.options = &any;
  }
  if (o && o->rootfs) {
    size_t n = 0;
    while (o->rootfs[n]) n++;
    r.n_rootfs = n;
    r.rootfs = o->rootfs;
  }
  Containerd__Task__V2__CreateTaskResponse *resp = NULL;
  int rc = st_rpc(e, c, "Create", &r.base, &containerd__task__v2__create_task_response__descriptor,
                  (ProtobufCMessage **)&resp, o && o->timeout_ns ? o->timeout_ns : 60 * ST_SEC, msg);
  if (rc == CS_OK) {
    if (pid) *pid = resp->pid;
    containerd__task__v2__create_task_response__free_unpacked(resp, NULL);
  }
  return rc;
}

int st_start(st_env *e, ttrpc_client *c, const char *id, uint32_t *pid, char *msg) {
  Containerd__Task__V2__StartRequest r = CONTAINERD__TASK__V2__START_REQUEST__INIT;
  r.id = (char *)id;
  Containerd__Task__V2__StartResponse *resp = NULL;
  int rc = st_rpc(e, c, "Start", &r.base, &containerd__task__v2__start_response__descriptor, (ProtobufCMessage **)&resp,
                  60 * ST_SEC, msg);
  if (rc == CS_OK) {
    if (pid) *pid = resp->pid;
    containerd__task__v2__start_response__free_unpacked(resp, NULL);
  }
  return rc;
}

int st_state(st_env *e, ttrpc_client *c, const char *id, int *status, uint32_t *exit_status, char *msg) {
  Containerd__Task__V2__StateRequest r = CONTAINERD__TASK__V2__STATE_REQUEST__INIT;
  r.id = (char *)id;
  Containerd__Task__V2__StateResponse *resp = NULL;
  int rc = st_rpc(e, c, "State", &r.base, &containerd__task__v2__state_response__descriptor, (ProtobufCMessage **)&resp,
                  10 * ST_SEC, msg);
  if (rc == CS_OK) {
    if (status) *status = (int)resp->status;
    if (exit_status) *exit_status = resp->exit_status;
    containerd__task__v2__state_response__free_unpacked(resp, NULL);
  }
  return rc;
}

int st_wait(st_env *e, ttrpc_client *c, const char *id, int64_t timeout_ns, uint32_t *exit_status, char *msg) {
  Containerd__Task__V2__WaitRequest r = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;
  r.id = (char *)id;
  Containerd__Task__V2__WaitResponse *resp = NULL;
  int rc = st_rpc(e, c, "Wait", &r.base, &containerd__task__v2__wait_response__descriptor, (ProtobufCMessage **)&resp,
                  timeout_ns, msg);
  if (rc == CS_OK) {
    if (exit_status) *exit_status = resp->exit_status;
    containerd__task__v2__wait_response__free_unpacked(resp, NULL);
  }
  return rc;
}

int st_kill(st_env *e, ttrpc_client *c, const char *id, uint32_t sig, bool all, char *msg) {
  Containerd__Task__V2__KillRequest r = CONTAINERD__TASK__V2__KILL_REQUEST__INIT;
  r.id = (char *)id;
  r.signal = sig;
  r.all = all;
  return st_rpc(e, c, "Kill", &r.base, NULL, NULL, 30 * ST_SEC, msg);
}

int st_delete(st_env *e, ttrpc_client *c, const char *id, uint32_t *exit_status, char *msg) {
  Containerd__Task__V2__DeleteRequest r = CONTAINERD__TASK__V2__DELETE_REQUEST__INIT;
  r.id = (char *)id;
  Containerd__Task__V2__DeleteResponse *resp = NULL;
  int rc = st_rpc(e, c, "Delete", &r.base, &containerd__task__v2__delete_response__descriptor,
                  (ProtobufCMessage **)&resp, 60 * ST_SEC, msg);
  if (rc == CS_OK) {
    if (exit_status) *exit_status = resp->exit_status;
    containerd__task__v2__delete_response__free_unpacked(resp, NULL);
  }
  return rc;
}

int st_connect_rpc(st_env *e, ttrpc_client *c, const char *id, uint32_t *shim_pid, uint32_t *task_pid, char *msg) {
  Containerd__Task__V2__ConnectRequest r = CONTAINERD__TASK__V2__CONNECT_REQUEST__INIT;
  r.id = (char *)id;
  Containerd__Task__V2__ConnectResponse *resp = NULL;
  int rc = st_rpc(e, c, "Connect", &r.base, &containerd__task__v2__connect_response__descriptor,
                  (ProtobufCMessage **)&resp, 10 * ST_SEC, msg);
  if (rc == CS_OK) {
    if (shim_pid) *shim_pid = resp->shim_pid;
    if (task_pid) *task_pid = resp->task_pid;
    containerd__task__v2__connect_response__free_unpacked(resp, NULL);
  }
  return rc;
}

int st_shutdown(st_env *e, ttrpc_client *c, char *msg) {
  Containerd__Task__V2__ShutdownRequest r = CONTAINERD__TASK__V2__SHUTDOWN_REQUEST__INIT;
  return st_rpc(e, c, "Shutdown", &r.base, NULL, NULL, 10 * ST_SEC, msg);
}

bool st_shutdown_exit(st_env *e, ttrpc_client *c, pid_t pid, int *code) {
  char msg[CS_ERR_MSG_MAX];
  int rc = st_shutdown(e, c, msg);
  if (code) *code = rc;
  if (rc != CS_OK && rc != CS_UNAVAILABLE) st_diag("Shutdown: code %d %s", rc, msg);
  st_close(e, c);
  for (int i = 0; i < 150; i++) {
    if (pid <= 0 || !st_pid_alive(pid)) return pid > 0;
    st_sleep(e, 100);
  }
  return false;
}

void st_remove_task(st_env *e, ttrpc_client *c, const char *id) {
  if (!c) return;
  char msg[CS_ERR_MSG_MAX];
  int status = 0;
  if (st_state(e, c, id, &status, NULL, msg) != CS_OK) return;
  if (status == 2 /* running */ || status == 4 /* paused */) {
    st_kill(e, c, id, SIGKILL, true, msg);
    st_wait(e, c, id, 20 * ST_SEC, NULL, msg);
  }
  st_delete(e, c, id, NULL, msg);
}
