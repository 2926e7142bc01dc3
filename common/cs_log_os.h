/* Platform parts of the log sink, used only by cs_log.c: cs_log_posix.c, cs_log_windows.c. */
#ifndef CS_LOG_OS_H
#define CS_LOG_OS_H

#include <stddef.h>
#include <time.h>

/* Make writes to fd never stall the caller, where the platform can (see each file). */
void cs_log_os_prepare(int fd);
/* Now, as UTC calendar time and nanoseconds. */
void cs_log_os_now(struct tm *tm, long *nsec);
/* Write n bytes; returns 0 if all were written, -1 otherwise (the line is counted as dropped). */
int cs_log_os_write(int fd, const char *buf, size_t n);

#endif
