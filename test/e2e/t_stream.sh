#!/usr/bin/env bash
# The push stream cshim.stats.v1.Stats/Watch on a real shim (started by containerd), through
# cshim-streamclient (test/e2e-tools, our C ttrpc client: Go's ttrpc 1.1 cannot stream): N samples at the
# interval then a clean end; live counters; every task of a pod's shim when no id is named; a client that
# closes is dropped cleanly; the shim's memory and fds stay flat while a client watches at 100 Hz; a deleted
# task ends its watch with task_gone; an unknown id is NotFound.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_extra.sh"
# The stream is cshim's own service: another runtime (RUNTIME=io.containerd.runc.v2, the harness check) has none.
if [ "$RUNTIME" != io.containerd.cshim.v2 ]; then
  echo "ok - $E2E_NAME # SKIP $RUNTIME has no cshim.stats.v1.Stats/Watch"
  echo "1 passed, 0 failed"
  exit 0
fi
e2e_setup

sc=$(e2e_tool cshim-streamclient)
if [ ! -x "$sc" ]; then not_ok "stream client built ($sc; build target cshim-streamclient or set E2E_STREAMCLIENT)"; exit 1; fi

# Two tasks in one pod, so one shim serves both (the "every task" watch sees two ids).
ann=io.kubernetes.cri.sandbox-id=spod
ctd_track spod
check "run -d w1" e2e_run -d --annotation "$ann" "$E2E_IMAGE" w1 sleep 100000
check "run -d w2" e2e_run -d --annotation "$ann" "$E2E_IMAGE" w2 sleep 100000
wait_for 20 status_is w1 RUNNING || true
wait_for 20 status_is w2 RUNNING || true
pid1=$(task_pid w1)
pid2=$(task_pid w2)
addr=$(cat "$(ctd_bundle w1)/address" 2>/dev/null || true)
shim=$(ctd_shim_pids | awk 'NR == 1')
watch() { "$sc" -a "$addr" -n "$CTD_NS" -T 30000 "$@"; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }   # field NAME < sample lines: one value per line

# --- count=5 at 200 ms: five samples, seq 1..5, increasing timestamps no closer than half the interval
# (a timer never fires early by more than that; the upper side is not checked: that would be speed).
rc=0
out=$(watch -i 200 -c 5 w1 2>&1) || rc=$?
n=$(grep -c '^sample ' <<<"$out" || true)
seqs=$(grep '^sample ' <<<"$out" | field seq | tr '\n' ' ') || true
if [ "$rc" = 0 ] && [ "$n" = 5 ] && [ "$seqs" = "1 2 3 4 5 " ] && [ "$(tail -1 <<<"$out")" = "end code=0 msg=" ]
then ok "count 5: five samples (seq 1..5), then a clean end"; else not_ok "count 5: five samples (seq 1..5), then a clean end" "exit $rc" "$out"; fi
# Nanosecond timestamps exceed awk's exact doubles: bash's 64-bit arithmetic does the differences.
gaps=
prev=
for t in $(grep '^sample ' <<<"$out" | field ts); do
  [ -z "$prev" ] || gaps="$gaps$((t - prev)) "
  prev=$t
done
bad=$(for g in $gaps; do [ "$g" -ge 100000000 ] || echo "$g"; done)
if [ -n "$gaps" ] && [ -z "$bad" ]; then ok "samples are an interval apart (gaps ns: $gaps)"; else not_ok "samples are an interval apart (>= 100 ms)" "gaps: $gaps"; fi
s1=$(grep -m1 '^sample ' <<<"$out" || true)
if [ "$(field id <<<"$s1")" = w1 ] && [ "$(field cpu_ns <<<"$s1")" -gt 0 ] && [ "$(field mem_usage <<<"$s1")" -gt 0 ] && [ "$(field pids <<<"$s1")" = 1 ] && [ "$(field gone <<<"$s1")" = 0 ]
then ok "a sample carries id, cpu, memory and pids of w1"; else not_ok "a sample carries id, cpu, memory and pids of w1" "$s1"; fi

# --- live counters: a busy exec in w1 makes cpu_ns climb from sample to sample. The shim refreshes CPU and
# memory usage every tick and the rest of a sample (pids, memory.stat, blkio, network) at most every 2 s
# (stats_stream.c, STREAM_FULL_NS): 3.25 s of ticks include a full refresh that counts the exec.
check "exec -d a busy loop in w1" e2e_exec -d --exec-id busy w1 sh -c 'while :; do :; done'
out=$(watch -i 250 -c 14 w1 2>&1) || true
cpus=$(grep '^sample ' <<<"$out" | field cpu_ns | tr '\n' ' ') || true
first=$(awk '{print $1}' <<<"$cpus")
last=$(awk '{print $NF}' <<<"$cpus")
if [ -n "$first" ] && [ "$last" -gt "$first" ]; then ok "cpu_ns climbs on the stream under load ($first → $last)"; else not_ok "cpu_ns climbs on the stream under load" "$out"; fi
if grep '^sample ' <<<"$out" | field pids | grep -x 2 >/dev/null; then ok "pids on the stream count the exec (after a full refresh)"; else not_ok "pids on the stream count the exec (after a full refresh)" "$out"; fi
ctd_ctr task kill -s KILL --exec-id busy w1 >/dev/null 2>&1 || true
wait_for 20 eval '[ "$(ctd_ctr task ps w1 | awk "NR > 1" | wc -l)" = 1 ]' || true
ctd_ctr task delete --exec-id busy w1 >/dev/null 2>&1 || true

# --- no id: every task of the shim, each tick.
out=$(watch -i 100 -c 2 2>&1) || true
ids=$(grep '^sample ' <<<"$out" | field id | sort | tr '\n' ' ') || true
if [ "$ids" = "w1 w1 w2 w2 " ]; then ok "no id: both tasks of the pod's shim, each tick"; else not_ok "no id: both tasks of the pod's shim, each tick" "$out"; fi

# --- the client closes: it stops cleanly, and the shim drops the stream (its log says so) and keeps serving.
fd0=$(ls "/proc/$shim/fd" | wc -l)
marks=$(grep -c 'stats watch closed by the client' "$CTD_LOG" || true)
rc=0
out=$(watch -i 50 -t 1000 w1 2>&1) || rc=$?
n=$(grep -c '^sample ' <<<"$out" || true)
if [ "$rc" = 0 ] && [ "$n" -ge 2 ] && grep -q '^closed samples=' <<<"$out"; then ok "client closes after 1 s ($n samples), exit 0"; else not_ok "client closes after 1 s, exit 0" "exit $rc" "$(tail -3 <<<"$out")"; fi
saw_close() { [ "$(grep -c 'stats watch closed by the client' "$CTD_LOG" || true)" -gt "$marks" ]; }
if wait_for 20 saw_close; then ok "the shim saw the client go (log)"; else not_ok "the shim saw the client go (log)" "$(grep -i 'stats watch' "$CTD_LOG" | tail -3)"; fi
# At most as many as before (a connection of an earlier client may still have been closing then).
fds_back() { [ "$(ls "/proc/$shim/fd" | wc -l)" -le "$fd0" ]; }
if wait_for 20 fds_back; then ok "the shim's fds are back to <= $fd0"; else not_ok "the shim's fds are back to <= $fd0" "$(ls -l "/proc/$shim/fd")"; fi
out=$(watch -c 1 w1 2>&1) || true
if [ "$(grep -c '^sample ' <<<"$out")" = 1 ]; then ok "the shim streams again after that"; else not_ok "the shim streams again after that" "$out"; fi

# --- memory: a client at 100 Hz for 5 s (~500 samples): the shim's RSS after the first second is where it
# stays (64 KiB of slack for the allocator), and nothing is left once the client is gone.
watch -i 10 -t 5000 w1 > "$CTD_DIR/w.out" 2>&1 &
wpid=$!
e2e_on_exit "kill $wpid"
sleep 1
r1=$(shim_rss_kb "$shim")
fdw=$(ls "/proc/$shim/fd" | wc -l)
sleep 3.5
r2=$(shim_rss_kb "$shim")
rc=0
wait "$wpid" || rc=$?
n=$(grep -c '^sample ' "$CTD_DIR/w.out" || true)
diag "shim $shim RSS ${r1} KiB → ${r2} KiB over $n samples"
if [ "$rc" = 0 ] && [ "$n" -ge 100 ]; then ok "a 100 Hz watch for 5 s delivers ($n samples)"; else not_ok "a 100 Hz watch for 5 s delivers >= 100 samples" "exit $rc, $n samples" "$(tail -3 "$CTD_DIR/w.out")"; fi
if [ -n "$r1" ] && [ -n "$r2" ] && [ $((r2 - r1)) -le 64 ]; then ok "the shim's RSS does not grow while a client watches ($r1 → $r2 KiB)"; else not_ok "the shim's RSS does not grow while a client watches" "$r1 → $r2 KiB"; fi
if wait_for 20 fds_back; then ok "no fd left after the watch (watching: $fdw, after: $(ls "/proc/$shim/fd" | wc -l))"; else not_ok "no fd left after the watch" "before $fd0, now $(ls "/proc/$shim/fd" | wc -l)"; fi

# --- a deleted task ends its watch: a last sample with gone=1, then a clean end.
watch -i 100 w2 > "$CTD_DIR/gone.out" 2>&1 &
gpid=$!
e2e_on_exit "kill $gpid"
wait_for 20 grep -q '^sample ' "$CTD_DIR/gone.out" || true
check "kill w2" ctd_ctr task kill -s KILL w2
wait_for 20 status_is w2 STOPPED || true
check "delete w2" ctd_ctr task delete w2
rc=0
wait "$gpid" || rc=$?
out=$(cat "$CTD_DIR/gone.out")
last=$(grep '^sample ' <<<"$out" | tail -1) || true
if [ "$rc" = 0 ] && [ "$(field gone <<<"$last")" = 1 ] && [ "$(tail -1 <<<"$out")" = "end code=0 msg=" ]; then ok "deleting the task ends its watch (gone=1, clean end)"
else not_ok "deleting the task ends its watch (gone=1, clean end)" "exit $rc" "$(tail -3 <<<"$out")"; fi
check "container rm w2" ctd_ctr container rm w2

# --- an unknown id is refused as NotFound (gRPC 5) before any sample.
rc=0
out=$(watch -c 1 nosuch 2>&1) || rc=$?
if [ "$rc" = 1 ] && grep -q '^end code=5 ' <<<"$out" && ! grep -q '^sample ' <<<"$out"; then ok "unknown id: NotFound"; else not_ok "unknown id: NotFound" "exit $rc: $out"; fi

check "kill w1" ctd_ctr task kill -s KILL w1
wait_for 20 status_is w1 STOPPED || true
check "delete w1" ctd_ctr task delete w1
check "container rm w1" ctd_ctr container rm w1
if wait_for 20 eval '! kill -0 "$shim" 2>/dev/null'; then ok "the pod's shim exits after its last task"; else not_ok "the pod's shim exits after its last task" "shim $shim alive"; fi
for x in "w1 $pid1" "w2 $pid2"; do
  set -- $x
  if wait_for 20 task_gone "$1" "$2"; then ok "nothing left of $1"; else not_ok "nothing left of $1" "$(task_leftovers "$1" "$2")"; fi
done
