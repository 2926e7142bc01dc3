#include "cli_cmd.h"

#include <stdio.h>
#include <string.h>

void cli_report(const char *cmd, const cs_err *err) {
  char msg[CS_ERR_MSG_MAX];
  snprintf(msg, sizeof msg, "%s", err->msg[0] ? err->msg : cs_code_name(err->code));
  /* One line, always: shims and runtimes put newlines (and runc its JSON logs) into their messages. */
  for (char *p = msg; *p; p++)
    if (*p == '\n' || *p == '\r' || *p == '\t') *p = ' ';
  size_t n = strlen(msg);
  while (n && msg[n - 1] == ' ') msg[--n] = '\0';
  fprintf(stderr, "cshimctl: %s: %s\n", cmd, msg);
}

int cli_parse_or_exit(const cli_cmd_spec *spec, void *opts, cli_env *e, int argc, char **argv, cli_parsed *p,
                      int usage_status, int *status) {
  cs_err err;
  cs_err_clear(&err);
  if (cli_args_parse(spec, opts, &e->g, argc, argv, p, &err) < 0) {
    cli_report(spec->name, &err);
    cli_args_free(spec, opts, p);
    *status = usage_status;
    return 1;
  }
  if (p->help) {
    cli_args_usage(spec, stdout);
    cli_args_free(spec, opts, p);
    *status = 0;
    return 1;
  }
  return 0;
}
