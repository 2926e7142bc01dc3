#include "cs_win_str.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

wchar_t *cs_win_wide(const char *s) {
  int n = MultiByteToWideChar(CP_UTF8, 0, s, -1, NULL, 0);
  wchar_t *w = n > 0 ? malloc((size_t)n * sizeof *w) : NULL;
  if (w && MultiByteToWideChar(CP_UTF8, 0, s, -1, w, n) != n) {
    free(w);
    w = NULL;
  }
  return w;
}

int cs_win_quote_arg(char *out, size_t len, size_t *pos, const char *arg) {
  bool plain = *arg && !strpbrk(arg, " \t\n\v\"");
  size_t p = *pos;
#define PUT(c)                   \
  do {                           \
    if (p + 1 >= len) return -1; \
    out[p++] = (c);              \
  } while (0)
  if (p) PUT(' ');
  if (plain) {
    for (const char *s = arg; *s; s++) PUT(*s);
  } else {
    PUT('"');
    for (const char *s = arg;; s++) {
      size_t bs = 0;
      while (*s == '\\') bs++, s++;
      if (!*s) { /* backslashes before the closing quote are doubled */
        for (size_t i = 0; i < bs * 2; i++) PUT('\\');
        break;
      }
      if (*s == '"') { /* and before a literal quote, which is escaped */
        for (size_t i = 0; i < bs * 2 + 1; i++) PUT('\\');
      } else {
        for (size_t i = 0; i < bs; i++) PUT('\\');
      }
      PUT(*s);
    }
    PUT('"');
  }
  out[p] = '\0';
  *pos = p;
  return 0;
#undef PUT
}
