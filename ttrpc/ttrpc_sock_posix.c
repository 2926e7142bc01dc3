/* Unix-socket endpoints (see ttrpc_sock.h). */
#include "ttrpc_sock.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cs_log.h"

#define SOCK_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

int ttrpc_sock_path(const char *addr, const char **path, cs_err *err) {
  if (!addr) return cs_err_set(err, CS_INVALID_ARGUMENT, "ttrpc: no socket address");
  if (strncmp(addr, "unix://", 7) == 0) addr += 7;
  size_t n = strlen(addr);
  if (n == 0) return cs_err_set(err, CS_INVALID_ARGUMENT, "ttrpc: empty socket address");
  if (n > SOCK_PATH_MAX)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "ttrpc: socket path too long (%lu > %lu): %s",
                      (unsigned long)n, (unsigned long)SOCK_PATH_MAX, addr);
  *path = addr;
  return 0;
}

int ttrpc_sock_claim(const char *path, cs_err *err) {
  struct stat st;
  if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode)) return 0;
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  size_t n = strlen(path);
  if (n >= sizeof sa.sun_path) return 0;
  memcpy(sa.sun_path, path, n + 1);
  /* Non-blocking, so a live server with a full backlog answers EAGAIN instead of stalling us. */
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return cs_err_sys(err, errno, "ttrpc: probe %s", path);
  int r = connect(fd, (struct sockaddr *)&sa, sizeof sa), e = errno;
  close(fd);
  if (r == 0 || e == EAGAIN)
    return cs_err_set(err, CS_ALREADY_EXISTS, "ttrpc: %s: a server is already listening there", path);
  if (unlink(path) < 0 && errno != ENOENT) return cs_err_sys(err, errno, "ttrpc: remove stale socket %s", path);
  return 0;
}

/* Root can always connect; the socket's mode keeps everyone else out before any accept check runs. */
int ttrpc_pipe_make_private(uv_pipe_t *bound, const char *path, cs_err *err) {
  (void)bound;
  if (chmod(path, 0600) < 0) return cs_err_sys(err, errno, "ttrpc: chmod 0600 %s", path);
  return 0;
}

void ttrpc_sock_check_sigpipe(void) {
  struct sigaction sa;
  if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
    CS_WARN("ttrpc: SIGPIPE is not ignored; a peer closing during a write will kill the process");
}
