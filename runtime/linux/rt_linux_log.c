#include "rt_linux_log.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cs_err.h"

/* Bound what we read from a log that may have grown large: the error is at its end. */
#define RT_LINUX_LOG_TAIL (64 * 1024)

static void copy_trimmed(const char *s, size_t n, char *out, size_t outlen) {
  while (n > 0 && isspace((unsigned char)*s)) s++, n--;
  while (n > 0 && isspace((unsigned char)s[n - 1])) n--;
  if (n >= outlen) n = outlen - 1;
  memcpy(out, s, n);
  out[n] = '\0';
}

bool rt_linux_log_last_error(const char *buf, size_t len, char *out, size_t outlen) {
  bool found = false;
  if (outlen == 0) return false;
  for (size_t i = 0; i < len;) {
    const char *line = buf + i;
    const char *nl = memchr(line, '\n', len - i);
    size_t n = nl ? (size_t)(nl - line) : len - i;
    i += n + 1;
    json_t *o = json_loadb(line, n, JSON_DISABLE_EOF_CHECK, NULL);
    if (!o) continue;
    const char *level = json_string_value(json_object_get(o, "level"));
    const char *msg = json_string_value(json_object_get(o, "msg"));
    if (json_is_object(o) && level && msg && (!strcmp(level, "error") || !strcmp(level, "fatal"))) {
      copy_trimmed(msg, strlen(msg), out, outlen);
      found = true;
    }
    json_decref(o);
  }
  return found;
}

bool rt_linux_log_last_line(const char *buf, size_t len, char *out, size_t outlen) {
  while (len > 0 && isspace((unsigned char)buf[len - 1])) len--;
  if (len == 0 || outlen == 0) return false;
  size_t start = len;
  while (start > 0 && buf[start - 1] != '\n') start--;
  copy_trimmed(buf + start, len - start, out, outlen);
  /* logrus text format: keep just the msg="..." part if it is there. */
  char *m = strstr(out, "msg=\"");
  if (m) {
    char *s = m + 5, *e = strrchr(s, '"');
    if (e && e > s) {
      size_t n = (size_t)(e - s);
      memmove(out, s, n);
      out[n] = '\0';
    }
  }
  return out[0] != '\0';
}

bool rt_linux_criu_reason(const char *buf, size_t len, char *out, size_t outlen) {
  for (size_t i = 0; i < len;) {
    const char *line = buf + i;
    const char *nl = memchr(line, '\n', len - i);
    size_t n = nl ? (size_t)(nl - line) : len - i;
    i += n + 1;
    /* "(00.013051) Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds" */
    const char *e = memmem(line, n, "Error (", 7);
    if (!e) continue;
    const char *r = memmem(e, n - (size_t)(e - line), "): ", 3);
    if (!r) continue;
    r += 3;
    copy_trimmed(r, n - (size_t)(r - line), out, outlen);
    return out[0] != '\0';
  }
  return false;
}

off_t rt_linux_log_offset(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? st.st_size : 0;
}

bool rt_linux_log_read_error(const char *path, off_t from, char *out, size_t outlen) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st;
  bool found = false;
  if (fstat(fd, &st) == 0) {
    if (from > st.st_size || from < 0) from = 0; /* truncated or replaced meanwhile */
    if (st.st_size - from > RT_LINUX_LOG_TAIL) from = st.st_size - RT_LINUX_LOG_TAIL;
    size_t want = (size_t)(st.st_size - from);
    char *buf = malloc(want + 1);
    size_t got = 0;
    while (buf && got < want) {
      ssize_t n = pread(fd, buf + got, want - got, from + (off_t)got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += (size_t)n;
    }
    if (buf) found = rt_linux_log_last_error(buf, got, out, outlen);
    free(buf);
  }
  close(fd);
  return found;
}

bool rt_linux_msg_not_exist(const char *msg) {
  return strstr(msg, "does not exist") || strstr(msg, "No such file or directory");
}

int rt_linux_msg_code(const char *msg) {
  if (strstr(msg, "no space left on device")) return CS_RESOURCE_EXHAUSTED;
  if (rt_linux_msg_not_exist(msg)) return CS_NOT_FOUND;
  static const char *const state_words[] = {"not running", "not stopped", "stopped container", "not paused",
                                            "is paused", "cannot exec", "has stopped", "is not running"};
  for (size_t i = 0; i < sizeof state_words / sizeof state_words[0]; i++)
    if (strstr(msg, state_words[i])) return CS_FAILED_PRECONDITION;
  return CS_UNKNOWN;
}

int rt_linux_kill_error(const char *m, char *out, size_t outlen) {
  if (strstr(m, "process already finished") || strstr(m, "container not running") ||
      strcasestr(m, "no such process")) {
    snprintf(out, outlen, "process already finished");
    return CS_NOT_FOUND;
  }
  if (rt_linux_msg_not_exist(m)) {
    snprintf(out, outlen, "no such container");
    return CS_NOT_FOUND;
  }
  snprintf(out, outlen, "unknown error after kill: %s", m);
  return CS_UNKNOWN;
}
