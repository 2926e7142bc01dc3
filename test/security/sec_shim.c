/* sec_shim: the shim's security boundaries.
 *
 *  socket   In a private mount namespace with an empty /run/containerd (so the shim creates the directory
 *           itself): /run/containerd/s is 0700 and the socket 0600, owned by root. On the host the socket
 *           is 0600 too; the host directory's mode is reported (it predates this test).
 *  peers    A process running as nobody cannot reach the socket (0600: EACCES). One that can (file access
 *           as root, effective uid nobody) is refused by the SO_PEERCRED check — its call gets no answer,
 *           the connection is closed — and the refusal is logged to the bundle's `log` FIFO. Root is served.
 *  input    Task and exec ids are validated as containerd validates identifiers (letters and digits,
 *           single '.', '_' or '-' between them, at most 76 characters): InvalidArgument for `../x`,
 *           `a..b`, `-a`, 77 characters, empty and others, while valid ones (76 characters included) work.
 *           A relative bundle path and a rootfs mount of a type containerd never sends (proc, sysfs, 9p, ...)
 *           are InvalidArgument and mount nothing. After each rejection the shim still answers.
 *  frames   From an allowed peer: a 5 MiB frame is discarded and answered ResourceExhausted on its stream
 *           (the connection stays usable), a frame claiming 4 GiB costs no 4 GiB, 100 connections that
 *           stall mid-header do not stop the shim serving others. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shimtest.h"
#include "ttrpc_envelope.h"

#define NOBODY 65534

static ttrpc_client *cl;
static const char *TASK_ID = "sec-a";

/* The shim still serves: State of the running task. */
static bool shim_answers(st_env *e) {
  int status = 0;
  char msg[CS_ERR_MSG_MAX];
  return st_state(e, cl, TASK_ID, &status, NULL, msg) == CS_OK && status == 2;
}

static bool mounted_at(const char *path) {
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (!f) return false;
  char line[4096];
  bool found = false;
  while (!found && fgets(line, sizeof line, f)) {
    char mp[4096];
    if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1 && !strcmp(mp, path)) found = true;
  }
  fclose(f);
  return found;
}

/* ---------------------------------------------------------------- socket and directory modes */

/* In a child with a private mount namespace and an empty /run/containerd: the shim makes the socket
 * directory. Reports "DIRMODE SOCKMODE SOCKUID" (octal, octal, decimal) on fd, or "error ...". */
static void modes_child(st_env *e, int fd) {
  char bundle[1024], out[1024], line[256];
  if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
      mount("tmpfs", "/run/containerd", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0711,size=1m") < 0) {
    dprintf(fd, "error private /run/containerd: %s\n", strerror(errno));
    _exit(1);
  }
  st_path(bundle, sizeof bundle, "%s/b-sec-mode", e->work);
  const char *t[] = {"true", NULL};
  st_bundle(e, bundle, "sec-mode", t, NULL);
  int rc = st_shim_start(e, bundle, "sec-mode", NULL, out, sizeof out);
  struct stat d, s;
  if (rc != 0 || strncmp(out, "unix://", 7) != 0 || stat("/run/containerd/s", &d) < 0 || stat(out + 7, &s) < 0) {
    dprintf(fd, "error start exit %d \"%s\": %s\n", rc, out, strerror(errno));
  } else {
    snprintf(line, sizeof line, "%o %o %u %d\n", (unsigned)(d.st_mode & 07777), (unsigned)(s.st_mode & 07777),
             (unsigned)s.st_uid, S_ISSOCK(s.st_mode));
    if (write(fd, line, strlen(line)) < 0) {
    }
  }
  /* The daemon lives in this namespace; with no task, SIGTERM ends it (and the namespace with it). */
  pid_t pid = st_shim_pid(e, "sec-mode", 5000);
  if (pid > 0) {
    kill(pid, SIGTERM);
    for (int w = 0; w < 100 && st_pid_alive(pid); w++) usleep(50000);
    if (st_pid_alive(pid)) kill(pid, SIGKILL);
  }
  _exit(0);
}

static void test_modes(st_env *e, const char *host_sock) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return;
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    modes_child(e, p[1]);
  }
  close(p[1]);
  char buf[512] = {0};
  size_t n = 0;
  ssize_t r;
  while (n < sizeof buf - 1 && (r = read(p[0], buf + n, sizeof buf - 1 - n)) > 0) n += (size_t)r;
  close(p[0]);
  int st;
  waitpid(pid, &st, 0);
  unsigned dmode = 0, smode = 0, uid = 1;
  int is_sock = 0;
  if (sscanf(buf, "%o %o %u %d", &dmode, &smode, &uid, &is_sock) == 4) {
    st_check(e, dmode == 0700, "socket directory the shim creates is 0700 (%o)", dmode);
    st_check(e, is_sock && smode == 0600 && uid == 0, "socket in it is 0600, owned by root (%o, uid %u)", smode, uid);
  } else {
    st_check(e, false, "shim started in a private mount namespace: %s", buf);
  }
  struct stat s, d;
  bool ok = stat(host_sock, &s) == 0;
  st_check(e, ok && S_ISSOCK(s.st_mode) && (s.st_mode & 07777) == 0600 && s.st_uid == 0,
           "host socket %s is 0600, owned by root (%o)", host_sock, ok ? (unsigned)(s.st_mode & 07777) : 0);
  if (stat("/run/containerd/s", &d) == 0) {
    st_diag("host /run/containerd/s predates this test: mode %o, owner %u (not asserted)",
            (unsigned)(d.st_mode & 07777), (unsigned)d.st_uid);
    if ((d.st_mode & 0077) != 0) st_diag("WARNING: host /run/containerd/s is accessible to group/others");
  }
}

/* ---------------------------------------------------------------- peer credentials */

enum { PEER_REFUSED = 10, PEER_ANSWERED = 11, PEER_EACCES = 12, PEER_CONNECT_ERR = 13, PEER_SETUP = 14 };

/* as nobody (real, effective and file uid): connect() to the socket path */
static int peer_nobody(const char *sock) {
  if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 || setresuid(NOBODY, NOBODY, NOBODY) < 0)
    return PEER_SETUP;
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(sock) >= sizeof sa.sun_path) return PEER_SETUP;
  memcpy(sa.sun_path, sock, strlen(sock) + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) return PEER_SETUP;
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) return errno == EACCES ? PEER_EACCES : PEER_CONNECT_ERR;
  return PEER_ANSWERED; /* connected: the file mode did not stop us */
}

/* effective uid nobody, file-system uid root (passes the socket's file mode): the shim sees uid 65534 */
static int peer_euid_nobody(st_env *e, const char *sock, char *detail, size_t len) {
  if (setgroups(0, NULL) < 0 || setresgid(0, NOBODY, 0) < 0 || setresuid(0, NOBODY, 0) < 0) return PEER_SETUP;
  setfsuid(0);
  if ((uid_t)setfsuid((uid_t)-1) != 0 || geteuid() != NOBODY) return PEER_SETUP;
  uv_loop_t loop;
  uv_loop_init(&loop);
  ttrpc_client *c = ttrpc_client_new(&loop);
  cs_err err;
  if (ttrpc_client_connect_sync(c, sock, &err) < 0) {
    snprintf(detail, len, "%s", err.msg);
    return err.sys_errno == EACCES ? PEER_EACCES : PEER_CONNECT_ERR;
  }
  Containerd__Task__V2__StateRequest r = CONTAINERD__TASK__V2__STATE_REQUEST__INIT;
  r.id = (char *)TASK_ID;
  uint8_t buf[128];
  size_t n = containerd__task__v2__state_request__pack(&r, buf);
  ttrpc_kv md[1] = {{"containerd-namespace-ttrpc", e->ns}};
  uint8_t *out = NULL;
  size_t out_len = 0;
  int rc = ttrpc_client_call_sync(c, ST_TASK, "State", buf, n, md, 1, 5 * ST_SEC, &out, &out_len, &err);
  free(out);
  snprintf(detail, len, "State: %.400s", rc == 0 ? "OK" : err.msg);
  /* refused: the connection is closed without an answer (Unavailable "closed"), not a status from the shim */
  if (rc < 0 && err.code == CS_UNAVAILABLE) return PEER_REFUSED;
  return PEER_ANSWERED;
}

/* Runs fn in a child; returns its verdict, detail from the child in detail. */
static int in_child(st_env *e, const char *sock, bool euid_only, char *detail, size_t len) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return PEER_SETUP;
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    char d[512] = "";
    int v = euid_only ? peer_euid_nobody(e, sock, d, sizeof d) : peer_nobody(sock);
    if (write(p[1], d, strlen(d)) < 0) {
    }
    _exit(v);
  }
  close(p[1]);
  ssize_t r = read(p[0], detail, len - 1);
  detail[r > 0 ? r : 0] = '\0';
  close(p[0]);
  int st;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : PEER_SETUP;
}

static void test_peers(st_env *e, const char *sock, int logfd, char *log, size_t logcap, size_t *loglen) {
  char detail[512];
  int v = in_child(e, sock, false, detail, sizeof detail);
  st_check(e, v == PEER_EACCES, "a process running as nobody cannot connect to the 0600 socket (verdict %d)", v);
  v = in_child(e, sock, true, detail, sizeof detail);
  st_check(e, v == PEER_REFUSED, "euid nobody passing the file mode is refused by the peer check: no answer (%s)",
           detail);
  bool logged = false;
  for (int i = 0; i < 50 && !logged; i++) {
    st_drain_fd(logfd, log, logcap, loglen);
    logged = strstr(log, "refused connection from uid 65534") != NULL;
    if (!logged) st_sleep(e, 100);
  }
  st_check(e, logged, "the refusal is logged to the bundle's log FIFO");
  if (!logged) st_diag("log so far:\n%s", log);
  st_check(e, shim_answers(e), "root is still served after the refusal");
}

/* ---------------------------------------------------------------- input validation */

static const char *const bad_ids[] = {
    "../x", "a..b", "-a", "", "a/b", "..", ".", "a_", "_a", "a__b", "a b", "a:b", "a\tb", "a\nb", "caf\xc3\xa9",
    "x/../../etc", NULL, /* the 77-character id is added at run time */
};

static void test_ids(st_env *e, const char *bundle) {
  char msg[CS_ERR_MSG_MAX], id77[78], id76[77];
  memset(id77, 'a', 77);
  id77[77] = '\0';
  memset(id76, 'b', 76);
  id76[76] = '\0';
  id76[37] = '-';
  const char *ids[32];
  size_t n = 0;
  for (; bad_ids[n]; n++) ids[n] = bad_ids[n];
  ids[n++] = id77;
  for (size_t i = 0; i < n; i++) {
    int rc = st_create(e, cl, ids[i], bundle, NULL, NULL, msg);
    bool ok = st_check(e, rc == CS_INVALID_ARGUMENT && shim_answers(e), "Create with task id \"%.20s%s\" (%zu chars): InvalidArgument, shim answers (%d %s)",
                       ids[i], strlen(ids[i]) > 20 ? "..." : "", strlen(ids[i]), rc, msg);
    if (!ok && rc == CS_OK) st_remove_task(e, cl, ids[i]);
  }
  /* the same ids as exec ids of the running task */
  Containerd__Task__V2__ExecProcessRequest x = CONTAINERD__TASK__V2__EXEC_PROCESS_REQUEST__INIT;
  Google__Protobuf__Any spec = GOOGLE__PROTOBUF__ANY__INIT;
  static const char proc[] =
      "{\"args\":[\"sh\",\"-c\",\"exit 5\"],\"cwd\":\"/\",\"env\":[\"PATH=/bin\"],\"user\":{\"uid\":0,\"gid\":0}}";
  spec.type_url = "types.containerd.io/opencontainers/runtime-spec/1/Process";
  spec.value.data = (uint8_t *)proc;
  spec.value.len = sizeof proc - 1;
  x.id = (char *)TASK_ID;
  x.spec = &spec;
  for (size_t i = 0; i < n; i++) {
    x.exec_id = (char *)ids[i];
    int rc = st_rpc(e, cl, "Exec", &x.base, NULL, NULL, 10 * ST_SEC, msg);
    st_check(e, rc == CS_INVALID_ARGUMENT && shim_answers(e), "Exec with exec id \"%.20s%s\": InvalidArgument, shim answers (%d %s)",
             ids[i], strlen(ids[i]) > 20 ? "..." : "", rc, msg);
  }
  /* valid ids work: a 76-character task id, separators, and an exec */
  char b76[1024];
  st_path(b76, sizeof b76, "%s/b-76", e->work);
  const char *t[] = {"true", NULL};
  st_bundle(e, b76, id76, t, NULL);
  int rc = st_create(e, cl, id76, b76, NULL, NULL, msg);
  st_check(e, rc == CS_OK, "Create with a valid 76-character id works (%d %s)", rc, msg);
  rc = st_delete(e, cl, id76, NULL, msg);
  st_check(e, rc == CS_OK, "and its Delete (%d %s)", rc, msg);
  x.exec_id = "e.1-x_Y9";
  rc = st_rpc(e, cl, "Exec", &x.base, NULL, NULL, 10 * ST_SEC, msg);
  Containerd__Task__V2__StartRequest s = CONTAINERD__TASK__V2__START_REQUEST__INIT;
  s.id = (char *)TASK_ID;
  s.exec_id = "e.1-x_Y9";
  if (rc == CS_OK) rc = st_rpc(e, cl, "Start", &s.base, NULL, NULL, 30 * ST_SEC, msg);
  Containerd__Task__V2__WaitResponse *wr = NULL;
  if (rc == CS_OK)
    rc = st_rpc(e, cl, "Wait", &s.base, &containerd__task__v2__wait_response__descriptor, (ProtobufCMessage **)&wr,
                30 * ST_SEC, msg); /* WaitRequest has StartRequest's shape {id, exec_id} */
  uint32_t code = wr ? wr->exit_status : 999;
  if (wr) containerd__task__v2__wait_response__free_unpacked(wr, NULL);
  if (rc == CS_OK) rc = st_rpc(e, cl, "Delete", &s.base, NULL, NULL, 30 * ST_SEC, msg);
  st_check(e, rc == CS_OK && code == 5, "a valid exec id \"e.1-x_Y9\" execs, exits 5 and is deleted (%d %s, %u)", rc,
           msg, code);
}

static void test_bundles_and_mounts(st_env *e) {
  char msg[CS_ERR_MSG_MAX], bundle[1024], rootfs[1100];
  static const char *const rel[] = {"relative/bundle", "b-sec-mnt", "./b", "../b", ""};
  for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
    int rc = st_create(e, cl, "sec-rel", rel[i], NULL, NULL, msg);
    st_check(e, rc == CS_INVALID_ARGUMENT && shim_answers(e), "Create with bundle \"%s\": InvalidArgument, shim answers (%d %s)",
             rel[i], rc, msg);
  }
  st_path(bundle, sizeof bundle, "%s/b-sec-mnt", e->work);
  st_path(rootfs, sizeof rootfs, "%s/rootfs", bundle);
  const char *t[] = {"true", NULL};
  st_bundle(e, bundle, "sec-mnt", t, NULL);
  static const char *const types[] = {"proc", "sysfs", "9p", "devtmpfs", "cgroup2", "debugfs", "securityfs", "PROC",
                                      "nfs", "configfs"};
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
    Containerd__Types__Mount m = CONTAINERD__TYPES__MOUNT__INIT;
    m.type = (char *)types[i];
    m.source = (char *)types[i];
    char *opts[] = {"rw"};
    m.options = opts;
    m.n_options = 1;
    Containerd__Types__Mount *ms[] = {&m, NULL};
    st_create_opts o = {.rootfs = ms};
    int rc = st_create(e, cl, "sec-mnt", bundle, &o, NULL, msg);
    bool none = !mounted_at(rootfs);
    st_check(e, rc == CS_INVALID_ARGUMENT && none && shim_answers(e),
             "rootfs mount of type %s: InvalidArgument, nothing mounted, shim answers (%d %s)", types[i], rc, msg);
    if (rc == CS_OK) st_remove_task(e, cl, "sec-mnt");
    if (!none) umount2(rootfs, MNT_DETACH);
  }
  /* a second mount after an allowed first one: the first must not stay mounted */
  Containerd__Types__Mount good = CONTAINERD__TYPES__MOUNT__INIT, bad = CONTAINERD__TYPES__MOUNT__INIT;
  good.type = "bind";
  good.source = e->rootfs;
  char *gopts[] = {"rbind", "ro"};
  good.options = gopts;
  good.n_options = 2;
  bad.type = "proc";
  bad.source = "proc";
  Containerd__Types__Mount *ms[] = {&good, &bad, NULL};
  st_create_opts o = {.rootfs = ms};
  int rc = st_create(e, cl, "sec-mnt", bundle, &o, NULL, msg);
  bool none = !mounted_at(rootfs);
  st_check(e, rc == CS_INVALID_ARGUMENT && none && shim_answers(e),
           "bind then proc: InvalidArgument and the bind is undone (%d %s, %s)", rc, msg,
           none ? "nothing mounted" : "rootfs still mounted");
  if (!none) umount2(rootfs, MNT_DETACH);
  if (rc == CS_OK) st_remove_task(e, cl, "sec-mnt");

  /* an allowed second mount whose options are rejected (too long): the first is undone too */
  static char huge[5000];
  memset(huge, 'x', sizeof huge - 1);
  Containerd__Types__Mount tm = CONTAINERD__TYPES__MOUNT__INIT;
  tm.type = "tmpfs";
  tm.source = "tmpfs";
  char *topts[] = {huge};
  tm.options = topts;
  tm.n_options = 1;
  Containerd__Types__Mount *ms2[] = {&good, &tm, NULL};
  o.rootfs = ms2;
  rc = st_create(e, cl, "sec-mnt", bundle, &o, NULL, msg);
  none = !mounted_at(rootfs);
  st_check(e, rc == CS_INVALID_ARGUMENT && none && shim_answers(e),
           "bind then tmpfs with 5000-byte options: InvalidArgument and the bind is undone (%d %s, %s)", rc, msg,
           none ? "nothing mounted" : "rootfs still mounted");
  if (!none) umount2(rootfs, MNT_DETACH);
  if (rc == CS_OK) st_remove_task(e, cl, "sec-mnt");
}

/* ---------------------------------------------------------------- malformed frames from root */

static int raw_connect(const char *sock) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(sock) >= sizeof sa.sun_path) return -1;
  memcpy(sa.sun_path, sock, strlen(sock) + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static bool raw_send(int fd, const void *p, size_t n) {
  const uint8_t *b = p;
  while (n > 0) {
    ssize_t w = write(fd, b, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    b += w;
    n -= (size_t)w;
  }
  return true;
}

static bool raw_read(int fd, void *p, size_t n, int timeout_ms) {
  uint8_t *b = p;
  while (n > 0) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (poll(&pfd, 1, timeout_ms) <= 0) return false;
    ssize_t r = read(fd, b, n);
    if (r <= 0) return false;
    b += r;
    n -= (size_t)r;
  }
  return true;
}

static bool send_frame(int fd, uint32_t len, uint32_t stream, const uint8_t *payload, size_t n) {
  uint8_t hdr[TTRPC_HEADER_SIZE];
  ttrpc_frame_header h = {.length = len, .stream_id = stream, .type = TTRPC_REQUEST};
  ttrpc_header_encode(&h, hdr);
  return raw_send(fd, hdr, sizeof hdr) && (n == 0 || raw_send(fd, payload, n));
}

/* Reads one Response frame: its stream id and status code (-1 on timeout/close/garbage). */
static int read_response(int fd, uint32_t *stream, int *status) {
  uint8_t hdr[TTRPC_HEADER_SIZE];
  if (!raw_read(fd, hdr, sizeof hdr, 10000)) return -1;
  ttrpc_frame_header h;
  ttrpc_header_decode(hdr, &h);
  if (h.type != TTRPC_RESPONSE || h.length > TTRPC_MAX_MESSAGE) return -1;
  uint8_t *p = malloc(h.length ? h.length : 1);
  if (!p || !raw_read(fd, p, h.length, 10000)) {
    free(p);
    return -1;
  }
  ttrpc_response_view v;
  cs_err err;
  int rc = ttrpc_response_decode(p, h.length, &v, &err);
  free(p);
  if (rc < 0) return -1;
  *stream = h.stream_id;
  *status = v.code;
  return 0;
}

static bool state_request(st_env *e, uint8_t *out, size_t cap, size_t *len) {
  Containerd__Task__V2__StateRequest r = CONTAINERD__TASK__V2__STATE_REQUEST__INIT;
  r.id = (char *)TASK_ID;
  uint8_t p[128];
  size_t n = containerd__task__v2__state_request__pack(&r, p);
  ttrpc_kv md[1] = {{"containerd-namespace-ttrpc", e->ns}};
  cs_err err;
  return ttrpc_request_encode(out, cap, len, ST_TASK, "State", p, n, 0, md, 1, &err) == 0;
}

static void test_frames(st_env *e, const char *sock) {
  pid_t shim = st_shim_pid(e, TASK_ID, 0);
  uint8_t req[1024];
  size_t rlen = 0;
  state_request(e, req, sizeof req, &rlen);

  /* 5 MiB: over the 4 MiB limit, discarded, answered ResourceExhausted on stream 1; then stream 3 works */
  int fd = raw_connect(sock);
  size_t big = 5u << 20;
  uint8_t *junk = calloc(1, big);
  uint32_t stream = 0;
  int status = -1;
  bool sent = fd >= 0 && junk && send_frame(fd, (uint32_t)big, 1, junk, big);
  bool got = sent && read_response(fd, &stream, &status) == 0;
  st_check(e, got && stream == 1 && status == CS_RESOURCE_EXHAUSTED,
           "a 5 MiB frame is answered ResourceExhausted on its stream (stream %u, code %d)", stream, status);
  got = fd >= 0 && send_frame(fd, (uint32_t)rlen, 3, req, rlen) && read_response(fd, &stream, &status) == 0;
  st_check(e, got && stream == 3 && status == CS_OK, "the same connection then gets State answered (stream %u, code %d)",
           stream, status);
  free(junk);
  if (fd >= 0) close(fd);

  /* a header claiming 4 GiB, 1 MiB of it sent, then hang up: nothing of that size is allocated */
  long rss0 = st_rss_kib(shim);
  fd = raw_connect(sock);
  junk = calloc(1, 1u << 20);
  sent = fd >= 0 && junk && send_frame(fd, 0xFFFFFFF0u, 1, junk, 1u << 20);
  free(junk);
  if (fd >= 0) close(fd);
  st_sleep(e, 200);
  long rss1 = st_rss_kib(shim);
  st_check(e, sent && shim_answers(e) && rss1 > 0 && rss1 - rss0 < 8 * 1024,
           "a frame claiming 4 GiB costs no memory (RSS %ld → %ld KiB) and the shim answers", rss0, rss1);

  /* 100 connections stalled mid-header */
  int stalled[100], n = 0;
  for (int i = 0; i < 100; i++) {
    stalled[i] = raw_connect(sock);
    if (stalled[i] >= 0 && raw_send(stalled[i], "\0\0\0", 3)) n++;
  }
  st_check(e, n == 100 && shim_answers(e), "with 100 connections stalled mid-header, the shim serves others (%d)", n);
  for (int i = 0; i < 100; i++)
    if (stalled[i] >= 0) close(stalled[i]);
  st_sleep(e, 200);
  st_check(e, shim_answers(e) && st_pid_alive(shim), "shim alive and answering after the malformed frames");
}

int main(int argc, char **argv) {
  st_env e;
  if (st_init(&e, argc, argv) < 0) return 2;
  char bundle[1024], logpath[1100], sock[512], msg[CS_ERR_MSG_MAX];
  static char log[65536];
  size_t loglen = 0;
  int logfd = -1;
  st_events_listen(&e, NULL);

  st_path(bundle, sizeof bundle, "%s/b-%s", e.work, TASK_ID);
  const char *sleeper[] = {"sleep", "600", NULL};
  if (st_bundle(&e, bundle, TASK_ID, sleeper, NULL) < 0) goto out;
  /* containerd's log FIFO, read end open before `start` so the shim logs into it */
  st_path(logpath, sizeof logpath, "%s/log", bundle);
  if (mkfifo(logpath, 0600) < 0 || (logfd = open(logpath, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
    st_check(&e, false, "log FIFO %s: %s", logpath, strerror(errno));
    goto out;
  }
  if (!st_check(&e, st_shim_start_ok(&e, bundle, TASK_ID, sock, sizeof sock) == 0, "shim started")) goto out;
  cs_err err;
  cl = st_connect(&e, sock, &err);
  if (!st_check(&e, cl != NULL, "root connects %s", cl ? "" : err.msg)) goto out;
  int rc = st_create(&e, cl, TASK_ID, bundle, NULL, NULL, msg);
  if (rc == CS_OK) rc = st_start(&e, cl, TASK_ID, NULL, msg);
  if (!st_check(&e, rc == CS_OK && shim_answers(&e), "task %s running, root is served (%d %s)", TASK_ID, rc, msg)) goto out;

  test_modes(&e, sock);
  test_peers(&e, sock, logfd, log, sizeof log, &loglen);
  test_ids(&e, bundle);
  test_bundles_and_mounts(&e);
  test_frames(&e, sock);
  st_drain_fd(logfd, log, sizeof log, &loglen);
  st_check(&e, shim_answers(&e), "shim answers at the end");

out:
  if (cl) {
    st_remove_task(&e, cl, TASK_ID);
    pid_t shim = st_shim_pid(&e, TASK_ID, 0);
    int rc2 = 0;
    {
      bool gone_sd = st_shutdown_exit(&e, cl, shim, &rc2);
      st_check(&e, gone_sd, "shim %d exits after Shutdown (%d)", (int)shim, rc2);
    }
  }
  if (logfd >= 0) close(logfd);
  st_events_close(&e);
  printf("# sec_shim: %.1f s\n", st_elapsed(&e));
  return st_finish(&e);
}
