/* The state directory: bundle creation as the id lock, records, listing and removal (in a temp dir). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_state.h"

static int setup(void **state) {
  char *dir = strdup("/tmp/cli-state-XXXXXX");
  if (!mkdtemp(dir)) return -1;
  *state = dir;
  return 0;
}

static int teardown(void **state) {
  char *dir = *state;
  cs_err err;
  int rc = cli_state_remove(dir, &err);
  free(dir);
  return rc;
}

static void test_create_is_exclusive(void **state) {
  const char *dir = *state;
  char sd[512], bundle[CLI_PATH_MAX], io[CLI_PATH_MAX + 8];
  snprintf(sd, sizeof sd, "%s/nested/state", dir);
  cs_err err;
  assert_int_equal(cli_state_create(sd, "c1", bundle, sizeof bundle, &err), 0);
  snprintf(io, sizeof io, "%s/io", bundle);
  struct stat st;
  assert_int_equal(stat(io, &st), 0);
  assert_true(S_ISDIR(st.st_mode));
  /* the second one with the same id fails and leaves the first alone */
  char marker[CLI_PATH_MAX + 16];
  snprintf(marker, sizeof marker, "%s/keep", bundle);
  assert_int_equal(cli_write_file(marker, "x", 1, 0600, &err), 0);
  assert_int_equal(cli_state_create(sd, "c1", bundle, sizeof bundle, &err), -1);
  assert_int_equal(err.code, CS_ALREADY_EXISTS);
  assert_non_null(strstr(err.msg, "c1 already exists"));
  assert_int_equal(access(marker, F_OK), 0);
  assert_int_equal(cli_state_create("relative/dir", "c2", bundle, sizeof bundle, &err), -1);
}

static void test_meta_roundtrip_and_list(void **state) {
  const char *dir = *state;
  cs_err err;
  cli_meta m, back;
  const char *ids[] = {"zeta", "alpha", "mid-1"};
  for (size_t i = 0; i < 3; i++) {
    memset(&m, 0, sizeof m);
    snprintf(m.id, sizeof m.id, "%s", ids[i]);
    assert_int_equal(cli_state_create(dir, ids[i], m.bundle, sizeof m.bundle, &err), 0);
    snprintf(m.ns, sizeof m.ns, "cshim");
    snprintf(m.address, sizeof m.address, "unix:///run/containerd/s/abc");
    snprintf(m.shim, sizeof m.shim, "/usr/bin/shim");
    snprintf(m.rootfs, sizeof m.rootfs, "/r");
    snprintf(m.runtime, sizeof m.runtime, "crun");
    m.terminal = true;
    m.created = 1700000000;
    if (i == 1) {
      m.net_attached = true;
      snprintf(m.net_id, sizeof m.net_id, "cshim.%s", ids[i]);
      snprintf(m.net_state_dir, sizeof m.net_state_dir, "/var/lib/x");
      snprintf(m.ip, sizeof m.ip, "10.0.0.2/24");
    }
    assert_int_equal(cli_meta_write(&m, &err), 0);
  }
  /* a bundle without a record is a run in progress: not listed, reported as such */
  char bundle[CLI_PATH_MAX];
  assert_int_equal(cli_state_create(dir, "creating", bundle, sizeof bundle, &err), 0);
  assert_int_equal(cli_meta_read(dir, "creating", &back, &err), -1);
  assert_int_equal(err.code, CS_FAILED_PRECONDITION);
  assert_int_equal(cli_meta_read(dir, "nosuch", &back, &err), -1);
  assert_int_equal(err.code, CS_NOT_FOUND);
  assert_int_equal(cli_meta_read(dir, "../etc", &back, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);

  assert_int_equal(cli_meta_read(dir, "alpha", &back, &err), 0);
  assert_string_equal(back.id, "alpha");
  assert_string_equal(back.ns, "cshim");
  assert_string_equal(back.address, "unix:///run/containerd/s/abc");
  assert_string_equal(back.runtime, "crun");
  assert_true(back.terminal);
  assert_false(back.detached);
  assert_int_equal(back.created, 1700000000);
  assert_true(back.net_attached);
  assert_string_equal(back.net_id, "cshim.alpha");
  assert_string_equal(back.net_state_dir, "/var/lib/x");
  assert_string_equal(back.net_config_dir, "");
  assert_string_equal(back.ip, "10.0.0.2/24");
  assert_int_equal(cli_meta_read(dir, "zeta", &back, &err), 0);
  assert_false(back.net_attached);
  assert_string_equal(back.ip, "");

  char **list;
  size_t n;
  assert_int_equal(cli_state_list(dir, &list, &n, &err), 0);
  assert_int_equal(n, 3);
  assert_string_equal(list[0], "alpha");
  assert_string_equal(list[1], "mid-1");
  assert_string_equal(list[2], "zeta");
  cli_state_list_free(list, n);
  assert_int_equal(cli_state_list("/nonexistent/dir", &list, &n, &err), 0);
  assert_int_equal(n, 0);
}

static void test_remove(void **state) {
  const char *dir = *state;
  cs_err err;
  char bundle[CLI_PATH_MAX], p[CLI_PATH_MAX + 32];
  assert_int_equal(cli_state_create(dir, "gone", bundle, sizeof bundle, &err), 0);
  snprintf(p, sizeof p, "%s/io/stdout", bundle);
  assert_int_equal(mkfifo(p, 0600), 0);
  /* a symlink out of the bundle is removed, never followed */
  char outside[CLI_PATH_MAX];
  snprintf(outside, sizeof outside, "%s/outside", dir);
  assert_int_equal(mkdir(outside, 0700), 0);
  snprintf(p, sizeof p, "%s/outside/file", dir);
  assert_int_equal(cli_write_file(p, "x", 1, 0600, &err), 0);
  snprintf(p, sizeof p, "%s/link", bundle);
  assert_int_equal(symlink(outside, p), 0);
  assert_int_equal(cli_state_remove(bundle, &err), 0);
  assert_int_equal(access(bundle, F_OK), -1);
  snprintf(p, sizeof p, "%s/outside/file", dir);
  assert_int_equal(access(p, F_OK), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_create_is_exclusive, setup, teardown),
    cmocka_unit_test_setup_teardown(test_meta_roundtrip_and_list, setup, teardown),
    cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
