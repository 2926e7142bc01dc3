#!/usr/bin/env bash
# Exec, ps, pause/resume and metrics on a running task.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
e2e_setup

id=ex1
check "run -d $id" e2e_run -d "$E2E_IMAGE" "$id" sleep 100000
wait_for 20 status_is "$id" RUNNING || true
pid=$(task_pid "$id")

rc=0
out=$(e2e_exec --exec-id e1 "$id" echo x </dev/null 2>&1) || rc=$?
if [ "$rc" = 0 ] && [ "$out" = x ]; then ok "exec echo x prints x"; else not_ok "exec echo x prints x" "exit $rc: $out"; fi

rc=0
out=$(e2e_exec --exec-id e2 "$id" sh -c 'exit 3' </dev/null 2>&1) || rc=$?
if [ "$rc" = 3 ]; then ok "exec sh -c 'exit 3' exits 3"; else not_ok "exec sh -c 'exit 3' exits 3" "exit $rc: $out"; fi

# The exec id is free again once ctr has deleted the finished exec.
rc=0
out=$(e2e_exec --exec-id e1 "$id" sh -c 'echo $((6*7))' </dev/null 2>&1) || rc=$?
if [ "$rc" = 0 ] && [ "$out" = 42 ]; then ok "exec id e1 reusable after it finished"; else not_ok "exec id e1 reusable after it finished" "exit $rc: $out"; fi

# A detached exec shows up in ps next to init; killing it by exec id ends it.
check "exec -d a long-running process" e2e_exec -d --exec-id e3 "$id" sleep 100000
out=$(ctd_ctr task ps "$id" 2>&1) || true
n=$(awk 'NR > 1 && $1 ~ /^[0-9]+$/' <<<"$out" | wc -l)
if [ "$n" -ge 2 ] && grep -qw "$pid" <<<"$out"; then ok "task ps lists init ($pid) and the exec"; else not_ok "task ps lists init ($pid) and the exec" "$out"; fi
check "kill the exec by exec id" ctd_ctr task kill -s KILL --exec-id e3 "$id"
if wait_for 20 eval '[ "$(ctd_ctr task ps "$id" | awk "NR > 1" | wc -l)" = 1 ]'; then ok "after the kill only init is left in ps"
else not_ok "after the kill only init is left in ps" "$(ctd_ctr task ps "$id" 2>&1)"; fi
ctd_ctr task delete --exec-id e3 "$id" >/dev/null 2>&1 || true

check "pause" ctd_ctr task pause "$id"
if wait_for 20 status_is "$id" PAUSED; then ok "task ls shows PAUSED"; else not_ok "task ls shows PAUSED" "$(ctd_ctr task ls 2>&1)"; fi
check "resume" ctd_ctr task resume "$id"
if wait_for 20 status_is "$id" RUNNING; then ok "task ls shows RUNNING after resume"; else not_ok "task ls shows RUNNING after resume" "$(ctd_ctr task ls 2>&1)"; fi
rc=0
out=$(e2e_exec --exec-id e4 "$id" echo alive </dev/null 2>&1) || rc=$?
if [ "$rc" = 0 ] && [ "$out" = alive ]; then ok "exec works after resume"; else not_ok "exec works after resume" "exit $rc: $out"; fi

# Metrics: cgroup v1 and v2 name the rows differently; each of memory, cpu, pids must be there, non-zero.
out=$(ctd_ctr task metrics "$id" 2>&1) || true
val() { awk -v k="$1" '$1 == k {print $2}' <<<"$out" | head -1; }
mem=$(val memory.usage_in_bytes); [ -n "$mem" ] || mem=$(val memory.usage)
cpu=$(val cpuacct.usage); [ -n "$cpu" ] || cpu=$(val cpu.usage_usec)
pids=$(val pids.current)
if [ "${mem:-0}" -gt 0 ] 2>/dev/null; then ok "metrics: memory usage $mem"; else not_ok "metrics: memory usage" "$out"; fi
if [ "${cpu:-0}" -gt 0 ] 2>/dev/null; then ok "metrics: cpu usage $cpu"; else not_ok "metrics: cpu usage" "$out"; fi
if [ "${pids:-0}" -ge 1 ] 2>/dev/null; then ok "metrics: pids.current $pids"; else not_ok "metrics: pids.current" "$out"; fi

remove_task "$id" "$pid"
