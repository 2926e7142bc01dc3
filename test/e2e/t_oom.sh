#!/usr/bin/env bash
# OOM: a task under a 16 MiB memory limit that allocates more is OOM-killed by the kernel, and the shim
# publishes TaskOOM (/tasks/oom with the container id), seen by a `ctr events` subscriber: for an init
# (the task exits 137) and for an exec (the task itself keeps running, the Metrics count the kill).
# A task that stays under its limit produces no TaskOOM.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_extra.sh"
e2e_setup

limit=16777216
v2=0
[ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] && v2=1

# The subscriber: ctr itself (not through a shell function), so its pid is ours to stop.
ev=$CTD_DIR/events.txt
timeout -k 5 300 ctr --address "$CTD_SOCK" --namespace "$CTD_NS" events > "$ev" 2>&1 &
evpid=$!
e2e_on_exit "kill $evpid; wait $evpid"
# Subscribed once an event we cause shows up: label our namespace until the update arrives (bounded).
n=0
subscribed() { n=$((n + 1)); ctd_ctr namespaces label "$CTD_NS" probe=$n >/dev/null 2>&1; sleep 0.2; grep -q /namespaces/update "$ev"; }
if wait_for 20 subscribed; then ok "ctr events subscribed"; else not_ok "ctr events subscribed" "$(cat "$ev")"; fi
oom_events() { grep -F '/tasks/oom' "$ev" | grep -cF "\"container_id\":\"$1\"" || true; }

# busybox tail keeps everything since the last newline: /dev/zero has none, so it grows until killed.
# --- init OOM
rc=0
out=$(e2e_run --rm --memory-limit "$limit" "$E2E_IMAGE" oom1 tail /dev/zero </dev/null 2>&1) || rc=$?
if [ "$rc" = 137 ]; then ok "init allocating past $limit bytes is killed (exit 137)"; else not_ok "init allocating past $limit bytes is killed (exit 137)" "exit $rc: $out"; fi
if wait_for 20 eval '[ "$(oom_events oom1)" -ge 1 ]'; then ok "TaskOOM published for oom1 ($(oom_events oom1)x)"; else not_ok "TaskOOM published for oom1" "$(cut -c1-300 "$ev")"; fi
if wait_for 20 task_gone oom1; then ok "nothing left of oom1"; else not_ok "nothing left of oom1" "$(task_leftovers oom1)"; fi

# --- exec OOM: the exec dies, the task stays
id=oom2
check "run -d $id with a $limit byte limit" e2e_run -d --memory-limit "$limit" "$E2E_IMAGE" "$id" sleep 100000
wait_for 20 status_is "$id" RUNNING || true
pid=$(task_pid "$id")
rc=0
out=$(e2e_exec --exec-id hog "$id" tail /dev/zero </dev/null 2>&1) || rc=$?
if [ "$rc" = 137 ]; then ok "exec allocating past the limit is killed (exit 137)"; else not_ok "exec allocating past the limit is killed (exit 137)" "exit $rc: $out"; fi
if wait_for 20 eval '[ "$(oom_events "$id")" -ge 1 ]'; then ok "TaskOOM published for $id ($(oom_events "$id")x)"; else not_ok "TaskOOM published for $id" "$(cut -c1-300 "$ev")"; fi
if status_is "$id" RUNNING && pid_alive "$pid"; then ok "$id keeps running after its exec's OOM"; else not_ok "$id keeps running after its exec's OOM" "$(ctd_ctr task ls 2>&1)"; fi
m=$(metrics_json "$id" 2>&1) || true
if [ "$v2" = 1 ]; then kills=$(jget memory_events.oom_kill <<<"$m" || true); lim=$(jget memory.usage_limit <<<"$m" || true)
else kills=$(jget memory_oom_control.oom_kill <<<"$m" || true); lim=$(jget memory.usage.limit <<<"$m" || true); fi
if [ "${kills:-0}" -ge 1 ]; then ok "metrics count the OOM kill (oom_kill $kills)"; else not_ok "metrics count the OOM kill" "$m"; fi
if [ "$lim" = "$limit" ]; then ok "metrics show the $limit byte limit"; else not_ok "metrics show the $limit byte limit" "got $lim"; fi
if [ "$v2" != 1 ]; then
  # v1: the charges that failed against the limit (read each sample while there is a limit)
  fc=$(jget memory.usage.failcnt <<<"$m" || true)
  kfc=$(cat "/sys/fs/cgroup/memory/$CTD_NS/$id/memory.failcnt" 2>/dev/null || echo x)
  if [ "${fc:-0}" -ge 1 ] && [ "$fc" = "$kfc" ]; then ok "metrics show the fail count ($fc, as the kernel)"
  else not_ok "metrics show the fail count" "shim '$fc', kernel '$kfc'"; fi
fi

# --- no OOM, no event
rc=0
out=$(e2e_run --rm --memory-limit "$limit" "$E2E_IMAGE" calm1 sh -c 'echo calm' </dev/null 2>&1) || rc=$?
if [ "$rc" = 0 ] && [ "$out" = calm ]; then ok "a task under its limit runs"; else not_ok "a task under its limit runs" "exit $rc: $out"; fi
# Its exit event arriving means anything it published before has arrived too (one ordered stream).
calm_deleted() { grep -F /tasks/delete "$ev" | grep -F '"container_id":"calm1"' >/dev/null; }
wait_for 20 calm_deleted || true
if [ "$(oom_events calm1)" = 0 ]; then ok "no TaskOOM for a task under its limit"; else not_ok "no TaskOOM for a task under its limit" "$(grep -F /tasks/oom "$ev")"; fi

remove_task "$id" "$pid"
