/* fault_disk: the bundle's filesystem is full.
 *
 * A 256 KiB tmpfs under the work dir holds bundles and is then filled. Create of a task whose bundle is
 * there must fail with a message naming the problem (no space) and ResourceExhausted or the runtime's
 * failure (Unknown) — both as the shim's first Create (it saves the runtime options in the bundle) and
 * once its runtime is set up (runc writes its log and pid file there). Nothing may be corrupted: the shim
 * keeps serving its running task, a task on a healthy bundle runs to completion, the `address` file is
 * intact, no container or cgroup of the failed tasks is left, and once space is freed the same bundle
 * works. A `start` whose bundle is full fails cleanly: no socket, no daemon, no `address` file. */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "cs_sha256.h"
#include "shimtest.h"

static bool is_no_space(const char *msg) { return strcasestr(msg, "no space") != NULL; }

static bool read_file(const char *path, char *buf, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = read(fd, buf, cap - 1);
  close(fd);
  if (n < 0) return false;
  buf[n] = '\0';
  return true;
}

/* Fill the filesystem holding dir: one file of zeros until ENOSPC. */
static int fill(const char *dir) {
  char path[1024];
  st_path(path, sizeof path, "%s/fill", dir);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  static char zeros[4096];
  int err = 0;
  for (;;) {
    if (write(fd, zeros, sizeof zeros) < 0) {
      err = errno;
      break;
    }
  }
  /* then byte by byte, so not even a partial page is left */
  while (write(fd, zeros, 1) == 1) {
  }
  close(fd);
  return err == ENOSPC ? 0 : -1;
}

/* Nothing of a failed task may remain: runc state, cgroup dirs. */
static bool leftovers(st_env *e, const char *id, char *what, size_t len) {
  char path[1024];
  struct stat st;
  snprintf(path, sizeof path, "/run/containerd/runc/%s/%s", e->ns, id);
  if (stat(path, &st) == 0) {
    snprintf(what, len, "%s", path);
    return true;
  }
  snprintf(path, sizeof path, "/sys/fs/cgroup/*/%s/%s", e->ns, id);
  glob_t g;
  bool found = glob(path, 0, NULL, &g) == 0 && g.gl_pathc > 0;
  if (found) snprintf(what, len, "%s", g.gl_pathv[0]);
  globfree(&g);
  if (found) return true;
  snprintf(path, sizeof path, "/sys/fs/cgroup/%s/%s", e->ns, id);
  if (stat(path, &st) == 0) {
    snprintf(what, len, "%s", path);
    return true;
  }
  return false;
}

typedef struct leftover_q {
  const char *id;
  char what[1024];
} leftover_q;

static bool nothing_left(st_env *e, void *data) {
  leftover_q *q = data;
  return !leftovers(e, q->id, q->what, sizeof q->what);
}

static void check_full_create(st_env *e, ttrpc_client *cl, const char *id, const char *bundle, const char *when) {
  char msg[CS_ERR_MSG_MAX];
  int rc = st_create(e, cl, id, bundle, NULL, NULL, msg);
  st_check(e, rc == CS_RESOURCE_EXHAUSTED || rc == CS_UNKNOWN,
           "%s: Create on a full bundle fails with ResourceExhausted or Unknown (got %d)", when, rc);
  st_check(e, is_no_space(msg), "%s: the error names the problem (\"%s\")", when, msg);
  int status = 0;
  rc = st_state(e, cl, id, &status, NULL, msg);
  st_check(e, rc == CS_NOT_FOUND, "%s: the failed task is not kept (State: %d %s)", when, rc, msg);
  /* the shim's cleanup (runc delete --force) runs after the reply: wait for it, with a deadline */
  leftover_q q = {.id = id};
  bool gone = st_wait_until(e, 20000, nothing_left, &q);
  st_check(e, gone, "%s: no runc state or cgroup left for %s%s%s", when, id, gone ? "" : " after 20 s: ",
           gone ? "" : q.what);
}

int main(int argc, char **argv) {
  st_env e;
  if (st_init(&e, argc, argv) < 0) return 2;
  char sock[512], msg[CS_ERR_MSG_MAX], path[1024], buf[1024] = "";
  char ok_bundle[1024], ok2_bundle[1024], full[1024], f1[1024], f2[1024], f3[1024];
  st_path(ok_bundle, sizeof ok_bundle, "%s/b-ok", e.work);
  st_path(ok2_bundle, sizeof ok2_bundle, "%s/b-ok2", e.work);
  st_path(full, sizeof full, "%s/full", e.work);
  st_path(f1, sizeof f1, "%s/b1", full);
  st_path(f2, sizeof f2, "%s/b2", full);
  st_path(f3, sizeof f3, "%s/b3", full);
  ttrpc_client *cl = NULL;
  bool mounted = false;
  pid_t shim = 0;

  st_events_listen(&e, NULL);
  const char *sleeper[] = {"sleep", "600", NULL};
  const char *exit4[] = {"sh", "-c", "exit 4", NULL};
  const char *exit0[] = {"true", NULL};
  if (st_bundle(&e, ok_bundle, "disk-ok", sleeper, NULL) < 0 || st_bundle(&e, ok2_bundle, "disk-ok2", exit4, NULL) < 0)
    goto out;
  if (!st_check(&e, st_shim_start_ok(&e, ok_bundle, "disk-ok", sock, sizeof sock) == 0, "shim starts in a healthy bundle"))
    goto out;
  cs_err err;
  cl = st_connect(&e, sock, &err);
  if (!st_check(&e, cl != NULL, "connect to the shim %s", cl ? "" : err.msg)) goto out;
  pid_t pids[4];
  shim = st_shim_pid(&e, "disk-ok", 5000);
  st_check(&e, shim > 0, "shim process found (%d)", (int)shim);
  char address[1024];
  st_path(path, sizeof path, "%s/address", ok_bundle);
  st_check(&e, read_file(path, address, sizeof address) && !strncmp(address, "unix://", 7) && !strcmp(address + 7, sock),
           "address file holds the socket address");

  /* ---- the tiny filesystem, bundles on it, then full */
  mkdir(full, 0755);
  if (!st_check(&e, mount("tmpfs", full, "tmpfs", MS_NOSUID | MS_NODEV, "size=256k,mode=0755") == 0,
                "256 KiB tmpfs mounted at %s (%s)", full, strerror(errno)))
    goto out;
  mounted = true;
  st_bundle(&e, f1, "disk-full-1", exit0, NULL);
  st_bundle(&e, f2, "disk-full-2", exit0, NULL);
  st_bundle(&e, f3, "disk-full-start", exit0, NULL);
  struct statvfs vfs = {0};
  bool filled = fill(full) == 0 && statvfs(full, &vfs) == 0 && vfs.f_bavail == 0;
  st_check(&e, filled, "the tmpfs is full (%lu blocks free)", (unsigned long)vfs.f_bavail);

  /* ---- the shim's first Create: the runtime options are saved in the full bundle */
  check_full_create(&e, cl, "disk-full-1", f1, "first Create");

  /* ---- the shim serves a healthy task after that */
  uint32_t pid = 0;
  int rc = st_create(&e, cl, "disk-ok", ok_bundle, NULL, &pid, msg);
  st_check(&e, rc == CS_OK && pid > 0, "a healthy bundle's Create works after the failure (%d %s)", rc, msg);
  rc = st_start(&e, cl, "disk-ok", NULL, msg);
  st_check(&e, rc == CS_OK, "and its Start (%d %s)", rc, msg);

  /* ---- Create once the runtime is set up: runc writes log.json and the pid file in the bundle */
  check_full_create(&e, cl, "disk-full-2", f2, "runtime Create");

  int status = 0;
  rc = st_state(&e, cl, "disk-ok", &status, NULL, msg);
  st_check(&e, rc == CS_OK && status == 2, "the running task is still running (State %d, status %d)", rc, status);
  uint32_t spid = 0;
  rc = st_connect_rpc(&e, cl, "disk-ok", &spid, NULL, msg);
  st_check(&e, rc == CS_OK && (pid_t)spid == shim, "Connect answers with the same shim pid (%u)", spid);

  uint32_t code = 999;
  rc = st_create(&e, cl, "disk-ok2", ok2_bundle, NULL, NULL, msg);
  if (rc == CS_OK) rc = st_start(&e, cl, "disk-ok2", NULL, msg);
  if (rc == CS_OK) rc = st_wait(&e, cl, "disk-ok2", 30 * ST_SEC, &code, msg);
  if (rc == CS_OK) rc = st_delete(&e, cl, "disk-ok2", NULL, msg);
  st_check(&e, rc == CS_OK && code == 4, "a second task on a healthy bundle runs to exit 4 and is deleted (%d %s, %u)", rc,
           msg, code);
  bool intact = read_file(path, buf, sizeof buf) && !strcmp(buf, address);
  st_check(&e, intact, "address file intact (\"%s\")", buf);

  /* ---- `start` in a full bundle fails cleanly */
  char out[1024];
  size_t nshims = st_shim_pids(&e, pids, 4);
  rc = st_shim_start(&e, f3, "disk-full-start", NULL, out, sizeof out);
  st_check(&e, rc != 0 && is_no_space(out), "start in a full bundle fails naming the problem (exit %d: \"%s\")", rc, out);
  char joined[2048], hex[65], s3[1024];
  int jn = snprintf(joined, sizeof joined, "%s/%s/%s", e.address, e.ns, "disk-full-start");
  cs_sha256_hex(joined, (size_t)jn, hex);
  snprintf(s3, sizeof s3, "/run/containerd/s/%s", hex);
  st_record(&e, "sockets", "%s", s3);
  struct stat sst;
  st_check(&e, stat(s3, &sst) < 0 && errno == ENOENT, "no socket left by the failed start (%s)", s3);
  st_check(&e, st_shim_pids(&e, pids, 4) == nshims, "no daemon left by the failed start");
  st_path(path, sizeof path, "%s/address", f3);
  st_check(&e, stat(path, &sst) < 0, "no address file in the full bundle");

  /* ---- space freed: the bundle that failed works; nothing from the failure is in the way */
  st_path(path, sizeof path, "%s/fill", full);
  unlink(path);
  code = 999;
  rc = st_create(&e, cl, "disk-full-1", f1, NULL, NULL, msg);
  if (rc == CS_OK) rc = st_start(&e, cl, "disk-full-1", NULL, msg);
  if (rc == CS_OK) rc = st_wait(&e, cl, "disk-full-1", 30 * ST_SEC, &code, msg);
  if (rc == CS_OK) rc = st_delete(&e, cl, "disk-full-1", NULL, msg);
  st_check(&e, rc == CS_OK && code == 0, "with space freed, the same bundle runs to completion (%d %s)", rc, msg);

  st_path(path, sizeof path, "%s/address", ok_bundle);
  st_check(&e, read_file(path, buf, sizeof buf) && !strcmp(buf, address), "address file still intact");
  st_check(&e, shim > 0 && st_pid_alive(shim), "shim %d alive throughout", (int)shim);
  const st_event *ev[8];
  size_t n2 = st_events_for(&e, "disk-full-2", ev, 8), n1 = st_events_for(&e, "disk-full-1", ev, 8);
  st_check(&e, n2 == 0 && n1 == 4, "no event for the failed Creates (disk-full-2: %zu; disk-full-1 only its later run: %zu)",
           n2, n1);

out:
  if (cl) {
    st_remove_task(&e, cl, "disk-ok");
    st_remove_task(&e, cl, "disk-ok2");
    st_remove_task(&e, cl, "disk-full-1");
    int sd = 0;
    {
      bool gone_sd = st_shutdown_exit(&e, cl, shim, &sd);
      st_check(&e, gone_sd, "shim %d exits after Shutdown (%d)", (int)shim, sd);
    }
  }
  if (mounted && umount2(full, MNT_DETACH) < 0) st_diag("umount %s: %s", full, strerror(errno));
  st_events_close(&e);
  printf("# fault_disk: %.1f s\n", st_elapsed(&e));
  return st_finish(&e);
}
