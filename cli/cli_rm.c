/* cshimctl rm: take containers down for good (see cli_container.h for the order of things). */
#include <stdio.h>
#include <string.h>

#include "cli_client.h"
#include "cli_cmd.h"
#include "cli_container.h"
#include "cli_parse.h"

typedef struct rm_opts {
  bool force;
} rm_opts;

static const cli_opt rm_opts_table[] = {
  {"force", 'f', CLI_OPT_FLAG, offsetof(rm_opts, force), NULL, "kill a running container first"},
};
static const cli_cmd_spec rm_spec = {
  .name = "rm",
  .usage = "[-f] ID [ID...]",
  .summary = "Delete containers: task, shim (Shutdown, or `delete` if it died), socket, FIFOs and bundle.",
  .opts = rm_opts_table, .nopts = 1, .min_pos = 1, .max_pos = -1,
};

static int rm_one(cli_env *e, const char *id, bool force, cs_err *err) {
  cli_meta m;
  if (cli_meta_read(e->g.state_dir, id, &m, err) < 0) {
    /* A bundle without a record is a run that died before its shim was up; -f clears it. */
    if (err->code != CS_FAILED_PRECONDITION || !force) return -1;
    char bundle[CLI_PATH_MAX];
    if (cli_state_bundle(e->g.state_dir, id, bundle, sizeof bundle, err) < 0) return -1;
    return cli_state_remove(bundle, err);
  }
  cli_teardown td = {.force = force, .publish = e->self_exe, .debug = e->g.debug};
  return cli_container_remove(e->loop, &m, NULL, &td, err);
}

static int rm_cmd(cli_env *e, int argc, char **argv) {
  rm_opts o = {0};
  cli_parsed p;
  int status;
  if (cli_parse_or_exit(&rm_spec, &o, e, argc, argv, &p, CLI_EXIT_USAGE, &status)) return status;
  status = 0;
  for (size_t i = 0; i < p.npos; i++) {
    cs_err err;
    cs_err_clear(&err);
    if (rm_one(e, p.pos[i], o.force, &err) < 0) {
      cli_report("rm", &err);
      status = CLI_EXIT_FAIL;
    }
  }
  cli_args_free(&rm_spec, &o, &p);
  return status;
}

const cli_command cli_cmd_rm = {&rm_spec, rm_cmd};
