/* A reader for the flat subset of TOML that runtime option tables use: `key = value` lines whose values are
 * strings ("basic", with escapes, or 'literal'), booleans or integers, with comments and blank lines. What
 * lies beyond (tables, arrays, inline tables, floats, dates, multi-line strings, dotted keys) is refused with
 * an error naming the line: this is a config reader for CRI's runtime options, not a TOML parser (Debian 12
 * packages no C TOML library). */
#ifndef TASK_TOML_H
#define TASK_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cs_err.h"

enum task_toml_type { TASK_TOML_STRING, TASK_TOML_BOOL, TASK_TOML_INT };

typedef struct task_toml_value {
  int type;         /* enum task_toml_type */
  const char *str;  /* STRING: the decoded value, NUL-terminated, valid during the callback */
  bool b;
  int64_t i;
  int line;         /* 1-based */
} task_toml_value;

/* One call per key, in order. Return -1 with err set to stop: the reader prefixes "line N: ". */
typedef int (*task_toml_cb)(void *data, const char *key, const task_toml_value *v, cs_err *err);

/* 0, or -1 with err (InvalidArgument "line N: ...") for the first line outside the subset or a repeated key. */
int task_toml_read(const char *text, size_t len, task_toml_cb cb, void *data, cs_err *err);

#endif
