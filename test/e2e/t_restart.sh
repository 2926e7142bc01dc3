#!/usr/bin/env bash
# containerd SIGKILLed and restarted on the same dirs with 3 running tasks: the shims outlive it, containerd
# reconnects to them, the tasks stay RUNNING with the same pids and can still be killed and deleted.
# A task that exits while containerd is down shows STOPPED with its own exit status afterwards.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
e2e_setup

ids="r1 r2 r3"
declare -A pid
for id in $ids; do
  check "run -d $id" e2e_run -d "$E2E_IMAGE" "$id" sleep 100000
done
# x1 exits 5 on SIGTERM (sh as pid 1 gets the signal only because it traps it).
check "run -d x1" e2e_run -d "$E2E_IMAGE" x1 sh -c 'trap "exit 5" TERM; while true; do sleep 0.2; done'
running=0
for id in $ids x1; do
  wait_for 20 status_is "$id" RUNNING || true
  pid[$id]=$(task_pid "$id")
  if status_is "$id" RUNNING && [ -n "${pid[$id]}" ] && [ "${pid[$id]}" != 0 ] && pid_alive "${pid[$id]}"; then
    running=$((running + 1))
  fi
done
if [ "$running" = 4 ]; then ok "4 tasks RUNNING before the restart"
else not_ok "4 tasks RUNNING before the restart" "$running of 4 RUNNING with a live pid" "$(ctd_ctr task ls 2>&1)"; fi
shims_before=$(ctd_shim_pids | sort | tr '\n' ' ')

if ctd_kill; then ok "containerd SIGKILLed"; else not_ok "containerd SIGKILLed"; fi
# While containerd is down: x1 exits; its shim must keep the exit until containerd asks.
kill -TERM "${pid[x1]}" 2>/dev/null || true
if wait_for 20 eval '! pid_alive "${pid[x1]}"'; then ok "x1 exited while containerd was down"
else not_ok "x1 exited while containerd was down"; fi
shims_down=$(ctd_shim_pids | sort | tr '\n' ' ')
if [ "$shims_down" = "$shims_before" ]; then ok "all shims survive containerd's death"
else not_ok "all shims survive containerd's death" "before: $shims_before" "after: $shims_down"; fi

if ctd_relaunch; then ok "containerd restarts on the same dirs"; else not_ok "containerd restarts on the same dirs"; exit 1; fi

for id in $ids; do
  if wait_for 20 status_is "$id" RUNNING && [ "$(task_pid "$id")" = "${pid[$id]}" ]; then
    ok "$id still RUNNING with pid ${pid[$id]} after restart"
  else
    not_ok "$id still RUNNING with pid ${pid[$id]} after restart" "$(ctd_ctr task ls 2>&1)"
  fi
done
if [ "${CTD_CONFIG_VERSION:-2}" = 3 ]; then
  # containerd 2.x, at restart, deletes every shim that is no sandbox and whose Pids is empty as "leaked"
  # (its loadShims; containerd#6860): x1's exit status goes with it, for
  # runc-v2 exactly as here. What holds on 2.x: x1 is gone, shim and bundle included, and nothing is left.
  if wait_for 20 eval '! ctd_ctr task ls -q 2>/dev/null | grep -qx x1'; then ok "containerd 2.x dropped x1 (exited while it was down) at restart, as it does for runc-v2"
  else not_ok "containerd 2.x dropped x1 (exited while it was down) at restart, as it does for runc-v2" "$(ctd_ctr task ls 2>&1)"; fi
  check "container rm x1" ctd_ctr container rm x1
  if wait_for 20 task_gone x1 "${pid[x1]}"; then ok "x1 leaves nothing"; else not_ok "x1 leaves nothing" "$(task_leftovers x1 "${pid[x1]}")"; fi
else
  if wait_for 20 status_is x1 STOPPED; then ok "x1 shows STOPPED after restart"
  else not_ok "x1 shows STOPPED after restart" "$(ctd_ctr task ls 2>&1)"; fi

  # The exit status as the shim keeps it (State), through the Go task client (run.sh builds it; its absence
  # fails this check, it never drops it).
  if [ -n "${E2E_TASKCLIENT:-}" ] && [ -x "$E2E_TASKCLIENT" ]; then
    out=$("$E2E_TASKCLIENT" -bundle "$(ctd_bundle x1)" -namespace "$CTD_NS" state x1 2>&1) || true
    if grep -qx 'exit_status: 5' <<<"$out" && grep -qx 'status: STOPPED' <<<"$out"; then ok "shim State of x1: STOPPED, exit_status 5"
    else not_ok "shim State of x1: STOPPED, exit_status 5" "$out"; fi
  else
    not_ok "shim State of x1: STOPPED, exit_status 5" "no Go task client (E2E_TASKCLIENT='${E2E_TASKCLIENT:-}')"
  fi
  rc=0
  out=$(ctd_ctr task delete x1 2>&1) || rc=$?
  if [ "$rc" = 0 ] && [[ "$out" == *"exit code 5"* ]]; then ok "task delete x1 reports exit 5"
  else not_ok "task delete x1 reports exit 5" "exit $rc: $out"; fi
  check "container rm x1" ctd_ctr container rm x1
  if wait_for 20 task_gone x1 "${pid[x1]}"; then ok "x1 leaves nothing"; else not_ok "x1 leaves nothing" "$(task_leftovers x1 "${pid[x1]}")"; fi
fi

# The reconnected shims still work both ways: kill (request) and the exit (event) reaching containerd.
for id in $ids; do
  ctd_ctr task kill -s KILL "$id" >/dev/null 2>&1 || true
done
for id in $ids; do
  if wait_for 20 status_is "$id" STOPPED; then ok "$id killed after restart shows STOPPED"
  else not_ok "$id killed after restart shows STOPPED" "$(ctd_ctr task ls 2>&1)"; fi
  rc=0
  out=$(ctd_ctr task delete "$id" 2>&1) || rc=$?
  [ "$rc" = 0 ] && ctd_ctr container rm "$id" >/dev/null 2>&1 || true
  if [ "$rc" = 0 ] && wait_for 20 task_gone "$id" "${pid[$id]}"; then ok "$id deleted after restart leaves nothing"
  else not_ok "$id deleted after restart leaves nothing" "delete exit $rc: $out" "$(task_leftovers "$id" "${pid[$id]}")"; fi
done
