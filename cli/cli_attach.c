#include "cli_attach.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli_os.h"

static void ignore_reply(void *data, int code, const char *msg, const uint8_t *payload, size_t len) {
  (void)data, (void)code, (void)msg, (void)payload, (void)len;
}

static void on_signal(uv_signal_t *h, int sig) {
  cli_attach *a = h->data;
  Containerd__Task__V2__KillRequest req = CONTAINERD__TASK__V2__KILL_REQUEST__INIT;
  req.id = (char *)a->id;
  req.exec_id = (char *)(a->exec_id ? a->exec_id : "");
  req.signal = (uint32_t)cli_os_task_signal(sig);
  cs_err err;
  if (cli_task_call_async(a->conn, "Kill", &req.base, CLI_RPC_TIMEOUT_NS, ignore_reply, NULL, &err) < 0)
    fprintf(stderr, "cshimctl: forward signal %d: %s\r\n", sig, err.msg);
}

static void send_size(cli_attach *a) {
  unsigned w, h;
  cli_term_size(a->term.raw ? a->term.fd : STDOUT_FILENO, &w, &h);
  if (!w || !h) return;
  Containerd__Task__V2__ResizePtyRequest req = CONTAINERD__TASK__V2__RESIZE_PTY_REQUEST__INIT;
  req.id = (char *)a->id;
  req.exec_id = (char *)(a->exec_id ? a->exec_id : "");
  req.width = w;
  req.height = h;
  cs_err err;
  cli_task_call_async(a->conn, "ResizePty", &req.base, CLI_RPC_TIMEOUT_NS, ignore_reply, NULL, &err);
}

static void on_winch(uv_signal_t *h, int sig) {
  (void)sig;
  send_size(h->data);
}

static void on_stdin_eof(void *data) {
  cli_attach *a = data;
  /* Our writer is closed; CloseIO drops the shim's, and the process reads EOF. */
  Containerd__Task__V2__CloseIORequest req = CONTAINERD__TASK__V2__CLOSE_IOREQUEST__INIT;
  req.id = (char *)a->id;
  req.exec_id = (char *)(a->exec_id ? a->exec_id : "");
  req.stdin_ = true;
  cs_err err;
  cli_task_call_async(a->conn, "CloseIO", &req.base, CLI_RPC_TIMEOUT_NS, ignore_reply, NULL, &err);
}

static void check_finished(cli_attach *a) {
  if (a->exited && (!a->stdio || cli_stdio_output_done(a->stdio))) a->finished = true;
}

static void on_output_done(void *data) { check_finished(data); }

static void on_drain_timeout(uv_timer_t *t) {
  cli_attach *a = t->data;
  a->finished = true;
}

static void on_wait(void *data, int code, const char *msg, const uint8_t *payload, size_t len) {
  cli_attach *a = data;
  a->exited = true;
  if (code != CS_OK) {
    a->wait_failed = true;
    cs_err_set(&a->wait_err, code, "wait: %s", msg ? msg : "");
    a->finished = true;
    return;
  }
  Containerd__Task__V2__WaitResponse *r = containerd__task__v2__wait_response__unpack(NULL, len, payload);
  a->status = r ? r->exit_status : 255;
  if (r) containerd__task__v2__wait_response__free_unpacked(r, NULL);
  check_finished(a);
  if (!a->finished) uv_timer_start(&a->drain, on_drain_timeout, CLI_DRAIN_MS, 0);
}

int cli_attach_open(cli_attach *a, uv_loop_t *loop, cli_conn *conn, const char *id, const char *exec_id,
                    const cli_fifos *fifos, bool terminal, cs_err *err) {
  memset(a, 0, sizeof *a);
  a->loop = loop;
  a->conn = conn;
  a->id = id;
  a->exec_id = exec_id;
  a->terminal = terminal;
  a->term.fd = -1;
  cli_stdio_cfg cfg = {
    .loop = loop,
    .fifos = fifos,
    .in_fd = STDIN_FILENO,
    .out_fd = STDOUT_FILENO,
    .err_fd = STDERR_FILENO,
    .on_stdin_eof = on_stdin_eof,
    .on_output_done = on_output_done,
    .data = a,
  };
  a->stdio = cli_stdio_open(&cfg, err);
  return a->stdio ? 0 : -1;
}

int cli_attach_begin(cli_attach *a, cs_err *err) {
  if (cli_stdio_start(a->stdio, err) < 0) return -1;
  if (a->terminal && cli_term_raw(&a->term, STDIN_FILENO, err) < 0) return -1;
  return 0;
}

int cli_attach_wait(cli_attach *a, uint32_t *status, cs_err *err) {
  for (size_t i = 0; i < cli_os_nforwarded; i++) {
    uv_signal_init(a->loop, &a->sig[i]);
    a->sig[i].data = a;
    uv_signal_start(&a->sig[i], on_signal, cli_os_forwarded[i]);
  }
  uv_signal_init(a->loop, &a->winch);
  a->winch.data = a;
  uv_timer_init(a->loop, &a->drain);
  a->drain.data = a;
  a->handles = true;
  if (a->terminal) {
    uv_signal_start(&a->winch, on_winch, SIGWINCH);
    send_size(a);
  }
  Containerd__Task__V2__WaitRequest req = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;
  req.id = (char *)a->id;
  req.exec_id = (char *)(a->exec_id ? a->exec_id : "");
  if (cli_task_call_async(a->conn, "Wait", &req.base, 0, on_wait, a, err) < 0) return -1;
  /* Handlers are in place: what was held back during setup is forwarded now. */
  cli_signals_release();
  while (!a->finished) uv_run(a->loop, UV_RUN_ONCE);
  cli_term_restore(&a->term);
  if (a->wait_failed) {
    *err = a->wait_err;
    return -1;
  }
  *status = a->status;
  return 0;
}

void cli_attach_close(cli_attach *a) {
  cli_term_restore(&a->term);
  if (a->stdio) {
    cli_stdio_close(a->stdio);
    a->stdio = NULL;
  }
  if (a->handles) {
    a->handles = false;
    for (size_t i = 0; i < cli_os_nforwarded; i++) uv_close((uv_handle_t *)&a->sig[i], NULL);
    uv_close((uv_handle_t *)&a->winch, NULL);
    uv_close((uv_handle_t *)&a->drain, NULL);
    /* Let the close callbacks run: the handles live in *a, which the caller may free next. */
    uv_run(a->loop, UV_RUN_NOWAIT);
  }
}
