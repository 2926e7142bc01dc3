#include "net_cni_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int net_cni_mkdir_p(const char *dir, mode_t mode, cs_err *err) {
  char p[4096];
  size_t n = strlen(dir);
  if (n == 0 || n >= sizeof p) return cs_err_set(err, CS_INVALID_ARGUMENT, "directory path too long");
  memcpy(p, dir, n + 1);
  for (char *s = p + 1;; s++) {
    if (*s != '/' && *s != '\0') continue;
    char c = *s;
    *s = '\0';
    if (mkdir(p, mode) != 0 && errno != EEXIST) return cs_err_sys(err, errno, "mkdir %s", p);
    if (c == '\0') break;
    *s = c;
  }
  return 0;
}

int net_cni_write_file(const char *path, const char *data, size_t len, mode_t mode, cs_err *err) {
  char tmp[4096];
  if (net_cni_path(tmp, sizeof tmp, err, "%s.tmp.%d", path, (int)getpid()) != 0) return -1;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return cs_err_sys(err, errno, "create %s", tmp);
  size_t off = 0;
  while (off < len) {
    ssize_t w = write(fd, data + off, len - off);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      int e = errno;
      close(fd);
      unlink(tmp);
      return cs_err_sys(err, e, "write %s", tmp);
    }
    off += (size_t)w;
  }
  if (close(fd) != 0 || rename(tmp, path) != 0) {
    int e = errno;
    unlink(tmp);
    return cs_err_sys(err, e, "write %s", path);
  }
  return 0;
}

char *net_cni_read_file(const char *path, size_t max, size_t *len, cs_err *err) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    cs_err_sys(err, errno, "open %s", path);
    return NULL;
  }
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  int e = buf ? 0 : ENOMEM;
  while (e == 0) {
    if (n + 1 >= cap) {
      char *nb = cap <= max ? realloc(buf, cap * 2) : NULL;
      if (!nb) {
        e = cap <= max ? ENOMEM : EFBIG;
        break;
      }
      buf = nb;
      cap *= 2;
    }
    ssize_t r = read(fd, buf + n, cap - 1 - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) e = errno;
    if (r <= 0) break;
    n += (size_t)r;
  }
  close(fd);
  if (e != 0) {
    free(buf);
    cs_err_sys(err, e, "read %s", path);
    return NULL;
  }
  buf[n] = '\0';
  if (len) *len = n;
  return buf;
}

int net_cni_path(char *buf, size_t cap, cs_err *err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, cap, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= cap) return cs_err_set(err, CS_INVALID_ARGUMENT, "path too long: %.64s...", buf);
  return 0;
}
