/* UTF-8 <-> UTF-16 for the HCS boundary: HCS takes and returns wide strings, everything else in cshim is
 * UTF-8. Results are malloc'd and NUL-terminated; free() them (hcs_api.free_document is only for strings
 * HCS itself allocated). */
#ifndef HCS_WSTR_H
#define HCS_WSTR_H

#include <stddef.h>

#include "cs_err.h"
#include "hcs_api.h"

size_t hcs_wlen(hcs_pcwstr w);
/* Strict: invalid UTF-8 (bad sequences, overlong forms, surrogates, > U+10FFFF) is InvalidArgument. */
hcs_pwstr hcs_utf8_to_wide(const char *s, cs_err *err);
/* Lenient: an unpaired surrogate from HCS becomes U+FFFD rather than failing the call. NULL in, NULL out. */
char *hcs_wide_to_utf8(hcs_pcwstr w, cs_err *err);

/* GUID <-> "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (lower case out; braces and either case accepted in). */
#define HCS_GUID_STR_LEN 37
void hcs_guid_format(const hcs_guid *g, char out[HCS_GUID_STR_LEN]);
int hcs_guid_parse(const char *s, hcs_guid *g, cs_err *err);

#endif
