#!/usr/bin/env bash
# Build cshim for Windows (x86_64, mingw-w64) into build-windows/: the dependencies cross-built from
# Debian's source packages (scripts/win-deps.sh, skipped when already built), then the project with
# cmake/mingw-w64-x86_64.cmake and warnings as errors. Idempotent, no prompts.
#   scripts/build-windows.sh [extra cmake -D options]
# Output: build-windows/shim/containerd-shim-cshim-v2.exe, build-windows/cli/cshimctl.exe, the Windows tests.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${CSHIM_WIN_BUILD:-$root/build-windows}
jobs=${CSHIM_JOBS:-2}
"$root/scripts/win-deps.sh" "$out/deps"
# Configure every time (seconds when nothing changed), so a cache narrowed by hand (CSHIM_MODULES) or made
# by an older checkout gets the full build back; extra -D options come last and win.
cmake -S "$root" -B "$out" -DCMAKE_TOOLCHAIN_FILE="$root/cmake/mingw-w64-x86_64.cmake" \
  -DCSHIM_WIN_DEPS="$out/deps" -DCSHIM_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCSHIM_MODULES=common;ttrpc;network;runtime;shim;cli" "$@" >/dev/null
cmake --build "$out" -j"$jobs"
echo "build-windows: built into $out"
