#include "fuzz_util.h"

#include <errno.h>
#include <fcntl.h>
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
  /* Probing with fcntl is cheaper than listing /proc/self/fd and needs no directory fd of its own. The
   * targets never hold more than a few dozen fds, so the first 1024 cover them. */
  int n = 0;
  for (int fd = 0; fd < 1024; fd++)
    if (fcntl(fd, F_GETFD) >= 0) {
      n++;
      if (getenv("FUZZ_DEBUG_FDS")) {
        char l[64], t[256] = "";
        snprintf(l, sizeof l, "/proc/self/fd/%d", fd);
        ssize_t k = readlink(l, t, sizeof t - 1);
        if (k > 0) t[k] = 0;
        fprintf(stderr, "fd %d -> %s\n", fd, t);
      }
    }
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

size_t fuzz_write_some(int fd, const uint8_t *p, size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t w = write(fd, p + done, n - done);
    if (w > 0) {
      done += (size_t)w;
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    break; /* EAGAIN (socket buffer full) or the peer is gone */
  }
  return done;
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
