/* The one-call subcommands: state, kill, pause, resume, update, pids. Each resolves its container (state
 * dir or --address), makes its call and prints the answer. */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_client.h"
#include "cli_cmd.h"
#include "cli_os.h"
#include "cli_parse.h"
#include "cli_spec.h"
#include "containerd/runc/options.pb-c.h"
#include "google/protobuf/any.pb-c.h"

/* ---------------------------------------------------------------- shared */

typedef struct ctl_opts {
  const char *exec_id, *signal, *cpus, *memory;
  bool all;
} ctl_opts;

#define O(f) offsetof(ctl_opts, f)
/* A macro, not a const object: C11 allows only constant expressions in a static initializer, and a const
 * object is not one (gcc accepts it as an extension, clang rejects it). */
#define EXEC_ID_OPT {"exec-id", 0, CLI_OPT_STRING, O(exec_id), "ID", "an exec process instead of init"}

static int open_target(cli_env *e, const char *cmd, const char *id, cli_target *t, cli_conn *c) {
  cs_err err;
  if (cli_target_open(&e->g, id, e->loop, t, c, &err) < 0) {
    cli_report(cmd, &err);
    return -1;
  }
  return 0;
}

static int check_exec_id(const char *cmd, const char *exec_id) {
  cs_err err;
  if (exec_id && cli_validate_id("exec id", exec_id, &err) < 0) {
    cli_report(cmd, &err);
    return -1;
  }
  return 0;
}

/* ---------------------------------------------------------------- state */

static const cli_opt state_opts[] = {EXEC_ID_OPT};
static const cli_cmd_spec state_spec = {
  .name = "state",
  .usage = "[--exec-id ID] [--address SOCKET --namespace NS] ID",
  .summary = "Print a task's state (State RPC) as JSON.",
  .opts = state_opts, .nopts = 1, .min_pos = 1, .max_pos = 1, .flags = CLI_ACCEPT_ADDRESS,
};

static int state_cmd(cli_env *e, int argc, char **argv) {
  ctl_opts o = {0};
  cli_parsed p;
  int status;
  if (cli_parse_or_exit(&state_spec, &o, e, argc, argv, &p, CLI_EXIT_USAGE, &status)) return status;
  const char *id = p.pos[0];
  cli_target t;
  cli_conn c;
  status = CLI_EXIT_FAIL;
  if (check_exec_id("state", o.exec_id) == 0 && open_target(e, "state", id, &t, &c) == 0) {
    Containerd__Task__V2__StateResponse *r = NULL;
    cs_err err;
    if (cli_task_state(&c, id, o.exec_id, &r, &err) < 0) {
      cli_report("state", &err);
    } else {
      char exited[64] = "";
      /* Go's zero time (year 1) means "has not exited". */
      if (r->exited_at && r->exited_at->seconds > 0) cli_format_time(r->exited_at->seconds, r->exited_at->nanos, exited, sizeof exited);
      json_t *j = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:b, s:i, s:s}", "id", r->id, "exec_id",
                            r->exec_id, "bundle", r->bundle, "pid", (int)r->pid, "status", cli_status_name(r->status),
                            "stdin", r->stdin_, "stdout", r->stdout_, "stderr", r->stderr_, "terminal", r->terminal,
                            "exit_status", (int)r->exit_status, "exited_at", exited);
      char *s = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
      if (s) printf("%s\n", s);
      free(s);
      json_decref(j);
      containerd__task__v2__state_response__free_unpacked(r, NULL);
      status = 0;
    }
    cli_conn_close(&c);
  }
  cli_args_free(&state_spec, &o, &p);
  return status;
}

const cli_command cli_cmd_state = {&state_spec, state_cmd};

/* ---------------------------------------------------------------- kill */

static const cli_opt kill_opts[] = {
  {"signal", 's', CLI_OPT_STRING, O(signal), "SIG", "signal name or number (default SIGTERM)"},
  {"all", 'a', CLI_OPT_FLAG, O(all), NULL, "signal every process of the container"},
  EXEC_ID_OPT,
};
static const cli_cmd_spec kill_spec = {
  .name = "kill",
  .usage = "ID [-s SIG] [--all] [--exec-id ID]",
  .summary = "Send a signal to a container's init (or an exec, or all its processes).",
  .opts = kill_opts, .nopts = 3, .min_pos = 1, .max_pos = 1,
};

static int kill_cmd(cli_env *e, int argc, char **argv) {
  ctl_opts o = {0};
  cli_parsed p;
  int status;
  if (cli_parse_or_exit(&kill_spec, &o, e, argc, argv, &p, CLI_EXIT_USAGE, &status)) return status;
  cs_err err;
  int sig = CLI_SIGTERM;
  status = CLI_EXIT_FAIL;
  cli_target t;
  cli_conn c;
  if (o.signal && cli_parse_signal(o.signal, &sig, &err) < 0) {
    cli_report("kill", &err);
    status = CLI_EXIT_USAGE;
  } else if (check_exec_id("kill", o.exec_id) == 0 && open_target(e, "kill", p.pos[0], &t, &c) == 0) {
    if (cli_task_kill(&c, p.pos[0], o.exec_id, sig, o.all, &err) < 0) cli_report("kill", &err);
    else status = 0;
    cli_conn_close(&c);
  }
  cli_args_free(&kill_spec, &o, &p);
  return status;
}

const cli_command cli_cmd_kill = {&kill_spec, kill_cmd};

/* ---------------------------------------------------------------- pause / resume */

static const cli_cmd_spec pause_spec = {
  .name = "pause", .usage = "ID", .summary = "Freeze every process of a container.", .min_pos = 1, .max_pos = 1,
};
static const cli_cmd_spec resume_spec = {
  .name = "resume", .usage = "ID", .summary = "Thaw a paused container.", .min_pos = 1, .max_pos = 1,
};

static int pause_resume(cli_env *e, const cli_cmd_spec *spec, const char *method, int argc, char **argv) {
  cli_parsed p;
  int status;
  if (cli_parse_or_exit(spec, NULL, e, argc, argv, &p, CLI_EXIT_USAGE, &status)) return status;
  status = CLI_EXIT_FAIL;
  cli_target t;
  cli_conn c;
  if (open_target(e, spec->name, p.pos[0], &t, &c) == 0) {
    /* PauseRequest and ResumeRequest are both {1 id}. */
    Containerd__Task__V2__PauseRequest pr = CONTAINERD__TASK__V2__PAUSE_REQUEST__INIT;
    Containerd__Task__V2__ResumeRequest rr = CONTAINERD__TASK__V2__RESUME_REQUEST__INIT;
    pr.id = rr.id = p.pos[0];
    cs_err err;
    const ProtobufCMessage *req = strcmp(method, "Pause") == 0 ? &pr.base : &rr.base;
    if (cli_task_call(&c, method, req, NULL, NULL, CLI_RPC_SLOW_NS, &err) < 0) cli_report(spec->name, &err);
    else status = 0;
    cli_conn_close(&c);
  }
  cli_args_free(spec, NULL, &p);
  return status;
}

static int pause_cmd(cli_env *e, int argc, char **argv) { return pause_resume(e, &pause_spec, "Pause", argc, argv); }
static int resume_cmd(cli_env *e, int argc, char **argv) { return pause_resume(e, &resume_spec, "Resume", argc, argv); }

const cli_command cli_cmd_pause = {&pause_spec, pause_cmd};
const cli_command cli_cmd_resume = {&resume_spec, resume_cmd};

/* ---------------------------------------------------------------- update */

static const cli_opt update_opts[] = {
  {"cpus", 0, CLI_OPT_STRING, O(cpus), "N", "CPU limit, e.g. 1.5"},
  {"memory", 'm', CLI_OPT_STRING, O(memory), "SIZE", "memory limit, e.g. 512m"},
};
static const cli_cmd_spec update_spec = {
  .name = "update",
  .usage = "ID [--cpus N] [--memory SIZE]",
  .summary = "Change a running container's CPU and memory limits.",
  .opts = update_opts, .nopts = 2, .min_pos = 1, .max_pos = 1,
};

static int update_call(cli_env *e, const ctl_opts *o, const char *id, cs_err *err) {
  int64_t quota = 0;
  uint64_t period = 0, mem = 0;
  if (o->cpus && cli_parse_cpus(o->cpus, &quota, &period, err) < 0) return -1;
  if (o->memory && cli_parse_size(o->memory, &mem, err) < 0) return cs_err_wrap(err, "--memory");
  json_t *res = cli_spec_resources(quota, period, mem, err);
  if (!res) return -1;
  char *text = cli_json_dump(res, err);
  json_decref(res);
  if (!text) return -1;
  cli_target t;
  cli_conn c;
  int rc = cli_target_open(&e->g, id, e->loop, &t, &c, err);
  if (rc == 0) {
    Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
    any.type_url = CLI_SPEC_RESOURCES_URL;
    any.value.data = (uint8_t *)text;
    any.value.len = strlen(text);
    Containerd__Task__V2__UpdateTaskRequest req = CONTAINERD__TASK__V2__UPDATE_TASK_REQUEST__INIT;
    req.id = (char *)id;
    req.resources = &any;
    rc = cli_task_call(&c, "Update", &req.base, NULL, NULL, CLI_RPC_SLOW_NS, err);
    cli_conn_close(&c);
  }
  free(text);
  return rc;
}

static int update_cmd(cli_env *e, int argc, char **argv) {
  ctl_opts o = {0};
  cli_parsed p;
  int status;
  if (cli_parse_or_exit(&update_spec, &o, e, argc, argv, &p, CLI_EXIT_USAGE, &status)) return status;
  cs_err err;
  status = 0;
  if (update_call(e, &o, p.pos[0], &err) < 0) {
    cli_report("update", &err);
    status = CLI_EXIT_FAIL;
  }
  cli_args_free(&update_spec, &o, &p);
  return status;
}

const cli_command cli_cmd_update = {&update_spec, update_cmd};

/* ---------------------------------------------------------------- pids */

static const cli_cmd_spec pids_spec = {
  .name = "pids",
  .usage = "[--address SOCKET --namespace NS] ID",
  .summary = "List the processes of a container (with the exec each belongs to, when the shim says).",
  .min_pos = 1, .max_pos = 1, .flags = CLI_ACCEPT_ADDRESS,
};

static void print_pid(const Containerd__V1__Types__ProcessInfo *pi) {
  const char *exec_id = "";
  Containerd__Runc__V1__ProcessDetails *d = NULL;
  /* runc-v2 tells which exec a pid is (containerd.runc.v1.ProcessDetails); init has no info. */
  if (pi->info && pi->info->type_url && strstr(pi->info->type_url, "containerd.runc.v1.ProcessDetails")) {
    d = containerd__runc__v1__process_details__unpack(NULL, pi->info->value.len, pi->info->value.data);
    if (d) exec_id = d->exec_id;
  }
  printf("%-10u %s\n", pi->pid, exec_id[0] ? exec_id : "-");
  if (d) containerd__runc__v1__process_details__free_unpacked(d, NULL);
}

static int pids_cmd(cli_env *e, int argc, char **argv) {
  cli_parsed p;
  int status;
  if (cli_parse_or_exit(&pids_spec, NULL, e, argc, argv, &p, CLI_EXIT_USAGE, &status)) return status;
  status = CLI_EXIT_FAIL;
  cli_target t;
  cli_conn c;
  if (open_target(e, "pids", p.pos[0], &t, &c) == 0) {
    Containerd__Task__V2__PidsRequest req = CONTAINERD__TASK__V2__PIDS_REQUEST__INIT;
    req.id = p.pos[0];
    Containerd__Task__V2__PidsResponse *r = NULL;
    cs_err err;
    if (cli_task_call(&c, "Pids", &req.base, &containerd__task__v2__pids_response__descriptor,
                      (ProtobufCMessage **)&r, CLI_RPC_TIMEOUT_NS, &err) < 0) {
      cli_report("pids", &err);
    } else {
      printf("%-10s %s\n", "PID", "EXEC");
      for (size_t i = 0; i < r->n_processes; i++) print_pid(r->processes[i]);
      containerd__task__v2__pids_response__free_unpacked(r, NULL);
      status = 0;
    }
    cli_conn_close(&c);
  }
  cli_args_free(&pids_spec, NULL, &p);
  return status;
}

const cli_command cli_cmd_pids = {&pids_spec, pids_cmd};
