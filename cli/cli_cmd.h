/* cshimctl's subcommands. Each one gets the process-wide context and its own argv (argv[0] = its name)
 * and returns the process exit status; errors go to stderr as one line. */
#ifndef CLI_CMD_H
#define CLI_CMD_H

#include <uv.h>

#include "cli_args.h"
#include "cs_err.h"

/* Exit statuses of cshimctl itself. run and exec return the process's own status, so their own failures
 * use 125 as docker does (126/127 come from the runtime: not executable / not found). */
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_RUN_FAIL 125

typedef struct cli_env {
  cli_globals g;
  const char *self_exe;  /* absolute path of cshimctl (-publish-binary, finding the shim) */
  uv_loop_t *loop;
} cli_env;

typedef struct cli_command {
  const cli_cmd_spec *spec;
  int (*run)(cli_env *e, int argc, char **argv);
} cli_command;

/* "cshimctl: <cmd>: <message>" as one line (newlines in shim messages are flattened). */
void cli_report(const char *cmd, const cs_err *err);

/* Parse for a subcommand: returns 1 if the caller should return *status (help printed or bad usage),
 * 0 to go on. */
int cli_parse_or_exit(const cli_cmd_spec *spec, void *opts, cli_env *e, int argc, char **argv, cli_parsed *p,
                      int usage_status, int *status);

extern const cli_command cli_cmd_run, cli_cmd_exec, cli_cmd_ps, cli_cmd_state, cli_cmd_kill, cli_cmd_pause,
    cli_cmd_resume, cli_cmd_update, cli_cmd_pids, cli_cmd_rm, cli_cmd_stats;

#endif
