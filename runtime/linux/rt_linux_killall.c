/* runc-v2's checkProcesses: when the init of a container without a pid namespace of its own exits, the
 * kernel does not take the container's other processes with it (that happens only when a pid namespace's
 * init dies). runc-v2 runs `runc kill --all <id> SIGKILL` before it reports init's exit; so do we, holding
 * the exit back until the runtime is done, so that whoever waits for the task finds its processes gone. */
#include "rt_linux_int.h"

#include <signal.h>
#include <stdio.h>

#include "cs_log.h"

static void killall_finish(rt_linux_op *op, const rt_linux_runc_result *res) {
  rt_linux *be = op->be;
  if (res->status != 0) CS_WARN("container %s: killing the rest after init exited: %s", op->id, res->msg);
  if (!be->destroyed && be->base.events.exit)
    be->base.events.exit(be->base.events.data, op->res.pid, op->exit_status, op->exited_at);
  rt_linux_op_complete(op, NULL, NULL);
}

bool rt_linux_killall_on_exit(rt_linux *be, int pid, int status, int64_t at) {
  rt_linux_ctr *c = be->ctrs;
  while (c && !(c->pid == pid && c->kill_all_on_exit && !c->creating)) c = c->next;
  if (!c) return false;
  cs_err e;
  rt_linux_op *op = rt_linux_op_new(be, "kill --all", c->id, NULL, NULL, NULL, &e);
  if (!op) {
    CS_WARN("container %s: killing the rest after init exited: %s", c->id, e.msg);
    return false;
  }
  op->res.pid = pid;
  op->exit_status = status;
  op->exited_at = at;
  char sig[8];
  snprintf(sig, sizeof sig, "%d", SIGKILL);
  const char *args[] = {"kill", "--all", c->id, sig, NULL};
  if (rt_linux_op_run(op, c, args, NULL, NULL, 0, killall_finish, &e) != 0) { /* op freed */
    CS_WARN("container %s: killing the rest after init exited: %s", c->id, e.msg);
    return false;
  }
  return true;
}
