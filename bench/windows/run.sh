#!/usr/bin/env bash
# bench/windows/run.sh [N] — issue 15 item 6: the Windows shim's footprint and speed under Wine.
# Starts containerd-shim-cshim-v2.exe (scripts/build-windows.sh builds it into build-windows/) serving one
# container on the fake HCS, and prints from the Go harness (containerd's own Task client on named pipes):
# the shim's private bytes, working set and thread count (GetProcessMemoryInfo, a thread snapshot), State
# and Stats p50/p99 over N calls (default 300), and the floor measured in the same run: the same client
# against an empty Go ttrpc server on a named pipe. These are Wine's figures, not Windows': every pipe
# message goes through wineserver.
#
# Env: CSHIM_WIN_BUILD (default build-windows), WINEPREFIX (default a fresh one under it, removed after).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
n=${1:-300}
build=${CSHIM_WIN_BUILD:-$root/build-windows}
shim=$build/shim/containerd-shim-cshim-v2.exe
dlls=$build/fakehcs
[ -f "$shim" ] || { echo "bench/windows: $shim missing: run scripts/build-windows.sh" >&2; exit 2; }
[ -f "$dlls/computecore.dll" ] || { echo "bench/windows: fake HCS DLLs missing in $dlls" >&2; exit 2; }
# The harness ctest builds (test/windows/go) if there, else one of the bench's own.
out=$build/test/windows/go
[ -d "$out" ] || out=$build/bench-windows
"$root/test/windows/go/build.sh" "$out"

own_prefix=
if [ -z "${WINEPREFIX:-}" ]; then
  export WINEPREFIX=$build/bench-windows-wine
  own_prefix=1
fi
cleanup() {
  # Only a prefix of our own is stopped and removed: a caller's prefix may serve others' programs.
  [ -n "$own_prefix" ] || return 0
  wineserver -k 2>/dev/null || true
  rm -rf "$WINEPREFIX" "$WINEPREFIX".*lock "$WINEPREFIX".wineboot.log
}
trap cleanup EXIT
echo "# bench/windows: $(date -u +%FT%TZ), $(nproc) CPUs, $(wine64 --version 2>/dev/null || /usr/lib/wine/wine64 --version)"
"$root/test/windows/go/run-scenario.sh" "$out/cshim-wintest.exe" "$shim" "$dlls" bench "$n" | grep -v -e '^ok ' -e '^1\.\.'
