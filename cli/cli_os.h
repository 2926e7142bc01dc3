/* The process set-up cshimctl needs on each platform (cli_os_posix.c, cli_os_windows.c). */
#ifndef CLI_OS_H
#define CLI_OS_H

/* POSIX: the ttrpc client writes to a socket the shim may close at any time: SIGPIPE ignored. */
void cli_os_init(void);

#endif
