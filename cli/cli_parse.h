/* Parsers for option values and names (pure functions, unit-tested). */
#ifndef CLI_PARSE_H
#define CLI_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cs_err.h"

/* containerd's identifier rule (identifiers.Validate): [A-Za-z0-9]+ runs joined by single '.', '_' or '-',
 * at most 76 characters. Such an id is safe as a path component (no '/', no "..", no leading dot). */
#define CLI_ID_MAX 76
int cli_validate_id(const char *what, const char *id, cs_err *err);

/* "512m", "1.5g", "1024", "64KiB" → bytes; units b, k, m, g, t (powers of 1024, as docker). */
int cli_parse_size(const char *s, uint64_t *out, cs_err *err);

/* --cpus "1.5" → CFS quota/period in microseconds (period 100000, as docker). At least 0.01 CPU: the kernel
 * refuses a quota under 1 ms. */
#define CLI_CPU_PERIOD 100000
int cli_parse_cpus(const char *s, int64_t *quota, uint64_t *period, cs_err *err);

/* "1s", "500ms", "2m", "1.5s", "250us", bare number = seconds → nanoseconds (> 0). */
int cli_parse_duration(const char *s, uint64_t *ns, cs_err *err);

/* "KILL", "SIGKILL", "sigterm", "9" → signal number. */
int cli_parse_signal(const char *s, int *sig, cs_err *err);

/* "K=V" with a non-empty K without '='; V may contain '=' (docker once dropped such values). */
int cli_validate_env(const char *kv, cs_err *err);

/* Human-readable bytes, docker style with binary units: "1.5MiB", "0B". */
void cli_format_bytes(uint64_t n, char *out, size_t len);

/* RFC 3339 UTC with nanoseconds, as Go prints a protobuf Timestamp. */
void cli_format_time(int64_t sec, int32_t nsec, char *out, size_t len);

#endif
