/* cshimctl exec: a new process in a running container (Exec with an OCI Process in an Any), attached
 * like run's, deleted once it exits; its exit status is ours. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_attach.h"
#include "cli_cmd.h"
#include "cli_os.h"
#include "cli_parse.h"
#include "cli_spec.h"
#include "google/protobuf/any.pb-c.h"

typedef struct exec_opts {
  const char *exec_id, *cwd;
  bool tty, interactive;
  cli_strlist env;
} exec_opts;

#define O(f) offsetof(exec_opts, f)
static const cli_opt exec_opts_table[] = {
  {"tty", 't', CLI_OPT_FLAG, O(tty), NULL, "allocate a terminal (implies -i)"},
  {"interactive", 'i', CLI_OPT_FLAG, O(interactive), NULL, "attach stdin"},
  {"exec-id", 0, CLI_OPT_STRING, O(exec_id), "ID", "exec id (default: random)"},
  {"env", 'e', CLI_OPT_LIST, O(env), "K=V", "extra environment variable"},
  {"cwd", 'w', CLI_OPT_STRING, O(cwd), "DIR", "working directory (default: the container's)"},
};
#undef O

static const cli_cmd_spec exec_spec = {
  .name = "exec",
  .usage = "ID [-t] [-i] [--exec-id ID] [--env K=V]... [--] CMD [ARG...]",
  .summary = "Run a command in a running container, attached; its exit status is ours (own failures: 125).",
  .opts = exec_opts_table, .nopts = sizeof exec_opts_table / sizeof exec_opts_table[0],
  .min_pos = 1, .max_pos = 1, .trailing_cmd = true, .cmd_required = true,
};

typedef struct exec_state {
  cli_env *e;
  exec_opts *o;
  cli_meta m;
  char exec_id[CLI_ID_MAX + 1];
  cli_fifos fifos;
  bool fifos_made, exec_made, started, attached;
  cli_conn conn;
  cli_attach att;
} exec_state;

static int process_json(exec_state *x, cli_parsed *p, char **out, cs_err *err) {
  char path[CLI_PATH_MAX + 32];
  snprintf(path, sizeof path, "%s/config.json", x->m.bundle);
  json_error_t jerr;
  json_t *spec = json_load_file(path, 0, &jerr);
  if (!spec) return cs_err_set(err, CS_DATA_LOSS, "%s: %s", path, jerr.text);
  json_t *proc = cli_spec_exec_process(spec, p->cmd, p->ncmd, x->o->env.v, x->o->env.n, x->o->tty, err);
  json_decref(spec);
  if (!proc) return -1;
  if (x->o->cwd) json_object_set_new(proc, "cwd", json_string(x->o->cwd));
  *out = cli_json_dump(proc, err);
  json_decref(proc);
  return *out ? 0 : -1;
}

static int exec_create(exec_state *x, const char *process, cs_err *err) {
  Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
  any.type_url = CLI_SPEC_PROCESS_URL;
  any.value.data = (uint8_t *)process;
  any.value.len = strlen(process);
  Containerd__Task__V2__ExecProcessRequest req = CONTAINERD__TASK__V2__EXEC_PROCESS_REQUEST__INIT;
  req.id = x->m.id;
  req.exec_id = x->exec_id;
  req.terminal = x->o->tty;
  req.stdin_ = x->fifos.in;
  req.stdout_ = x->fifos.out;
  req.stderr_ = x->fifos.err;
  req.spec = &any;
  if (cli_task_call(&x->conn, "Exec", &req.base, NULL, NULL, CLI_RPC_SLOW_NS, err) < 0) return cs_err_wrap(err, "exec");
  x->exec_made = true;
  return 0;
}

static int exec_setup(exec_state *x, cli_parsed *p, cs_err *err) {
  exec_opts *o = x->o;
  const char *id = p->pos[0];
  if (o->tty) o->interactive = true;
  if (o->exec_id) {
    if (cli_validate_id("exec id", o->exec_id, err) < 0) return -1;
    snprintf(x->exec_id, sizeof x->exec_id, "%s", o->exec_id);
  } else {
    uint8_t b[6];
    if (cli_os_random(b, sizeof b, err) < 0) return -1;
    snprintf(x->exec_id, sizeof x->exec_id, "exec-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
  }
  for (size_t i = 0; i < o->env.n; i++)
    if (cli_validate_env(o->env.v[i], err) < 0) return -1;
  if (o->cwd && !cli_os_path_is_abs(o->cwd)) return cs_err_set(err, CS_INVALID_ARGUMENT, "--cwd %s: must be absolute", o->cwd);
  if (cli_meta_read(x->e->g.state_dir, id, &x->m, err) < 0) return -1;
  char *process = NULL;
  if (process_json(x, p, &process, err) < 0) return -1;
  char io[CLI_PATH_MAX + 8], prefix[CLI_ID_MAX + 2];
  snprintf(io, sizeof io, "%s/io", x->m.bundle);
  snprintf(prefix, sizeof prefix, "%s-", x->exec_id);
  int rc = cli_fifos_create(&x->fifos, io, prefix, o->interactive, o->tty, err);
  if (rc == 0) x->fifos_made = true;
  if (rc == 0 && cli_conn_open(&x->conn, x->e->loop, x->m.address, x->m.ns, err) < 0)
    rc = cs_err_wrap(err, "container %s: its shim is not running", id);
  if (rc == 0) rc = cli_attach_open(&x->att, x->e->loop, &x->conn, x->m.id, x->exec_id, &x->fifos, o->tty, err);
  if (rc == 0) x->attached = true;
  if (rc == 0) rc = exec_create(x, process, err);
  free(process);
  if (rc == 0 && cli_task_start(&x->conn, x->m.id, x->exec_id, NULL, err) < 0) rc = cs_err_wrap(err, "start");
  if (rc == 0) x->started = true;
  if (rc == 0) rc = cli_attach_begin(&x->att, err);
  return rc;
}

/* failed: we stop attending the process before it ended; it must not outlive us unnoticed. */
static void exec_cleanup(exec_state *x, bool failed) {
  if (x->attached) cli_attach_close(&x->att);
  cs_err err;
  if (x->exec_made && failed && x->started) {
    if (cli_task_kill(&x->conn, x->m.id, x->exec_id, CLI_SIGKILL, false, &err) == 0)
      cli_task_wait(&x->conn, x->m.id, x->exec_id, CLI_RPC_TIMEOUT_NS, NULL, &err);
  }
  if (x->exec_made && cli_task_delete(&x->conn, x->m.id, x->exec_id, NULL, &err) < 0 && err.code != CS_NOT_FOUND)
    cli_report("exec: delete", &err);
  cli_conn_close(&x->conn);
  if (x->fifos_made) cli_fifos_remove(&x->fifos);
}

static int exec_cmd(cli_env *e, int argc, char **argv) {
  exec_opts o = {0};
  cli_parsed p;
  int status;
  if (cli_parse_or_exit(&exec_spec, &o, e, argc, argv, &p, CLI_EXIT_RUN_FAIL, &status)) return status;
  exec_state x;
  memset(&x, 0, sizeof x);
  x.e = e;
  x.o = &o;
  cs_err err;
  cs_err_clear(&err);
  uint32_t exit_status = 0;
  cli_signals_hold();
  bool failed = exec_setup(&x, &p, &err) < 0 || cli_attach_wait(&x.att, &exit_status, &err) < 0;
  if (failed) {
    if (x.attached) cli_attach_close(&x.att);
    x.attached = false;
    cli_report("exec", &err);
    status = CLI_EXIT_RUN_FAIL;
  } else {
    status = exit_status > 255 ? 255 : (int)exit_status;
  }
  exec_cleanup(&x, failed);
  cli_args_free(&exec_spec, &o, &p);
  cli_signals_release();
  return status;
}

const cli_command cli_cmd_exec = {&exec_spec, exec_cmd};
