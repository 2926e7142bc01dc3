/* What cshimctl needs from the platform (cli_os_posix.c, cli_os_windows.c; CMake picks one). The command
 * code (cli_run.c, cli_exec.c, ...) is one copy and reaches the platform only through this header,
 * cli_shim_run.h and cli_stdio.h. */
#ifndef CLI_OS_H
#define CLI_OS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cs_err.h"

/* Signal numbers of the task API: Linux's (containerd sends the same numbers to a Windows shim). SIGKILL
 * and SIGTERM are 9 and 15 on every Linux architecture. */
#define CLI_SIGKILL 9
#define CLI_SIGTERM 15

/* POSIX: SIGPIPE ignored (the ttrpc client writes to a socket the shim may close at any time). Windows:
 * binary stdio and file I/O (what a container prints is passed on byte for byte). */
void cli_os_init(void);

int cli_os_random(void *buf, size_t n, cs_err *err);
/* "/x" (POSIX); "C:\x", "C:/x", "\\server\x" (Windows). */
bool cli_os_path_is_abs(const char *p);
/* The absolute, resolved path of an existing file or directory; -1 with errno. */
int cli_os_realpath(const char *in, char *out, size_t len);
/* A file this process may run. */
bool cli_os_executable(const char *p);
/* The last directory separator in p, or NULL. */
const char *cli_os_last_sep(const char *p);
/* What an executable's name ends with ("" or ".exe"), and the separator of PATH's entries. */
extern const char cli_os_exe_suffix[];
extern const char cli_os_path_list_sep;
int cli_os_mkdir(const char *path, int mode);     /* -1 with errno (EEXIST when it exists) */
int cli_os_replace(const char *from, const char *to); /* rename over an existing file; -1 with errno */
/* Delete a bundle's tree without following links (POSIX: without crossing into other filesystems, after
 * detaching a rootfs a dead shim left mounted). What cannot be removed is left; the caller checks. */
void cli_os_remove_tree(const char *dir);

bool cli_os_pid_alive(int pid);
/* Resident memory of a process in bytes, 0 if unknown. */
uint64_t cli_os_rss(uint32_t pid);

/* A shim address this platform can dial: unix:///path or /path (POSIX), \\.\pipe\name (Windows). */
bool cli_os_address_ok(const char *addr);
/* The form of an address, for error messages. */
extern const char cli_os_address_form[];
/* After a shim is gone: remove its socket file if nothing answers there any more (POSIX; pipes vanish). */
void cli_os_address_cleanup(const char *addr);

/* Signals sent to cshimctl that an attached process gets (cli_attach.c), and holding them back while a
 * container is being set up (cli_signals_hold in cli_attach.h). */
#define CLI_OS_FORWARD_MAX 8
extern const int cli_os_forwarded[];
extern const size_t cli_os_nforwarded;
/* The task-API number of a signal cshimctl received (they differ on Windows). */
int cli_os_task_signal(int sig);
/* "KILL", "TERM", ... → number; -1 if unknown. */
int cli_os_signal_by_name(const char *name);

#endif
