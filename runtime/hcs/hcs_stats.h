/* HCS Statistics (HcsGetComputeSystemProperties with HCS_QUERY_STATISTICS) -> rt_sample. */
#ifndef HCS_STATS_H
#define HCS_STATS_H

#include "cs_err.h"
#include "rt.h"

/* Fills kind, timestamp, cpu, memory and windows; leaves net[] alone (HNS fills it). HCS counts in 100 ns
 * units: every *100ns figure is multiplied by 100. */
int hcs_stats_parse(const char *json, rt_sample *out, cs_err *err);

#endif
