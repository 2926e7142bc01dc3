#!/usr/bin/env bash
# measure.sh — the measurements bench/shim/run.sh takes, one function each. Source it after
# test/lib/containerd.sh with a private containerd running (ctd_start) and the image imported.
# Every function prints "key=value" pairs on one line; run.sh collects them per runtime.

BENCH_IMAGE=${BENCH_IMAGE:-docker.io/library/busybox:cshim}

bench_log() { echo "bench: $*" >&2; }

# Start a detached long-running task; waits until containerd lists it RUNNING.
bench_start_task() {
  local rt=$1 id=$2 i
  ctd_track "$id"
  ctd_ctr run -d --null-io --runtime "$rt" "$BENCH_IMAGE" "$id" sleep 1000000 >/dev/null
  for i in $(seq 1 200); do
    [ "$(ctd_ctr task ls 2>/dev/null | awk -v id="$id" '$1 == id {print $3}')" = RUNNING ] && return 0
    sleep 0.05
  done
  bench_log "task $id did not reach RUNNING"
  return 1
}

# Kill, delete and remove tasks (all of this instance's when no ids are given).
bench_remove_tasks() {
  local ids=("$@") id
  [ ${#ids[@]} -gt 0 ] || mapfile -t ids < <(ctd_ctr container ls -q 2>/dev/null)
  for id in "${ids[@]}"; do ctd_ctr task kill -s KILL "$id" >/dev/null 2>&1 || true; done
  for id in "${ids[@]}"; do
    ctd_ctr task delete -f "$id" >/dev/null 2>&1 || true
    ctd_ctr container rm "$id" >/dev/null 2>&1 || true
  done
}

# kB field of a /proc file ("VmRSS:  1234 kB" → 1234).
bench_kb() { awk -v k="$2:" '$1 == k {print $2; exit}' "$1" 2>/dev/null; }

# Idle shim of one running task: RSS (KiB), threads, PSS and Private_Dirty (KiB).
# The shim is left alone for a moment first so start-up allocations and GC have settled.
bench_idle_shim() {
  local rt=$1 id=$2 shim
  bench_start_task "$rt" "$id" || return 1
  sleep "${BENCH_SETTLE:-2}"
  shim=$(ctd_shim_pids "$id" | head -1)
  [ -n "$shim" ] || { bench_log "no shim process for $id"; return 1; }
  echo "rss1=$(bench_kb "/proc/$shim/status" VmRSS) threads1=$(bench_kb "/proc/$shim/status" Threads)" \
    "pss1=$(bench_kb "/proc/$shim/smaps_rollup" Pss) privdirty1=$(bench_kb "/proc/$shim/smaps_rollup" Private_Dirty)"
}

# State and Stats round trips straight to the shim socket (the bundle's address file names it): with
# containerd's Go ttrpc client (what containerd sees), and as raw synchronous frames (the shim plus the socket,
# without the Go client's own goroutine hand-offs).
# Nanoseconds on CPU of process PID so far: the first field of /proc/PID/task/*/schedstat (time spent
# running, per thread), summed over its threads (%.0f: mawk's %d stops at 2^31 ns, about 2 s).
bench_cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.0f\n", s}'; }

# N round trips of each kind against task ID's shim. Per kind: latency p50/p99 (as the client sees it) and
# the shim's own CPU per call (its threads' schedstat before and after, divided by N): state_cpu=µs ...
bench_rpc() {
  local id=$1 n=$2 tc=$3 m out line= shim c0 c1
  local args=(-bundle "$(ctd_bundle "$id")" -namespace "$CTD_NS")
  shim=$(ctd_shim_pids "$id" | head -1)
  for m in state stats state-raw stats-raw; do
    c0=$(bench_cpu_ns "$shim")
    out=$("$tc" "${args[@]}" "bench-$m" "$id" "$n") || return 1
    c1=$(bench_cpu_ns "$shim")
    # "n=N p50_us=X p99_us=Y" → state_p50=X state_p99=Y (state-raw → stateraw_...)
    line+=$(sed -E "s/^n=[0-9]+ p50_us=([^ ]+) p99_us=([^ ]+)$/${m/-/}_p50=\1 ${m/-/}_p99=\2 /" <<<"$out")
    line+=$(awk -v a="$c0" -v b="$c1" -v n="$n" -v k="${m/-/}_cpu" 'BEGIN {printf "%s=%.1f ", k, (b - a) / n / 1000}')
  done
  echo "$line"
}

# One `ctr run --rm IMG true`, wall time in ms (the whole ctr command, as a user sees it).
bench_run_rm_once() {
  local rt=$1 id=$2 t0 t1
  ctd_track "$id"
  t0=$(date +%s%N)
  ctd_ctr run --rm --null-io --runtime "$rt" "$BENCH_IMAGE" "$id" true >/dev/null 2>&1 || return 1
  t1=$(date +%s%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f\n", (b - a) / 1e6}'
}

median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) exit 1; if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# N running tasks of one runtime: mean PSS, Private_Dirty and RSS per shim process, and the shims' total PSS
# per task (the same number when there is one shim per task; the fair one if a shim serves several).
bench_density() {
  local rt=$1 n=$2 prefix=$3 i ids=() p shims pss=0 pd=0 rss=0 ns
  for i in $(seq 1 "$n"); do
    ids+=("$prefix$i")
    bench_start_task "$rt" "$prefix$i" || { bench_remove_tasks "${ids[@]}"; return 1; }
  done
  sleep "${BENCH_SETTLE:-2}"
  shims=$(ctd_shim_pids)
  ns=$(wc -w <<<"$shims")
  for p in $shims; do
    pss=$((pss + $(bench_kb "/proc/$p/smaps_rollup" Pss)))
    pd=$((pd + $(bench_kb "/proc/$p/smaps_rollup" Private_Dirty)))
    rss=$((rss + $(bench_kb "/proc/$p/status" VmRSS)))
  done
  bench_remove_tasks "${ids[@]}"
  awk -v n="$n" -v ns="$ns" -v pss="$pss" -v pd="$pd" -v rss="$rss" 'BEGIN {
    printf "shims%d=%d pss%d=%.0f privdirty%d=%.0f rss%d=%.0f psstask%d=%.0f\n",
      n, ns, n, pss / ns, n, pd / ns, n, rss / ns, n, pss / n }'
}
