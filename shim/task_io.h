/* A process's stdio as containerd hands it over, one interface for both platforms (the task service is
 * one copy); what is behind it is platform code chosen by CMake:
 *
 * task_io_posix.c — paths of FIFOs containerd created (or file:// URIs).
 *   stdout/stderr without a terminal: the FIFO (or file) itself becomes the process's fd 1/2, so container
 *   output never passes through the shim (no copy, no buffer, no shim CPU).
 *   stdin: a pipe to the process, fed from the FIFO by a pump on the loop. The shim also holds a writer on
 *   the FIFO so that the pipe stays open while the client reconnects; CloseIO drops that writer, and once
 *   the client's writer is gone too the process reads EOF (as containerd-shim-runc-v2 does).
 *   terminal: the pty master (from the runtime's console socket) is pumped to the stdout FIFO and fed from
 *   the stdin FIFO.
 *
 * task_io_windows.c — names of \\.\pipe\ pipes containerd serves. The backend (HCS) creates the process
 *   with std handles of its own and hands them up in rt_result.stdio_handle; the shim dials containerd's
 *   pipes and pumps between the two on the loop. CloseIO closes the process's stdin; stdout/stderr end
 *   when the process exits. */
#ifndef TASK_IO_H
#define TASK_IO_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "cs_err.h"
#include "rt.h"

typedef struct task_io task_io;

/* Open what containerd handed over (any path may be NULL or empty). *io is set even on failure (close it
 * with task_io_close). */
int task_io_open(task_io **io, uv_loop_t *loop, const char *stdin_path, const char *stdout_path,
                 const char *stderr_path, bool terminal, cs_err *err);
/* What the backend gives the process: fds to dup (POSIX) or pipe names (Windows). Ownership stays here. */
void task_io_child_stdio(const task_io *io, rt_stdio *out);
/* The backend answered a create, start or exec: take what it handed up in res (a pty master, HCS's std
 * handles), success or not, and start moving data for it. A res with nothing in it is a no-op. */
int task_io_attach(task_io *io, const rt_result *res, cs_err *err);
/* The runtime has started the process (POSIX: drop our copies of its fds and start pumping stdin). */
int task_io_started(task_io *io, cs_err *err);
/* Runtime options io_uid/io_gid: the FIFOs and the stdin pipe the process gets are chowned to them, as runc-v2
 * chowns its pipes, so a process running as that user can reopen its stdio (/dev/stdout). 0/0: left as is.
 * Call after task_io_open, before the runtime starts the process. (Windows: a no-op; a named pipe's access is
 * its DACL, and these are Linux options.) */
int task_io_set_owner(task_io *io, uint32_t uid, uint32_t gid, cs_err *err);
void task_io_close_stdin(task_io *io);
/* true when the process's terminal is ours to resize (a pty master); else the backend resizes it. */
bool task_io_has_console(const task_io *io);
int task_io_resize(task_io *io, uint32_t width, uint32_t height, cs_err *err);
/* Close everything, free, set *io NULL. Idempotent. */
void task_io_close(task_io **io);

#endif
