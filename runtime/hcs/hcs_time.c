#include "hcs_time.h"

#include <stddef.h>
#ifdef _WIN32
#include <windows.h>
#else
#include <time.h>
#endif

int64_t hcs_time_now_ns(void) {
#ifdef _WIN32
  FILETIME ft;
  GetSystemTimePreciseAsFileTime(&ft);
  uint64_t t = ((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime; /* 100 ns since 1601 */
  return (int64_t)(t - 116444736000000000ULL) * 100;
#else
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
#endif
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil): no timegm, no TZ. */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static int digits(const char **p, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    char c = (*p)[i];
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  *p += n;
  *out = v;
  return 0;
}

int hcs_time_parse(const char *s, int64_t *ns, cs_err *err) {
  const char *p = s ? s : "";
  int Y, M, D, h, m, sec;
  /* Each test stops at the first mismatch, so a short string never reads past its NUL. */
  if (digits(&p, 4, &Y) || *p++ != '-' || digits(&p, 2, &M) || *p++ != '-' || digits(&p, 2, &D) ||
      (*p != 'T' && *p != 't'))
    return cs_err_set(err, CS_INVALID_ARGUMENT, "invalid RFC 3339 time \"%s\"", s ? s : "");
  p++;
  if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &m) || *p++ != ':' || digits(&p, 2, &sec))
    return cs_err_set(err, CS_INVALID_ARGUMENT, "invalid RFC 3339 time \"%s\"", s);
  if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "invalid RFC 3339 time \"%s\"", s);
  int64_t frac = 0;
  if (*p == '.') {
    p++;
    int n = 0;
    while (*p >= '0' && *p <= '9') {
      if (n < 9) { frac = frac * 10 + (*p - '0'); n++; }
      p++;
    }
    if (n == 0) return cs_err_set(err, CS_INVALID_ARGUMENT, "invalid RFC 3339 time \"%s\"", s);
    while (n++ < 9) frac *= 10;
  }
  int64_t off = 0;
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    int sign = *p++ == '-' ? -1 : 1, oh, om;
    if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om))
      return cs_err_set(err, CS_INVALID_ARGUMENT, "invalid RFC 3339 offset in \"%s\"", s);
    off = sign * (int64_t)(oh * 3600 + om * 60);
  } else {
    return cs_err_set(err, CS_INVALID_ARGUMENT, "invalid RFC 3339 time \"%s\"", s);
  }
  if (*p) return cs_err_set(err, CS_INVALID_ARGUMENT, "trailing characters in time \"%s\"", s);
  if (Y < 1678 || Y > 2261) { *ns = 0; return 0; } /* outside int64 nanoseconds; year 1 = Go's zero */
  int64_t secs = days_from_civil(Y, M, D) * 86400 + h * 3600 + m * 60 + sec - off;
  *ns = secs * 1000000000 + frac;
  return 0;
}
