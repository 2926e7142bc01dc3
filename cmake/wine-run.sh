#!/usr/bin/env bash
# Run a Windows program under Wine, headless and quiet, in the tests' Wine prefix (CMake's
# CROSSCOMPILING_EMULATOR for the Windows build; ctest runs every .exe test through it).
# WINEPREFIX defaults to build-windows/wine-prefix; it is made on first use (under a lock, since ctest
# may start several tests at once). scripts/test-windows.sh sets it up with the fake HCS DLLs and keeps
# its wineserver running; run alone, this leaves a wineserver that exits a few seconds after the last
# program (Wine's default), so nothing lingers.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
export WINEPREFIX=${WINEPREFIX:-$src/build-windows/wine-prefix}
export WINEDEBUG=${WINEDEBUG:--all}
export WINEDLLOVERRIDES=${WINEDLLOVERRIDES:-mscoree,mshtml=}
export WINEARCH=win64
unset DISPLAY WAYLAND_DISPLAY
wine=/usr/lib/wine/wine64
[ -x "$wine" ] || wine=$(command -v wine64 || command -v wine)
# The marker is ours: Wine writes system.reg only when its wineserver exits, so that file cannot tell a
# finished wineboot from one still running.
ready=$WINEPREFIX/.cshim-wineboot-done
if [ ! -f "$ready" ]; then
  mkdir -p "$(dirname "$WINEPREFIX")"
  (
    flock 9
    if [ ! -f "$ready" ]; then
      # wineboot prints a harmless "syswow64\rundll32.exe: c0000135" (no wine32): keep it out of test logs.
      "$wine" wineboot --init >"$WINEPREFIX.wineboot.log" 2>&1 \
        || { cat "$WINEPREFIX.wineboot.log" >&2; echo "wine-run: wineboot --init failed for $WINEPREFIX" >&2; exit 2; }
      touch "$ready"
    fi
  ) 9>"$WINEPREFIX.lock"
fi
exec "$wine" "$@"
