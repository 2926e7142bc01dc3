/* Socket-address helpers shared by server and client. */
#ifndef TTRPC_SOCK_H
#define TTRPC_SOCK_H

#include "ttrpc.h"

/* The filesystem path of an address, without an optional "unix://" prefix. -1 (InvalidArgument) if the
 * path is empty or longer than a sockaddr_un can hold (libuv would silently truncate it). */
int ttrpc_sock_path(const char *addr, const char **path, cs_err *err);
/* Before bind: remove a socket file nobody listens on any more (left by a process that died). A socket a
 * live server still accepts on is left alone: -1 with AlreadyExists. Anything that is not a socket is left
 * for bind to refuse. */
int ttrpc_sock_remove_stale(const char *path, cs_err *err);
/* Logs a warning if SIGPIPE would still kill the process on a write to a closed peer. */
void ttrpc_sock_check_sigpipe(void);

#endif
