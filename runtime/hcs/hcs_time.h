/* HCS reports times as Go time.Time JSON: RFC 3339 with up to 9 (HCS: 7) fractional digits. */
#ifndef HCS_TIME_H
#define HCS_TIME_H

#include <stdint.h>

#include "cs_err.h"

/* Nanoseconds since the Unix epoch. Go's zero time ("0001-01-01T00:00:00Z", what HCS sends for "never")
 * and anything before 1678 (outside int64 ns) give 0. */
int hcs_time_parse(const char *s, int64_t *ns, cs_err *err);

/* CLOCK_REALTIME in nanoseconds (C11's timespec_get is missing from mingw's runtime). */
int64_t hcs_time_now_ns(void);

#endif
