#include "fuzz_util.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <uv.h>

#include "cs_log.h"

void fuzz_fail(const char *what, const char *file, int line) {
  fprintf(stderr, "==fuzz== invariant failed: %s (%s:%d)\n", what, file, line);
  abort();
}

void fuzz_process_init(void) {
  signal(SIGPIPE, SIG_IGN);
  const char *log = getenv("FUZZ_LOG");
  if (log && *log == '1') cs_log_setup(2, CS_LOG_DEBUG);
  else cs_log_setup(-1, CS_LOG_ERROR);
  /* libuv opens process-wide fds (the signal pipe) with the first loop; open them now, so they do not show
   * up as a leak of the first input. */
  uv_loop_t warm;
  if (uv_loop_init(&warm) == 0) uv_loop_close(&warm);
}

int fuzz_count_fds(void) {
  /* Listing /proc/self/fd costs a few syscalls; probing every possible fd would cost a thousand per input.
   * The directory's own fd is listed too, on both counts alike. FUZZ_DEBUG_FDS=1 prints them. */
  DIR *d = opendir("/proc/self/fd");
  FUZZ_CHECK(d != NULL);
  bool debug = getenv("FUZZ_DEBUG_FDS") != NULL;
  int n = 0;
  for (struct dirent *de; (de = readdir(d));) {
    if (de->d_name[0] == '.') continue;
    n++;
    if (debug) {
      char link[64], target[256] = "";
      snprintf(link, sizeof link, "/proc/self/fd/%s", de->d_name);
      ssize_t k = readlink(link, target, sizeof target - 1);
      if (k > 0) target[k] = '\0';
      fprintf(stderr, "fd %s -> %s\n", de->d_name, target);
    }
  }
  closedir(d);
  return n;
}

long fuzz_drain_fd(int fd) {
  uint8_t buf[65536];
  long total = 0;
  for (;;) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r > 0) {
      total += r;
      continue;
    }
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return total;
    if (r < 0 && errno == EINTR) continue;
    return -1;
  }
}

long fuzz_write_some(int fd, const uint8_t *p, size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t w = write(fd, p + done, n - done);
    if (w > 0) {
      done += (size_t)w;
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && done == 0) return -1;
    break; /* the socket buffer is full */
  }
  return (long)done;
}

void fuzz_rng_seed(fuzz_rng *r, uint32_t seed) { r->s = seed ? seed : 0x9e3779b9u; }

uint32_t fuzz_rng_next(fuzz_rng *r) {
  uint32_t x = r->s;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  r->s = x;
  return x;
}
