#!/usr/bin/env bash
# The shim's Task API called directly (containerd's Go client over ttrpc, as containerd calls it):
# Connect, State, Pids, Stats, Update, Wait on a task started through containerd.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
e2e_setup

tc=${E2E_TASKCLIENT:-}
if [ -z "$tc" ] || [ ! -x "$tc" ]; then not_ok "Go task client available (E2E_TASKCLIENT)" "'$tc'"; exit 1; fi

id=api1
check "run -d $id" e2e_run -d "$E2E_IMAGE" "$id" sleep 100000
wait_for 20 status_is "$id" RUNNING || true
pid=$(task_pid "$id")
api() { "$tc" -bundle "$(ctd_bundle "$id")" -namespace "$CTD_NS" "$@"; }
field() { awk -v k="$1:" '$1 == k {print $2}' <<<"$2"; }

out=$(api connect "$id" 2>&1) || true
shim=$(ctd_shim_pids "$id" | head -1)
if [ "$(field task_pid "$out")" = "$pid" ] && [ "$(field shim_pid "$out")" = "$shim" ]; then ok "Connect: task_pid $pid, shim_pid $shim"
else not_ok "Connect: task_pid $pid, shim_pid $shim" "$out"; fi

out=$(api state "$id" 2>&1) || true
if [ "$(field status "$out")" = RUNNING ] && [ "$(field pid "$out")" = "$pid" ] && [ "$(field bundle "$out")" = "$(ctd_bundle "$id")" ]
then ok "State: RUNNING, pid, bundle"; else not_ok "State: RUNNING, pid, bundle" "$out"; fi

out=$(api pids "$id" 2>&1) || true
if grep -qx "$pid" <<<"$out"; then ok "Pids lists init"; else not_ok "Pids lists init" "$out"; fi

out=$(api stats "$id" 2>&1) || true
url=$(field type_url "$out")
if [[ "$url" == io.containerd.cgroups.v[12].Metrics ]] && grep -q '"memory"' <<<"$out" && grep -q '"pids"' <<<"$out"
then ok "Stats: $url with memory and pids"; else not_ok "Stats: cgroups Metrics with memory and pids" "$out"; fi

limit=$((96 * 1024 * 1024))
out=$(api update "$id" --memory "$limit" 2>&1) || true
cg=$(find /sys/fs/cgroup -maxdepth 3 -type d -path "*/$CTD_NS/$id" \( -path '*/memory/*' -o -path "/sys/fs/cgroup/$CTD_NS/*" \) | head -1)
got=$(cat "$cg/memory.limit_in_bytes" 2>/dev/null || cat "$cg/memory.max" 2>/dev/null || true)
if [ "$got" = "$limit" ]; then ok "Update: memory limit $limit reaches the cgroup"; else not_ok "Update: memory limit $limit reaches the cgroup" "$out" "cgroup $cg: '$got'"; fi

# Wait blocks until the exit, then reports it.
timeout -k 5 60 "$tc" -bundle "$(ctd_bundle "$id")" -namespace "$CTD_NS" wait "$id" >"$CTD_DIR/wait.out" 2>&1 &
wpid=$!
# Before the kill, Wait must be pending in the shim: the client has written its request (its /proc io shows
# bytes written), the shim has answered a State sent after it on another connection (its one loop has read
# what was ready by then), and the client is still waiting.
wchar() { local c; c=$(pgrep -P "$wpid" | head -1); awk '$1 == "wchar:" {print $2}' "/proc/${c:-none}/io" 2>/dev/null; }
sent() { [ "$(wchar)" -gt 0 ] 2>/dev/null; }
pending=0
if wait_for 20 sent && api state "$id" >/dev/null 2>&1 && kill -0 "$wpid" 2>/dev/null && [ -z "$(cat "$CTD_DIR/wait.out")" ]
then pending=1; fi
if [ "$pending" = 1 ]; then ok "Wait is pending while the task runs"
else not_ok "Wait is pending while the task runs" "wrote $(wchar) bytes; output: $(cat "$CTD_DIR/wait.out")"; fi
ctd_ctr task kill -s KILL "$id" >/dev/null 2>&1 || true
rc=0
wait "$wpid" || rc=$?
out=$(cat "$CTD_DIR/wait.out")
if [ "$rc" = 0 ] && [ "$(field exit_status "$out")" = 137 ]; then ok "Wait returns exit_status 137 after KILL"; else not_ok "Wait returns exit_status 137 after KILL" "$out"; fi

delete_task "$id" "$pid"
