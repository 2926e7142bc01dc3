/* Strings as Windows' own APIs take them, for the Windows build only (cs_win_str.c): what the shim's start
 * (re-running itself) and cshimctl.exe (starting the shim) both need. */
#ifndef CS_WIN_STR_H
#define CS_WIN_STR_H

#include <stddef.h>
#include <wchar.h>

/* UTF-8 to a malloc'd UTF-16 string; NULL on failure. */
wchar_t *cs_win_wide(const char *s);
/* Appends arg to the command line out (len bytes, *pos used, NUL-terminated), quoted so CommandLineToArgvW and
 * the CRT's argv parser read it back as it was; a space before it unless it is the first. 0, or -1 when it
 * does not fit. */
int cs_win_quote_arg(char *out, size_t len, size_t *pos, const char *arg);

#endif
