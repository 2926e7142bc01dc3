/* A compute backend for tests: records calls, answers when the test says so, and lets the test inject
 * process exits at any point (e.g. while a start is in flight). */
#ifndef FAKE_RT_H
#define FAKE_RT_H

#include "rt.h"

typedef struct fake_pending {
  rt_done_cb cb;
  void *data;
  rt_result res;
  char op[16];
} fake_pending;

typedef struct fake_rt {
  rt_backend base;
  bool manual;               /* false: every op completes at once (from the loop); true: the test completes */
  int next_pid;
  fake_pending pending[16];
  int n_pending;
  char calls[64][48];        /* "create t1", "start t1", "exec t1/e1", "kill t1 9 0", ... */
  int n_calls;
  int fail_code;             /* non-zero: the next op fails with this code */
  rt_sample sample;
} fake_rt;

rt_backend *fake_rt_new(uv_loop_t *loop, const rt_events *ev);
/* Complete the oldest pending op. */
void fake_rt_complete(fake_rt *f);
void fake_rt_exit(fake_rt *f, int pid, int status);
bool fake_rt_called(const fake_rt *f, const char *call);

#endif
