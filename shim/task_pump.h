/* One direction of one stdio stream, copied on the loop between two libuv pipes: a FIFO or a pty master
 * and the process's pipe on POSIX, a client's named pipe and an HCS std handle on Windows. Shared by both
 * platforms' task_io: only how the two ends are opened differs.
 *
 * Memory is bounded: reading stops while PUMP_HIGH_WATER bytes wait for a slow writer. A destination that
 * goes away (EPIPE) does not stop the source from being drained, so the process never blocks on us. */
#ifndef TASK_PUMP_H
#define TASK_PUMP_H

#include <stdbool.h>
#include <uv.h>

typedef struct task_pump {
  uv_pipe_t src, dst;
  bool close_dst_on_eof;  /* stdin: EOF on the source becomes EOF for the process */
  bool src_open, dst_open;
  bool reading;
  size_t queued;
  int handles;            /* open handles */
  bool released;          /* the owner let go: free once no handle is open */
} task_pump;

/* Both pipes initialized (not yet opened); NULL when out of memory. */
task_pump *task_pump_new(uv_loop_t *loop, bool close_dst_on_eof);
/* Both ends are open (uv_pipe_open / a finished uv_pipe_connect): start copying. */
int task_pump_start(task_pump *p);
/* End the source as if it had reached EOF: what is queued is still written, then dst closes if
 * close_dst_on_eof. */
void task_pump_finish(task_pump *p);
/* The destination is gone or never came (a client pipe that could not be dialed): close it and keep
 * draining the source, so the process never blocks on a full pipe. */
void task_pump_drop_dst(task_pump *p);
/* The owner lets go: both ends close, the pump frees itself once libuv is done with them. NULL is fine. */
void task_pump_stop(task_pump *p);

#endif
