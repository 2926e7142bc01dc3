/* The process parts of config.json that both platforms write alike: args, and an exec's process. */
#include "cli_spec.h"
#include "cli_spec_int.h"

int cli_spec_set_args(json_t *process, char *const *args, size_t nargs, cs_err *err) {
  if (!args) return 0;
  if (nargs == 0) return cs_err_set(err, CS_INVALID_ARGUMENT, "empty command");
  json_t *a = json_array();
  for (size_t i = 0; i < nargs; i++) json_array_append_new(a, json_string(args[i]));
  json_object_set_new(process, "args", a);
  json_object_del(process, "commandLine");
  return 0;
}

json_t *cli_spec_exec_process(const json_t *spec, char *const *args, size_t nargs, const char *const *env,
                              size_t nenv, bool terminal, cs_err *err) {
  json_t *tmpl = json_object_get(spec, "process");
  if (!json_is_object(tmpl)) {
    cs_err_set(err, CS_INVALID_ARGUMENT, "config.json has no process");
    return NULL;
  }
  json_t *p = json_deep_copy(tmpl);
  if (!p || cli_spec_set_args(p, args, nargs, err) < 0) {
    if (p) json_decref(p);
    else cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
    return NULL;
  }
  json_object_set_new(p, "terminal", json_boolean(terminal));
  /* The container's console size does not apply to a new process; ResizePty sets the exec's own. */
  json_object_del(p, "consoleSize");
  cli_spec_merge_env(p, env, nenv, terminal);
  return p;
}
