/* What cli_spec_process.c (one copy) needs from the platform's config.json writer (cli_spec.c for Linux,
 * cli_spec_windows.c for Windows). */
#ifndef CLI_SPEC_INT_H
#define CLI_SPEC_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "cs_err.h"

/* process.args from the command line (NULL args: leave them). A commandLine would win over args on Windows
 * (hcsshim's rule), so it goes: a Linux process has none. */
int cli_spec_set_args(json_t *process, char *const *args, size_t nargs, cs_err *err);
/* The platform's environment rules: each KEY=value set or replaced by key (Windows: case-insensitively);
 * Linux also gives a PATH and, with a terminal, TERM. */
void cli_spec_merge_env(json_t *process, const char *const *env, size_t nenv, bool terminal);

#endif
