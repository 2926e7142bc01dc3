/* Being attached to a running process (run's init, or an exec): stdio copied, our terminal in raw mode
 * with its size passed on (at start and on SIGWINCH), signals sent to us forwarded to the process, and
 * Wait for its exit status. One loop drives all of it; calls made from its callbacks are asynchronous
 * (libuv does not allow a loop to run inside its own callback).
 *
 *   cli_attach_open   before Create/Exec   opens the output FIFOs
 *   cli_attach_begin  after Start          starts copying (every shim holds its FIFO ends now), raw mode
 *   cli_attach_wait   then                 until the process exited and its output is drained */
#ifndef CLI_ATTACH_H
#define CLI_ATTACH_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "cli_client.h"
#include "cli_os.h"
#include "cli_stdio.h"

/* After the exit, how long output may still trickle in (a process outside the pid namespace holding the
 * FIFO open must not keep us here forever). */
#define CLI_DRAIN_MS 3000


typedef struct cli_attach {
  uv_loop_t *loop;
  cli_conn *conn;
  const char *id, *exec_id;
  bool terminal;
  cli_stdio *stdio;
  cli_term term;
  uv_signal_t sig[CLI_OS_FORWARD_MAX];
  uv_signal_t winch;
  uv_timer_t drain;
  bool handles;        /* signals and timer initialised */
  bool exited, finished, wait_failed;
  uint32_t status;
  cs_err wait_err;
} cli_attach;

/* Hold back the forwarded signals (^C, kill) while a container is being set up, so that one arriving
 * half-way neither kills us with a half-made container behind nor is lost: it stays pending and is
 * delivered once cli_attach_wait forwards signals, or by cli_signals_release when we do not attach. */
void cli_signals_hold(void);
void cli_signals_release(void);

int cli_attach_open(cli_attach *a, uv_loop_t *loop, cli_conn *conn, const char *id, const char *exec_id,
                    const cli_fifos *fifos, bool terminal, cs_err *err);
int cli_attach_begin(cli_attach *a, cs_err *err);
/* Runs until the process exited (*status = its exit status) and output is drained. */
int cli_attach_wait(cli_attach *a, uint32_t *status, cs_err *err);
/* Restore the terminal, stop copying, close handles. Idempotent. */
void cli_attach_close(cli_attach *a);

#endif
