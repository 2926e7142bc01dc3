#!/usr/bin/env bash
# Run the Windows tests (ctest label `windows`) of build-windows/ under Wine, headless, in a Wine prefix of
# their own (build-windows/wine-prefix): made once with wineboot, the fake HCS/HNS DLLs copied into its
# system32 (where the backend's LoadLibraryExW(..., LOAD_LIBRARY_SEARCH_SYSTEM32) looks), its wineserver
# kept up for the run and stopped at the end, whatever happens (which also ends any Wine process a failed
# test left in this prefix; other prefixes are not touched).
#   scripts/test-windows.sh [ctest args, e.g. -R test_win_pipe]
# Needs scripts/build-windows.sh first. Prints "test-windows: N passed, M failed" last; exit 0 iff all passed.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${CSHIM_WIN_BUILD:-$root/build-windows}
if [ ! -f "$out/CTestTestfile.cmake" ]; then
  echo "test-windows: no Windows build in $out (run scripts/build-windows.sh)" >&2
  echo "test-windows: 0 passed, 1 failed"
  exit 1
fi
export WINEPREFIX=$out/wine-prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" WINEARCH=win64
unset DISPLAY WAYLAND_DISPLAY
wineserver=$(command -v wineserver || echo /usr/lib/wine/wineserver)

stop_wine() { "$wineserver" -k >/dev/null 2>&1 || true; }
trap stop_wine EXIT
trap 'exit 130' INT TERM

# Boot the prefix (once: cmake/wine-run.sh marks it) by running a trivial program through the same wrapper
# ctest uses.
if ! "$root/cmake/wine-run.sh" cmd /c exit 0 >/dev/null 2>&1; then
  echo "test-windows: cannot run Wine in $WINEPREFIX" >&2
  echo "test-windows: 0 passed, 1 failed"
  exit 1
fi
"$wineserver" -p   # persistent until -k: no server start per test program

# The fake HCS/HNS DLLs (test/windows/fakehcs), when that part is built.
sys32=$WINEPREFIX/drive_c/windows/system32
if [ -d "$root/test/windows/fakehcs" ]; then
  for dll in computecore vmcompute computenetwork; do
    f=$out/fakehcs/$dll.dll
    if [ ! -f "$f" ]; then
      echo "test-windows: $f missing (build-windows is incomplete: run scripts/build-windows.sh)" >&2
      echo "test-windows: 0 passed, 1 failed"
      exit 1
    fi
    cp -f "$f" "$sys32/$dll.dll"
  done
fi

log=$(mktemp)
ctest --test-dir "$out" -L windows --output-on-failure "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
# "NN% tests passed, M tests failed out of N"
summary=$(grep -E '^[0-9]+% tests passed' "$log" | tail -n 1)
rm -f "$log"
total=$(sed -n 's/.* out of \([0-9]*\).*/\1/p' <<<"$summary")
failed=$(sed -n 's/.*, \([0-9]*\) tests\{0,1\} failed.*/\1/p' <<<"$summary")
if [ -z "$total" ]; then
  echo "test-windows: 0 passed, 1 failed (ctest ran no test: rc $rc)"
  exit 1
fi
failed=${failed:-0}
[ "$rc" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
echo "test-windows: $((total - failed)) passed, $failed failed"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
