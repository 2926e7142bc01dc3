/* Integration (root): the library with the real CNI plugins (containernetworking-plugins).
 *
 * Everything stays on a test-only bridge and subnet (cshimt0, 10.231.99.0/24), with the config and state
 * dirs in a temp dir: namespaces reach each other and the host over the bridge, never anything else
 * (no NAT, no routes, and the test proves a namespace cannot reach an outside address). Teardown removes
 * whatever a failed test left — namespaces, bridge — restores net.ipv4.ip_forward (the bridge plugin's
 * isGateway turns it on) and checks iptables rules are as before. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net_cni.h"
#include "net_counters.h"
#include "net_ns.h"
#include "net_test_util.h"

#define BRIDGE "cshimt0"
#define SUBNET "10.231.99.0/24"
#define GATEWAY "10.231.99.1"
#define NETWORK "cshimtest"
#define PORT 7231
#define IDA "cshimtest-a"
#define IDB "cshimtest-b"
#define IDC "cshimtest-c"

typedef struct fx {
  char dir[64], conf[128], state[128], plugins[128], ipam[256], attach[256], plugin_path[512];
  char ip_forward[16];
  char *iptables_before;
  int lock_fd;
  net_cni_opts o;
} fx;

static const char *const ids[] = {IDA, IDB, IDC};

/* iptables-save without its timestamp comments and packet counters; NULL if iptables is not there. */
static char *iptables_rules(void) {
  FILE *p = popen("iptables-save 2>/dev/null | grep -v '^#' | sed 's/\\[[0-9]*:[0-9]*\\]//'", "r");
  if (!p) return NULL;
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  size_t r;
  while ((r = fread(buf + n, 1, cap - 1 - n, p)) > 0) n += r;
  buf[n] = '\0';
  pclose(p);
  return buf;
}

static void link_del(const char *name) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "ip link del %s 2>/dev/null", name);
  if (system(cmd)) { /* absent: fine */
  }
}

static int setup(void **state) {
  if (geteuid() != 0) {
    print_message("skipped: needs root\n");
    return 0;
  }
  fx *x = calloc(1, sizeof *x);
  /* One run at a time host-wide: the bridge name and subnet are fixed. */
  x->lock_fd = open("/run/cshim-net-test.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  assert_true(x->lock_fd >= 0);
  assert_int_equal(flock(x->lock_fd, LOCK_EX), 0);
  nt_tmpdir(x->dir, "cshim-net");
  snprintf(x->conf, sizeof x->conf, "%s/net.d", x->dir);
  snprintf(x->state, sizeof x->state, "%s/state", x->dir);
  snprintf(x->plugins, sizeof x->plugins, "%s/plugins", x->dir);
  snprintf(x->ipam, sizeof x->ipam, "%s/networks/" NETWORK, x->state);
  snprintf(x->attach, sizeof x->attach, "%s/attachments", x->state);
  snprintf(x->plugin_path, sizeof x->plugin_path, "%s:/usr/lib/cni:/opt/cni/bin", x->plugins);
  mkdir(x->plugins, 0755);
  nt_read("/proc/sys/net/ipv4/ip_forward", x->ip_forward, sizeof x->ip_forward);
  x->iptables_before = iptables_rules();
  link_del(BRIDGE); /* a crashed earlier run's */
  x->o = (net_cni_opts){.config_dir = x->conf, .state_dir = x->state, .plugin_path = x->plugin_path,
                        .network = NETWORK, .bridge = BRIDGE, .subnet = SUBNET, .timeout_ms = 30000};
  *state = x;
  return 0;
}

static int teardown(void **state) {
  fx *x = *state;
  if (!x) return 0;
  cs_err err;
  for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
    net_cni_detach(ids[i], &x->o, &err);
    char p[256];
    net_cni_netns_path(ids[i], &x->o, p, sizeof p, &err);
    net_ns_remove(p, &err);
  }
  link_del(BRIDGE);
  nt_write("/proc/sys/net/ipv4/ip_forward", x->ip_forward, 0644);
  char *after = iptables_rules();
  if (x->iptables_before && after) assert_string_equal(after, x->iptables_before);
  free(after);
  free(x->iptables_before);
  nt_rmrf(x->dir);
  close(x->lock_fd);
  free(x);
  return 0;
}

#define NEED_ROOT(state)        \
  do {                          \
    if (!*(state)) skip();      \
  } while (0)

/* ---- talking from inside a namespace: sockets made on a thread in it stay there */

typedef struct sock_req {
  int fd;
} sock_req;

static int make_tcp(void *arg, cs_err *err) {
  sock_req *r = arg;
  r->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (r->fd < 0) return cs_err_sys(err, errno, "socket");
  return 0;
}

static int tcp_in(const char *netns) {
  sock_req r = {-1};
  cs_err err;
  if (netns && net_ns_run(netns, make_tcp, &r, &err) != 0) fail_msg("%s", err.msg);
  if (!netns) make_tcp(&r, &err);
  struct timeval tv = {5, 0};
  setsockopt(r.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(r.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return r.fd;
}

static int listen_in(const char *netns) {
  int fd = tcp_in(netns), one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(PORT), .sin_addr.s_addr = htonl(INADDR_ANY)};
  assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(listen(fd, 4), 0);
  return fd;
}

static int connect_to(int fd, const char *ip) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(PORT)};
  inet_pton(AF_INET, ip, &a.sin_addr);
  return connect(fd, (struct sockaddr *)&a, sizeof a);
}

/* A connection from `from` (NULL: the host) to the listener at ip; 16 KiB each way. */
static void exchange(const char *from, int listener, const char *ip) {
  int c = tcp_in(from);
  if (connect_to(c, ip) != 0) fail_msg("connect %s from %s: %s", ip, from ? from : "host", strerror(errno));
  int s = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
  assert_true(s >= 0);
  static char buf[16384];
  memset(buf, 'x', sizeof buf);
  for (int dir = 0; dir < 2; dir++) {
    int w = dir ? s : c, r = dir ? c : s;
    assert_int_equal(send(w, buf, sizeof buf, MSG_NOSIGNAL), (ssize_t)sizeof buf);
    size_t got = 0;
    while (got < sizeof buf) {
      ssize_t n = recv(r, buf, sizeof buf - got, 0);
      assert_true(n > 0);
      got += (size_t)n;
    }
  }
  close(c);
  close(s);
}

static void bare_ip(const net_cni_result *r, char *ip, size_t cap) {
  assert_true(r->nips >= 1);
  snprintf(ip, cap, "%s", r->ips[0].address);
  char *slash = strchr(ip, '/');
  assert_non_null(slash);
  *slash = '\0';
}

static rt_net_iface eth0_of(const char *netns) {
  cs_err err;
  int fd = net_ns_open_net_dev(netns, &err);
  if (fd < 0) fail_msg("%s", err.msg);
  rt_net_iface ifs[16];
  uint32_t n = 0;
  assert_int_equal(net_counters_read(fd, ifs, 16, &n, &err), 0);
  close(fd);
  for (uint32_t i = 0; i < n; i++)
    if (!strcmp(ifs[i].name, "eth0")) return ifs[i];
  fail_msg("no eth0 in %s", netns);
  return ifs[0];
}

static bool is_ip_name(const char *name) {
  struct in_addr a;
  return inet_pton(AF_INET, name, &a) == 1;
}

/* After the last detach: no namespace, no lease, no cache, no bridge (so no port, no veth on it). */
static void assert_clean(fx *x, const char *const *which, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char p[256];
    cs_err err;
    net_cni_netns_path(which[i], &x->o, p, sizeof p, &err);
    if (nt_exists(p)) fail_msg("namespace %s left", p);
  }
  int leases = nt_count(x->ipam, is_ip_name);
  if (leases > 0) fail_msg("%d IPAM reservations left in %s", leases, x->ipam);
  assert_int_equal(nt_count(x->attach, NULL), 0);
  if (nt_exists("/sys/class/net/" BRIDGE)) fail_msg("bridge " BRIDGE " left");
}

static void test_two_namespaces(void **state) {
  NEED_ROOT(state);
  fx *x = *state;
  cs_err err;
  net_cni_result ra, rb;
  if (net_cni_attach(IDA, &x->o, &ra, &err) != 0) fail_msg("%s", err.msg);
  if (net_cni_attach(IDB, &x->o, &rb, &err) != 0) fail_msg("%s", err.msg);
  assert_string_equal(ra.netns, "/run/netns/cshim-" IDA);
  assert_true(net_ns_is_mounted(ra.netns));
  assert_string_equal(ra.network, NETWORK);
  assert_string_equal(ra.ifname, "eth0");
  assert_int_equal(strlen(ra.mac), 17);
  assert_int_equal(ra.ips[0].family, 4);
  assert_string_equal(ra.ips[0].gateway, GATEWAY);
  assert_int_equal(strncmp(ra.ips[0].address, "10.231.99.", 10), 0);
  assert_string_not_equal(ra.ips[0].address, rb.ips[0].address);
  char ipa[64], ipb[64];
  bare_ip(&ra, ipa, sizeof ipa);
  bare_ip(&rb, ipb, sizeof ipb);
  assert_int_equal(nt_count(x->ipam, is_ip_name), 2);
  assert_int_equal(nt_count("/sys/class/net/" BRIDGE "/brif", NULL), 2);
  assert_int_equal(net_cni_check(IDA, &x->o, &err), 0);

  rt_net_iface a0 = eth0_of(ra.netns), b0 = eth0_of(rb.netns);
  int la = listen_in(ra.netns), lb = listen_in(rb.netns);
  exchange(rb.netns, la, ipa); /* b → a */
  exchange(ra.netns, lb, ipb); /* a → b */
  exchange(NULL, la, ipa);     /* host → a over the bridge */
  exchange(NULL, lb, ipb);
  close(la);
  close(lb);
  rt_net_iface a1 = eth0_of(ra.netns), b1 = eth0_of(rb.netns);
  /* 3 × 16 KiB each way through each eth0, plus headers. */
  assert_true(a1.rx_bytes >= a0.rx_bytes + 3 * 16384);
  assert_true(a1.tx_bytes >= a0.tx_bytes + 3 * 16384);
  assert_true(b1.rx_bytes >= b0.rx_bytes + 3 * 16384);
  assert_true(b1.tx_bytes >= b0.tx_bytes + 3 * 16384);
  assert_true(a1.rx_packets > a0.rx_packets && a1.tx_packets > a0.tx_packets);

  /* Nothing but the subnet: an outside address is unreachable from inside (no route, not even to try). */
  int o = tcp_in(ra.netns);
  assert_int_equal(connect_to(o, "203.0.113.1"), -1);
  assert_int_equal(errno, ENETUNREACH);
  close(o);

  if (net_cni_detach(IDA, &x->o, &err) != 0) fail_msg("%s", err.msg);
  /* One container left: the bridge stays, with one port. */
  assert_true(nt_exists("/sys/class/net/" BRIDGE));
  assert_int_equal(nt_count("/sys/class/net/" BRIDGE "/brif", NULL), 1);
  if (net_cni_detach(IDB, &x->o, &err) != 0) fail_msg("%s", err.msg);
  assert_clean(x, ids, 2);
  /* Detach is idempotent. */
  assert_int_equal(net_cni_detach(IDA, &x->o, &err), 0);
  assert_int_equal(net_cni_check(IDA, &x->o, &err), -1);
  assert_int_equal(err.code, CS_NOT_FOUND);
}

static void test_plugin_error_rolls_back(void **state) {
  NEED_ROOT(state);
  fx *x = *state;
  cs_err err;
  /* bridge, then a plugin that refuses ADD with a CNI error (and accepts DEL, as plugins must). */
  char p[256], text[1024];
  snprintf(p, sizeof p, "%s/cshim-test-refuse", x->plugins);
  nt_write(p, "#!/bin/sh\ncat >/dev/null\n[ \"$CNI_COMMAND\" = ADD ] || exit 0\n"
              "echo '{\"cniVersion\":\"1.0.0\",\"code\":7,\"msg\":\"refused by the test\",\"details\":\"as planned\"}'\n"
              "exit 1\n", 0755);
  mkdir(x->conf, 0755);
  snprintf(p, sizeof p, "%s/20-refuse.conflist", x->conf);
  snprintf(text, sizeof text,
           "{\"cniVersion\":\"1.0.0\",\"name\":\"" NETWORK "\",\"plugins\":[{\"type\":\"bridge\",\"bridge\":\"" BRIDGE
           "\",\"isGateway\":true,\"ipam\":{\"type\":\"host-local\",\"subnet\":\"" SUBNET "\",\"dataDir\":\"%s/networks\"}},"
           "{\"type\":\"cshim-test-refuse\"}]}",
           x->state);
  nt_write(p, text, 0644);
  net_cni_result r;
  assert_int_equal(net_cni_attach(IDC, &x->o, &r, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  assert_string_equal(err.msg, "network attach " IDC ": cshim-test-refuse: refused by the test: as planned");
  /* The bridge plugin's ADD ran (a lease was taken, a veth made): all undone. */
  assert_clean(x, &ids[2], 1);
  assert_int_equal(nt_count(x->conf, NULL), 1); /* a conflist was there: no default written beside it */
}

static void test_creator_died(void **state) {
  NEED_ROOT(state);
  fx *x = *state;
  cs_err err;
  /* A CLI that attached and was killed: the namespace, lease and cache outlive it. */
  pid_t pid = fork();
  if (pid == 0) {
    net_cni_result r;
    cs_err e;
    _exit(net_cni_attach(IDA, &x->o, &r, &e) == 0 ? 0 : 1);
  }
  int st;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  char ns[256];
  net_cni_netns_path(IDA, &x->o, ns, sizeof ns, &err);
  assert_true(net_ns_is_mounted(ns));
  assert_int_equal(nt_count(x->ipam, is_ip_name), 1);
  if (net_cni_detach(IDA, &x->o, &err) != 0) fail_msg("%s", err.msg);
  assert_clean(x, &ids[0], 1);

  /* Died between making the namespace and ADD: no cache, a namespace — detach removes it. */
  net_cni_netns_path(IDB, &x->o, ns, sizeof ns, &err);
  assert_int_equal(net_ns_create(ns, &err), 0);
  assert_int_equal(net_cni_detach(IDB, &x->o, &err), 0);
  assert_false(nt_exists(ns));
  /* Died between creating the file and mounting on it: a plain file. */
  nt_write(ns, "", 0);
  assert_false(net_ns_is_mounted(ns));
  assert_int_equal(net_cni_detach(IDB, &x->o, &err), 0);
  assert_false(nt_exists(ns));
}

static void test_attach_twice(void **state) {
  NEED_ROOT(state);
  fx *x = *state;
  cs_err err;
  net_cni_result r;
  if (net_cni_attach(IDA, &x->o, &r, &err) != 0) fail_msg("%s", err.msg);
  assert_int_equal(net_cni_attach(IDA, &x->o, &r, &err), -1);
  assert_int_equal(err.code, CS_ALREADY_EXISTS);
  /* The failed second attach did not disturb the first. */
  assert_true(net_ns_is_mounted(r.netns));
  assert_int_equal(net_cni_check(IDA, &x->o, &err), 0);
  assert_int_equal(net_cni_detach(IDA, &x->o, &err), 0);
  assert_clean(x, &ids[0], 1);
  assert_int_equal(net_cni_attach("../x", &x->o, &r, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
}

static void test_spec_prepare(void **state) {
  NEED_ROOT(state);
  fx *x = *state;
  cs_err err;
  bool attached = false;
  net_cni_result r;
  json_t *spec = json_loads("{\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"}]}}", 0, NULL);
  if (net_cni_spec_prepare(spec, IDA, &x->o, &r, &attached, &err) != 0) fail_msg("%s", err.msg);
  assert_true(attached);
  char p[256];
  assert_true(net_cni_spec_netns(spec, p, sizeof p));
  assert_string_equal(p, r.netns);
  assert_true(net_ns_is_mounted(p));
  json_decref(spec);
  assert_int_equal(net_cni_detach(IDA, &x->o, &err), 0);
  assert_clean(x, &ids[0], 1);
}

static void test_netns_basics(void **state) {
  NEED_ROOT(state);
  fx *x = *state;
  cs_err err;
  char ns[256], before[64], after[64];
  ssize_t len = readlink("/proc/thread-self/ns/net", before, sizeof before - 1);
  assert_true(len > 0);
  before[len] = '\0';
  net_cni_netns_path(IDC, &x->o, ns, sizeof ns, &err);
  assert_int_equal(net_ns_create(ns, &err), 0);
  assert_true(net_ns_is_mounted(ns));
  assert_int_equal(net_ns_create(ns, &err), -1);
  assert_int_equal(err.code, CS_ALREADY_EXISTS);
  /* A fresh namespace has only lo, and our own namespace was not touched. */
  int fd = net_ns_open_net_dev(ns, &err);
  assert_true(fd >= 0);
  rt_net_iface ifs[8];
  uint32_t n = 0;
  assert_int_equal(net_counters_read(fd, ifs, 8, &n, &err), 0);
  close(fd);
  assert_int_equal(n, 1);
  assert_string_equal(ifs[0].name, "lo");
  len = readlink("/proc/thread-self/ns/net", after, sizeof after - 1);
  assert_true(len > 0);
  after[len] = '\0';
  assert_string_equal(after, before);
  assert_int_equal(net_ns_remove(ns, &err), 0);
  assert_false(nt_exists(ns));
  assert_int_equal(net_ns_remove(ns, &err), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_netns_basics, setup, teardown),
      cmocka_unit_test_setup_teardown(test_two_namespaces, setup, teardown),
      cmocka_unit_test_setup_teardown(test_plugin_error_rolls_back, setup, teardown),
      cmocka_unit_test_setup_teardown(test_creator_died, setup, teardown),
      cmocka_unit_test_setup_teardown(test_attach_twice, setup, teardown),
      cmocka_unit_test_setup_teardown(test_spec_prepare, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
