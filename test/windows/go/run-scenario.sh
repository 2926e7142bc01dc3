#!/usr/bin/env bash
# run-scenario.sh HARNESS_EXE SHIM_EXE|- FAKEHCS_DLL_DIR|- SCENARIO [ARGS...]
# Runs one scenario of the Go harness under Wine (cmake/wine-run.sh: headless, quiet, the tests' prefix).
# The fake HCS writes every call and document to a JSON-lines log beside the harness (CSHIM_FAKEHCS_LOG),
# which the scenarios read; it is kept when the scenario fails. Paths are handed to Windows programs as Z:\... (Wine's drive for /).
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
# One log per run (runs of the same build may overlap); kept only when the scenario fails.
log=$(mktemp "$(dirname "$harness")/$scenario.XXXXXX.hcslog")
export CSHIM_FAKEHCS_LOG
CSHIM_FAKEHCS_LOG=$(winpath "$log")

export WINEPREFIX=${WINEPREFIX:-$src/build-windows/wine-prefix}
[ -f "$WINEPREFIX/system.reg" ] || "$wine_run" cmd /c rem </dev/null >/dev/null 2>&1 || true
# A wineserver started by the harness would inherit its stdout and keep ctest's pipe open after the test:
# make sure one runs already, detached from this test's output (it fails harmlessly if one is running).
ws=$(command -v wineserver || echo /usr/lib/wine/wineserver64)
"$ws" -p5 </dev/null >/dev/null 2>&1 || true
if [ "$dlls" != - ]; then
  # scripts/test-windows.sh installs the fake DLLs; a test run alone (ctest -R) does it here if needed.
  sys32=$WINEPREFIX/drive_c/windows/system32
  (
    flock 9
    # The prefix reports Windows Server 2019 (server-edition.reg): Wine's default is a workstation, where
    # the Windows rules allow only Hyper-V isolation and the fake HCS runs process-isolated containers.
    if [ ! -f "$WINEPREFIX/.cshim-server-edition" ]; then
      "$wine_run" regedit /S "$(winpath "$here/server-edition.reg")" </dev/null >/dev/null 2>&1
      touch "$WINEPREFIX/.cshim-server-edition"
    fi
    for d in computecore vmcompute computenetwork; do
      if [ -f "$dlls/$d.dll" ] && { [ ! -f "$sys32/$d.dll" ] || [ "$dlls/$d.dll" -nt "$sys32/$d.dll" ]; }; then
        # a temp name then rename: a running shim may have the old DLL mapped
        cp "$dlls/$d.dll" "$sys32/.$d.dll.tmp" && mv -f "$sys32/.$d.dll.tmp" "$sys32/$d.dll"
      fi
    done
  ) 9>"$WINEPREFIX.dlls.lock"
fi
rc=0
"$wine_run" "$harness" "$scenario" "$@" || rc=$?
if [ "$rc" -eq 0 ]; then
  rm -f "$log"
else
  echo "# fake HCS log kept: $log"
fi
exit "$rc"
