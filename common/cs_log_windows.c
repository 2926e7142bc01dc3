/* Windows log sink: a CRT fd (a file, or a pipe the owner keeps drained). Windows has no non-blocking mode
 * for ordinary handles that keeps a line whole (PIPE_NOWAIT may write half a line), so prepare does
 * nothing: a process that logs to a pipe nobody may read must give cs_log a handle it drains itself. */
#include "cs_log_os.h"

#include <io.h>

void cs_log_os_prepare(int fd) { (void)fd; }

void cs_log_os_now(struct tm *tm, long *nsec) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts); /* winpthreads' (linked by common/CMakeLists.txt) */
  gmtime_s(tm, &ts.tv_sec);
  *nsec = (long)ts.tv_nsec;
}

int cs_log_os_write(int fd, const char *buf, size_t n) {
  return n <= 0x7fffffffu && _write(fd, buf, (unsigned)n) == (int)n ? 0 : -1;
}
