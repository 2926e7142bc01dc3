#include "ttrpc_sock.h"

#include <string.h>

#include "cs_log.h"

#ifndef _WIN32
#include <signal.h>
#include <sys/un.h>
#define SOCK_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)
#else
#define SOCK_PATH_MAX 256
#endif

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

void ttrpc_sock_check_sigpipe(void) {
#ifndef _WIN32
  struct sigaction sa;
  if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
    CS_WARN("ttrpc: SIGPIPE is not ignored; a peer closing during a write will kill the process");
#endif
}
