#include "task_os.h"

#include <uv.h> /* before windows.h: it includes winsock2.h */
#include <windows.h>

/* FILETIME counts 100 ns since 1601-01-01; the Unix epoch is 11644473600 s later. */
#define FILETIME_UNIX_EPOCH 116444736000000000LL

int64_t task_os_now_ns(void) {
  FILETIME ft;
  GetSystemTimePreciseAsFileTime(&ft);
  int64_t t = (int64_t)(((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime);
  return (t - FILETIME_UNIX_EPOCH) * 100;
}

bool task_os_path_is_absolute(const char *path) {
  if (!path) return false;
  bool letter = (path[0] >= 'A' && path[0] <= 'Z') || (path[0] >= 'a' && path[0] <= 'z');
  if (letter && path[1] == ':' && (path[2] == '\\' || path[2] == '/')) return true;
  return (path[0] == '\\' || path[0] == '/') && (path[1] == '\\' || path[1] == '/'); /* \\?\ and UNC */
}

uint32_t task_os_pid(void) { return (uint32_t)GetCurrentProcessId(); }
