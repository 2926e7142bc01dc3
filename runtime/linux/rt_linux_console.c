#include "rt_linux_console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int rt_linux_console_open(rt_linux_console *c, const char *parent, cs_err *err) {
  c->fd = -1;
  c->dir[0] = c->path[0] = '\0';
  if (!parent || !*parent) parent = getenv("XDG_RUNTIME_DIR");
  if (!parent || !*parent) parent = "/tmp";
  if ((size_t)snprintf(c->dir, sizeof c->dir, "%s/pty-XXXXXX", parent) >= sizeof c->dir)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "console socket dir too long");
  if (!mkdtemp(c->dir)) {
    c->dir[0] = '\0';
    return cs_err_sys(err, errno, "failed to create OCI runtime console socket: mkdtemp in %s", parent);
  }
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if ((size_t)snprintf(c->path, sizeof c->path, "%s/pty.sock", c->dir) >= sizeof sa.sun_path) {
    cs_err_set(err, CS_INVALID_ARGUMENT, "console socket path too long: %s", c->path);
    goto fail;
  }
  memcpy(sa.sun_path, c->path, strlen(c->path) + 1);
  c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (c->fd < 0 || bind(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(c->fd, 4) != 0) {
    cs_err_sys(err, errno, "failed to create OCI runtime console socket %s", c->path);
    goto fail;
  }
  return 0;
fail:
  rt_linux_console_close(c);
  return -1;
}

int rt_linux_console_recv_fd(int sock, cs_err *err) {
  char name[4096];
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int))];
  } ctl;
  struct iovec iov = {.iov_base = name, .iov_len = sizeof name};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
  ssize_t n;
  do n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) return cs_err_sys(err, errno, "failed to retrieve console master: recvmsg");
  struct cmsghdr *h = CMSG_FIRSTHDR(&msg);
  if (!h || h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS || h->cmsg_len != CMSG_LEN(sizeof(int))) {
    /* A truncated control message may still have installed fds; MSG_CTRUNC means we cannot know them. */
    return cs_err_set(err, CS_UNKNOWN, "failed to retrieve console master: no fd received (n=%zd)", n);
  }
  int fd;
  memcpy(&fd, CMSG_DATA(h), sizeof fd);
  return fd;
}

int rt_linux_console_take(rt_linux_console *c, cs_err *err) {
  int conn;
  do conn = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC);
  while (conn < 0 && errno == EINTR);
  if (conn < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      return cs_err_set(err, CS_UNKNOWN, "failed to retrieve console master: the runtime sent none");
    return cs_err_sys(err, errno, "failed to retrieve console master: accept");
  }
  /* The sender wrote before exiting, so the data is there: make the read non-blocking to be sure. */
  fcntl(conn, F_SETFL, O_NONBLOCK);
  int fd = rt_linux_console_recv_fd(conn, err);
  close(conn);
  return fd;
}

void rt_linux_console_close(rt_linux_console *c) {
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  if (c->path[0]) unlink(c->path);
  if (c->dir[0]) rmdir(c->dir);
  c->path[0] = c->dir[0] = '\0';
}
