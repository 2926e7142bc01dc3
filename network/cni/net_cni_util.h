/* Small file-system helpers of the CNI library (internal). */
#ifndef NET_CNI_UTIL_H
#define NET_CNI_UTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "cs_err.h"

/* mkdir -p; existing directories are left as they are. */
int net_cni_mkdir_p(const char *dir, mode_t mode, cs_err *err);

/* Write data to path through a temporary file in the same directory and rename(2), so a reader sees the
 * old file or the new one, never half of one. */
int net_cni_write_file(const char *path, const char *data, size_t len, mode_t mode, cs_err *err);

/* The whole file, NUL-terminated, malloc'd (caller frees); at most max bytes. NULL with err. */
char *net_cni_read_file(const char *path, size_t max, size_t *len, cs_err *err);

/* snprintf into buf or InvalidArgument "<what> too long". */
int net_cni_path(char *buf, size_t cap, cs_err *err, const char *fmt, ...) CS_PRINTF(4, 5);

#endif
