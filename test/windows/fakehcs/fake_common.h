/* What the three fake DLLs share: UTF-16 conversion (written here, not borrowed from the product's hcs_wstr.c:
 * a fake must not share code with what it tests), the JSON-lines call log, the HRESULTs HCS returns, and a
 * few jansson helpers. Each DLL links its own copy (a static library). */
#ifndef FAKE_COMMON_H
#define FAKE_COMMON_H

#include <windows.h>
#include <jansson.h>
#include <stdbool.h>

/* The spellings real HCS returns, as hcsshim's internal/hcs/errors.go records them (some 0xC037..., some
 * 0x8037...; both are the same code, facility 0x37). */
#define FAKE_HCS_E_OPERATION_PENDING ((HRESULT)0xC0370103)
#define FAKE_HCS_E_INVALID_STATE ((HRESULT)0xC0370105)
#define FAKE_HCS_E_INVALID_JSON ((HRESULT)0xC037010D)
#define FAKE_HCS_E_SYSTEM_NOT_FOUND ((HRESULT)0xC037010E)
#define FAKE_HCS_E_SYSTEM_ALREADY_EXISTS ((HRESULT)0xC037010F)
#define FAKE_HCS_E_SYSTEM_ALREADY_STOPPED ((HRESULT)0xC0370110)
#define FAKE_HCS_E_PROCESS_ALREADY_STOPPED ((HRESULT)0x8037011F)
/* HRESULT_FROM_WIN32(ERROR_NOT_FOUND): hcsshim's ErrElementNotFound, what HCS says for an unknown process. */
#define FAKE_E_ELEMENT_NOT_FOUND ((HRESULT)0x80070490)
#define FAKE_E_NOT_SUPPORTED ((HRESULT)0x80070032)
/* computenetwork.h / learn.microsoft.com HCN error table. */
#define FAKE_HCN_E_ENDPOINT_NOT_FOUND ((HRESULT)0x803B0002)

/* UTF-8 <-> UTF-16 with MultiByteToWideChar / WideCharToMultiByte; malloc'd, NULL on failure or NULL input.
 * Invalid sequences fail (MB_ERR_INVALID_CHARS / WC_ERR_INVALID_CHARS): HCS rejects them too. */
WCHAR *fake_wide(const char *s);
char *fake_utf8(const WCHAR *w);
/* The same, allocated with LocalAlloc (HCS result documents) or CoTaskMemAlloc (HCN/HNS strings): what the
 * caller frees them with on Windows. */
WCHAR *fake_wide_local(const char *s);
WCHAR *fake_wide_cotask(const char *s);

/* A path from an environment variable: a Windows path as is, a Unix absolute path (/tmp/x) mapped onto Wine's
 * Z: drive (Z:\tmp\x). NULL if unset or empty. malloc'd. */
WCHAR *fake_env_path(const char *name);

/* Appends one JSON object as a line to $CSHIM_FAKEHCS_LOG (if set): {"ts","caller_pid","caller_tid","call",...fields}.
 * Steals `fields` (may be NULL). One WriteFile on a FILE_APPEND_DATA handle per line, under a named mutex (Wine's
 * append is a seek and a write), so lines of concurrent threads and processes do not interleave. */
void fake_log(const char *call, json_t *fields);
/* A document for the log: the parsed JSON if it parses, else the raw string; json_null for NULL. */
json_t *fake_log_doc(const char *doc);
/* "0x%08lX" of an HRESULT, for the log. */
json_t *fake_log_hr(HRESULT hr);

/* {"Error": hr, "ErrorMessage": msg} — the result document HCS gives a failed operation. malloc'd. */
char *fake_error_doc(HRESULT hr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* RFC 3339 UTC with 100ns digits ("2026-12-05T02:50:00.1234567Z"), the form HCS uses for times. */
void fake_format_time(const FILETIME *ft, char out[40]);

#endif
