#include "cli_args.h"

#include <stdlib.h>
#include <string.h>

/* The options every subcommand accepts; they fill cli_globals rather than the subcommand's struct. */
enum { G_STATE_DIR, G_NAMESPACE, G_ADDRESS, G_DEBUG };
static const cli_opt global_opts[] = {
  [G_STATE_DIR] = {"state-dir", 0, CLI_OPT_STRING, offsetof(cli_globals, state_dir), "DIR",
                   "state directory (default " CLI_DEFAULT_STATE_DIR ")"},
  [G_NAMESPACE] = {"namespace", 'n', CLI_OPT_STRING, offsetof(cli_globals, ns), "NS",
                   "namespace (default " CLI_DEFAULT_NAMESPACE ")"},
  [G_ADDRESS] = {"address", 'a', CLI_OPT_STRING, offsetof(cli_globals, address), "SOCKET",
                 "talk to this task-API shim socket directly (needs --namespace)"},
  [G_DEBUG] = {"debug", 0, CLI_OPT_FLAG, offsetof(cli_globals, debug), NULL, "start shims with -debug"},
};
#define N_GLOBAL (sizeof global_opts / sizeof global_opts[0])

void cli_globals_init(cli_globals *g) {
  memset(g, 0, sizeof *g);
  g->state_dir = CLI_DEFAULT_STATE_DIR;
  g->ns = CLI_DEFAULT_NAMESPACE;
}

/* Where an option's value goes: the subcommand's struct or the globals. */
typedef struct opt_ref {
  const cli_opt *opt;
  void *base;
} opt_ref;

static bool global_allowed(const cli_cmd_spec *spec, size_t i) {
  return i != G_ADDRESS || (spec && (spec->flags & CLI_ACCEPT_ADDRESS));
}

static bool find_long(const cli_cmd_spec *spec, void *opts, cli_globals *g, const char *name, size_t len,
                      opt_ref *ref) {
  for (size_t i = 0; spec && i < spec->nopts; i++) {
    const cli_opt *o = &spec->opts[i];
    if (strlen(o->name) == len && strncmp(o->name, name, len) == 0) {
      *ref = (opt_ref){o, opts};
      return true;
    }
  }
  for (size_t i = 0; i < N_GLOBAL; i++) {
    const cli_opt *o = &global_opts[i];
    if (global_allowed(spec, i) && strlen(o->name) == len && strncmp(o->name, name, len) == 0) {
      *ref = (opt_ref){o, g};
      return true;
    }
  }
  return false;
}

static bool find_short(const cli_cmd_spec *spec, void *opts, cli_globals *g, char c, opt_ref *ref) {
  for (size_t i = 0; spec && i < spec->nopts; i++) {
    if (spec->opts[i].short_name == c) {
      *ref = (opt_ref){&spec->opts[i], opts};
      return true;
    }
  }
  for (size_t i = 0; i < N_GLOBAL; i++) {
    if (global_allowed(spec, i) && global_opts[i].short_name == c) {
      *ref = (opt_ref){&global_opts[i], g};
      return true;
    }
  }
  return false;
}

static int store(const opt_ref *ref, const char *value, cs_err *err) {
  char *field = (char *)ref->base + ref->opt->offset;
  switch (ref->opt->kind) {
  case CLI_OPT_FLAG:
    *(bool *)field = true;
    return 0;
  case CLI_OPT_STRING:
    *(const char **)field = value;
    return 0;
  case CLI_OPT_LIST: {
    cli_strlist *l = (cli_strlist *)field;
    const char **v = realloc(l->v, (l->n + 1) * sizeof *v);
    if (!v) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
    v[l->n++] = value;
    l->v = v;
    return 0;
  }
  }
  return cs_err_set(err, CS_INTERNAL, "bad option kind");
}

/* One option word at argv[*i]; may consume the next word as its value. */
static int parse_option(const cli_cmd_spec *spec, void *opts, cli_globals *g, int argc, char **argv, int *i,
                        bool *help, cs_err *err) {
  const char *arg = argv[*i];
  const char *cmd = spec ? spec->name : "cshimctl";
  if (arg[1] == '-') {
    const char *name = arg + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    if (len == 4 && strncmp(name, "help", 4) == 0) {
      *help = true;
      return 0;
    }
    opt_ref ref;
    if (!find_long(spec, opts, g, name, len, &ref)) {
      if (len == 7 && strncmp(name, "address", 7) == 0)
        return cs_err_set(err, CS_INVALID_ARGUMENT, "%s: --address is not supported by this command", cmd);
      return cs_err_set(err, CS_INVALID_ARGUMENT, "%s: unknown option --%.*s (see --help)", cmd, (int)len, name);
    }
    if (ref.opt->kind == CLI_OPT_FLAG) {
      if (eq) return cs_err_set(err, CS_INVALID_ARGUMENT, "%s: option --%s takes no value", cmd, ref.opt->name);
      return store(&ref, NULL, err);
    }
    const char *val = eq ? eq + 1 : NULL;
    if (!val) {
      if (*i + 1 >= argc)
        return cs_err_set(err, CS_INVALID_ARGUMENT, "%s: option --%s needs a value", cmd, ref.opt->name);
      val = argv[++*i];
    }
    return store(&ref, val, err);
  }
  /* Short options, possibly bundled: -it, -s9, -s 9. */
  for (const char *p = arg + 1; *p; p++) {
    if (*p == 'h') {
      *help = true;
      continue;
    }
    opt_ref ref;
    if (!find_short(spec, opts, g, *p, &ref))
      return cs_err_set(err, CS_INVALID_ARGUMENT, "%s: unknown option -%c (see --help)", cmd, *p);
    if (ref.opt->kind == CLI_OPT_FLAG) {
      if (store(&ref, NULL, err) < 0) return -1;
      continue;
    }
    const char *val = p[1] ? p + 1 : NULL;
    if (!val) {
      if (*i + 1 >= argc) return cs_err_set(err, CS_INVALID_ARGUMENT, "%s: option -%c needs a value", cmd, *p);
      val = argv[++*i];
    }
    return store(&ref, val, err);
  }
  return 0;
}

static bool is_option(const char *a) { return a[0] == '-' && a[1] != '\0'; }

int cli_args_parse_globals(cli_globals *g, int argc, char **argv, bool *help, cs_err *err) {
  int i = 1;
  for (; i < argc && is_option(argv[i]); i++) {
    if (strcmp(argv[i], "--") == 0) return i + 1;
    if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-v") == 0) return i;
    /* --address is accepted here too; commands that cannot use it reject it themselves. */
    static const cli_cmd_spec any = {.name = "cshimctl", .flags = CLI_ACCEPT_ADDRESS};
    if (parse_option(&any, NULL, g, argc, argv, &i, help, err) < 0) return -1;
  }
  return i;
}

int cli_args_parse(const cli_cmd_spec *spec, void *opts, cli_globals *g, int argc, char **argv, cli_parsed *out,
                   cs_err *err) {
  memset(out, 0, sizeof *out);
  out->pos = calloc((size_t)argc + 1, sizeof *out->pos);
  if (!out->pos) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
  int i = 1;
  for (; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0) {
      i++;
      break;
    }
    if (is_option(a)) {
      if (parse_option(spec, opts, g, argc, argv, &i, &out->help, err) < 0) return -1;
      continue;
    }
    if (spec->trailing_cmd && (int)out->npos >= spec->max_pos) break;
    out->pos[out->npos++] = argv[i];
  }
  if (out->help) return 0;
  /* What is left (after `--` or the first word past the positionals) is the command, or more positionals
   * for commands without one. */
  for (; i < argc; i++) {
    if (spec->trailing_cmd && (int)out->npos >= spec->max_pos) break;
    out->pos[out->npos++] = argv[i];
  }
  if (spec->trailing_cmd && i < argc) {
    out->cmd = argv + i;
    out->ncmd = (size_t)(argc - i);
  }
  if ((int)out->npos < spec->min_pos)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "%s: missing argument (usage: cshimctl %s %s)", spec->name,
                      spec->name, spec->usage);
  if (spec->max_pos >= 0 && (int)out->npos > spec->max_pos)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "%s: unexpected argument \"%s\" (usage: cshimctl %s %s)",
                      spec->name, out->pos[spec->max_pos], spec->name, spec->usage);
  if (spec->cmd_required && out->ncmd == 0)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "%s: missing command (usage: cshimctl %s %s)", spec->name,
                      spec->name, spec->usage);
  if (g->address && !(spec->flags & CLI_ACCEPT_ADDRESS))
    return cs_err_set(err, CS_INVALID_ARGUMENT, "%s: --address is not supported by this command", spec->name);
  return 0;
}

void cli_args_free(const cli_cmd_spec *spec, void *opts, cli_parsed *out) {
  for (size_t i = 0; opts && i < spec->nopts; i++) {
    if (spec->opts[i].kind != CLI_OPT_LIST) continue;
    cli_strlist *l = (cli_strlist *)((char *)opts + spec->opts[i].offset);
    free(l->v);
    l->v = NULL;
    l->n = 0;
  }
  if (out) {
    free(out->pos);
    out->pos = NULL;
    out->npos = 0;
  }
}

static void print_opt(const cli_opt *o, FILE *f) {
  char left[64];
  if (o->short_name)
    snprintf(left, sizeof left, "-%c, --%s%s%s", o->short_name, o->name, o->arg_name ? " " : "",
             o->arg_name ? o->arg_name : "");
  else
    snprintf(left, sizeof left, "    --%s%s%s", o->name, o->arg_name ? " " : "", o->arg_name ? o->arg_name : "");
  fprintf(f, "  %-28s %s%s\n", left, o->help, o->kind == CLI_OPT_LIST ? " (repeatable)" : "");
}

void cli_args_usage(const cli_cmd_spec *spec, FILE *f) {
  fprintf(f, "Usage: cshimctl %s %s\n\n%s\n\nOptions:\n", spec->name, spec->usage, spec->summary);
  for (size_t i = 0; i < spec->nopts; i++) print_opt(&spec->opts[i], f);
  for (size_t i = 0; i < N_GLOBAL; i++)
    if (global_allowed(spec, i)) print_opt(&global_opts[i], f);
  print_opt(&(cli_opt){"help", 'h', CLI_OPT_FLAG, 0, NULL, "show this help"}, f);
}

void cli_globals_usage(FILE *f) {
  for (size_t i = 0; i < N_GLOBAL; i++) print_opt(&global_opts[i], f);
}
