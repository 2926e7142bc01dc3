/* cshimctl's commands on Windows: not there yet (issue 16 brings the named-pipe stdio and the HCS
 * bundle). Each one answers --help and otherwise says plainly that it is not supported, so nothing
 * pretends to work. */
#include <stdio.h>
#include <string.h>

#include "cli_cmd.h"

#define CLI_WIN_UNSUPPORTED(ident, cmd, text)                                                     \
  static const cli_cmd_spec ident##_spec = {.name = cmd, .usage = "[OPTIONS] ...",                \
                                            .summary = text " (not supported on Windows yet)",    \
                                            .max_pos = -1};                                       \
  static int ident##_run(cli_env *e, int argc, char **argv) { return unsupported(&ident##_spec, e, argc, argv); } \
  const cli_command cli_cmd_##ident = {&ident##_spec, ident##_run};

static int unsupported(const cli_cmd_spec *spec, cli_env *e, int argc, char **argv) {
  (void)e;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) break;
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      cli_args_usage(spec, stdout);
      return 0;
    }
  }
  cs_err err;
  cs_err_set(&err, CS_UNIMPLEMENTED, "not supported on Windows yet: this build of cshimctl has no Windows stdio "
                                     "and bundle handling (use containerd with containerd-shim-cshim-v2.exe)");
  cli_report(spec->name, &err);
  return CLI_EXIT_FAIL;
}

CLI_WIN_UNSUPPORTED(run, "run", "Create and start a container")
CLI_WIN_UNSUPPORTED(exec, "exec", "Run a process in a running container")
CLI_WIN_UNSUPPORTED(ps, "ps", "List containers")
CLI_WIN_UNSUPPORTED(state, "state", "Show a container's state")
CLI_WIN_UNSUPPORTED(kill, "kill", "Signal a container's process")
CLI_WIN_UNSUPPORTED(pause, "pause", "Pause a container")
CLI_WIN_UNSUPPORTED(resume, "resume", "Resume a paused container")
CLI_WIN_UNSUPPORTED(update, "update", "Change a container's resources")
CLI_WIN_UNSUPPORTED(pids, "pids", "List a container's processes")
CLI_WIN_UNSUPPORTED(rm, "rm", "Delete containers")
CLI_WIN_UNSUPPORTED(stats, "stats", "Show containers' resource usage")
