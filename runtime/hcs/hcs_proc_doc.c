/* Documents about processes and runtime changes: ProcessParameters, signals, console size, process status,
 * NIC hot-add, resource updates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hcs_doc.h"

/* strndup is POSIX, not C11 (mingw lacks it). */
static char *dup_n(const char *s, size_t n) {
  char *d = malloc(n + 1);
  if (d) {
    memcpy(d, s, n);
    d[n] = '\0';
  }
  return d;
}

json_t *hcs_doc_process(json_t *process, bool terminal, const char *const paths[3], cs_err *err) {
  if (!json_is_object(process)) {
    cs_err_set(err, CS_INVALID_ARGUMENT, "spec has no process");
    return NULL;
  }
  json_t *p = json_object();
  const char *cmdline = hcs_json_str(process, "commandLine");
  if (cmdline && *cmdline) {
    json_object_set_new(p, "CommandLine", json_string(cmdline));
  } else {
    json_t *args = json_object_get(process, "args");
    size_t n = json_is_array(args) ? json_array_size(args) : 0;
    if (!n) {
      json_decref(p);
      cs_err_set(err, CS_INVALID_ARGUMENT, "process: neither args nor commandLine given");
      return NULL;
    }
    const char **argv = calloc(n, sizeof *argv);
    if (!argv) goto oom;
    for (size_t i = 0; i < n; i++) {
      argv[i] = json_string_value(json_array_get(args, i));
      if (!argv[i]) {
        free(argv);
        json_decref(p);
        cs_err_set(err, CS_INVALID_ARGUMENT, "process.args[%lu]: not a string", (unsigned long)i);
        return NULL;
      }
    }
    char *line = win_cmdline_join(argv, n);
    free(argv);
    if (!line) goto oom;
    json_object_set_new(p, "CommandLine", json_string(line));
    free(line);
  }
  const char *cwd = hcs_json_str(process, "cwd");
  if (cwd && *cwd) json_object_set_new(p, "WorkingDirectory", json_string(cwd));
  const char *user = hcs_json_str(json_object_get(process, "user"), "username");
  if (user && *user) json_object_set_new(p, "User", json_string(user));

  /* K=V split at the first '=' only: a value holding '=' (PATHEXT-style lists, base64) stays whole. Later
   * duplicates win, as in a Go map built from the list. */
  json_t *env = json_object_get(process, "env"), *map = json_object();
  for (size_t i = 0; json_is_array(env) && i < json_array_size(env); i++) {
    const char *e = json_string_value(json_array_get(env, i));
    win_env_kv kv;
    if (!e || win_env_split(e, &kv) < 0) continue;
    char *key = dup_n(kv.key, kv.key_len);
    if (!key) {
      json_decref(map);
      goto oom;
    }
    json_object_set_new(map, key, json_string(kv.value));
    free(key);
  }
  json_object_set_new(p, "Environment", map);

  if (terminal) json_object_set_new(p, "EmulateConsole", json_true());
  json_object_set_new(p, "CreateStdInPipe", json_boolean(paths && paths[0]));
  json_object_set_new(p, "CreateStdOutPipe", json_boolean(paths && paths[1]));
  json_object_set_new(p, "CreateStdErrPipe", json_boolean(!terminal && paths && paths[2]));
  json_t *cs = json_object_get(process, "consoleSize");
  if (terminal && json_is_object(cs)) {
    json_int_t h = json_integer_value(json_object_get(cs, "height"));
    json_int_t w = json_integer_value(json_object_get(cs, "width"));
    if (h > 0 && w > 0) json_object_set_new(p, "ConsoleSize", json_pack("[I,I]", h, w)); /* height first */
  }
  return p;
oom:
  json_decref(p);
  cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
  return NULL;
}

json_t *hcs_doc_nic_add(const char *endpoint_id, const char *mac) {
  char path[128];
  snprintf(path, sizeof path, "VirtualMachine/Devices/NetworkAdapters/%s", endpoint_id);
  json_t *settings = json_pack("{s:s}", "EndpointId", endpoint_id);
  if (mac && *mac) json_object_set_new(settings, "MacAddress", json_string(mac));
  return json_pack("{s:s,s:s,s:o}", "ResourcePath", path, "RequestType", "Add", "Settings", settings);
}

int hcs_doc_process_list(const char *json, int **pids, size_t *n, cs_err *err) {
  *pids = NULL;
  *n = 0;
  json_error_t jerr;
  json_t *d = json ? json_loads(json, 0, &jerr) : NULL;
  json_t *list = json_object_get(d, "ProcessList");
  if (!json_is_array(list) && !(d && !list)) {
    json_decref(d);
    return cs_err_set(err, CS_INTERNAL, "HCS ProcessList: %s", d ? "not an array" : json ? jerr.text : "no document");
  }
  size_t m = json_array_size(list);
  if (m && !(*pids = calloc(m, sizeof **pids))) {
    json_decref(d);
    return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
  }
  for (size_t i = 0; i < m; i++) {
    json_t *pid = json_object_get(json_array_get(list, i), "ProcessId");
    if (json_is_integer(pid) && json_integer_value(pid) > 0) (*pids)[(*n)++] = (int)json_integer_value(pid);
  }
  json_decref(d);
  return 0;
}

int hcs_doc_signal(int sig, char **options, bool *terminate, cs_err *err) {
  *options = NULL;
  *terminate = false;
  const char *ctrl = NULL;
  switch (sig) {
  case 0: return 0;
  case 9: *terminate = true; return 0;        /* SIGKILL: no console event can express it */
  case 2: ctrl = "CtrlC"; break;              /* SIGINT */
  case 15: ctrl = "CtrlShutdown"; break;      /* SIGTERM: what Windows sends a console app at shutdown */
  default:
    return cs_err_set(err, CS_INVALID_ARGUMENT,
                      "signal %d is not supported on Windows (SIGINT, SIGTERM and SIGKILL are)", sig);
  }
  json_t *o = json_pack("{s:s}", "Signal", ctrl);
  *options = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  if (!*options) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
  return 0;
}

char *hcs_doc_resize(uint32_t width, uint32_t height) {
  json_t *o = json_pack("{s:s,s:{s:I,s:I}}", "Operation", "ConsoleSize", "ConsoleSize", "Height",
                        (json_int_t)height, "Width", (json_int_t)width);
  char *s = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  return s;
}

int hcs_doc_exit_status(const char *json, int *exit_code) {
  json_t *d = json ? json_loads(json, 0, NULL) : NULL;
  json_t *code = json_object_get(d, "ExitCode");
  json_t *exited = json_object_get(d, "Exited");
  /* A ProcessStatus says Exited; an exit event carries the ExitCode alone. */
  int rc = -1;
  if (json_is_integer(code) && (!exited || json_is_true(exited))) {
    /* Windows exit codes are 32-bit unsigned (NTSTATUS values such as 0xC000013A): keep the low 32 bits. */
    *exit_code = (int)(uint32_t)json_integer_value(code);
    rc = 0;
  }
  json_decref(d);
  return rc;
}
