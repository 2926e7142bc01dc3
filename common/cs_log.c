#include "cs_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cs_log_os.h"

static struct {
  int fd;
  int level;
  unsigned long dropped;
} cs_log_sink = {-1, CS_LOG_INFO, 0};

void cs_log_setup(int fd, int level) {
  cs_log_sink.fd = fd;
  cs_log_sink.level = level;
  if (fd >= 0) cs_log_os_prepare(fd);
}

int cs_log_level(void) { return cs_log_sink.level; }
unsigned long cs_log_dropped(void) { return cs_log_sink.dropped; }

void cs_log(int level, const char *fmt, ...) {
  static const char *const names[] = {"error", "warning", "info", "debug"};
  if (cs_log_sink.fd < 0 || level > cs_log_sink.level) return;
  char line[1024];
  struct tm tm;
  long nsec;
  cs_log_os_now(&tm, &nsec);
  int n = snprintf(line, sizeof line, "time=\"%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ\" level=%s msg=\"",
                   tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                   nsec, names[level < 0 ? 0 : level > 3 ? 3 : level]);
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  /* logfmt quoting: escape quotes and backslashes, fold newlines */
  for (const char *p = msg; *p && n < (int)sizeof line - 4; p++) {
    if (*p == '"' || *p == '\\') line[n++] = '\\';
    line[n++] = (*p == '\n') ? ' ' : *p;
  }
  line[n++] = '"';
  line[n++] = '\n';
  if (cs_log_os_write(cs_log_sink.fd, line, (size_t)n) < 0) cs_log_sink.dropped++;
}
