#!/usr/bin/env bash
# The shim SIGKILLed under a running task: containerd sees the disconnect and runs the shim binary's
# `delete` itself, which must leave no container process, mount, bundle, cgroup or runc state.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
e2e_setup

id=k1
check "run -d $id" e2e_run -d "$E2E_IMAGE" "$id" sleep 100000
wait_for 20 status_is "$id" RUNNING || true
pid=$(task_pid "$id")
shim=$(ctd_shim_pids "$id")
if [ -n "$pid" ] && [ "$(wc -w <<<"$shim")" = 1 ]; then ok "task RUNNING (pid $pid) with one shim ($shim)"
else not_ok "task RUNNING with one shim" "pid '$pid' shim '$shim'" "$(ctd_ctr task ls 2>&1)"; fi

[ -n "$shim" ] && kill -KILL $shim
if wait_for 30 task_gone "$id" "$pid"; then ok "containerd's cleanup leaves no process, mount, bundle, cgroup"
else not_ok "containerd's cleanup leaves no process, mount, bundle, cgroup" "$(task_leftovers "$id" "$pid")"; fi
if wait_for 20 eval '[ -z "$(ctd_ctr task ls -q)" ]'; then ok "task no longer listed"
else not_ok "task no longer listed" "$(ctd_ctr task ls 2>&1)"; fi
if grep -q 'cleaning up dead shim' "$CTD_LOG"; then ok "containerd ran the dead-shim cleanup"
else not_ok "containerd ran the dead-shim cleanup"; fi
check "container rm" ctd_ctr container rm "$id"

# The container id is reusable after the cleanup.
rc=0
out=$(e2e_run --rm "$E2E_IMAGE" "$id" echo again </dev/null 2>&1) || rc=$?
if [ "$rc" = 0 ] && [ "$out" = again ]; then ok "the id runs again after the cleanup"; else not_ok "the id runs again after the cleanup" "exit $rc: $out"; fi
