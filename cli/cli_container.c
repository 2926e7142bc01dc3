#include "cli_container.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli_net.h"
#include "cli_os.h"
#include "cli_shim.h"

bool cli_wait_pid_gone(int pid, int timeout_ms) {
  if (pid <= 0) return true;
  for (int waited = 0; waited <= timeout_ms; waited += 20) {
    if (!cli_os_pid_alive(pid)) return true;
    nanosleep(&(struct timespec){0, 20 * 1000000}, NULL);
  }
  return !cli_os_pid_alive(pid);
}

static bool task_running(int status) {
  return status == CONTAINERD__V1__TYPES__STATUS__RUNNING || status == CONTAINERD__V1__TYPES__STATUS__PAUSED ||
         status == CONTAINERD__V1__TYPES__STATUS__PAUSING;
}

static int wrapped(cs_err *err, const cs_err *e, const char *what, const char *id) {
  *err = *e;
  return cs_err_wrap(err, "%s %s", what, id);
}

/* The task side over a live connection: kill if asked, delete, shut the shim down. */
static int remove_task(cli_conn *c, const cli_meta *m, const cli_teardown *o, int *shim_pid, cs_err *err) {
  Containerd__Task__V2__StateResponse *st = NULL;
  cs_err e;
  uint32_t spid = 0;
  if (cli_task_connect(c, m->id, &spid, NULL, &e) == 0) *shim_pid = (int)spid;
  if (cli_task_state(c, m->id, NULL, &st, &e) == 0) {
    int status = st->status;
    containerd__task__v2__state_response__free_unpacked(st, NULL);
    if (task_running(status)) {
      if (!o->force)
        return cs_err_set(err, CS_FAILED_PRECONDITION, "container %s is %s: stop it first or use rm -f", m->id,
                          cli_status_name(status));
      /* A frozen process cannot die until thawed. */
      if (status != CONTAINERD__V1__TYPES__STATUS__RUNNING) {
        Containerd__Task__V2__ResumeRequest req = CONTAINERD__TASK__V2__RESUME_REQUEST__INIT;
        req.id = (char *)m->id;
        cli_task_call(c, "Resume", &req.base, NULL, NULL, CLI_RPC_TIMEOUT_NS, &e);
      }
      if (cli_task_kill(c, m->id, NULL, CLI_SIGKILL, true, &e) < 0 && e.code != CS_NOT_FOUND)
        return wrapped(err, &e, "kill", m->id);
      if (cli_task_wait(c, m->id, NULL, CLI_RPC_TIMEOUT_NS, NULL, &e) < 0 && e.code != CS_NOT_FOUND)
        return wrapped(err, &e, "wait for the exit of", m->id);
    }
    if (cli_task_delete(c, m->id, NULL, NULL, &e) < 0 && e.code != CS_NOT_FOUND)
      return wrapped(err, &e, "delete", m->id);
  } else if (e.code != CS_NOT_FOUND) {
    return wrapped(err, &e, "state of", m->id);
  }
  if (cli_task_shutdown(c, m->id, &e) < 0) return wrapped(err, &e, "shutdown the shim of", m->id);
  return 0;
}

int cli_container_remove(uv_loop_t *loop, const cli_meta *m, cli_conn *conn, const cli_teardown *o, cs_err *err) {
  cli_conn own = {0};
  cs_err e;
  /* No address: the run stopped before its shim was up; only the network and the bundle may exist. */
  if (!conn && m->address[0] && cli_conn_open(&own, loop, m->address, m->ns, &e) == 0) conn = &own;
  int shim_pid = 0;
  if (conn) {
    int rc = remove_task(conn, m, o, &shim_pid, err);
    if (conn == &own) cli_conn_close(&own);
    if (rc < 0) return -1;
    if (!cli_wait_pid_gone(shim_pid, CLI_SHIM_EXIT_MS))
      return cs_err_set(err, CS_DEADLINE_EXCEEDED, "shim of %s (pid %d) did not exit after Shutdown", m->id,
                        shim_pid);
  } else if (m->address[0] && m->shim[0]) {
    /* The shim is gone (or never answered): let the shim binary clean up runtime state and mounts. */
    cli_shim_cmd cmd = {
      .shim = m->shim,
      .ns = m->ns,
      .address = m->ctd_address,
      .publish_binary = o->publish,
      .id = m->id,
      .bundle = m->bundle,
      .debug = o->debug,
    };
    if (cli_shim_delete(&cmd, NULL, &e) < 0)
      fprintf(stderr, "cshimctl: warning: %s\n", e.msg);
  }
  cli_os_address_cleanup(m->address);
  /* The record stays if the network cannot be detached, so that `rm -f` can try again. */
  if (cli_net_detach(m, err) < 0) return -1;
  return cli_state_remove(m->bundle, err);
}
