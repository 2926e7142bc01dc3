/* cshimctl: run and watch containers through a containerd task-API shim, with no containerd. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_cmd.h"
#include "cshim_version.h"
#include "cli_os.h"

static const cli_command *const commands[] = {
  &cli_cmd_run, &cli_cmd_exec, &cli_cmd_ps, &cli_cmd_state, &cli_cmd_kill, &cli_cmd_pause,
  &cli_cmd_resume, &cli_cmd_update, &cli_cmd_pids, &cli_cmd_rm, &cli_cmd_stats,
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f) {
  fprintf(f, "Usage: cshimctl [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]\n\n"
             "Run and watch containers through a containerd runtime-v2 shim, without containerd.\n\n"
             "Commands:\n");
  for (size_t i = 0; i < N_COMMANDS; i++) fprintf(f, "  %-8s %s\n", commands[i]->spec->name, commands[i]->spec->summary);
  fprintf(f, "\nGlobal options (also accepted after the command):\n");
  cli_globals_usage(f);
  fprintf(f, "\nRun 'cshimctl COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv) {
  cli_os_init();
  cli_env e;
  memset(&e, 0, sizeof e);
  cli_globals_init(&e.g);
  char self[4096];
  size_t self_len = sizeof self;
  if (uv_exepath(self, &self_len) != 0) {
    fprintf(stderr, "cshimctl: cannot find own executable\n");
    return CLI_EXIT_FAIL;
  }
  e.self_exe = self;

  cs_err err;
  cs_err_clear(&err);
  bool help = false;
  int i = cli_args_parse_globals(&e.g, argc, argv, &help, &err);
  if (i < 0) {
    cli_report("cshimctl", &err);
    return CLI_EXIT_USAGE;
  }
  if (i < argc && (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "version") == 0)) {
    /* The form of containerd's shims' -v (and ctr version's client part). */
    printf("cshimctl:\n  Version:  %s\n  Revision: %s\n  Go version: none (C11, %s)\n\n", CSHIM_VERSION,
           CSHIM_REVISION, CSHIM_COMPILER);
    return 0;
  }
  if (help || i >= argc || strcmp(argv[i], "help") == 0) {
    /* "help CMD" is "CMD --help" */
    if (i + 1 < argc && strcmp(argv[i], "help") == 0) {
      for (size_t k = 0; k < N_COMMANDS; k++) {
        if (strcmp(commands[k]->spec->name, argv[i + 1]) == 0) {
          cli_args_usage(commands[k]->spec, stdout);
          return 0;
        }
      }
    }
    usage(help || i < argc ? stdout : stderr);
    return help || i < argc ? 0 : CLI_EXIT_USAGE;
  }
  const cli_command *cmd = NULL;
  for (size_t k = 0; k < N_COMMANDS; k++)
    if (strcmp(commands[k]->spec->name, argv[i]) == 0) cmd = commands[k];
  if (!cmd) {
    fprintf(stderr, "cshimctl: unknown command \"%s\" (see cshimctl --help)\n", argv[i]);
    return CLI_EXIT_USAGE;
  }
  uv_loop_t loop;
  uv_loop_init(&loop);
  e.loop = &loop;
  int status = cmd->run(&e, argc - i, argv + i);
  uv_run(&loop, UV_RUN_NOWAIT);
  if (uv_loop_close(&loop) != 0) {
    /* Something is still in libuv's thread pool (a stdin socket read the pool cannot cancel): exit() would
     * join that thread in libuv's destructor and wait for input that may never come. */
    fflush(stdout);
    fflush(stderr);
    _exit(status);
  }
  return status;
}
