/* A compute backend for tests: records calls, answers when the test says so, and lets the test inject
 * process exits at any point (e.g. while a start is in flight). */
#ifndef FAKE_RT_H
#define FAKE_RT_H

#include "rt.h"

typedef struct fake_pending {
  rt_done_cb cb;
  void *data;
  rt_result res;
  int fail_code; /* non-zero: completes with this error */
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
  int fail_code;             /* non-zero: the next op (fail_op: the next op of that name) fails with this code */
  char fail_op[16];          /* "" any op; else "create", "start", "exec", "kill", "delete", "update", ... */
  bool fail_async;           /* the failing op is accepted and its callback reports the error (from the loop
                                when not manual), instead of returning -1 */
  int stats_fail_code;       /* non-zero: stats and pids fail with this code (until cleared) */
  /* stdio handed out, so the service's task_io is exercised end to end (off by default: fuzz_task) */
  bool keep_stdio;           /* create/exec: keep a dup of each stdio fd the service passed (io_fd, -1 none) */
  int io_fd[3];
  bool give_console;         /* create/exec with terminal: a pty; its master goes to the service as
                                console_fd, the test keeps the other end (tty) as the process would */
  int tty;
  int last_kill_sig, last_kill_pid;
  bool last_kill_all;
  rt_sample sample;
  /* stats_async: answered inside the call (as Linux does), except reads of stats_hold, which are held until
   * fake_rt_release_stats (or destroy, which answers them Cancelled) */
  char stats_hold[32];
  struct {
    rt_stats_req *req;
    rt_stats_cb cb;
  } held[8];
  int n_held;
} fake_rt;

rt_backend *fake_rt_new(uv_loop_t *loop, const rt_events *ev);
/* Complete the oldest pending op. */
void fake_rt_complete(fake_rt *f);
void fake_rt_exit(fake_rt *f, int pid, int status);
/* Answer the held stats reads: with the sample (code 0) or with that error code. Returns how many. */
int fake_rt_release_stats(fake_rt *f, int code);
bool fake_rt_called(const fake_rt *f, const char *call);
/* Close what keep_stdio / give_console kept. */
void fake_rt_close_stdio(fake_rt *f);

#endif
