/* The few operating-system facts the shared task service needs, one file per platform
 * (task_os_posix.c, task_os_windows.c), so the service itself has no platform code. */
#ifndef TASK_OS_H
#define TASK_OS_H

#include <stdbool.h>
#include <stdint.h>

/* Wall-clock time in ns since the Unix epoch (protobuf Timestamps, exit times). */
int64_t task_os_now_ns(void);
/* "/run/..." on POSIX; "C:\...", "C:/..." or "\\?\..." on Windows (containerd's bundle paths). */
bool task_os_path_is_absolute(const char *path);
/* The shim's own pid (ConnectResponse.shim_pid). */
uint32_t task_os_pid(void);

#endif
