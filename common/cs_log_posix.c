/* POSIX log sink: the fd (usually the bundle's `log` FIFO) is made non-blocking; a line that does not fit
 * into a full FIFO is dropped whole, since writes of up to PIPE_BUF bytes are atomic. */
#include "cs_log_os.h"

#include <fcntl.h>
#include <unistd.h>

void cs_log_os_prepare(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl >= 0) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

void cs_log_os_now(struct tm *tm, long *nsec) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, tm);
  *nsec = (long)ts.tv_nsec;
}

int cs_log_os_write(int fd, const char *buf, size_t n) { return write(fd, buf, n) == (ssize_t)n ? 0 : -1; }
