#include "task_proc.h"

#include <stdlib.h>

#include "containerd/task/v2/shim.pb-c.h"

bool task_proc_record_exit(task_proc *p, int status, int64_t exited_at_ns) {
  if (p->exited) return false;
  p->exited = true;
  p->exit_status = (uint32_t)status;
  p->exited_at_ns = exited_at_ns;
  p->status = TASK_STOPPED;
  return true;
}

static void waiter_unlink(task_waiter *w) {
  w->prev->next = w->next;
  w->next->prev = w->prev;
  w->next = w->prev = w;
}

static void waiter_on_cancel(ttrpc_call *call, void *data) {
  task_waiter *w = data;
  waiter_unlink(w);
  ttrpc_call_reply_error(call, CS_CANCELLED, "wait cancelled");
  free(w);
}

int task_proc_add_waiter(task_proc *p, ttrpc_call *call, cs_err *err) {
  if (!p->waiters.next) p->waiters.next = p->waiters.prev = &p->waiters;
  task_waiter *w = malloc(sizeof *w);
  if (!w) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "wait: out of memory");
  w->call = call;
  w->proc = p;
  w->next = &p->waiters;
  w->prev = p->waiters.prev;
  p->waiters.prev->next = w;
  p->waiters.prev = w;
  ttrpc_call_set_cancel(call, waiter_on_cancel, w);
  return 0;
}

void task_proc_answer_waiters(task_proc *p) {
  if (!p->waiters.next) return;
  Containerd__Task__V2__WaitResponse resp = CONTAINERD__TASK__V2__WAIT_RESPONSE__INIT;
  Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
  ts.seconds = p->exited_at_ns / 1000000000LL;
  ts.nanos = (int32_t)(p->exited_at_ns % 1000000000LL);
  resp.exit_status = p->exit_status;
  resp.exited_at = &ts;
  uint8_t buf[64];
  size_t len = containerd__task__v2__wait_response__pack(&resp, buf);
  while (p->waiters.next != &p->waiters) {
    task_waiter *w = p->waiters.next;
    waiter_unlink(w);
    ttrpc_call_set_cancel(w->call, NULL, NULL);
    ttrpc_call_reply(w->call, buf, len);
    free(w);
  }
}

void task_proc_fail_waiters(task_proc *p, int code, const char *msg) {
  if (!p->waiters.next) return;
  while (p->waiters.next != &p->waiters) {
    task_waiter *w = p->waiters.next;
    waiter_unlink(w);
    ttrpc_call_set_cancel(w->call, NULL, NULL);
    ttrpc_call_reply_error(w->call, code, "%s", msg);
    free(w);
  }
}

void task_proc_free_fields(task_proc *p) {
  task_io_close(&p->io);
  free(p->exec_id);
  free(p->stdin_path);
  free(p->stdout_path);
  free(p->stderr_path);
  free(p->spec_json);
  p->exec_id = p->stdin_path = p->stdout_path = p->stderr_path = p->spec_json = NULL;
}

const char *task_status_name(int status) {
  switch (status) {
  case TASK_CREATED: return "created";
  case TASK_RUNNING: return "running";
  case TASK_STOPPED: return "stopped";
  case TASK_PAUSED: return "paused";
  default: return "unknown";
  }
}
