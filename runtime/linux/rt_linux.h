/* The Linux compute backend: drives an OCI runtime binary (runc by default, crun selectable) the way
 * containerd-shim-runc-v2 drives runc, owns child reaping, and reads the containers' counters (cgroup v1/v2,
 * per-interface network in the container's netns) and OOM events.
 *
 * Contract with the service above (beyond runtime/rt.h):
 *
 * - Exits. Every child exit the backend does not consume itself (its own runtime invocations) goes to
 *   rt_events.exit: the container's init, exec processes, and any process reparented to the subreaper —
 *   including pids the service has never heard of (runc's helpers, a grandchild of the container). The
 *   service must ignore pids it does not know, BUT an exit may arrive before the call that reveals its pid
 *   has completed: an exec process that exits before `runc exec` returns, an init that exits before `runc
 *   start` returns. Putting such an exit after Start's reply is the service's rule (rt.h), not this
 *   backend's: every exit goes up at once. What the backend does guarantee: when the runtime's own exit and
 *   the process's exit are collected in the same waitpid drain (the common case), the rt_done_cb (with the
 *   pid) runs before rt_events.exit for that pid. Each pid's exit is delivered once.
 *
 * - Exec. rt_ops.exec runs `runc exec --detach`: the process is created AND running when the callback
 *   fires (that is what runc exec does). rt_ops.start(id, exec_id) afterwards only returns that pid (kept
 *   for a while after the exec exited), so a service following runc-v2's flow (Exec RPC records the spec,
 *   Start RPC starts it) should call rt_ops.exec from its Start handler.
 *
 * - Create with a checkpoint records the request; the restore (`runc restore --detach`) runs at start,
 *   as runc-v2 does. res.pid of that create is 0.
 *
 * - Terminal: rt_result.console_fd is the pty master (caller owns it); resizing is done by the caller on it
 *   (rt_ops.resize, asked for a process without one, succeeds doing nothing, as runc-v2 does).
 *
 * - Exec: the process spec's "terminal" is set from rt_exec_req.io.terminal before the runtime sees it.
 *
 * - A container without a pid namespace of its own (the host's, or another container's): when its init
 *   exits, every other process of the container is killed (`kill --all` SIGKILL) before that exit goes to
 *   rt_events.exit, as runc-v2 does; their exits may reach rt_events.exit first.
 *
 * - The process must be a child subreaper (prctl PR_SET_CHILD_SUBREAPER), and nothing else in it may wait
 *   for children (no uv_spawn, no waitpid/system()): the reaper is the one owner of child exits. Spawn other
 *   helpers through rt_linux_reaper() + rt_linux_cmd_start() (rt_linux_cmd.h).
 *
 * - Everything runs on the loop thread. destroy() drops in-flight work without callbacks (runtime
 *   invocations already running are left to finish); memory is released after the loop runs once more.
 */
#ifndef RT_LINUX_H
#define RT_LINUX_H

#include <stdbool.h>
#include <uv.h>

#include "cs_err.h"
#include "rt.h"
#include "rt_reaper.h"

#define RT_LINUX_DEFAULT_ROOT "/run/containerd/runc"

typedef struct rt_linux_opts {
  const char *binary;     /* "runc" (NULL), "crun", or a path */
  /* Runtime state: runc's --root is <root>/<ns>, as runc-v2 joins its Root option (default
   * RT_LINUX_DEFAULT_ROOT) with the namespace; the per-container root of rt_create_req is joined the same way.
   * With ns NULL a given root is used as it is (a caller's private state dir) and the default is
   * RT_LINUX_DEFAULT_ROOT/default. */
  const char *root;
  const char *ns;         /* containerd namespace */
  const char *criu;       /* --criu PATH; NULL: the runtime's default */
  bool systemd_cgroup;    /* --systemd-cgroup */
  bool no_pivot_root;     /* create --no-pivot */
  bool no_new_keyring;    /* create --no-new-keyring */
  const char *console_dir;/* parent of the temporary console socket dirs; NULL: $XDG_RUNTIME_DIR or /tmp */
} rt_linux_opts;

/* NULL with err if the runtime binary cannot be found or the reaper cannot watch SIGCHLD. */
rt_backend *rt_linux_new(uv_loop_t *loop, const rt_linux_opts *opts, const rt_events *ev, cs_err *err);

/* The backend's reaper, to spawn other helpers without stealing or losing exits. */
rt_reaper *rt_linux_reaper(rt_backend *be);

/* Track a container this instance did not create (the shim's `delete` cleanup after a restart, a shim
 * re-attached to its container): later kill/delete/stats/... work on it. pid 0 if unknown. */
int rt_linux_adopt(rt_backend *be, const char *id, const char *bundle, int pid, cs_err *err);

#endif
