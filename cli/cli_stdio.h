/* A container's stdio at cshimctl's end (cli_stdio_posix.c; cli_stdio_windows.c serves named pipes
 * instead of FIFOs, in the same steps): the FIFOs handed to the shim, and the copying between them and
 * our own stdin/stdout/stderr on the loop.
 *
 * Order matters with FIFOs (an open can block or fail until the other side is there):
 *   1. cli_fifos_create makes the FIFOs;
 *   2. cli_stdio_open opens the read sides of stdout/stderr non-blocking, before Create, so the shim's
 *      write opens succeed at once;
 *   3. after Start, cli_stdio_start opens our write side of stdin and starts copying: by then every shim
 *      holds the read side (runc-v2 opens an exec's only at Start). Output is read only from here on
 *      (a FIFO with no writer yet reads as EOF); what the process printed meanwhile waits in the FIFO.
 * Output ends when every writer of the FIFO is gone (the container's processes exited); stdin EOF is
 * reported so the caller can send CloseIO.
 * Our own fds can be anything (tty, pipe, regular file, /dev/null) and their file descriptions are shared
 * with the shell that started us, so they are never switched to non-blocking: output is written through
 * libuv's thread pool; stdin is reopened as a description of our own (see in_copy in the .c). */
#ifndef CLI_STDIO_H
#define CLI_STDIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "cs_err.h"

typedef struct cli_fifos {
  char in[4200], out[4200], err[4200]; /* "" when not used */
} cli_fifos;

/* <dir>/<prefix>stdin|stdout|stderr; stdin only if with_stdin, stderr only without a terminal. */
int cli_fifos_create(cli_fifos *f, const char *dir, const char *prefix, bool with_stdin, bool terminal, cs_err *err);
void cli_fifos_remove(const cli_fifos *f);

typedef struct cli_stdio cli_stdio;

typedef struct cli_stdio_cfg {
  uv_loop_t *loop;
  const cli_fifos *fifos;
  int in_fd, out_fd, err_fd;               /* ours: normally 0, 1, 2 */
  void (*on_stdin_eof)(void *data);        /* our stdin ended and the FIFO writer is closed */
  void (*on_output_done)(void *data);      /* every output FIFO reached EOF and was written out */
  void *data;
} cli_stdio_cfg;

/* Where a detached (run -d) container's output goes: "file://<bundle>/io/output" (POSIX), or "" (Windows:
 * the shim takes only named pipes, and nobody would serve one). */
void cli_stdio_detached_output(const char *bundle, char *out, size_t len);

/* Step 2 above. */
cli_stdio *cli_stdio_open(const cli_stdio_cfg *cfg, cs_err *err);
/* Step 3 above. */
int cli_stdio_start(cli_stdio *s, cs_err *err);
bool cli_stdio_output_done(const cli_stdio *s);
/* Stop copying; handles close on the loop and the struct frees itself once nothing is in flight. */
void cli_stdio_close(cli_stdio *s);

/* Our terminal in raw mode while a container's tty is attached. */
typedef struct cli_term {
  int fd;
  bool raw;
  uint64_t saved[16]; /* the platform's saved terminal mode (a struct termios; console modes on Windows) */
} cli_term;

int cli_term_raw(cli_term *t, int fd, cs_err *err);
void cli_term_restore(cli_term *t);
/* Current size of the terminal on fd (0/0 if not a terminal). */
void cli_term_size(int fd, unsigned *width, unsigned *height);

#endif
