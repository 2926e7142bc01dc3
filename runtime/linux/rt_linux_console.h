/* The console socket of `runc create/exec --console-socket`: runc connects, sends the pty master with
 * SCM_RIGHTS (payload: the pty's name), closes. go-runc blocks in accept; we need not: the connection and
 * the fd in flight wait in the listen backlog, so the master is taken after the runtime has exited. */
#ifndef RT_LINUX_CONSOLE_H
#define RT_LINUX_CONSOLE_H

#include <limits.h>

#include "cs_err.h"

typedef struct rt_linux_console {
  int fd;              /* listening, non-blocking */
  char dir[PATH_MAX];  /* private temp dir holding the socket */
  char path[PATH_MAX]; /* <dir>/pty.sock */
} rt_linux_console;

/* parent: where the temp dir goes (NULL: $XDG_RUNTIME_DIR, else /tmp). */
int rt_linux_console_open(rt_linux_console *c, const char *parent, cs_err *err);

/* The pty master sent by the runtime (caller owns it), or -1 with err if none came. Non-blocking. */
int rt_linux_console_take(rt_linux_console *c, cs_err *err);

/* Receive one fd over a connected unix socket (exposed for tests). */
int rt_linux_console_recv_fd(int sock, cs_err *err);

/* Close the listener, remove the socket and its dir. */
void rt_linux_console_close(rt_linux_console *c);

#endif
