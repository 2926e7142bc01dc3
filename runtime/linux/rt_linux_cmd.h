/* Running a helper binary (runc, crun) without blocking the loop and without uv_spawn (libuv would wait for
 * its own children and race the reaper). fork/execve here; the exit comes from the reaper; stdout/stderr
 * are read on the loop while the command runs. */
#ifndef RT_LINUX_CMD_H
#define RT_LINUX_CMD_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "cs_err.h"
#include "rt_reaper.h"

#define RT_LINUX_CMD_NULL (-1)    /* /dev/null */
#define RT_LINUX_CMD_CAPTURE (-2) /* fd 1 and 2 only: read into the result */

typedef struct rt_linux_cmd rt_linux_cmd;

typedef struct rt_linux_cmd_spec {
  const char *path;   /* the binary, already resolved (no PATH search after fork) */
  char *const *argv;
  int fd[3];          /* RT_LINUX_CMD_NULL, RT_LINUX_CMD_CAPTURE, or an fd dup'd for the child */
  const char *input;  /* non-NULL: this is the child's stdin (fd[0] ignored) */
  size_t input_len;
  size_t capture_max; /* per stream; 0: 64 KiB. Output past it is dropped. */
} rt_linux_cmd_spec;

typedef struct rt_linux_cmd_result {
  int pid;
  int status;         /* exit code or 128+signal */
  int64_t exited_at_ns;
  const char *out;    /* NUL-terminated, never NULL */
  size_t out_len;
  const char *err;
  size_t err_len;
} rt_linux_cmd_result;

typedef void (*rt_linux_cmd_cb)(void *data, const rt_linux_cmd_result *res);

/* Fork and exec; cb runs once from the loop after the child exited. -1 with err if it could not be
 * started (an exec failure, e.g. ENOENT, is reported here, synchronously). */
rt_linux_cmd *rt_linux_cmd_start(uv_loop_t *loop, rt_reaper *r, const rt_linux_cmd_spec *spec,
                                 rt_linux_cmd_cb cb, void *data, cs_err *err);

/* Forget a running command: no callback; its exit is dropped. The process is not signalled. */
void rt_linux_cmd_cancel(rt_linux_cmd *c);

int rt_linux_cmd_pid(const rt_linux_cmd *c);

/* Search PATH for name (or take it as is if it contains '/'); out gets an absolute or relative path. */
int rt_linux_cmd_resolve(const char *name, char *out, size_t outlen, cs_err *err);

#endif
