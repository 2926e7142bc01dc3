/* fuzz_task's sandbox. Why and how:
 *
 * A fuzzed CreateTaskRequest carries a bundle path, stdio paths and rootfs mounts; the Create handler
 * mkdirs <bundle>/rootfs, mount(2)s the mounts there, opens the stdio paths (O_CREAT for file:// URIs),
 * and ExecProcessRequest opens stdio too. Unchecked, a fuzzer running as root would create files anywhere,
 * open device nodes (/dev/watchdog arms a watchdog), and bind-mount or remount host paths.
 *
 * Two layers, both simple:
 *  1. Namespaces. At start-up the process unshares a user namespace (uid 0 inside = our uid outside, so
 *     libFuzzer can still write its corpus and artifacts) and a mount namespace, makes every mount private,
 *     and mounts a tmpfs of its own on SANDBOX. Every mount(2) the shim makes lands in this namespace and
 *     vanishes with the process; the host never sees it. (Without namespaces, e.g. in a chroot: a mkdtemp
 *     directory, and fuzz_task sends no rootfs mounts at all.)
 *  2. Paths. fuzz_task rewrites every path in a decodable Create/Exec request that is not inside SANDBOX
 *     (absolute, no ".." component) to one that is, before sending it, and sends the bytes unchanged when
 *     they are already safe (the seeds are), so the decoder still sees raw fuzzed bytes. Mount sources and
 *     path-valued mount options are rewritten too: a bind mount of "/" into the sandbox would otherwise
 *     make host files reachable through sandbox paths. Nothing the shim does creates symlinks, so a path
 *     inside SANDBOX stays inside.
 * Between inputs the tmpfs is detached (with everything mounted below it) and a fresh one mounted, so no
 * input sees files or mounts of the previous one.
 *
 * Not chroot: libFuzzer writes crash artifacts from inside the input's execution, and ASan symbolizes by
 * spawning llvm-symbolizer; both need the real filesystem. */
#include "fuzz_sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_util.h"

#define SANDBOX FUZZ_SANDBOX_DIR

static char g_dir[256];
static size_t g_dir_len;
static bool g_private; /* our own tmpfs in our own mount namespace */

static int write_file(const char *path, const char *s) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = write(fd, s, strlen(s));
  close(fd);
  return n == (ssize_t)strlen(s) ? 0 : -1;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw);

static void remove_dir(void) {
  nftw(g_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  rmdir(g_dir);
}

static bool enter_namespaces(void) {
  uid_t uid = getuid();
  gid_t gid = getgid();
  if (unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0) {
    char map[64];
    /* setgroups must be denied before an unprivileged gid_map is written; harmless as root. */
    write_file("/proc/self/setgroups", "deny");
    snprintf(map, sizeof map, "0 %u 1\n", (unsigned)uid);
    if (write_file("/proc/self/uid_map", map) < 0) return false;
    snprintf(map, sizeof map, "0 %u 1\n", (unsigned)gid);
    if (write_file("/proc/self/gid_map", map) < 0) return false;
  } else if (unshare(CLONE_NEWNS) < 0) {
    return false;
  }
  /* Without this, mounts below a shared mount would propagate back to the host's namespace. */
  return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
}

const char *fuzz_sandbox_init(void) {
  if (g_dir_len) return g_dir;
  if (mkdir(SANDBOX, 0700) < 0 && errno != EEXIST) {
    fprintf(stderr, "fuzz_sandbox: mkdir %s: %s\n", SANDBOX, strerror(errno));
    abort();
  }
  /* FUZZ_SANDBOX_NO_NS=1 takes the fallback below on purpose (to test it). */
  bool want_ns = getenv("FUZZ_SANDBOX_NO_NS") == NULL;
  int why = 0;
  if (want_ns && enter_namespaces() &&
      mount("cshim-fuzz", SANDBOX, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=0700") == 0) {
    g_private = true;
    snprintf(g_dir, sizeof g_dir, "%s", SANDBOX);
  } else {
    why = want_ns ? errno : 0;
    /* No namespace of our own (a chroot forbids user namespaces and may have no mount point at "/"):
     * a plain temporary directory, and fuzz_task drops rootfs mounts from the requests it sends, so the
     * shim never calls mount(2) at all. */
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/cshim-fuzz-sandbox-XXXXXX", tmp && strlen(tmp) < 100 ? tmp : "/tmp");
    FUZZ_CHECK(mkdtemp(g_dir) != NULL);
    fprintf(stderr, "fuzz_sandbox: no private mount namespace (%s); using %s, rootfs mounts not sent\n",
            why ? strerror(why) : "FUZZ_SANDBOX_NO_NS", g_dir);
    atexit(remove_dir);
  }
  g_dir_len = strlen(g_dir);
  return g_dir;
}

bool fuzz_sandbox_mounts_contained(void) { return g_private; }

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag;
  if (ftw->level > 0) remove(path);
  return 0;
}

void fuzz_sandbox_reset(void) {
  if (g_private) {
    /* Lazily detaching takes every mount an input stacked below the sandbox with it. */
    FUZZ_CHECK(umount2(g_dir, MNT_DETACH) == 0);
    FUZZ_CHECK(mount("cshim-fuzz", g_dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,nr_inodes=8192,mode=0700") == 0);
  } else {
    nftw(g_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  }
  FUZZ_CHECK(mkdir(fuzz_sandbox_path("/b"), 0700) == 0);
  FUZZ_CHECK(mkdir(fuzz_sandbox_path("/src"), 0700) == 0);
  FUZZ_CHECK(mkfifo(fuzz_sandbox_path("/in"), 0600) == 0);
  FUZZ_CHECK(mkfifo(fuzz_sandbox_path("/out"), 0600) == 0);
  FUZZ_CHECK(mkfifo(fuzz_sandbox_path("/err"), 0600) == 0);
}

bool fuzz_sandbox_path_ok(const char *path) {
  if (!path || strncmp(path, g_dir, g_dir_len) != 0 || path[g_dir_len] != '/') return false;
  for (const char *p = path + g_dir_len; *p;) {
    while (*p == '/') p++;
    size_t n = strcspn(p, "/");
    if (n == 2 && p[0] == '.' && p[1] == '.') return false;
    p += n;
  }
  return true;
}

const char *fuzz_sandbox_path(const char *suffix) {
  /* A few distinct buffers in rotation: callers use at most a handful at a time. */
  static char bufs[8][320];
  static unsigned next;
  char *b = bufs[next++ % 8];
  snprintf(b, sizeof bufs[0], "%s%s", g_dir, suffix);
  return b;
}
