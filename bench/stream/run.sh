#!/usr/bin/env bash
# bench/stream/run.sh [TASKS] [SECONDS] — what the push stream costs the shim: TASKS running tasks in one
# shim (a pod: they share the io.kubernetes.cri.sandbox-id annotation), one Watch stream over all of them
# at 10 Hz, and the shim's CPU time (utime+stime from /proc/<pid>/stat) over SECONDS, against the same
# shim idle. Goal (issue): 100 tasks at 10 Hz cost <= 1% of one core. Not a test: it prints figures.
#   BUILD_DIR  build tree with shim/containerd-shim-cshim-v2 and test/e2e-tools/cshim-streamclient
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
tasks=${1:-100}
secs=${2:-20}
build=${BUILD_DIR:-$repo/build}
export SHIM_DIR=$build/shim
client=$build/test/e2e-tools/cshim-streamclient
[ -x "$SHIM_DIR/containerd-shim-cshim-v2" ] && [ -x "$client" ] || { echo "bench/stream: build first ($build)" >&2; exit 2; }
source "$repo/test/lib/containerd.sh"
trap ctd_cleanup EXIT
ctd_start
"$repo/test/lib/mkimage.sh" "$CTD_DIR/img.tar" >/dev/null
ctd_ctr image import "$CTD_DIR/img.tar" >/dev/null
echo "bench/stream: starting $tasks tasks in one shim" >&2
for i in $(seq 1 "$tasks"); do
  ctd_ctr run -d --runtime io.containerd.cshim.v2 --annotation io.kubernetes.cri.sandbox-id=streambench \
    docker.io/library/busybox:cshim "sb$i" sleep 3600 >/dev/null
done
addr=$(cat "$(ctd_bundle sb1)/address")
pid=$(pgrep -f 'containerd-shim-cshim-v2.*-id sb1( |$)' | head -1)
hz=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
sleep 2
a=$(cpu); sleep "$secs"; b=$(cpu)
idle=$(awk -v d=$((b - a)) -v hz="$hz" -v s="$secs" 'BEGIN{printf "%.3f", 100 * d / hz / s}')
a=$(cpu)
"$client" -a "$addr" -n "$CTD_NS" -i 100 -t $((secs * 1000)) -T $((secs * 1000 + 30000)) > "$CTD_DIR/stream.out"
b=$(cpu)
busy=$(awk -v d=$((b - a)) -v hz="$hz" -v s="$secs" 'BEGIN{printf "%.3f", 100 * d / hz / s}')
samples=$(grep -c '^sample' "$CTD_DIR/stream.out" || true)
dropped=$(grep '^sample' "$CTD_DIR/stream.out" | tail -1 | sed -E 's/.*dropped=([0-9]+).*/\1/')
rss=$(awk '/VmRSS/{print $2}' "/proc/$pid/status")
echo "cshim push stream — $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs"
echo "tasks in the shim:             $tasks"
echo "stream:                        1 Watch, all tasks, 100 ms interval, ${secs} s"
echo "samples received:              $samples (dropped ticks: ${dropped:-0})"
echo "shim CPU idle:                 ${idle}% of one core"
echo "shim CPU while streaming:      ${busy}% of one core   (goal <= 1%)"
echo "shim VmRSS after:              ${rss} KiB"
echo "bench/stream: removing the tasks" >&2
for i in $(seq 1 "$tasks"); do ctd_ctr task kill -s KILL "sb$i" >/dev/null 2>&1 || true; done
sleep 1
for i in $(seq 1 "$tasks"); do
  ctd_ctr task delete "sb$i" >/dev/null 2>&1 || true
  ctd_ctr container rm "sb$i" >/dev/null 2>&1 || true
done
