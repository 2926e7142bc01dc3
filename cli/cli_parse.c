#include "cli_parse.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli_os.h"

static bool is_alnum(char c) { return isascii((unsigned char)c) && isalnum((unsigned char)c); }
static bool is_sep(char c) { return c == '.' || c == '_' || c == '-'; }

/* The id as it may appear in a one-line message: control characters shown as '?', long ones cut. */
static void printable(const char *id, char *out, size_t len) {
  size_t i = 0;
  for (; id[i] && i + 4 < len; i++) out[i] = (unsigned char)id[i] < 0x20 || id[i] == 0x7f ? '?' : id[i];
  if (id[i]) {
    memcpy(out + i, "...", 3);
    i += 3;
  }
  out[i] = '\0';
}

int cli_validate_id(const char *what, const char *id, cs_err *err) {
  if (!id || !*id) return cs_err_set(err, CS_INVALID_ARGUMENT, "%s must not be empty", what);
  char shown[CLI_ID_MAX + 8];
  printable(id, shown, sizeof shown);
  size_t len = strlen(id);
  if (len > CLI_ID_MAX)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "%s \"%s\" is longer than %d characters", what, shown, CLI_ID_MAX);
  /* alnum (sep alnum)*: starts and ends alphanumeric, never two separators in a row. */
  bool prev_sep = true;
  for (size_t i = 0; i < len; i++) {
    if (is_alnum(id[i])) prev_sep = false;
    else if (is_sep(id[i]) && !prev_sep) prev_sep = true;
    else break;
    if (i + 1 == len && !prev_sep) return 0;
  }
  return cs_err_set(err, CS_INVALID_ARGUMENT,
                    "%s \"%s\" is invalid: use letters and digits separated by single '.', '_' or '-'", what, shown);
}

/* A non-negative decimal number ("1", "1.5", ".5") followed by a suffix; strtod would also take hex,
 * exponents, "inf" and leading spaces, none of which belong in a size. */
static int parse_decimal(const char *s, double *val, const char **suffix) {
  const char *p = s;
  bool digits = false;
  while (isdigit((unsigned char)*p)) p++, digits = true;
  if (*p == '.') {
    p++;
    while (isdigit((unsigned char)*p)) p++, digits = true;
  }
  if (!digits) return -1;
  char buf[64];
  size_t n = (size_t)(p - s);
  if (n >= sizeof buf) return -1;
  memcpy(buf, s, n);
  buf[n] = '\0';
  errno = 0;
  *val = strtod(buf, NULL);
  if (errno || !isfinite(*val)) return -1;
  *suffix = p;
  return 0;
}

int cli_parse_size(const char *s, uint64_t *out, cs_err *err) {
  double v;
  const char *suf;
  if (!s || parse_decimal(s, &v, &suf) < 0)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "invalid size \"%s\" (want e.g. 512m, 1g, 1048576)", s ? s : "");
  static const struct {
    const char *name;
    double mult;
  } units[] = {
    {"", 1},   {"b", 1},
    {"k", 1024.0}, {"kb", 1024.0}, {"kib", 1024.0},
    {"m", 1048576.0}, {"mb", 1048576.0}, {"mib", 1048576.0},
    {"g", 1073741824.0}, {"gb", 1073741824.0}, {"gib", 1073741824.0},
    {"t", 1099511627776.0}, {"tb", 1099511627776.0}, {"tib", 1099511627776.0},
  };
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    if (strcasecmp(suf, units[i].name) != 0) continue;
    double bytes = v * units[i].mult;
    if (bytes >= 9.2e18) return cs_err_set(err, CS_OUT_OF_RANGE, "size \"%s\" is too large", s);
    if (bytes < 1) return cs_err_set(err, CS_INVALID_ARGUMENT, "size \"%s\" must be at least 1 byte", s);
    *out = (uint64_t)bytes;
    return 0;
  }
  return cs_err_set(err, CS_INVALID_ARGUMENT, "invalid size \"%s\": unknown unit \"%s\" (b, k, m, g, t)", s, suf);
}

int cli_parse_cpus(const char *s, int64_t *quota, uint64_t *period, cs_err *err) {
  double v;
  const char *suf;
  if (!s || parse_decimal(s, &v, &suf) < 0 || *suf)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "invalid --cpus \"%s\" (want a number like 0.5 or 2)", s ? s : "");
  if (v < 0.01) return cs_err_set(err, CS_INVALID_ARGUMENT, "--cpus \"%s\": at least 0.01 CPU", s);
  if (v > 4096) return cs_err_set(err, CS_OUT_OF_RANGE, "--cpus \"%s\": at most 4096 CPUs", s);
  *period = CLI_CPU_PERIOD;
  *quota = (int64_t)llround(v * CLI_CPU_PERIOD);
  return 0;
}

int cli_parse_duration(const char *s, uint64_t *ns, cs_err *err) {
  double v;
  const char *suf;
  if (!s || parse_decimal(s, &v, &suf) < 0)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "invalid duration \"%s\" (want e.g. 1s, 500ms)", s ? s : "");
  static const struct {
    const char *name;
    double mult;
  } units[] = {{"", 1e9}, {"s", 1e9}, {"ms", 1e6}, {"us", 1e3}, {"ns", 1}, {"m", 60e9}, {"h", 3600e9}};
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    if (strcmp(suf, units[i].name) != 0) continue;
    double d = v * units[i].mult;
    if (d < 1) return cs_err_set(err, CS_INVALID_ARGUMENT, "duration \"%s\" must be positive", s);
    if (d > 1e18) return cs_err_set(err, CS_OUT_OF_RANGE, "duration \"%s\" is too long", s);
    *ns = (uint64_t)d;
    return 0;
  }
  return cs_err_set(err, CS_INVALID_ARGUMENT, "invalid duration \"%s\": unknown unit \"%s\" (ns, us, ms, s, m, h)",
                    s, suf);
}

int cli_parse_signal(const char *s, int *sig, cs_err *err) {
  if (!s || !*s) return cs_err_set(err, CS_INVALID_ARGUMENT, "empty signal");
  if (isdigit((unsigned char)s[0])) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < 1 || v > 64) return cs_err_set(err, CS_INVALID_ARGUMENT, "invalid signal \"%s\"", s);
    *sig = (int)v;
    return 0;
  }
  const char *name = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
  int n = cli_os_signal_by_name(name);
  if (n > 0) {
    *sig = n;
    return 0;
  }
  return cs_err_set(err, CS_INVALID_ARGUMENT, "unknown signal \"%s\"", s);
}

int cli_validate_env(const char *kv, cs_err *err) {
  const char *eq = kv ? strchr(kv, '=') : NULL;
  if (!eq || eq == kv) return cs_err_set(err, CS_INVALID_ARGUMENT, "invalid --env \"%s\" (want KEY=VALUE)", kv ? kv : "");
  return 0;
}

void cli_format_bytes(uint64_t n, char *out, size_t len) {
  static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = (double)n;
  size_t u = 0;
  while (v >= 1024.0 && u + 1 < sizeof units / sizeof units[0]) {
    v /= 1024.0;
    u++;
  }
  if (u == 0) snprintf(out, len, "%lluB", (unsigned long long)n);
  else snprintf(out, len, "%.4g%s", v, units[u]);
}

void cli_format_time(int64_t sec, int32_t nsec, char *out, size_t len) {
  time_t t = (time_t)sec;
  struct tm tm;
  if (!gmtime_r(&t, &tm)) {
    snprintf(out, len, "%lld", (long long)sec);
    return;
  }
  size_t n = strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
  if (n < len) snprintf(out + n, len - n, ".%09dZ", (int)nsec);
}
