/* libuv errors as cs_err. libuv's codes are -errno on POSIX but its own numbers on Windows, so the
 * transport never hands a uv code to cs_err_sys directly. */
#ifndef TTRPC_ERR_H
#define TTRPC_ERR_H

#include "cs_err.h"

/* Fill err with "<fmt...>: <uv_strerror>", the gRPC code of the matching errno, and that errno. Returns -1. */
int ttrpc_err_uv(cs_err *err, int uverr, const char *fmt, ...) CS_PRINTF(3, 4);

#endif
