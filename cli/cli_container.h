/* Taking a container down completely, shared by `rm`, `run --rm` and run's failure paths:
 * (kill) → Delete → Shutdown → the shim process gone → its socket gone → its network detached → the
 * bundle gone.
 * A shim that is already dead is cleaned up with `<shim> ... delete`, as containerd does. */
#ifndef CLI_CONTAINER_H
#define CLI_CONTAINER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "cli_client.h"
#include "cli_state.h"

/* How long the shim may take to exit after Shutdown. */
#define CLI_SHIM_EXIT_MS 15000

typedef struct cli_teardown {
  bool force;           /* kill a running task (SIGKILL to all its processes) instead of refusing */
  const char *publish;  /* cshimctl's own path, for `delete` */
  bool debug;
} cli_teardown;

/* conn may be NULL (not connected yet or the shim died): a connection is tried from m->address. */
int cli_container_remove(uv_loop_t *loop, const cli_meta *m, cli_conn *conn, const cli_teardown *o, cs_err *err);

/* Wait until pid is gone or a zombie (the shim's parent is init, which reaps it in its own time). */
bool cli_wait_pid_gone(int pid, int timeout_ms);

#endif
