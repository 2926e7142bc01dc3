#!/usr/bin/env bash
# run.sh [t_NAME.sh ...] — the e2e suite: every t_*.sh here (or the ones named), each against its own
# private containerd, summed into one "N passed, N failed" line. Exits non-zero on any failure, including a
# missing shim binary (that is a failure, never a skip).
#
#   RUNTIME=io.containerd.cshim.v2 (default) | io.containerd.runc.v2 (validates the harness itself)
#   SHIM_DIR=dir with containerd-shim-cshim-v2 (ctest passes ${CMAKE_BINARY_DIR}/shim)
#   E2E_BUILD_DIR=where the Go task client and its build cache live between runs (default: a temp dir)
#   E2E_KEEP_LOG=dir to keep each script's containerd log in
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export RUNTIME=${RUNTIME:-io.containerd.cshim.v2}

x=${RUNTIME#io.containerd.}; x=${x%.v2}
shim_bin=containerd-shim-$x-v2
echo "# e2e: runtime $RUNTIME, shim $shim_bin, SHIM_DIR=${SHIM_DIR:-unset}"
if [ "$(id -u)" != 0 ]; then echo "not ok - e2e needs root"; echo "0 passed, 1 failed"; exit 1; fi
if [ "$RUNTIME" = io.containerd.cshim.v2 ] && [ ! -x "${SHIM_DIR:-/nonexistent}/$shim_bin" ]; then
  echo "not ok - shim binary ${SHIM_DIR:-\$SHIM_DIR}/$shim_bin exists (build target $shim_bin first)"
  echo "0 passed, 1 failed"
  exit 1
fi
if ! PATH=${SHIM_DIR:+$SHIM_DIR:}$PATH command -v "$shim_bin" >/dev/null; then
  echo "not ok - shim binary $shim_bin on SHIM_DIR or PATH"; echo "0 passed, 1 failed"; exit 1
fi

work=$(mktemp -d /tmp/cshim-e2e.XXXXXX)
trap 'rm -rf "$work"' EXIT
build=${E2E_BUILD_DIR:-$work}
mkdir -p "$build"

"$here/../lib/mkimage.sh" "$work/image.tar"
export E2E_IMAGE_TAR=$work/image.tar
pass=0
fail=0
# The Go client failing to build fails only the test that needs it (t_taskapi reports it).
if "$here/../lib/taskclient/build.sh" "$build/taskclient" >"$work/taskclient.log" 2>&1; then
  export E2E_TASKCLIENT=$build/taskclient
else
  echo "not ok - Go task client builds"; sed 's/^/#   /' "$work/taskclient.log"
  fail=$((fail + 1))
fi

# containerd's own Go client, for runtime options ctr cannot send (t_crun.sh reports its absence).
if "$here/../lib/taskclient/build.sh" "$build/ctdclient" "$here/../lib/ctdclient" >"$work/ctdclient.log" 2>&1; then
  export E2E_CTDCLIENT=$build/ctdclient
else
  echo "not ok - containerd Go client (ctdclient) builds"; sed 's/^/#   /' "$work/ctdclient.log"
  fail=$((fail + 1))
fi

if [ $# -gt 0 ]; then scripts=("$@"); else scripts=("$here"/t_*.sh); fi
for s in "${scripts[@]}"; do
  [ -e "$s" ] || s=$here/$s
  rc=0
  "$s" 2>&1 | tee "$work/out" || rc=$?
  summary=$(tail -1 "$work/out")
  if [[ "$summary" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    pass=$((pass + BASH_REMATCH[1]))
    fail=$((fail + BASH_REMATCH[2]))
    # A script that exits non-zero without counting a failure still fails the run.
    [ "$rc" = 0 ] || [ "${BASH_REMATCH[2]}" != 0 ] || { echo "not ok - $(basename "$s") exited $rc"; fail=$((fail + 1)); }
  else
    echo "not ok - $(basename "$s") ended without a summary (exit $rc)"
    fail=$((fail + 1))
  fi
done
echo "# e2e total ($RUNTIME)"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
