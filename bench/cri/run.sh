#!/usr/bin/env bash
# bench/cri/run.sh [--pods N] [--containerd21] — pod start through containerd's CRI (RunPodSandbox + CreateContainer +
# StartContainer, median of N pods per handler, default 10) and the shim memory (VmRSS, Pss) per pod, handler
# runc (containerd-shim-runc-v2) beside cshim in the same run, with ratios cshim/runc. Not a test: it prints
# figures and asserts nothing. Same harness as the CRI end-to-end test (test/cri/lib.sh), on its own bridge
# and subnet (cshimcri1, 10.231.99.0/24) so it never meets a test run's.
#
#   SHIM_DIR       dir holding containerd-shim-cshim-v2 (default <repo>/build/shim)
#   CRI_PAUSE_BIN  the pause program (default <repo>/build/test/cri/cri_pause)
#   CRI_CONTAINERD_DIR, CRI_CONFIG_VERSION: another containerd build (see test/cri/lib.sh)
# --containerd21: Debian sid's containerd 2.1 (test/lib/containerd2.sh, unpacked, not installed), config
# version 3, and a third handler, cshim-shim (`sandboxer = "shim"`: the shim owns the pod, no pause container).
# A copy of the report goes to bench/out/ (git-ignored). Run it under `flock /tmp/cshim-heavy.lock` on a
# shared machine.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
pods=10
handlers="runc cshim"
while [ $# -gt 0 ]; do
  case "$1" in
    --pods) pods=$2; shift ;;
    --containerd21)
      CRI_CONTAINERD_DIR=$("$repo/test/lib/containerd2.sh") || { echo "bench: containerd 2.1 not available" >&2; exit 2; }
      export CRI_CONTAINERD_DIR CRI_CONFIG_VERSION=3
      handlers="runc cshim cshim-shim" ;;
    *) echo "usage: $0 [--pods N] [--containerd21]" >&2; exit 2 ;;
  esac
  shift
done
[ "$pods" -ge 1 ] || pods=1
[ "$(id -u)" = 0 ] || { echo "bench: run as root (containers, cgroups, netns)" >&2; exit 2; }
export SHIM_DIR=${SHIM_DIR:-$repo/build/shim}
export CRI_PAUSE_BIN=${CRI_PAUSE_BIN:-$repo/build/test/cri/cri_pause}
export CRI_BRIDGE=${CRI_BRIDGE:-cshimcri1} CRI_SUBNET=${CRI_SUBNET:-10.231.99.0/24}
[ -x "$SHIM_DIR/containerd-shim-cshim-v2" ] || { echo "bench: no $SHIM_DIR/containerd-shim-cshim-v2 (build it)" >&2; exit 2; }
source "$repo/test/cri/lib.sh"

cleanup() {
  local rc=$?
  trap - EXIT
  cri_cleanup || rc=1
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cri_start
mkdir -p "$repo/bench/out"
report=$repo/bench/out/cri-$(date -u +%Y%m%dT%H%M%SZ).txt
{
  echo "# $(date -u '+%F %T UTC'), $(nproc) CPUs, containerd $("${CRI_CONTAINERD_DIR:+$CRI_CONTAINERD_DIR/}containerd" --version | awk '{print $3}'), runc $(runc --version | awk 'NR==1{print $3}'), cgroup $([ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] && echo v2 || echo v1)"
  # shellcheck disable=SC2086
  cri_py "$here/cri_bench.py" "$pods" $handlers
} | tee "$report"
echo "report: $report" >&2
