/* start's answer by host: see shim_bootstrap.h. */
#include "shim_bootstrap.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "google/protobuf/any.pb-c.h"
#include "runtimeoptions/v1/api.pb-c.h"

#define RUNTIMEOPTIONS_TYPE "runtimeoptions.v1.Options"
#define CONFIG_FILE_MAX (1u << 20)

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0 && (n == m || s[n - m - 1] == '/');
}

/* One `key = value` line of the options' TOML: only this key is read here (the full options are decoded at
 * Create); tables and other keys are someone else's. */
int shim_bootstrap_config_version(const char *text, size_t len) {
  static const char key[] = "BootstrapVersion";
  const char *p = text, *end = text + len;
  int version = 0;
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol) eol = end;
    const char *q = p;
    while (q < eol && (*q == ' ' || *q == '\t')) q++;
    if ((size_t)(eol - q) > sizeof key - 1 && strncasecmp(q, key, sizeof key - 1) == 0) {
      q += sizeof key - 1;
      while (q < eol && (*q == ' ' || *q == '\t')) q++;
      if (q < eol && *q == '=') {
        q++;
        while (q < eol && (*q == ' ' || *q == '\t')) q++;
        if (q < eol && isdigit((unsigned char)*q)) version = *q - '0';
        if (q + 1 < eol && isdigit((unsigned char)q[1])) version = 0; /* not a one-digit version */
      }
    }
    p = eol + 1;
  }
  return version;
}

static int file_version(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return 0; /* Create reports an unreadable config; start just keeps the safe answer */
  char *buf = malloc(CONFIG_FILE_MAX);
  size_t n = buf ? fread(buf, 1, CONFIG_FILE_MAX, f) : 0;
  fclose(f);
  int v = buf ? shim_bootstrap_config_version(buf, n) : 0;
  free(buf);
  return v;
}

static int options_version(const uint8_t *opts, size_t len) {
  if (!opts || len == 0) return 0;
  Google__Protobuf__Any *any = google__protobuf__any__unpack(NULL, len, opts);
  if (!any) return 0;
  int v = 0;
  if (any->type_url && ends_with(any->type_url, RUNTIMEOPTIONS_TYPE)) {
    Runtimeoptions__V1__Options *o = runtimeoptions__v1__options__unpack(NULL, any->value.len, any->value.data);
    if (o) {
      /* As containerd documents config_body: used when config_path is not set. */
      if (o->config_path && *o->config_path) v = file_version(o->config_path);
      else if (o->config_body.len) v = shim_bootstrap_config_version((const char *)o->config_body.data, o->config_body.len);
      runtimeoptions__v1__options__free_unpacked(o, NULL);
    }
  }
  google__protobuf__any__free_unpacked(any, NULL);
  return v;
}

int shim_bootstrap_version(const char *max_env, const uint8_t *opts, size_t len) {
  if (!max_env || !*max_env) return 1;
  char *end;
  errno = 0;
  long max = strtol(max_env, &end, 10);
  if (errno || *end || max < 2) return 1;
  if (max >= 3) return 3; /* a host that says it takes 3 */
  return options_version(opts, len) == 3 ? 3 : 2;
}

int shim_bootstrap_answer(int version, const char *address, char *out, size_t len, cs_err *err) {
  if (version < 2 || strncmp(address, "unix://", 7) != 0) {
    if ((size_t)snprintf(out, len, "%s", address) >= len) return cs_err_set(err, CS_INTERNAL, "start: address too long");
    return 0;
  }
  json_t *o = json_pack("{s:i, s:s, s:s}", "version", version, "address", address, "protocol", "ttrpc");
  char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  json_decref(o);
  if (!s) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "start: bootstrap parameters: out of memory");
  int rc = 0;
  if ((size_t)snprintf(out, len, "%s", s) >= len) rc = cs_err_set(err, CS_INTERNAL, "start: bootstrap parameters too long");
  free(s);
  return rc;
}
