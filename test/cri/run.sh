#!/usr/bin/env bash
# run.sh — the CRI end-to-end test: a private containerd with its CRI plugin, runtime handlers runc
# (io.containerd.runc.v2) and cshim (io.containerd.cshim.v2), a CNI bridge and a locally built pause image;
# cri_test.py drives the same pod scenario through both handlers and compares the outcomes.
# TAP lines, "N passed, N failed" last; exit status non-zero on any failure. A missing shim, pause
# program or package is a failure, never a skip. Needs root; reads no stdin.
#
#   SHIM_DIR=dir with containerd-shim-cshim-v2 (ctest: ${CMAKE_BINARY_DIR}/shim)
#   CRI_PAUSE_BIN=the built pause program (ctest: ${CMAKE_BINARY_DIR}/test/cri/cri_pause)
#   CRI_HANDLERS="runc cshim" (default; the first is the reference the others are compared with)
#   CRI_KEEP_LOG=dir to keep containerd's log in (ctest: ${CMAKE_BINARY_DIR}/test/cri/logs)
#   CRI_CONTAINERD_DIR, CRI_CONFIG_VERSION: another containerd build (see lib.sh)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

pass=0
fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
not_ok() {
  echo "not ok - $1"; shift
  local l; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/#   /'; done
  fail=$((fail + 1))
}

finish() {
  local rc=$? out
  trap - EXIT
  if [ -n "${CTD_DIR:-}" ]; then
    if [ "$fail" -gt 0 ] && [ -f "$CTD_LOG" ]; then
      echo "# containerd log tail ($CTD_LOG):"
      grep -E 'level=(error|warning)' "$CTD_LOG" | tail -25 | cut -c1-400 | sed 's/^/#   /'
    fi
    if out=$(cri_cleanup 2>&1); then ok "cleanup leaves nothing (pods, shims, mounts, netns, cgroups, bridge)"
    else not_ok "cleanup leaves nothing (pods, shims, mounts, netns, cgroups, bridge)" "$out"; fi
  fi
  echo "$pass passed, $fail failed"
  [ "$fail" = 0 ]
  exit $?
}
trap finish EXIT
trap 'exit 130' INT TERM

echo "# e2e_cri: SHIM_DIR=${SHIM_DIR:-unset} CRI_PAUSE_BIN=${CRI_PAUSE_BIN:-unset} containerd=$(command -v containerd)"
[ "$(id -u)" = 0 ] || { not_ok "running as root"; exit 1; }
if [ ! -x "${SHIM_DIR:-/nonexistent}/containerd-shim-cshim-v2" ]; then
  not_ok "shim binary \$SHIM_DIR/containerd-shim-cshim-v2 exists (build target containerd-shim-cshim-v2)"; exit 1
fi
for p in runc containerd-shim-runc-v2 protoc; do
  command -v "$p" >/dev/null || { not_ok "$p installed (scripts/deps.sh)"; exit 1; }
done
if ! out=$("$CRI_PY" -c 'import grpc, grpc_tools, google.protobuf, websocket' 2>&1); then
  not_ok "Python CRI client packages installed (python3-grpcio python3-grpc-tools python3-websocket)" "$out"; exit 1
fi
# Not in a $(...) subshell: the instance's variables are needed here (its messages go to stderr).
if ! cri_start; then not_ok "private containerd with CRI starts (messages above)"; exit 1; fi
ok "private containerd with CRI starts ($(containerd --version | awk '{print $3}'), config version $CRI_CONFIG_VERSION)"

export CRI_RESULTS=$CTD_DIR/results.json
rc=0
# shellcheck disable=SC2086
timeout -k 10 600 env PYTHONPATH="$here" PYTHONDONTWRITEBYTECODE=1 "$CRI_PY" "$here/cri_test.py" ${CRI_HANDLERS:-runc cshim} \
  > "$CTD_DIR/out" 2>&1 || rc=$?
cat "$CTD_DIR/out"
summary=$(tail -1 "$CTD_DIR/out")
if [[ "$summary" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
  pass=$((pass + BASH_REMATCH[1])); fail=$((fail + BASH_REMATCH[2]))
  [ "$rc" = 0 ] || [ "${BASH_REMATCH[2]}" != 0 ] || not_ok "cri_test.py exited $rc"
else
  not_ok "cri_test.py ended without a summary (exit $rc)"
fi
[ -n "${CRI_KEEP_LOG:-}" ] && mkdir -p "$CRI_KEEP_LOG" && cp "$CRI_RESULTS" "$CRI_KEEP_LOG/results.json" 2>/dev/null
exit 0
