#include "task_toml.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define TOML_KEY_MAX 128

typedef struct toml_line {
  const char *p, *end;
  int no;
} toml_line;

typedef struct toml_key {
  struct toml_key *next;
  char name[TOML_KEY_MAX];
} toml_key;

static int fail(cs_err *err, const toml_line *l, const char *what) {
  return cs_err_set(err, CS_INVALID_ARGUMENT, "line %d: %s", l->no, what);
}

static void skip_ws(toml_line *l) {
  while (l->p < l->end && (*l->p == ' ' || *l->p == '\t')) l->p++;
}

static bool at_end_or_comment(toml_line *l) {
  skip_ws(l);
  return l->p == l->end || *l->p == '#';
}

static bool bare_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static size_t put_utf8(char *o, uint32_t cp) {
  if (cp < 0x80) {
    o[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (char)(0xc0 | cp >> 6);
    o[1] = (char)(0x80 | (cp & 0x3f));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (char)(0xe0 | cp >> 12);
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[2] = (char)(0x80 | (cp & 0x3f));
    return 3;
  }
  o[0] = (char)(0xf0 | cp >> 18);
  o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
  o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
  o[3] = (char)(0x80 | (cp & 0x3f));
  return 4;
}

static int escape(toml_line *l, char *out, size_t *n, cs_err *err) {
  char e = *l->p++;
  char c;
  switch (e) {
    case 'b': c = '\b'; break;
    case 't': c = '\t'; break;
    case 'n': c = '\n'; break;
    case 'f': c = '\f'; break;
    case 'r': c = '\r'; break;
    case '"': c = '"'; break;
    case '\\': c = '\\'; break;
    case 'u':
    case 'U': {
      uint32_t cp = 0;
      for (int i = 0; i < (e == 'u' ? 4 : 8); i++) {
        int h = l->p < l->end ? hexval(*l->p) : -1;
        if (h < 0) return fail(err, l, "bad \\u escape in a string");
        cp = cp << 4 | (uint32_t)h;
        l->p++;
      }
      if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return fail(err, l, "bad \\u escape in a string");
      *n += put_utf8(out + *n, cp);
      return 0;
    }
    default: return fail(err, l, "unknown escape in a string");
  }
  out[(*n)++] = c;
  return 0;
}

/* A quoted string at l->p ('"' basic or '\'' literal), decoded into out (as long as the rest of the line:
 * decoding never grows it, a \u escape of n hex digits yields at most 4 bytes). */
static int read_string(toml_line *l, char *out, cs_err *err) {
  char q = *l->p;
  if (l->end - l->p >= 3 && l->p[1] == q && l->p[2] == q) return fail(err, l, "multi-line strings are not supported");
  l->p++;
  size_t n = 0;
  while (l->p < l->end && *l->p != q) {
    unsigned char c = (unsigned char)*l->p;
    if ((c < 0x20 && c != '\t') || c == 0x7f) return fail(err, l, "control character in a string");
    l->p++;
    if (c == '\\' && q == '"') {
      if (l->p == l->end) break;
      if (escape(l, out, &n, err) < 0) return -1;
    } else {
      out[n++] = (char)c;
    }
  }
  if (l->p == l->end) return fail(err, l, "unterminated string");
  l->p++;
  out[n] = '\0';
  return 0;
}

static int read_key(toml_line *l, char *key, char *scratch, cs_err *err) {
  if (*l->p == '"' || *l->p == '\'') {
    if (read_string(l, scratch, err) < 0) return -1;
    if (!*scratch || strlen(scratch) >= TOML_KEY_MAX) return fail(err, l, "bad key");
    strcpy(key, scratch);
    return 0;
  }
  size_t n = 0;
  while (l->p < l->end && bare_key_char(*l->p)) {
    if (n + 1 >= TOML_KEY_MAX) return fail(err, l, "key too long");
    key[n++] = *l->p++;
  }
  key[n] = '\0';
  if (n == 0) return fail(err, l, *l->p == '[' ? "tables are not supported (only flat key = value lines)" : "expected a key");
  return 0;
}

/* Decimal (with _ between digits), or 0x / 0o / 0b without a sign, as TOML writes integers. */
static int read_int(toml_line *l, int64_t *out, cs_err *err) {
  const char *s = l->p;
  while (l->p < l->end && (bare_key_char(*l->p) || *l->p == '+' || *l->p == '.' || *l->p == ':')) l->p++;
  size_t len = (size_t)(l->p - s);
  char digits[80];
  if (len >= sizeof digits) return fail(err, l, "integer too long");
  bool neg = false;
  size_t i = 0, n = 0;
  int base = 10;
  if (s[0] == '+' || s[0] == '-') neg = s[i++] == '-';
  if (len - i > 2 && s[i] == '0' && strchr("xob", s[i + 1])) {
    if (i) return fail(err, l, "a sign is not allowed on a hex, octal or binary integer");
    base = s[i + 1] == 'x' ? 16 : s[i + 1] == 'o' ? 8 : 2;
    i += 2;
  } else if (len - i > 1 && s[i] == '0') {
    return fail(err, l, "leading zeros are not allowed in an integer");
  }
  for (bool prev_digit = false; i < len; i++) {
    char c = s[i];
    if (c == '_' && prev_digit && i + 1 < len && s[i + 1] != '_') {
      prev_digit = false;
      continue;
    }
    int v = hexval(c);
    if (v < 0 || v >= base) {
      bool floatish = c == '.' || c == 'e' || c == 'E' || c == ':' || c == '-' || c == 'T';
      return fail(err, l, floatish ? "floats and dates are not supported (only strings, booleans and integers)"
                                   : "not an integer");
    }
    digits[n++] = c;
    prev_digit = true;
  }
  if (n == 0) return fail(err, l, "not an integer");
  digits[n] = '\0';
  errno = 0;
  char *end;
  unsigned long long u = strtoull(digits, &end, base);
  if (errno || *end || u > (neg ? (unsigned long long)INT64_MAX + 1 : (unsigned long long)INT64_MAX))
    return fail(err, l, "integer out of range");
  *out = neg ? (int64_t)(0 - u) : (int64_t)u;
  return 0;
}

static int read_value(toml_line *l, task_toml_value *v, char *buf, cs_err *err) {
  char c = *l->p;
  if (c == '"' || c == '\'') {
    v->type = TASK_TOML_STRING;
    v->str = buf;
    return read_string(l, buf, err);
  }
  if (c == '[') return fail(err, l, "arrays are not supported (only strings, booleans and integers)");
  if (c == '{') return fail(err, l, "inline tables are not supported (only strings, booleans and integers)");
  size_t rest = (size_t)(l->end - l->p);
  for (int b = 0; b < 2; b++) {
    const char *word = b ? "true" : "false";
    size_t wl = strlen(word);
    if (rest >= wl && !memcmp(l->p, word, wl) && (rest == wl || !bare_key_char(l->p[wl]))) {
      v->type = TASK_TOML_BOOL;
      v->b = b;
      l->p += wl;
      return 0;
    }
  }
  if ((c >= '0' && c <= '9') || c == '+' || c == '-') {
    const char *s = l->p + (c == '+' || c == '-');
    if (l->end - s >= 3 && (!memcmp(s, "inf", 3) || !memcmp(s, "nan", 3)))
      return fail(err, l, "floats are not supported (only strings, booleans and integers)");
    v->type = TASK_TOML_INT;
    return read_int(l, &v->i, err);
  }
  if (rest >= 3 && (!memcmp(l->p, "inf", 3) || !memcmp(l->p, "nan", 3)))
    return fail(err, l, "floats are not supported (only strings, booleans and integers)");
  return fail(err, l, "expected a string, a boolean or an integer");
}

static int read_line(toml_line *l, char *key, char *buf, toml_key **seen, task_toml_cb cb, void *data,
                     cs_err *err) {
  if (at_end_or_comment(l)) return 0;
  if (*l->p == '[') return fail(err, l, "tables are not supported (only flat key = value lines)");
  if (read_key(l, key, buf, err) < 0) return -1;
  skip_ws(l);
  if (l->p < l->end && *l->p == '.') return fail(err, l, "dotted keys are not supported");
  if (l->p == l->end || *l->p != '=') return fail(err, l, "expected '=' after the key");
  l->p++;
  skip_ws(l);
  if (l->p == l->end) return fail(err, l, "expected a value after '='");
  task_toml_value v = {.line = l->no};
  if (read_value(l, &v, buf, err) < 0) return -1;
  if (!at_end_or_comment(l)) return fail(err, l, "unexpected text after the value");
  for (toml_key *k = *seen; k; k = k->next)
    if (!strcmp(k->name, key)) return fail(err, l, "key defined twice");
  toml_key *k = malloc(sizeof *k);
  if (!k) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "line %d: out of memory", l->no);
  strcpy(k->name, key);
  k->next = *seen;
  *seen = k;
  if (cb(data, key, &v, err) < 0) return cs_err_wrap(err, "line %d", l->no);
  return 0;
}

int task_toml_read(const char *text, size_t len, task_toml_cb cb, void *data, cs_err *err) {
  if (memchr(text, '\0', len)) return cs_err_set(err, CS_INVALID_ARGUMENT, "a NUL byte in the text");
  if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) text += 3, len -= 3; /* UTF-8 byte order mark */
  char key[TOML_KEY_MAX];
  char *buf = malloc(len + 1);
  if (!buf) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
  toml_key *seen = NULL;
  int rc = 0;
  toml_line l = {.p = text, .no = 0};
  for (const char *end = text + len; rc == 0 && l.p < end;) {
    const char *nl = memchr(l.p, '\n', (size_t)(end - l.p));
    l.end = nl ? nl : end;
    if (l.end > l.p && l.end[-1] == '\r') l.end--;
    l.no++;
    rc = read_line(&l, key, buf, &seen, cb, data, err);
    l.p = nl ? nl + 1 : end;
  }
  while (seen) {
    toml_key *k = seen;
    seen = k->next;
    free(k);
  }
  free(buf);
  return rc;
}
