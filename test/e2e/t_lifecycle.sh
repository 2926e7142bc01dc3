#!/usr/bin/env bash
# Detached task: RUNNING → kill → STOPPED → delete + container rm leaves no bundle, mount, shim or process.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
e2e_setup

id=life1
check "run -d starts" e2e_run -d "$E2E_IMAGE" "$id" sleep 100000
if wait_for 20 status_is "$id" RUNNING; then ok "task ls shows RUNNING"; else not_ok "task ls shows RUNNING" "$(ctd_ctr task ls 2>&1)"; fi
pid=$(task_pid "$id")
if [ -n "$pid" ] && pid_alive "$pid"; then ok "task pid $pid is alive"; else not_ok "task pid is alive" "pid '$pid'"; fi
if [ -n "$(ctd_shim_pids "$id")" ]; then ok "a shim runs for the task"; else not_ok "a shim runs for the task"; fi
if [ -e "$(ctd_bundle "$id")" ]; then ok "bundle dir exists while running"; else not_ok "bundle dir exists while running"; fi

check "task kill -s KILL" ctd_ctr task kill -s KILL "$id"
if wait_for 20 status_is "$id" STOPPED; then ok "task ls shows STOPPED after kill"; else not_ok "task ls shows STOPPED after kill" "$(ctd_ctr task ls 2>&1)"; fi

rc=0
out=$(ctd_ctr task delete "$id" 2>&1) || rc=$?
if [ "$rc" = 0 ]; then ok "task delete"; else not_ok "task delete" "exit $rc: $out"; fi
if [[ "$out" == *"exit code 137"* ]]; then ok "task delete reports exit 137 (SIGKILL)"; else not_ok "task delete reports exit 137 (SIGKILL)" "$out"; fi
check "container rm" ctd_ctr container rm "$id"
if wait_for 20 task_gone "$id" "$pid"; then ok "no bundle, mount, shim, process, cgroup or runc state left"
else not_ok "no bundle, mount, shim, process, cgroup or runc state left" "$(task_leftovers "$id" "$pid")"; fi
if [ -z "$(ctd_ctr task ls -q 2>&1)" ] && [ -z "$(ctd_ctr container ls -q 2>&1)" ]; then ok "no task or container listed"
else not_ok "no task or container listed" "$(ctd_ctr task ls 2>&1)" "$(ctd_ctr container ls 2>&1)"; fi

# A task that exits by itself: STOPPED with its own status, then the same clean removal.
id=life2
check "run -d a task that exits 4" e2e_run -d "$E2E_IMAGE" "$id" sh -c 'exit 4'
if wait_for 20 status_is "$id" STOPPED; then ok "self-exited task shows STOPPED"; else not_ok "self-exited task shows STOPPED" "$(ctd_ctr task ls 2>&1)"; fi
rc=0
out=$(ctd_ctr task delete "$id" 2>&1) || rc=$?
if [ "$rc" = 0 ] && [[ "$out" == *"exit code 4"* ]]; then ok "task delete reports exit 4"; else not_ok "task delete reports exit 4" "exit $rc: $out"; fi
check "container rm (self-exited)" ctd_ctr container rm "$id"
if wait_for 20 task_gone "$id"; then ok "self-exited task leaves nothing"; else not_ok "self-exited task leaves nothing" "$(task_leftovers "$id")"; fi
