#include "hcs_wstr.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t hcs_wlen(hcs_pcwstr w) {
  size_t n = 0;
  if (w)
    while (w[n]) n++;
  return n;
}

/* Decode one code point at s[*i]; -1 on any malformed or non-shortest form. */
static long utf8_next(const unsigned char *s, size_t *i) {
  unsigned c = s[*i];
  if (c < 0x80) { (*i)++; return (long)c; }
  int len;
  unsigned long cp, min;
  if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; min = 0x80; }
  else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; min = 0x800; }
  else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; min = 0x10000; }
  else return -1;
  for (int k = 1; k < len; k++) {
    unsigned cc = s[*i + (size_t)k];
    if ((cc & 0xC0) != 0x80) return -1; /* also stops at the NUL */
    cp = (cp << 6) | (cc & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  *i += (size_t)len;
  return (long)cp;
}

hcs_pwstr hcs_utf8_to_wide(const char *s, cs_err *err) {
  if (!s) s = "";
  size_t n = strlen(s);
  /* Each byte yields at most one UTF-16 unit (a 4-byte sequence yields 2). */
  hcs_pwstr w = malloc((n + 1) * sizeof *w);
  if (!w) { cs_err_set(err, CS_RESOURCE_EXHAUSTED, "utf-16: out of memory"); return NULL; }
  size_t i = 0, o = 0;
  const unsigned char *u = (const unsigned char *)s;
  while (i < n) {
    size_t at = i;
    long cp = utf8_next(u, &i);
    if (cp < 0) {
      free(w);
      cs_err_set(err, CS_INVALID_ARGUMENT, "invalid UTF-8 at byte %lu", (unsigned long)at);
      return NULL;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      w[o++] = (hcs_wchar)(0xD800 + (cp >> 10));
      w[o++] = (hcs_wchar)(0xDC00 + (cp & 0x3FF));
    } else {
      w[o++] = (hcs_wchar)cp;
    }
  }
  w[o] = 0;
  return w;
}

char *hcs_wide_to_utf8(hcs_pcwstr w, cs_err *err) {
  if (!w) return NULL;
  size_t n = hcs_wlen(w);
  char *s = malloc(n * 3 + 1); /* one unit -> at most 3 bytes; a pair (2 units) -> 4 */
  if (!s) { cs_err_set(err, CS_RESOURCE_EXHAUSTED, "utf-8: out of memory"); return NULL; }
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    uint32_t cp = (uint16_t)w[i];
    if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < n && (uint16_t)w[i + 1] >= 0xDC00 &&
        (uint16_t)w[i + 1] <= 0xDFFF) {
      cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint16_t)w[i + 1] - 0xDC00);
      i++;
    } else if (cp >= 0xD800 && cp <= 0xDFFF) {
      cp = 0xFFFD;
    }
    if (cp < 0x80) {
      s[o++] = (char)cp;
    } else if (cp < 0x800) {
      s[o++] = (char)(0xC0 | (cp >> 6));
      s[o++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      s[o++] = (char)(0xE0 | (cp >> 12));
      s[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
      s[o++] = (char)(0x80 | (cp & 0x3F));
    } else {
      s[o++] = (char)(0xF0 | (cp >> 18));
      s[o++] = (char)(0x80 | ((cp >> 12) & 0x3F));
      s[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
      s[o++] = (char)(0x80 | (cp & 0x3F));
    }
  }
  s[o] = '\0';
  return s;
}

void hcs_guid_format(const hcs_guid *g, char out[HCS_GUID_STR_LEN]) {
  snprintf(out, HCS_GUID_STR_LEN, "%08lx-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", (unsigned long)g->Data1,
           (unsigned)g->Data2, (unsigned)g->Data3, g->Data4[0], g->Data4[1], g->Data4[2], g->Data4[3],
           g->Data4[4], g->Data4[5], g->Data4[6], g->Data4[7]);
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int hcs_guid_parse(const char *s, hcs_guid *g, cs_err *err) {
  const char *p = s ? s : "";
  size_t n = strlen(p);
  if (n == 38 && p[0] == '{' && p[37] == '}') { p++; n = 36; }
  if (n != 36 || p[8] != '-' || p[13] != '-' || p[18] != '-' || p[23] != '-')
    return cs_err_set(err, CS_INVALID_ARGUMENT, "invalid GUID \"%s\"", s ? s : "");
  uint8_t b[16];
  int k = 0;
  for (size_t i = 0; i < 36; i++) {
    if (i == 8 || i == 13 || i == 18 || i == 23) continue;
    int hi = hexval(p[i]), lo = hexval(p[i + 1]);
    if (hi < 0 || lo < 0) return cs_err_set(err, CS_INVALID_ARGUMENT, "invalid GUID \"%s\"", s);
    b[k++] = (uint8_t)(hi << 4 | lo);
    i++;
  }
  g->Data1 = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
  g->Data2 = (uint16_t)(b[4] << 8 | b[5]);
  g->Data3 = (uint16_t)(b[6] << 8 | b[7]);
  memcpy(g->Data4, b + 8, 8);
  return 0;
}
