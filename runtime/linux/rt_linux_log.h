/* The runtime's JSON log (`--log <bundle>/log.json --log-format json`): one object per line with "level",
 * "msg", "time". On failure runc-v2 reports the last "error" message found there; so do we, reading only
 * what the failed invocation appended (the file is shared by every invocation for the container). */
#ifndef RT_LINUX_LOG_H
#define RT_LINUX_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The "msg" of the last line whose level is "error" or "fatal", trimmed, into out. Lines that are not JSON
 * objects are skipped. Returns true if one was found. */
bool rt_linux_log_last_error(const char *buf, size_t len, char *out, size_t outlen);

/* Size of the log now (0 if it does not exist): the offset to read from after the next invocation. */
off_t rt_linux_log_offset(const char *path);

/* rt_linux_log_last_error over the file's bytes from `from` on (from 0 if the file shrank). */
bool rt_linux_log_read_error(const char *path, off_t from, char *out, size_t outlen);

/* The last non-empty line of plain text output (runc also prints its fatal error on stderr), trimmed. */
bool rt_linux_log_last_line(const char *buf, size_t len, char *out, size_t outlen);

/* The first CRIU "Error (file:line): reason" line of a dump/restore log, reduced to its reason. */
bool rt_linux_criu_reason(const char *buf, size_t len, char *out, size_t outlen);

/* runc-v2's checkKillError: which gRPC code and message a failed kill maps to. */
int rt_linux_kill_error(const char *runtime_msg, char *out, size_t outlen);

/* A runtime failure message as a gRPC code: NotFound for a missing container, FailedPrecondition for the
 * wrong state (not running, not stopped, not paused, ...), else Unknown. */
int rt_linux_msg_code(const char *msg);

/* Messages meaning "the container is not there" (delete treats them as success, like runc-v2). */
bool rt_linux_msg_not_exist(const char *msg);

#endif
