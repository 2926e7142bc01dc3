/* Unit: running a conflist. With a fake exec function: ADD order and prevResult chaining, the list's
 * name/cniVersion in every plugin's config, DEL in reverse, the clean-up DEL after a failed ADD, CHECK's
 * skip rules, the CNI_* environment. With shell-script plugins through net_cni_exec_fork (no root): stdin,
 * stdout, stderr, exit status, timeout, a plugin that never reads stdin, a plugin killed by a signal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <signal.h>
#include <time.h>

#include "net_cni_list.h"
#include "net_test_util.h"

#define MAXCALLS 16

typedef struct call {
  char cmd[8], type[32], netns[64], id[64], ifname[16], cni_path[256];
  bool has_path;
  json_t *conf;
} call;

typedef struct fake {
  int n;
  call calls[MAXCALLS];
  const char *fail_add; /* plugin type whose ADD fails */
  const char *fail_del; /* plugin type whose DEL fails */
} fake;

static const char *envget(const char *const *env, const char *key) {
  size_t k = strlen(key);
  for (; *env; env++)
    if (!strncmp(*env, key, k) && (*env)[k] == '=') return *env + k + 1;
  return NULL;
}

static char *dup_text(const char *s) {
  char *p = malloc(strlen(s) + 1);
  strcpy(p, s);
  return p;
}

static int fake_exec(void *ctx, const net_cni_exec_req *req, net_cni_exec_out *out, cs_err *err) {
  (void)err;
  fake *f = ctx;
  assert_true(f->n < MAXCALLS);
  call *c = &f->calls[f->n++];
  const char *type = strrchr(req->plugin, '/') + 1;
  snprintf(c->cmd, sizeof c->cmd, "%s", envget(req->env, "CNI_COMMAND"));
  snprintf(c->type, sizeof c->type, "%s", type);
  snprintf(c->netns, sizeof c->netns, "%s", envget(req->env, "CNI_NETNS"));
  snprintf(c->id, sizeof c->id, "%s", envget(req->env, "CNI_CONTAINERID"));
  snprintf(c->ifname, sizeof c->ifname, "%s", envget(req->env, "CNI_IFNAME"));
  snprintf(c->cni_path, sizeof c->cni_path, "%s", envget(req->env, "CNI_PATH"));
  c->has_path = envget(req->env, "PATH") != NULL;
  c->conf = json_loadb(req->input, req->input_len, 0, NULL);
  assert_non_null(c->conf);
  memset(out, 0, sizeof *out);
  bool add = !strcmp(c->cmd, "ADD");
  if ((add && f->fail_add && !strcmp(type, f->fail_add)) ||
      (!strcmp(c->cmd, "DEL") && f->fail_del && !strcmp(type, f->fail_del))) {
    out->status = 1;
    out->out = dup_text("{\"cniVersion\":\"1.0.0\",\"code\":999,\"msg\":\"no luck\",\"details\":\"in the test\"}");
  } else if (add && !strcmp(type, "bridge")) {
    out->out = dup_text("{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"eth0\",\"sandbox\":\"/ns\"}],"
                        "\"ips\":[{\"address\":\"10.231.99.7/24\",\"interface\":0}]}");
  } else if (add) { /* a chained plugin: echo prevResult, marked */
    json_t *prev = json_deep_copy(json_object_get(c->conf, "prevResult"));
    if (!prev) prev = json_object();
    json_object_set_new(prev, type, json_true());
    out->out = json_dumps(prev, JSON_COMPACT);
    json_decref(prev);
  } else {
    out->out = dup_text("");
  }
  out->out_len = strlen(out->out);
  return 0;
}

static void fake_free(fake *f) {
  for (int i = 0; i < f->n; i++) json_decref(f->calls[i].conf);
}

typedef struct fx {
  char dir[64], path[256];
} fx;

static int setup(void **state) {
  fx *x = calloc(1, sizeof *x);
  nt_tmpdir(x->dir, "cshim-netlist");
  /* Plugins are looked up along CNI_PATH: a missing directory first, then ours. */
  snprintf(x->path, sizeof x->path, "/nonexistent/cni::%s", x->dir);
  const char *names[] = {"bridge", "tuning", "portmap", "loopback"};
  for (size_t i = 0; i < 4; i++) {
    char p[128];
    snprintf(p, sizeof p, "%s/%s", x->dir, names[i]);
    nt_write(p, "#!/bin/sh\nexit 0\n", 0755);
  }
  char p[128];
  snprintf(p, sizeof p, "%s/notexec", x->dir);
  nt_write(p, "#!/bin/sh\n", 0644);
  *state = x;
  return 0;
}

static int teardown(void **state) {
  fx *x = *state;
  nt_rmrf(x->dir);
  free(x);
  return 0;
}

static json_t *list3(void) {
  return json_loads("{\"cniVersion\":\"1.0.0\",\"name\":\"cshimtest\",\"plugins\":["
                    "{\"type\":\"bridge\",\"name\":\"ignored\",\"cniVersion\":\"0.1.0\",\"bridge\":\"cshimt0\"},"
                    "{\"type\":\"tuning\"},{\"type\":\"portmap\"}]}", 0, NULL);
}

static net_cni_rt rt_for(fx *x, fake *f) {
  net_cni_rt rt = {.container_id = "c1", .netns = "/run/netns/cshim-c1", .ifname = "eth0",
                   .plugin_path = x->path, .exec = fake_exec, .exec_ctx = f};
  return rt;
}

static void test_add_chain(void **state) {
  fx *x = *state;
  fake f = {0};
  cs_err err;
  json_t *l = list3(), *res = NULL;
  net_cni_rt rt = rt_for(x, &f);
  bool undo_failed = true;
  assert_int_equal(net_cni_list_add(l, &rt, &res, &undo_failed, &err), 0);
  assert_false(undo_failed);
  assert_int_equal(f.n, 3);
  const char *order[] = {"bridge", "tuning", "portmap"};
  for (int i = 0; i < 3; i++) {
    assert_string_equal(f.calls[i].cmd, "ADD");
    assert_string_equal(f.calls[i].type, order[i]);
    assert_string_equal(f.calls[i].id, "c1");
    assert_string_equal(f.calls[i].netns, "/run/netns/cshim-c1");
    assert_string_equal(f.calls[i].ifname, "eth0");
    assert_string_equal(f.calls[i].cni_path, x->path);
    assert_true(f.calls[i].has_path);
    /* The list's name and version replace the plugin's own. */
    assert_string_equal(json_string_value(json_object_get(f.calls[i].conf, "name")), "cshimtest");
    assert_string_equal(json_string_value(json_object_get(f.calls[i].conf, "cniVersion")), "1.0.0");
  }
  assert_null(json_object_get(f.calls[0].conf, "prevResult"));
  assert_string_equal(json_string_value(json_object_get(f.calls[0].conf, "bridge")), "cshimt0");
  /* tuning got bridge's result; portmap got tuning's (which carries tuning's mark). */
  const json_t *p1 = json_object_get(f.calls[1].conf, "prevResult");
  assert_non_null(json_object_get(p1, "ips"));
  assert_null(json_object_get(p1, "tuning"));
  assert_true(json_is_true(json_object_get(json_object_get(f.calls[2].conf, "prevResult"), "tuning")));
  /* The final result is the last plugin's. */
  assert_true(json_is_true(json_object_get(res, "tuning")));
  assert_true(json_is_true(json_object_get(res, "portmap")));
  net_cni_result r;
  assert_int_equal(net_cni_result_parse(res, "eth0", &r, &err), 0);
  assert_string_equal(r.ips[0].address, "10.231.99.7/24");
  json_decref(res);
  json_decref(l);
  fake_free(&f);
}

static void test_del_reverse(void **state) {
  fx *x = *state;
  fake f = {0};
  cs_err err;
  json_t *l = list3(), *prev = json_loads("{\"cniVersion\":\"1.0.0\",\"ips\":[]}", 0, NULL);
  net_cni_rt rt = rt_for(x, &f);
  rt.netns = ""; /* the namespace is gone: DEL must still run */
  assert_int_equal(net_cni_list_del(l, &rt, prev, &err), 0);
  assert_int_equal(f.n, 3);
  const char *order[] = {"portmap", "tuning", "bridge"};
  for (int i = 0; i < 3; i++) {
    assert_string_equal(f.calls[i].cmd, "DEL");
    assert_string_equal(f.calls[i].type, order[i]);
    assert_string_equal(f.calls[i].netns, "");
    assert_true(json_equal(json_object_get(f.calls[i].conf, "prevResult"), prev));
  }
  fake_free(&f);
  /* DEL stops at the first failure (spec) and reports the plugin's message. */
  fake g = {.fail_del = "tuning"};
  rt = rt_for(x, &g);
  assert_int_equal(net_cni_list_del(l, &rt, NULL, &err), -1);
  assert_int_equal(g.n, 2);
  assert_string_equal(err.msg, "tuning: no luck: in the test");
  assert_null(json_object_get(g.calls[0].conf, "prevResult"));
  fake_free(&g);
  json_decref(prev);
  json_decref(l);
}

static void test_add_failure_cleans_up(void **state) {
  fx *x = *state;
  fake f = {.fail_add = "tuning"};
  cs_err err;
  json_t *l = list3(), *res = (json_t *)1;
  net_cni_rt rt = rt_for(x, &f);
  bool undo_failed = true;
  assert_int_equal(net_cni_list_add(l, &rt, &res, &undo_failed, &err), -1);
  assert_null(res);
  assert_false(undo_failed);
  assert_string_equal(err.msg, "tuning: no luck: in the test");
  assert_int_equal(err.code, CS_UNKNOWN);
  /* ADD bridge, ADD tuning (fails), then DEL for the whole list in reverse — portmap too, which never
   * ran — without prevResult. */
  assert_int_equal(f.n, 5);
  const char *want[][2] = {{"ADD", "bridge"}, {"ADD", "tuning"}, {"DEL", "portmap"}, {"DEL", "tuning"},
                           {"DEL", "bridge"}};
  for (int i = 0; i < 5; i++) {
    assert_string_equal(f.calls[i].cmd, want[i][0]);
    assert_string_equal(f.calls[i].type, want[i][1]);
    if (i >= 2) assert_null(json_object_get(f.calls[i].conf, "prevResult"));
  }
  fake_free(&f);

  /* The clean-up fails too: both messages, and the caller is told state may be left. */
  fake g = {.fail_add = "portmap", .fail_del = "bridge"};
  rt = rt_for(x, &g);
  assert_int_equal(net_cni_list_add(l, &rt, &res, &undo_failed, &err), -1);
  assert_true(undo_failed);
  assert_non_null(strstr(err.msg, "portmap: no luck: in the test (clean-up DEL failed too: bridge: no luck"));
  fake_free(&g);
  json_decref(l);
}

static void test_plugin_lookup(void **state) {
  fx *x = *state;
  fake f = {0};
  cs_err err;
  char p[256];
  assert_int_equal(net_cni_plugin_find("bridge", x->path, p, sizeof p, &err), 0);
  assert_non_null(strstr(p, x->dir));
  assert_int_equal(net_cni_plugin_find("notexec", x->path, p, sizeof p, &err), -1);
  assert_int_equal(err.code, CS_NOT_FOUND);
  assert_int_equal(net_cni_plugin_find("../bridge", x->path, p, sizeof p, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  assert_int_equal(net_cni_plugin_find("..", x->path, p, sizeof p, &err), -1);
  /* A missing plugin anywhere in the list: nothing runs at all. */
  json_t *l = json_loads("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"plugins\":[{\"type\":\"bridge\"},"
                         "{\"type\":\"nosuch\"}]}", 0, NULL), *res;
  net_cni_rt rt = rt_for(x, &f);
  bool undo_failed;
  assert_int_equal(net_cni_list_add(l, &rt, &res, &undo_failed, &err), -1);
  assert_int_equal(err.code, CS_NOT_FOUND);
  assert_non_null(strstr(err.msg, "plugin nosuch not found in /nonexistent/cni::"));
  assert_false(undo_failed);
  assert_int_equal(f.n, 0);
  json_decref(l);
  fake_free(&f);
}

static void test_check_rules(void **state) {
  fx *x = *state;
  cs_err err;
  const char *skip[] = {
      "{\"cniVersion\":\"0.3.1\",\"name\":\"n\",\"plugins\":[{\"type\":\"bridge\"}]}",
      "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"disableCheck\":true,\"plugins\":[{\"type\":\"bridge\"}]}",
      "{\"cniVersion\":\"0.4.0\",\"name\":\"n\",\"disableCheck\":\"true\",\"plugins\":[{\"type\":\"bridge\"}]}",
  };
  for (size_t i = 0; i < 3; i++) {
    fake f = {0};
    net_cni_rt rt = rt_for(x, &f);
    json_t *l = json_loads(skip[i], 0, NULL);
    assert_int_equal(net_cni_list_check(l, &rt, NULL, &err), 0);
    assert_int_equal(f.n, 0);
    json_decref(l);
  }
  fake f = {0};
  net_cni_rt rt = rt_for(x, &f);
  json_t *l = list3(), *prev = json_loads("{\"ips\":[]}", 0, NULL);
  assert_int_equal(net_cni_list_check(l, &rt, prev, &err), 0);
  assert_int_equal(f.n, 3);
  assert_string_equal(f.calls[0].cmd, "CHECK");
  assert_string_equal(f.calls[0].type, "bridge");
  assert_true(json_equal(json_object_get(f.calls[2].conf, "prevResult"), prev));
  json_decref(prev);
  json_decref(l);
  fake_free(&f);
}

/* ---- shell-script plugins through the real fork/exec runner */

static void script(fx *x, const char *name, const char *body) {
  char p[128], text[2048];
  snprintf(p, sizeof p, "%s/%s", x->dir, name);
  snprintf(text, sizeof text, "#!/bin/sh\n%s", body);
  nt_write(p, text, 0755);
}

static void test_fork_exec_roundtrip(void **state) {
  fx *x = *state;
  cs_err err;
  /* Records its stdin and environment, logs to stderr, prints a result. */
  script(x, "recorder", "cat > \"$0.stdin\"\nenv > \"$0.env\"\necho 'some log' >&2\n"
                        "printf '{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.231.99.9/24\"}]}'\n");
  script(x, "failer", "cat >/dev/null\necho 'about to fail' >&2\n"
                      "[ \"$CNI_COMMAND\" = ADD ] || exit 0\n"
                      "echo '{\"cniVersion\":\"1.0.0\",\"code\":7,\"msg\":\"bad network\",\"details\":\"subnet?\"}'\n"
                      "exit 1\n");
  json_t *l = json_loads("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"plugins\":[{\"type\":\"recorder\",\"k\":1}]}",
                         0, NULL), *res = NULL;
  net_cni_rt rt = {.container_id = "c9", .netns = "/run/netns/cshim-c9", .ifname = "eth0", .plugin_path = x->path};
  assert_int_equal(net_cni_list_add(l, &rt, &res, NULL, &err), 0);
  net_cni_result r;
  assert_int_equal(net_cni_result_parse(res, "eth0", &r, &err), 0);
  assert_string_equal(r.ips[0].address, "10.231.99.9/24");
  char p[256], text[8192];
  snprintf(p, sizeof p, "%s/recorder.stdin", x->dir);
  assert_true(nt_read(p, text, sizeof text));
  json_t *got = json_loads(text, 0, NULL);
  assert_int_equal(json_integer_value(json_object_get(got, "k")), 1);
  assert_string_equal(json_string_value(json_object_get(got, "name")), "n");
  json_decref(got);
  snprintf(p, sizeof p, "%s/recorder.env", x->dir);
  assert_true(nt_read(p, text, sizeof text));
  assert_non_null(strstr(text, "CNI_COMMAND=ADD\n"));
  assert_non_null(strstr(text, "CNI_CONTAINERID=c9\n"));
  assert_non_null(strstr(text, "CNI_NETNS=/run/netns/cshim-c9\n"));
  assert_non_null(strstr(text, "CNI_IFNAME=eth0\n"));
  assert_non_null(strstr(text, "PATH="));
  json_decref(res);
  json_decref(l);

  l = json_loads("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"plugins\":[{\"type\":\"recorder\"},"
                 "{\"type\":\"failer\"}]}", 0, NULL);
  bool undo_failed = true;
  assert_int_equal(net_cni_list_add(l, &rt, &res, &undo_failed, &err), -1);
  assert_false(undo_failed);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  assert_string_equal(err.msg, "failer: bad network: subnet?");
  /* The recorder ran last as DEL (the clean-up). */
  snprintf(p, sizeof p, "%s/recorder.env", x->dir);
  assert_true(nt_read(p, text, sizeof text));
  assert_non_null(strstr(text, "CNI_COMMAND=DEL\n"));
  json_decref(l);
}

static int64_t ms_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int run_script(fx *x, const char *name, const char *input, size_t len, int timeout_ms,
                      net_cni_exec_out *o, cs_err *err) {
  char p[128];
  snprintf(p, sizeof p, "%s/%s", x->dir, name);
  const char *env[] = {"PATH=/usr/bin:/bin", "CNI_COMMAND=ADD", NULL};
  net_cni_exec_req req = {.plugin = p, .env = env, .input = input, .input_len = len, .timeout_ms = timeout_ms};
  return net_cni_exec_fork(NULL, &req, o, err);
}

static void test_fork_exec_edges(void **state) {
  fx *x = *state;
  cs_err err;
  net_cni_exec_out o;
  /* Hangs: killed at the deadline. */
  script(x, "sleeper", "exec sleep 30\n");
  int64_t t0 = ms_now();
  assert_int_equal(run_script(x, "sleeper", "{}", 2, 300, &o, &err), -1);
  assert_int_equal(err.code, CS_DEADLINE_EXCEEDED);
  assert_true(ms_now() - t0 < 5000);
  assert_null(o.out);

  /* Never reads a large stdin and exits: no SIGPIPE for us, its output still counts. */
  script(x, "noread", "echo '{\"ok\":true}'\nexit 0\n");
  size_t big = 4u << 20;
  char *input = malloc(big);
  memset(input, ' ', big);
  assert_int_equal(run_script(x, "noread", input, big, 10000, &o, &err), 0);
  assert_int_equal(o.status, 0);
  assert_string_equal(o.out, "{\"ok\":true}\n");
  free(o.out);
  free(input);

  /* Killed by a signal. */
  script(x, "killer", "kill -9 $$\n");
  assert_int_equal(run_script(x, "killer", "", 0, 10000, &o, &err), -1);
  assert_non_null(strstr(err.msg, "killed by signal 9"));

  /* A flood on stderr: kept to the start, the rest drained so the plugin does not block. */
  script(x, "chatty", "i=0; while [ $i -lt 2000 ]; do echo \"log line $i of a chatty plugin\" >&2; i=$((i+1)); done\n"
                      "echo '{}'; exit 4\n");
  assert_int_equal(run_script(x, "chatty", "{}", 2, 20000, &o, &err), 0);
  assert_int_equal(o.status, 4);
  assert_int_equal(strncmp(o.errtxt, "log line 0 of", 13), 0);
  assert_int_equal(strlen(o.errtxt), sizeof o.errtxt - 1);
  free(o.out);

  /* Cannot be executed (bad interpreter): exit status 127 with a word on stderr. */
  script(x, "broken", "");
  char p[128];
  snprintf(p, sizeof p, "%s/broken", x->dir);
  nt_write(p, "#!/nonexistent/interpreter\n", 0755);
  assert_int_equal(run_script(x, "broken", "", 0, 10000, &o, &err), 0);
  assert_int_equal(o.status, 127);
  assert_non_null(strstr(o.errtxt, "execve"));
  net_cni_plugin_error("broken", &o, &err);
  assert_non_null(strstr(err.msg, "broken: exit status 127: cshim: execve"));
  free(o.out);

  /* Signals the caller ignores or blocks are back to default in the plugin (ignored ones would survive
   * execve): the plugin's own ignore and block masks are empty. */
  /* exec: the reader is the plugin process itself (masks and ignores carry over execve); reading the
   * shell's /proc/$$ instead would race with the shell blocking signals while it waits for its child. */
  script(x, "sigs", "exec sed -n 's/^Sig\\(Ign\\|Blk\\):[[:space:]]*/\\1 /p' /proc/self/status\n");
  void (*old)(int) = signal(SIGPIPE, SIG_IGN);
  sigset_t block, prev;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigprocmask(SIG_BLOCK, &block, &prev);
  assert_int_equal(run_script(x, "sigs", "", 0, 10000, &o, &err), 0);
  sigprocmask(SIG_SETMASK, &prev, NULL);
  signal(SIGPIPE, old);
  assert_int_equal(o.status, 0);
  assert_non_null(strstr(o.out, "Blk 0000000000000000"));
  assert_non_null(strstr(o.out, "Ign 0000000000000000"));
  free(o.out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_add_chain, setup, teardown),
      cmocka_unit_test_setup_teardown(test_del_reverse, setup, teardown),
      cmocka_unit_test_setup_teardown(test_add_failure_cleans_up, setup, teardown),
      cmocka_unit_test_setup_teardown(test_plugin_lookup, setup, teardown),
      cmocka_unit_test_setup_teardown(test_check_rules, setup, teardown),
      cmocka_unit_test_setup_teardown(test_fork_exec_roundtrip, setup, teardown),
      cmocka_unit_test_setup_teardown(test_fork_exec_edges, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
