/* `runc features` (runc >= 1.1; crun has it too): the OCI runtime's features JSON for -info. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim_info.h"

#define FEATURES_MAX (1u << 20)

char *shim_os_runtime_features(const char *binary) {
  int fds[2];
  if (pipe(fds) < 0) return NULL;
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return NULL;
  }
  if (pid == 0) {
    dup2(fds[1], 1);
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) dup2(null, 0), dup2(null, 2); /* -info's stdout is the message only */
    close(fds[0]);
    close(fds[1]);
    execlp(binary, binary, "features", (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  char *buf = malloc(FEATURES_MAX + 1);
  size_t len = 0;
  ssize_t n;
  while (buf && len < FEATURES_MAX && (n = read(fds[0], buf + len, FEATURES_MAX - len)) > 0) len += (size_t)n;
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  /* An older runtime prints its usage and fails: no features, not an error. */
  if (!buf || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || len == 0 || len >= FEATURES_MAX) {
    free(buf);
    return NULL;
  }
  buf[len] = '\0';
  return buf;
}
