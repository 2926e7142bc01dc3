/* Clock readings in ns, the one way the Linux backend takes them. */
#ifndef RT_LINUX_CLOCK_H
#define RT_LINUX_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t rt_linux_clock_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#endif
