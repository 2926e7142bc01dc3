/* Logging in logfmt (time="..." level=info msg="..."), the format containerd reads from a shim's `log` FIFO.
 *
 * The sink is the one process-wide setting in cshim, configured explicitly by main(): a log line can be
 * written from anywhere, and threading a logger through every call would add an argument to all of them.
 * Writes never block: the fd is made non-blocking and a line that does not fit is dropped and counted
 * (a full FIFO nobody reads must never stall the event loop). */
#ifndef CS_LOG_H
#define CS_LOG_H

#include "cs_err.h"

enum cs_log_level { CS_LOG_ERROR = 0, CS_LOG_WARN = 1, CS_LOG_INFO = 2, CS_LOG_DEBUG = 3 };

/* fd < 0 disables logging. The fd is set O_NONBLOCK (POSIX; see cs_log_windows.c for Windows). */
void cs_log_setup(int fd, int level);
int cs_log_level(void);
unsigned long cs_log_dropped(void);
void cs_log(int level, const char *fmt, ...) CS_PRINTF(2, 3);

#define CS_ERROR(...) cs_log(CS_LOG_ERROR, __VA_ARGS__)
#define CS_WARN(...) cs_log(CS_LOG_WARN, __VA_ARGS__)
#define CS_INFO(...) cs_log(CS_LOG_INFO, __VA_ARGS__)
#define CS_DEBUG(...) do { if (cs_log_level() >= CS_LOG_DEBUG) cs_log(CS_LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
