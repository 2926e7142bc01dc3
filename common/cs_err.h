/* The one error idiom of cshim.
 *
 * A function that can fail returns int: 0 on success, -1 on failure, and fills the caller's cs_err with a
 * gRPC status code (so the error can go on the wire unchanged), the errno that caused it (0 if none) and a
 * message naming the problem. No allocation: the message lives in the struct. Callers that add context
 * use cs_err_wrap, which prefixes the existing message ("create: runc: exit status 1: ..."). */
#ifndef CS_ERR_H
#define CS_ERR_H

#include <stddef.h>

#define CS_ERR_MSG_MAX 512

/* gRPC status codes (google.golang.org/grpc/codes). */
enum cs_code {
  CS_OK = 0,
  CS_CANCELLED = 1,
  CS_UNKNOWN = 2,
  CS_INVALID_ARGUMENT = 3,
  CS_DEADLINE_EXCEEDED = 4,
  CS_NOT_FOUND = 5,
  CS_ALREADY_EXISTS = 6,
  CS_PERMISSION_DENIED = 7,
  CS_RESOURCE_EXHAUSTED = 8,
  CS_FAILED_PRECONDITION = 9,
  CS_ABORTED = 10,
  CS_OUT_OF_RANGE = 11,
  CS_UNIMPLEMENTED = 12,
  CS_INTERNAL = 13,
  CS_UNAVAILABLE = 14,
  CS_DATA_LOSS = 15,
  CS_UNAUTHENTICATED = 16,
};

typedef struct cs_err {
  int code;      /* enum cs_code */
  int sys_errno; /* errno behind it, 0 if none */
  char msg[CS_ERR_MSG_MAX];
} cs_err;

#if defined(__MINGW32__)
/* mingw builds use C99 printf (__USE_MINGW_ANSI_STDIO=1), which gcc checks as gnu_printf, not msvcrt's. */
#define CS_PRINTF(a, b) __attribute__((format(gnu_printf, a, b)))
#elif defined(__GNUC__)
#define CS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CS_PRINTF(a, b)
#endif

/* Set code and message; returns -1 so callers can `return cs_err_set(...)`. err may be NULL. */
int cs_err_set(cs_err *err, int code, const char *fmt, ...) CS_PRINTF(3, 4);
/* Like cs_err_set, appending ": strerror(errnum)" and mapping errnum to a code (ENOENT → NotFound, ...). */
int cs_err_sys(cs_err *err, int errnum, const char *fmt, ...) CS_PRINTF(3, 4);
/* Prefix the message already in err with context, keeping code and errno; returns -1. */
int cs_err_wrap(cs_err *err, const char *fmt, ...) CS_PRINTF(2, 3);
void cs_err_clear(cs_err *err);
/* errno → gRPC code. */
int cs_code_from_errno(int errnum);
/* Short upper-case name of a code ("NotFound"), for logs and CLI output. */
const char *cs_code_name(int code);

#endif
