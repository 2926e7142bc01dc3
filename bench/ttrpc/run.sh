#!/usr/bin/env bash
# TTRPC transport benchmark: empty-method round trips, p50/p99 latency and calls/s, over 1 connection and
# over 16 concurrent connections (one call in flight per connection), for
#   C client  -> C server    (bench/ttrpc/ttrpc_bench)
#   Go client -> Go server   (containerd's github.com/containerd/ttrpc, test/interop/gottrpc)
#   Go client -> C server
# usage: bench/ttrpc/run.sh [BUILD_DIR]     (default: build-ttrpc; builds ttrpc_bench there)
# env:   CALLS_1 (default 50000) calls on the single connection, CALLS_16 (default 10000) per connection,
#        ROUNDS (default 3) interleaved repetitions; the median is reported.
#        TTRPC_BENCH=path: use that ttrpc_bench binary instead of building one.
# Needs nothing from the network: the Go program is built in GOPATH mode from Debian's gocode.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-ttrpc}
calls1=${CALLS_1:-50000}
calls16=${CALLS_16:-10000}

cbench=${TTRPC_BENCH:-}
if [ -z "$cbench" ]; then
  [ -f "$build/CMakeCache.txt" ] || cmake -S "$root" -B "$build" >/dev/null
  cmake --build "$build" --target ttrpc_bench -j"$(nproc)" >/dev/null
  cbench=$build/bench/ttrpc/ttrpc_bench
fi

source "$root/test/interop/peers.sh" ttrpc-bench

# The machine may be shared: every configuration runs ROUNDS times, interleaved with the others so load
# changes hit all of them alike, and the median round (by calls/s) is reported.
rounds=${ROUNDS:-3}
threads=$(nproc)
declare -A runs
measure() { # NAME CONNS CLIENT...  appends "calls_per_s p50 p99" to runs[NAME-CONNS]
  local name=$1 conns=$2; shift 2
  local out
  out=$("$@")
  local p50 p99 rate
  p50=$(sed -n 's/.*p50_ns=\([0-9]*\).*/\1/p' <<<"$out")
  p99=$(sed -n 's/.*p99_ns=\([0-9]*\).*/\1/p' <<<"$out")
  rate=$(sed -n 's/.*calls_per_s=\([0-9]*\).*/\1/p' <<<"$out")
  runs[$name-$conns]+="$rate $p50 $p99"$'\n'
}

start_server "$tmp/c.log" "$cbench" server "$tmp/c.sock"
start_server "$tmp/go.log" "$tmp/gottrpc" server -socket "$tmp/go.sock"
for _ in $(seq 1 "$rounds"); do
  measure c-c 1 "$cbench" client "$tmp/c.sock" 1 "$calls1"
  measure go-go 1 "$tmp/gottrpc" bench -socket "$tmp/go.sock" -conns 1 -calls "$calls1"
  measure go-c 1 "$tmp/gottrpc" bench -socket "$tmp/c.sock" -conns 1 -calls "$calls1"
  # Go's client spreads its goroutines over every CPU; ours gets the same number of threads (one loop each).
  measure c-c 16 "$cbench" client "$tmp/c.sock" 16 "$calls16" "$threads"
  measure go-go 16 "$tmp/gottrpc" bench -socket "$tmp/go.sock" -conns 16 -calls "$calls16"
  measure go-c 16 "$tmp/gottrpc" bench -socket "$tmp/c.sock" -conns 16 -calls "$calls16"
done
stop_server || true
stop_server || true

declare -A results
for key in "${!runs[@]}"; do
  # median round by calls/s: "p50 p99 rate"
  results[$key]=$(sort -n <<<"${runs[$key]%$'\n'}" | awk '{ r[NR] = $0 } END { split(r[int((NR + 1) / 2)], f, " "); print f[2], f[3], f[1] }')
done

us() { awk -v n="$1" 'BEGIN { printf "%.1f", n / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "-" }'; }

echo
echo "TTRPC empty round trips: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); median of $rounds rounds"
echo "1 conn: $calls1 calls; 16 conns: $calls16 calls each, one call in flight per connection"
printf '%-22s %6s %10s %10s %12s\n' "pair (client->server)" conns "p50 us" "p99 us" "calls/s"
for pair in c-c go-go go-c; do
  for conns in 1 16; do
    read -r p50 p99 rate <<<"${results[$pair-$conns]}"
    case $pair in c-c) label="C -> C";; go-go) label="Go -> Go";; go-c) label="Go -> C";; esac
    printf '%-22s %6s %10s %10s %12s\n' "$label" "$conns" "$(us "$p50")" "$(us "$p99")" "$rate"
  done
done

read -r cc1_p50 _ cc1_rate <<<"${results[c-c-1]}"
read -r gg1_p50 _ gg1_rate <<<"${results[go-go-1]}"
read -r cc16_p50 _ cc16_rate <<<"${results[c-c-16]}"
read -r gg16_p50 _ gg16_rate <<<"${results[go-go-16]}"
read -r gc1_p50 _ gc1_rate <<<"${results[go-c-1]}"
read -r gc16_p50 _ gc16_rate <<<"${results[go-c-16]}"
echo
echo "ratios (goal in brackets)"
echo "  C pair p50 / Go pair p50, 1 conn:            $(ratio "$cc1_p50" "$gg1_p50")  [<= 0.5]"
echo "  C pair calls/s / Go pair calls/s, 16 conns:  $(ratio "$cc16_rate" "$gg16_rate")  [>= 2]"
echo "  Go->C calls/s / Go->Go calls/s, 1 conn:      $(ratio "$gc1_rate" "$gg1_rate")  [>= 1]"
echo "  Go->C calls/s / Go->Go calls/s, 16 conns:    $(ratio "$gc16_rate" "$gg16_rate")  [>= 1]"
echo "  Go->C p50 / Go->Go p50, 1 conn:              $(ratio "$gc1_p50" "$gg1_p50")  [<= 1]"
