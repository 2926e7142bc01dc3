#include "cs_err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void vset(cs_err *err, const char *fmt, va_list ap) {
  vsnprintf(err->msg, sizeof err->msg, fmt, ap);
}

int cs_err_set(cs_err *err, int code, const char *fmt, ...) {
  if (!err) return -1;
  va_list ap;
  va_start(ap, fmt);
  vset(err, fmt, ap);
  va_end(ap);
  err->code = code;
  err->sys_errno = 0;
  return -1;
}

int cs_err_sys(cs_err *err, int errnum, const char *fmt, ...) {
  if (!err) return -1;
  va_list ap;
  va_start(ap, fmt);
  vset(err, fmt, ap);
  va_end(ap);
  size_t n = strlen(err->msg);
  if (n < sizeof err->msg) snprintf(err->msg + n, sizeof err->msg - n, ": %s", strerror(errnum));
  err->code = cs_code_from_errno(errnum);
  err->sys_errno = errnum;
  return -1;
}

int cs_err_wrap(cs_err *err, const char *fmt, ...) {
  if (!err) return -1;
  char prefix[CS_ERR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  /* Build "prefix: old" in place: shift the old message right, then copy the prefix in front. */
  size_t plen = strnlen(prefix, sizeof prefix) + 2, olen = strnlen(err->msg, sizeof err->msg - 1);
  if (plen >= sizeof err->msg) plen = sizeof err->msg - 1;
  if (plen + olen >= sizeof err->msg) olen = sizeof err->msg - 1 - plen;
  memmove(err->msg + plen, err->msg, olen);
  err->msg[plen + olen] = '\0';
  memcpy(err->msg, prefix, plen - 2);
  if (plen >= 2) { err->msg[plen - 2] = ':'; err->msg[plen - 1] = ' '; }
  if (err->code == CS_OK) err->code = CS_UNKNOWN;
  return -1;
}

void cs_err_clear(cs_err *err) {
  if (!err) return;
  err->code = CS_OK;
  err->sys_errno = 0;
  err->msg[0] = '\0';
}

int cs_code_from_errno(int errnum) {
  switch (errnum) {
  case 0: return CS_OK;
  case ENOENT: case ESRCH: return CS_NOT_FOUND;
  case EEXIST: return CS_ALREADY_EXISTS;
  case EINVAL: case ENAMETOOLONG: case E2BIG: return CS_INVALID_ARGUMENT;
  case EPERM: case EACCES: return CS_PERMISSION_DENIED;
  case ENOMEM: case ENOSPC: case EMFILE: case ENFILE: return CS_RESOURCE_EXHAUSTED;
#ifdef EDQUOT
  case EDQUOT: return CS_RESOURCE_EXHAUSTED;
#endif
  case ETIMEDOUT: return CS_DEADLINE_EXCEEDED;
  case ECANCELED: return CS_CANCELLED;
  case ENOSYS: case EOPNOTSUPP: return CS_UNIMPLEMENTED;
  case EAGAIN: case ECONNREFUSED: case ECONNRESET: case EPIPE: return CS_UNAVAILABLE;
  case EBUSY: return CS_FAILED_PRECONDITION;
  default: return CS_UNKNOWN;
  }
}

const char *cs_code_name(int code) {
  static const char *const names[] = {
    "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound", "AlreadyExists",
    "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange",
    "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated",
  };
  if (code < 0 || code >= (int)(sizeof names / sizeof names[0])) return "Unknown";
  return names[code];
}
