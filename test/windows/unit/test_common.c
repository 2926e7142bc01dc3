/* common/ and the transport's error mapping on Windows (run under Wine by ctest):
 *  - C99 printf through cs_err (%zu, %lld: the build's __USE_MINGW_ANSI_STDIO=1, checked as gnu_printf);
 *  - cs_log_windows.c: a logfmt line with a UTC timestamp and nanoseconds written whole to a CRT fd;
 *  - ttrpc_err_uv: libuv's Windows error numbers (not errno values there) map to the gRPC codes the
 *    POSIX build gets from errno. */
#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <uv.h>

#include <windows.h>

#include "cs_err.h"
#include "cs_log.h"
#include "ttrpc_err.h"
#include "tw_tap.h"

int main(void) {
  tw_tap t = {0};
  cs_err err;

  cs_err_set(&err, CS_INVALID_ARGUMENT, "n=%zu big=%lld", (size_t)123456789012ULL, -9000000000000LL);
  TW_CHECK(&t, strcmp(err.msg, "n=123456789012 big=-9000000000000") == 0, "C99 formats in cs_err: %s", err.msg);

  static const struct {
    int uv;
    int code;
  } map[] = {
      {UV_ENOENT, CS_NOT_FOUND},          {UV_EEXIST, CS_ALREADY_EXISTS},   {UV_EADDRINUSE, CS_ALREADY_EXISTS},
      {UV_EACCES, CS_PERMISSION_DENIED},  {UV_EPERM, CS_PERMISSION_DENIED}, {UV_EINVAL, CS_INVALID_ARGUMENT},
      {UV_ECONNREFUSED, CS_UNAVAILABLE},  {UV_EPIPE, CS_UNAVAILABLE},       {UV_ECONNRESET, CS_UNAVAILABLE},
      {UV_ETIMEDOUT, CS_DEADLINE_EXCEEDED}, {UV_ENOMEM, CS_RESOURCE_EXHAUSTED}, {UV_ECANCELED, CS_CANCELLED},
      {UV_ENOTSUP, CS_UNIMPLEMENTED},     {UV_EBUSY, CS_FAILED_PRECONDITION}, {UV_EOF, CS_UNKNOWN},
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
    ttrpc_err_uv(&err, map[i].uv, "ttrpc: op");
    char want[128];
    snprintf(want, sizeof want, "ttrpc: op: %s", uv_strerror(map[i].uv));
    TW_CHECK(&t, err.code == map[i].code && strcmp(err.msg, want) == 0, "%s -> %s (%s)", uv_err_name(map[i].uv),
             cs_code_name(map[i].code), err.msg);
  }

  char path[MAX_PATH];
  snprintf(path, sizeof path, "cshim-unit-log-%lu.txt", GetCurrentProcessId());
  int fd = _open(path, _O_CREAT | _O_TRUNC | _O_WRONLY | _O_BINARY, _S_IREAD | _S_IWRITE);
  TW_CHECK(&t, fd >= 0, "open a log file");
  cs_log_setup(fd, CS_LOG_INFO);
  CS_INFO("hello \"quoted\" %zu", (size_t)7);
  CS_DEBUG("not at this level");
  cs_log_setup(-1, CS_LOG_INFO);
  _close(fd);
  char line[512] = "";
  FILE *f = fopen(path, "rb");
  size_t n = f ? fread(line, 1, sizeof line - 1, f) : 0;
  if (f) fclose(f);
  line[n] = '\0';
  remove(path);
  int y, mo, d, h, mi, s;
  char ns[16] = "", rest[256] = "";
  int got = sscanf(line, "time=\"%4d-%2d-%2dT%2d:%2d:%2d.%9[0-9]Z\" %255[^\n]", &y, &mo, &d, &h, &mi, &s, ns, rest);
  TW_CHECK(&t, got == 8 && y >= 2024 && strlen(ns) == 9, "logfmt time with nanoseconds: %.40s", line);
  TW_CHECK(&t, strcmp(rest, "level=info msg=\"hello \\\"quoted\\\" 7\"") == 0, "level and quoted message: %s", rest);
  TW_CHECK(&t, strchr(line, '\n') == line + n - 1, "exactly one line (debug filtered out)");
  TW_CHECK(&t, cs_log_dropped() == 0, "nothing dropped");
  return tw_done(&t);
}
