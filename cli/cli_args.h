/* Command-line parsing for cshimctl: one option table per subcommand, filled into that subcommand's own
 * options struct by offset (no globals, no getopt state).
 *
 * Grammar (ctr/docker style):
 *   --name VALUE, --name=VALUE, -x VALUE, -xVALUE, bundled short flags (-it), `--` ends the options.
 *   A subcommand declares how many positionals it takes before an optional trailing command (CMD ARG...):
 *   once those are in, the next non-option word (or whatever follows `--`) starts the command, so the
 *   command's own flags ("sh -c ...") are never taken for ours. Options may follow positionals
 *   (`kill ID -s 9`).
 * Options shared by every subcommand (--state-dir, --namespace, and --address where allowed) land in
 * cli_globals. */
#ifndef CLI_ARGS_H
#define CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cs_err.h"

typedef enum cli_opt_kind {
  CLI_OPT_FLAG,   /* bool */
  CLI_OPT_STRING, /* const char * (points into argv) */
  CLI_OPT_LIST,   /* cli_strlist, repeatable */
} cli_opt_kind;

/* A repeatable option's values; the array is malloc'd, the strings point into argv. */
typedef struct cli_strlist {
  const char **v;
  size_t n;
} cli_strlist;

typedef struct cli_opt {
  const char *name;      /* long name without dashes, "rootfs" */
  char short_name;       /* 't', or 0 */
  cli_opt_kind kind;
  size_t offset;         /* into the subcommand's options struct */
  const char *arg_name;  /* "DIR" (help text; NULL for flags) */
  const char *help;
} cli_opt;

#define CLI_ACCEPT_ADDRESS 0x1  /* --address/--namespace select a shim directly (state, pids, stats) */

typedef struct cli_cmd_spec {
  const char *name;
  const char *usage;     /* after "cshimctl NAME ": "[OPTIONS] ID" */
  const char *summary;   /* one line */
  const cli_opt *opts;
  size_t nopts;
  int min_pos, max_pos;  /* positionals (max -1: unlimited) */
  bool trailing_cmd;     /* a command follows the positionals */
  bool cmd_required;
  unsigned flags;        /* CLI_ACCEPT_* */
} cli_cmd_spec;

typedef struct cli_globals {
  const char *state_dir;  /* default CLI_DEFAULT_STATE_DIR */
  const char *ns;         /* default CLI_DEFAULT_NAMESPACE */
  const char *address;    /* --address: a shim socket, bypassing the state dir */
  bool debug;
} cli_globals;

/* Windows builds set their own (CMake). */
#ifndef CLI_DEFAULT_STATE_DIR
#define CLI_DEFAULT_STATE_DIR "/run/cshim"
#endif
#define CLI_DEFAULT_NAMESPACE "cshim"

typedef struct cli_parsed {
  char **pos;     /* positionals (into argv) */
  size_t npos;
  char **cmd;     /* trailing command (into argv), NULL-terminated when ncmd > 0 */
  size_t ncmd;
  bool help;      /* --help/-h seen: print usage, do nothing else */
} cli_parsed;

void cli_globals_init(cli_globals *g);
/* Global options before the subcommand name; returns the index of the subcommand word (argc if none). */
int cli_args_parse_globals(cli_globals *g, int argc, char **argv, bool *help, cs_err *err);
/* Parse argv (argv[0] is the subcommand name) into opts/g/out. InvalidArgument with a one-line message. */
int cli_args_parse(const cli_cmd_spec *spec, void *opts, cli_globals *g, int argc, char **argv,
                   cli_parsed *out, cs_err *err);
/* Free the arrays of every CLI_OPT_LIST in opts and the positional array. */
void cli_args_free(const cli_cmd_spec *spec, void *opts, cli_parsed *out);
void cli_args_usage(const cli_cmd_spec *spec, FILE *f);
void cli_globals_usage(FILE *f);

#endif
