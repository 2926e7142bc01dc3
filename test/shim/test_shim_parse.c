/* The shim's pure parsers: rootfs mount options (task_mount_posix.c) and the command line containerd gives a v2
 * shim (shim_args.c). No root, no mounts: task_mount_all is only driven to its refusals, which come before
 * anything is mounted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "shim_args.h"
#include "task_mount_posix.h"

static void test_mount_options(void **state) {
  const char *const o[] = {"ro", "nosuid", "nodev", "rbind", "rprivate", "size=64m", "mode=755"};
  unsigned long flags;
  int prop;
  char data[64];
  cs_err err;
  assert_int_equal(task_mount_parse_options(o, 7, &flags, data, sizeof data, &prop, &err), 0);
  assert_int_equal(flags, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_BIND | MS_REC);
  assert_int_equal(prop, MS_PRIVATE | MS_REC);
  assert_string_equal(data, "size=64m,mode=755");
  /* a clearing option undoes an earlier setting one, in order */
  const char *o2[] = {"ro", "rw", "noexec", "exec", "defaults", "shared"};
  assert_int_equal(task_mount_parse_options(o2, 6, &flags, data, sizeof data, &prop, &err), 0);
  assert_int_equal(flags, 0);
  assert_int_equal(prop, MS_SHARED);
  assert_string_equal(data, "");
  /* the data string must fit */
  const char *o3[] = {"lowerdir=/a/very/long/path/that/does/not/fit/in/the/small/buffer/given"};
  assert_int_equal(task_mount_parse_options(o3, 1, &flags, data, 16, &prop, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
}

static void test_mount_refusals(void **state) {
  cs_err err;
  const char *opts[] = {"ro"};
  rt_mount ms[2] = {{.type = "tmpfs", .source = "tmpfs", .options = opts, .n_options = 1},
                      {.type = "nfs", .source = "server:/x"}};
  /* a type the shim does not mount, anywhere in the list: refused before the first mount */
  assert_int_equal(task_mount_all(ms, 2, "/nonexistent/cshim-target", &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  assert_non_null(strstr(err.msg, "rootfs mount 1: type nfs"));
}

static void test_args(void **state) {
  shim_args a;
  cs_err err;
  char *start[] = {"shim", "-namespace", "k8s.io", "--address=/run/ctd.sock", "-publish-binary", "/bin/ctd",
                   "-id", "abc", "-debug", "start", NULL};
  assert_int_equal(shim_args_parse(&a, 10, start, &err), 0);
  assert_string_equal(a.ns, "k8s.io");
  assert_string_equal(a.address, "/run/ctd.sock");
  assert_string_equal(a.publish_binary, "/bin/ctd");
  assert_string_equal(a.id, "abc");
  assert_true(a.debug);
  assert_string_equal(a.action, "start");
  char *serve[] = {"shim", "-id=x", "-debug=false", "-bundle", "/b", "--", "-notaflag", NULL};
  assert_int_equal(shim_args_parse(&a, 7, serve, &err), 0);
  assert_string_equal(a.ns, "default");
  assert_false(a.debug);
  assert_string_equal(a.bundle, "/b");
  assert_string_equal(a.action, "-notaflag");
  char *version[] = {"shim", "-v", NULL};
  assert_int_equal(shim_args_parse(&a, 2, version, &err), 0);
  assert_true(a.version);
  assert_null(a.action);
  char *unknown[] = {"shim", "-bogus", "1", NULL};
  assert_int_equal(shim_args_parse(&a, 3, unknown, &err), -1);
  assert_int_equal(err.code, CS_INVALID_ARGUMENT);
  assert_non_null(strstr(err.msg, "not defined: -bogus"));
  char *missing[] = {"shim", "-id", NULL};
  assert_int_equal(shim_args_parse(&a, 2, missing, &err), -1);
  assert_non_null(strstr(err.msg, "needs an argument: -id"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_mount_options),
    cmocka_unit_test(test_mount_refusals),
    cmocka_unit_test(test_args),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
