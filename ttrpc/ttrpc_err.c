#include "ttrpc_err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

/* The errno values cs_code_from_errno distinguishes, named by libuv's portable codes. */
static int errno_from_uv(int uverr) {
  switch (uverr) {
  case UV_ENOENT: return ENOENT;
  case UV_ESRCH: return ESRCH;
  case UV_EEXIST: return EEXIST;
  case UV_EINVAL: return EINVAL;
  case UV_ENAMETOOLONG: return ENAMETOOLONG;
  case UV_E2BIG: return E2BIG;
  case UV_EPERM: return EPERM;
  case UV_EACCES: return EACCES;
  case UV_ENOMEM: return ENOMEM;
  case UV_ENOSPC: return ENOSPC;
  case UV_EMFILE: return EMFILE;
  case UV_ENFILE: return ENFILE;
  case UV_ETIMEDOUT: return ETIMEDOUT;
  case UV_ECANCELED: return ECANCELED;
  case UV_ENOSYS: return ENOSYS;
  case UV_ENOTSUP: return EOPNOTSUPP;
  case UV_EAGAIN: return EAGAIN;
  case UV_ECONNREFUSED: return ECONNREFUSED;
  case UV_ECONNRESET: return ECONNRESET;
  case UV_EPIPE: return EPIPE;
  case UV_EBUSY: return EBUSY;
  case UV_EADDRINUSE: return EADDRINUSE;
  default: return -uverr; /* POSIX: the errno itself; Windows: a number cs_code_from_errno calls Unknown */
  }
}

int ttrpc_err_uv(cs_err *err, int uverr, const char *fmt, ...) {
  if (!err) return -1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
  size_t n = strnlen(err->msg, sizeof err->msg);
  if (n < sizeof err->msg) snprintf(err->msg + n, sizeof err->msg - n, ": %s", uv_strerror(uverr));
  int e = errno_from_uv(uverr);
  err->sys_errno = e;
  /* A second server on a live address: the caller's "already listening" check lost a race. */
  err->code = e == EADDRINUSE ? CS_ALREADY_EXISTS : cs_code_from_errno(e);
  return -1;
}
