/* Unit: a Create that fails after the rootfs was mounted leaves no mount — the runtime refusing at once or
 * failing later, or a later rootfs mount of the same request failing — and Delete unmounts. Real mounts
 * (tmpfs, bind) on <test dir>/rootfs, in a mount namespace of this test's own (made private), so nothing can
 * leak to the host even if an assertion stops a test half-way. Not root: the namespace is in a user
 * namespace of the test's own (uid 0 there, mapped to the caller), where tmpfs and bind mounts are allowed. */
#include "svc_env.h"

#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

static bool mounted(const char *path) {
  FILE *f = fopen("/proc/self/mountinfo", "r");
  assert_non_null(f);
  char line[4096], mp[4096];
  bool found = false;
  while (!found && fgets(line, sizeof line, f))
    found = sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1 && strcmp(mp, path) == 0;
  fclose(f);
  return found;
}

static int create_rootfs(const char *id, Containerd__Types__Mount **ms, size_t n, char *msg) {
  Containerd__Task__V2__CreateTaskRequest r = CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
  r.id = (char *)id;
  r.bundle = E->dir;
  r.rootfs = ms;
  r.n_rootfs = n;
  return call("Create", &r.base, NULL, NULL, msg);
}

static void test_rollback(void **state) {
  char rootfs[128], msg[CS_ERR_MSG_MAX];
  snprintf(rootfs, sizeof rootfs, "%s/rootfs", E->dir);
  assert_int_equal(create("boot"), 0); /* the backend exists from the first Create on */
  fake_rt *f = E->rt;
  Containerd__Types__Mount tmp = CONTAINERD__TYPES__MOUNT__INIT, bad = CONTAINERD__TYPES__MOUNT__INIT;
  char *tmp_opts[] = {"size=1m", "nodev"};
  tmp.type = "tmpfs";
  tmp.source = "tmpfs";
  tmp.options = tmp_opts;
  tmp.n_options = 2;
  Containerd__Types__Mount *one[] = {&tmp};

  /* the runtime refuses at once */
  f->fail_code = CS_UNKNOWN;
  snprintf(f->fail_op, sizeof f->fail_op, "create");
  f->fail_async = false;
  assert_int_equal(create_rootfs("r1", one, 1, msg), CS_UNKNOWN);
  assert_false(mounted(rootfs));
  /* the runtime fails later */
  f->fail_code = CS_INTERNAL;
  snprintf(f->fail_op, sizeof f->fail_op, "create");
  f->fail_async = true;
  assert_int_equal(create_rootfs("r1", one, 1, msg), CS_INTERNAL);
  assert_false(mounted(rootfs));
  /* the second mount of the request fails (its source does not exist): the first is undone */
  bad.type = "bind";
  bad.source = "/nonexistent/cshim-source";
  Containerd__Types__Mount *two[] = {&tmp, &bad};
  assert_int_equal(create_rootfs("r1", two, 2, msg), CS_NOT_FOUND);
  assert_non_null(strstr(msg, "/nonexistent/cshim-source"));
  assert_false(mounted(rootfs));
  /* a type the shim does not mount: refused before anything is mounted */
  bad.type = "nfs";
  assert_int_equal(create_rootfs("r1", two, 2, msg), CS_INVALID_ARGUMENT);
  assert_false(mounted(rootfs));
  /* success: mounted while the task lives, unmounted by Delete */
  assert_int_equal(create_rootfs("r1", one, 1, msg), 0);
  assert_true(mounted(rootfs));
  assert_int_equal(simple("Delete", "r1", NULL), 0);
  assert_false(mounted(rootfs));
}

static int write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  int rc = fputs(text, f) < 0 ? -1 : 0;
  return fclose(f) != 0 ? -1 : rc;
}

/* Become root of a user namespace of our own, the caller's ids mapped to 0. */
static int own_user_ns(void) {
  char map[64];
  uid_t uid = getuid();
  gid_t gid = getgid();
  if (unshare(CLONE_NEWUSER) < 0) return -1;
  snprintf(map, sizeof map, "0 %u 1\n", (unsigned)uid);
  if (write_file("/proc/self/uid_map", map) < 0 || write_file("/proc/self/setgroups", "deny") < 0) return -1;
  snprintf(map, sizeof map, "0 %u 1\n", (unsigned)gid);
  return write_file("/proc/self/gid_map", map);
}

int main(void) {
  if (getuid() != 0 && own_user_ns() < 0) {
    perror("test_task_rollback: a user namespace (unprivileged user namespaces disabled?)");
    return 1; /* a failure, not a skip */
  }
  /* MS_PRIVATE ignores the source and type: "none" rather than NULL keeps valgrind quiet */
  if (unshare(CLONE_NEWNS) < 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0) {
    perror("test_task_rollback: a private mount namespace");
    return 1;
  }
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_rollback, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
