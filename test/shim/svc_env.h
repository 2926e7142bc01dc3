/* The Task API service over a real TTRPC socket with the fake backend (fake_rt.c): the environment the
 * service unit tests share. setup/teardown are cmocka fixtures; E is the current test's environment. */
#ifndef SVC_ENV_H
#define SVC_ENV_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "containerd/task/v2/shim.pb-c.h"
#include "fake_rt.h"
#include "task_service.h"

#define TASK "containerd.task.v2.Task"

typedef struct env {
  uv_loop_t loop;
  char dir[32], sock[64], evsock[64];
  ttrpc_server *server, *evserver;
  task_service *svc;
  task_events *events;
  fake_rt *rt;
  ttrpc_client *client;
  char topics[64][32];
  int n_topics;
  bool shutdown;
  task_runtime_opts got;          /* what the backend factory was given */
  char got_shim_cgroup[64];
} env;

extern env *E;

int setup(void **state);
int teardown(void **state);
void start_events_server(env *e);
/* One unary call; returns the status code (msg: its message), the reply unpacked into *out if desc is given. */
int call(const char *method, const ProtobufCMessage *req, const ProtobufCMessageDescriptor *desc, void **out,
         char *msg);
void run_until(bool (*cond)(void));
int create(const char *id);
/* A request of the {id, exec_id} shape (Start, Delete, Pause, ...). */
int simple(const char *method, const char *id, const char *exec_id);
/* The process status (1 created .. 4 paused), or minus the error code. */
int state_of(const char *id, const char *exec_id, uint32_t *exit_status);
bool events_done(void);
void assert_topics(const char *const *want, int n);

#endif
