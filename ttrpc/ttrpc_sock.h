/* Platform parts of the transport's endpoints, one file per platform: ttrpc_sock_posix.c (unix sockets),
 * ttrpc_sock_windows.c (named pipes). Both are served through libuv's uv_pipe_t. */
#ifndef TTRPC_SOCK_H
#define TTRPC_SOCK_H

#include "ttrpc.h"

/* The endpoint name of an address. POSIX: the socket's filesystem path, without an optional "unix://"
 * prefix; -1 (InvalidArgument) if empty or longer than a sockaddr_un holds (libuv would truncate it).
 * Windows: a pipe name \\.\pipe\..., at most 256 characters. */
int ttrpc_sock_path(const char *addr, const char **path, cs_err *err);
/* Before bind: make sure no live server owns the name; -1 with AlreadyExists if one does. POSIX also
 * removes a socket file nobody accepts on any more (left by a process that died); anything that is not a
 * socket is left for bind to refuse. */
int ttrpc_sock_claim(const char *path, cs_err *err);
/* Logs a warning if SIGPIPE would still kill the process on a write to a closed peer (POSIX only). */
void ttrpc_sock_check_sigpipe(void);

#endif
