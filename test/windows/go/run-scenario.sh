#!/usr/bin/env bash
# run-scenario.sh HARNESS_EXE SHIM_EXE|- FAKEHCS_DLL_DIR|- SCENARIO [ARGS...]
# Runs one scenario of the Go harness under Wine (cmake/wine-run.sh: headless, quiet, the tests' prefix).
# The fake HCS writes every call and document to a JSON-lines log beside the harness (CSHIM_FAKEHCS_LOG),
# which the rules scenario reads. Paths are handed to Windows programs as Z:\... (Wine's drive for /).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../.." && pwd)
[ $# -ge 4 ] || { echo "usage: run-scenario.sh HARNESS_EXE SHIM_EXE|- FAKEHCS_DLL_DIR|- SCENARIO [ARGS]" >&2; exit 2; }
harness=$1 shim=$2 dlls=$3 scenario=$4
shift 4
wine_run=$src/cmake/wine-run.sh
winpath() { local p; p=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); printf 'Z:%s' "${p//\//\\}"; }

[ -f "$harness" ] || { echo "run-scenario: $harness not built (test/windows/go/build.sh)" >&2; exit 2; }
if [ "$shim" != - ]; then
  [ -f "$shim" ] || { echo "run-scenario: shim $shim not built" >&2; exit 2; }
  export CSHIM_SHIM_EXE
  CSHIM_SHIM_EXE=$(winpath "$shim")
fi
log=$(dirname "$harness")/$scenario.hcslog
: >"$log"
export CSHIM_FAKEHCS_LOG
CSHIM_FAKEHCS_LOG=$(winpath "$log")

export WINEPREFIX=${WINEPREFIX:-$src/build-windows/wine-prefix}
if [ "$dlls" != - ]; then
  # scripts/test-windows.sh installs the fake DLLs; a test run alone (ctest -R) does it here if needed.
  sys32=$WINEPREFIX/drive_c/windows/system32
  [ -f "$WINEPREFIX/system.reg" ] || "$wine_run" cmd /c rem >/dev/null 2>&1 || true
  (
    flock 9
    for d in computecore vmcompute computenetwork; do
      if [ -f "$dlls/$d.dll" ] && { [ ! -f "$sys32/$d.dll" ] || [ "$dlls/$d.dll" -nt "$sys32/$d.dll" ]; }; then
        cp "$dlls/$d.dll" "$sys32/$d.dll"
      fi
    done
  ) 9>"$WINEPREFIX.dlls.lock"
fi
exec "$wine_run" "$harness" "$scenario" "$@"
