#include "task_os.h"

#include <time.h>
#include <unistd.h>

int64_t task_os_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

bool task_os_path_is_absolute(const char *path) { return path && path[0] == '/'; }

uint32_t task_os_pid(void) { return (uint32_t)getpid(); }
