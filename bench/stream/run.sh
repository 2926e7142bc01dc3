#!/usr/bin/env bash
# bench/stream/run.sh [TASKS] [SECONDS] — what the push stream costs the shim: TASKS running tasks in one
# shim (a pod: they share the io.kubernetes.cri.sandbox-id annotation), one Watch stream over all of them
# at 10 Hz, and the shim's CPU time over SECONDS, against the same shim idle. Two pods, one after the
# other: tasks that sleep (a pod's idle sidecars; the stream skips reads a task that did not run cannot
# need) and tasks that wake 20 times a second (every tick finds them moved: the stream's most work).
# CPU time is the scheduler's own (/proc/<pid>/schedstat, ns): utime+stime are sampled at the tick and
# misjudge a process that runs in short bursts. Goal (issue): 100 tasks at 10 Hz cost <= 1% of one core.
# Not a test: it prints figures.
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

# pod NAME CMD: TASKS tasks running `sh -c CMD` in one shim; prints the shim's CPU idle and streaming.
pod() {
  local name=$1 cmd=$2 i addr pid a b idle busy samples dropped rss
  echo "bench/stream: $name: starting $tasks tasks in one shim" >&2
  for i in $(seq 1 "$tasks"); do
    ctd_ctr run -d --runtime io.containerd.cshim.v2 --annotation io.kubernetes.cri.sandbox-id="$name" \
      docker.io/library/busybox:cshim "$name-$i" sh -c "$cmd" >/dev/null
  done
  addr=$(cat "$(ctd_bundle "$name-1")/address")
  pid=$(pgrep -f "containerd-shim-cshim-v2.*-id $name-1( |\$)" | head -1)
  cpu() { awk '{print $1}' "/proc/$pid/schedstat"; }
  sleep 2
  a=$(cpu); sleep "$secs"; b=$(cpu)
  idle=$(awk -v d=$((b - a)) -v s="$secs" 'BEGIN{printf "%.3f", 100 * d / 1e9 / s}')
  a=$(cpu)
  "$client" -a "$addr" -n "$CTD_NS" -i 100 -t $((secs * 1000)) -T $((secs * 1000 + 30000)) > "$CTD_DIR/stream.out"
  b=$(cpu)
  busy=$(awk -v d=$((b - a)) -v s="$secs" 'BEGIN{printf "%.3f", 100 * d / 1e9 / s}')
  samples=$(grep -c '^sample' "$CTD_DIR/stream.out" || true)
  dropped=$(grep '^sample' "$CTD_DIR/stream.out" | tail -1 | sed -E 's/.*dropped=([0-9]+).*/\1/')
  rss=$(awk '/VmRSS/{print $2}' "/proc/$pid/status")
  echo "== $name: tasks running sh -c '$cmd'"
  echo "samples received:              $samples (dropped ticks: ${dropped:-0})"
  echo "shim CPU idle:                 ${idle}% of one core"
  echo "shim CPU while streaming:      ${busy}% of one core   (goal <= 1%)"
  echo "shim CPU per task sample:      $(awk -v d=$((b - a)) -v n="${samples:-0}" 'BEGIN{if (n > 0) printf "%.1f", d / 1e3 / n; else print "n/a"}') us"
  echo "shim VmRSS after:              ${rss} KiB"
  echo "bench/stream: $name: removing the tasks" >&2
  for i in $(seq 1 "$tasks"); do ctd_ctr task kill -s KILL "$name-$i" >/dev/null 2>&1 || true; done
  sleep 1
  for i in $(seq 1 "$tasks"); do
    ctd_ctr task delete "$name-$i" >/dev/null 2>&1 || true
    ctd_ctr container rm "$name-$i" >/dev/null 2>&1 || true
  done
}

echo "cshim push stream — $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs"
echo "$tasks tasks in one shim; 1 Watch over all of them, 100 ms interval, ${secs} s"
pod sleeping 'sleep 3600'
# read -t on a FIFO nobody writes: 20 wake-ups a second without a fork (usleep would fork each time, and
# 2000 forks a second would measure the machine's load more than the stream).
pod waking 'mkfifo /w; exec 3<>/w; while :; do read -t 0.05 x <&3; done'
