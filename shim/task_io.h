/* A process's stdio as containerd hands it over: paths of FIFOs it created (or file:// URIs).
 *
 * stdout/stderr without a terminal: the FIFO (or file) itself becomes the process's fd 1/2, so container
 * output never passes through the shim (no copy, no buffer, no shim CPU).
 * stdin: a pipe to the process, fed from the FIFO by a pump on the loop. The shim also holds a writer on
 * the FIFO so that the pipe stays open while the client reconnects; CloseIO drops that writer, and once the
 * client's writer is gone too the process reads EOF (as containerd-shim-runc-v2 does).
 * terminal: the pty master (from the runtime's console socket) is pumped to the stdout FIFO and fed from
 * the stdin FIFO. */
#ifndef TASK_IO_H
#define TASK_IO_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "cs_err.h"

typedef struct task_pump task_pump;

typedef struct task_io {
  uv_loop_t *loop;
  bool terminal;
  int child_fd[3];   /* the process's 0/1/2 until the runtime has it (-1: /dev/null) */
  int stdin_fifo;    /* FIFO read side (pumped) */
  int stdin_keep;    /* our writer on the stdin FIFO; closed by CloseIO */
  int stdin_pipe_w;  /* write end of the process's stdin pipe */
  int stdout_fd;     /* terminal: where the pty output goes */
  int console_fd;    /* terminal: pty master */
  task_pump *in_pump, *out_pump;
} task_io;

void task_io_init(task_io *io, uv_loop_t *loop);
int task_io_open(task_io *io, const char *stdin_path, const char *stdout_path, const char *stderr_path,
                 bool terminal, cs_err *err);
/* The runtime has started the process: drop our copies of its fds and start pumping stdin. */
int task_io_started(task_io *io, cs_err *err);
/* terminal: take ownership of the pty master and start both pumps. */
int task_io_attach_console(task_io *io, int master_fd, cs_err *err);
/* Runtime options io_uid/io_gid: the FIFOs and the stdin pipe the process gets are chowned to them, as runc-v2
 * chowns its pipes, so a process running as that user can reopen its stdio (/dev/stdout). 0/0: left as is.
 * Call after task_io_open, before the runtime starts the process (task_io_owner.c). */
int task_io_set_owner(task_io *io, uint32_t uid, uint32_t gid, cs_err *err);
void task_io_close_stdin(task_io *io);
int task_io_resize(task_io *io, uint32_t width, uint32_t height, cs_err *err);
void task_io_close(task_io *io);

#endif
