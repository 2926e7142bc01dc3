/* The shim binary contract at cshimctl's end: which binary, its arguments, what its output means. Running
 * it is cli_shim_run_posix.c's. */
#include "cli_shim.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_os.h"
#include "cli_shim_run.h"
#include "containerd/task/v2/shim.pb-c.h"

const char *cli_socket_path(const char *addr) {
  return strncmp(addr, "unix://", 7) == 0 ? addr + 7 : addr;
}


int cli_shim_find(const char *self_exe, const char *override, char *out, size_t len, cs_err *err) {
  if (override && *override) {
    /* Absolute: the shim runs with the bundle as its cwd, and `delete` may run from anywhere later. */
    char abs[CLI_SHIM_PATH_MAX];
    if (!cli_os_executable(override)) return cs_err_set(err, CS_NOT_FOUND, "shim %s: not an executable file", override);
    if (cli_os_realpath(override, abs, sizeof abs) < 0) return cs_err_sys(err, errno, "shim %s", override);
    if (snprintf(out, len, "%s", abs) >= (int)len) return cs_err_set(err, CS_INVALID_ARGUMENT, "shim path too long");
    return 0;
  }
  if (self_exe) {
    const char *slash = cli_os_last_sep(self_exe);
    if (slash) {
      snprintf(out, len, "%.*s/%s%s", (int)(slash - self_exe), self_exe, CLI_SHIM_NAME, cli_os_exe_suffix);
      if (cli_os_executable(out)) return 0;
      /* In the build tree cshimctl lives in cli/ and the shim in shim/. */
      snprintf(out, len, "%.*s/../shim/%s%s", (int)(slash - self_exe), self_exe, CLI_SHIM_NAME, cli_os_exe_suffix);
      if (cli_os_executable(out)) {
        char abs[CLI_SHIM_PATH_MAX];
        if (cli_os_realpath(out, abs, sizeof abs) == 0) snprintf(out, len, "%s", abs);
        return 0;
      }
    }
  }
  const char *path = getenv("PATH");
  if (!path) path = "/usr/local/bin:/usr/bin:/bin";
  while (*path) {
    const char sep[2] = {cli_os_path_list_sep, '\0'};
    size_t n = strcspn(path, sep);
    snprintf(out, len, "%.*s/%s%s", (int)n, path, CLI_SHIM_NAME, cli_os_exe_suffix);
    if (n && cli_os_executable(out)) return 0;
    path += n + (path[n] == cli_os_path_list_sep);
  }
  return cs_err_set(err, CS_NOT_FOUND, "%s not found next to cshimctl or on PATH (use --shim)", CLI_SHIM_NAME);
}

static void trim(char *s) {
  size_t n = strlen(s);
  while (n && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
  size_t k = 0;
  while (s[k] && isspace((unsigned char)s[k])) k++;
  if (k) memmove(s, s + k, n - k + 1);
}

int cli_shim_parse_address(const char *output, char *out, size_t len, cs_err *err) {
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", output ? output : "");
  trim(buf);
  if (!buf[0]) return cs_err_set(err, CS_INTERNAL, "shim start printed no address");
  const char *addr = buf;
  json_t *j = NULL;
  if (buf[0] == '{') {
    /* containerd 1.7 bootstrap params: {"version":2,"address":"unix://...","protocol":"ttrpc"} */
    j = json_loads(buf, 0, NULL);
    addr = json_string_value(json_object_get(j, "address"));
    const char *proto = json_string_value(json_object_get(j, "protocol"));
    if (!addr || (proto && strcmp(proto, "ttrpc") != 0)) {
      json_decref(j);
      return cs_err_set(err, CS_INTERNAL, "shim start printed unusable bootstrap params: %s", buf);
    }
  }
  int rc = 0;
  if (strchr(addr, '\n') || !cli_os_address_ok(addr)) {
    /* Anything else is an error message the shim printed instead of an address. */
    rc = cs_err_set(err, CS_INTERNAL, "shim start: %s", addr);
  } else if (snprintf(out, len, "%s", addr) >= (int)len) {
    rc = cs_err_set(err, CS_INTERNAL, "shim address too long");
  }
  json_decref(j);
  return rc;
}

static int build_argv(const cli_shim_cmd *c, const char *action, char *argv[16]) {
  int i = 0;
  argv[i++] = (char *)c->shim;
  argv[i++] = "-namespace";
  argv[i++] = (char *)c->ns;
  argv[i++] = "-address";
  argv[i++] = (char *)c->address;
  argv[i++] = "-publish-binary";
  argv[i++] = (char *)c->publish_binary;
  argv[i++] = "-id";
  argv[i++] = (char *)c->id;
  if (strcmp(action, "delete") == 0) {
    argv[i++] = "-bundle";
    argv[i++] = (char *)c->bundle;
  }
  if (c->debug) argv[i++] = "-debug";
  argv[i++] = (char *)action;
  argv[i] = NULL;
  return i;
}

/* The shim's last words as one line for an error message. */
static const char *one_line(cli_capture *c) {
  if (!c->buf) return "";
  for (char *p = c->buf; *p; p++)
    if (*p == '\n' || *p == '\r') *p = ' ';
  trim(c->buf);
  return c->buf;
}

int cli_shim_start(const cli_shim_cmd *c, char *out, size_t len, cs_err *err) {
  char *argv[16];
  build_argv(c, "start", argv);
  cli_capture cap = {0};
  int st = cli_shim_run(argv, c->bundle, c->stdin_data, c->stdin_len, c->ns, c->address, &cap, NULL,
                    CLI_SHIM_START_TIMEOUT_MS, err);
  int rc = 0;
  if (st < 0) rc = cs_err_wrap(err, "start shim");
  else if (st != 0) rc = cs_err_set(err, CS_INTERNAL, "start shim %s: exit status %d: %s", c->shim, st, one_line(&cap));
  else rc = cli_shim_parse_address(cap.buf, out, len, err);
  free(cap.buf);
  return rc;
}

int cli_shim_delete(const cli_shim_cmd *c, uint32_t *exit_status, cs_err *err) {
  char *argv[16];
  build_argv(c, "delete", argv);
  cli_capture out = {0}, errout = {0};
  int st = cli_shim_run(argv, c->bundle, NULL, 0, c->ns, c->address, &out, &errout, CLI_SHIM_START_TIMEOUT_MS, err);
  int rc = 0;
  if (st < 0) {
    rc = cs_err_wrap(err, "shim delete");
  } else if (st != 0) {
    rc = cs_err_set(err, CS_INTERNAL, "shim delete: exit status %d: %s", st, one_line(&errout));
  } else if (exit_status) {
    Containerd__Task__V2__DeleteResponse *r =
        containerd__task__v2__delete_response__unpack(NULL, out.len, (const uint8_t *)(out.buf ? out.buf : ""));
    *exit_status = r ? r->exit_status : 0;
    if (r) containerd__task__v2__delete_response__free_unpacked(r, NULL);
  }
  free(out.buf);
  free(errout.buf);
  return rc;
}
