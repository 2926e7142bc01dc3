/* Helpers shared by the libFuzzer targets: invariant checks that abort (so libFuzzer records the input as
 * a crash), an open-fd count for leak checks LeakSanitizer cannot see, and quiet logging. */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An invariant of the code under test: a failure is a finding, so it must stop the run with a stack. */
#define FUZZ_CHECK(cond) ((cond) ? (void)0 : fuzz_fail(#cond, __FILE__, __LINE__))
_Noreturn void fuzz_fail(const char *what, const char *file, int line);

/* Once per process: ignore SIGPIPE (the transport requires it), silence cshim's log unless FUZZ_LOG=1
 * (thousands of warnings per second otherwise drown libFuzzer's output), warm up libuv's global state. */
void fuzz_process_init(void);

/* Number of open file descriptors. Compared before and after an input: a leaked fd is a leak too. */
int fuzz_count_fds(void);

/* Read and discard everything readable on a non-blocking fd; returns bytes read, -1 on EOF/error. */
long fuzz_drain_fd(int fd);

/* Write as much of p[0..n) as the fd takes without blocking; returns bytes written (0 if none fit), or -1
 * once the peer is gone (EPIPE, ECONNRESET). */
long fuzz_write_some(int fd, const uint8_t *p, size_t n);

/* A tiny deterministic PRNG (xorshift32) seeded from the input, for chunk sizes and choices: the same
 * input must always replay the same way. */
typedef struct fuzz_rng {
  uint32_t s;
} fuzz_rng;
void fuzz_rng_seed(fuzz_rng *r, uint32_t seed);
uint32_t fuzz_rng_next(fuzz_rng *r);

#endif
