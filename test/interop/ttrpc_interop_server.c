/* Our server for the Go client: the test service on a unix socket until SIGTERM/SIGINT.
 *   ttrpc_interop_server SOCKET      prints "ready" once listening */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "tt_service.h"

typedef struct srv_main {
  ttrpc_server *srv;
  uv_signal_t term, intr;
} srv_main;

static void on_signal(uv_signal_t *s, int signum) {
  srv_main *m = s->data;
  ttrpc_server_close(m->srv, NULL, NULL);
  uv_close((uv_handle_t *)&m->term, NULL);
  uv_close((uv_handle_t *)&m->intr, NULL);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s SOCKET\n", argv[0]);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  uv_loop_t loop;
  uv_loop_init(&loop);
  srv_main m;
  memset(&m, 0, sizeof m);
  m.srv = ttrpc_server_new(&loop);
  tt_service svc;
  cs_err err;
  if (tt_service_register(&svc, &loop, m.srv, &err) < 0 || ttrpc_server_listen(m.srv, argv[1], &err) < 0) {
    fprintf(stderr, "ttrpc_interop_server: %s\n", err.msg);
    return 1;
  }
  uv_signal_init(&loop, &m.term);
  uv_signal_init(&loop, &m.intr);
  m.term.data = m.intr.data = &m;
  uv_signal_start(&m.term, on_signal, SIGTERM);
  uv_signal_start(&m.intr, on_signal, SIGINT);
  printf("ready\n");
  fflush(stdout);
  uv_run(&loop, UV_RUN_DEFAULT);
  return uv_loop_close(&loop) == 0 ? 0 : 1;
}
