#!/usr/bin/env bash
# The rest of the Task API on a running task: Pids (with the exec id of an exec in its Info), Pause/Resume
# as containerd reports them, Update (LinuxResources through containerd's Go client) seen in the metrics,
# and Checkpoint (CRIU) — an image when the host's CRIU can dump, a clear error naming CRIU's reason when it
# cannot — with the task still running afterwards either way.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_extra.sh"
e2e_setup

tc=${E2E_TASKCLIENT:-}
id=op1
check "run -d $id" e2e_run -d "$E2E_IMAGE" "$id" sleep 100000
wait_for 20 status_is "$id" RUNNING || true
pid=$(task_pid "$id")

# --- Pids: init with no Info, a running exec with containerd.runc.v1.ProcessDetails{exec_id}.
x1_info=$(exec_info_re x1)
check "exec -d a sleeping exec x1" e2e_exec -d --exec-id x1 "$id" sleep 100000
out=$(ctd_ctr task ps "$id" 2>&1) || true
xpid=$(awk -v re="$x1_info" '$0 ~ re {print $1}' <<<"$out")
if grep -Eq "^${pid}[[:space:]]+-\$" <<<"$out"; then ok "ps: init $pid listed without Info"; else not_ok "ps: init $pid listed without Info" "$out"; fi
if [ -n "$xpid" ] && [ "$xpid" != "$pid" ] && pid_alive "$xpid"; then ok "ps: the exec's pid $xpid carries ExecID x1"; else not_ok "ps: the exec's pid carries ExecID x1" "$out"; fi
if [ "$(awk 'NR > 1' <<<"$out" | wc -l)" = 2 ]; then ok "ps: exactly init and the exec"; else not_ok "ps: exactly init and the exec" "$out"; fi

# --- Pause/Resume: what containerd shows (task ls), what the kernel does (freezer), and ps while paused.
check "pause" ctd_ctr task pause "$id"
if wait_for 20 status_is "$id" PAUSED; then ok "task ls: PAUSED"; else not_ok "task ls: PAUSED" "$(ctd_ctr task ls 2>&1)"; fi
st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)
fz=$(cat "/sys/fs/cgroup/freezer/$CTD_NS/$id/freezer.state" 2>/dev/null || cat "/sys/fs/cgroup/$CTD_NS/$id/cgroup.freeze" 2>/dev/null || true)
if [ "$fz" = FROZEN ] || [ "$fz" = 1 ]; then ok "paused: the cgroup is frozen ($fz)"; else not_ok "paused: the cgroup is frozen" "freezer '$fz', init state '$st'"; fi
out=$(ctd_ctr task ps "$id" 2>&1) || true
if grep -Eq "$x1_info" <<<"$out" && grep -Eq "^${pid}[[:space:]]" <<<"$out"; then ok "ps answers while paused"; else not_ok "ps answers while paused" "$out"; fi
rc=0
out=$(ctd_ctr task pause "$id" 2>&1) || rc=$?
if [ "$rc" != 0 ]; then ok "pause of a paused task is refused"; else not_ok "pause of a paused task is refused" "$out"; fi
check "resume" ctd_ctr task resume "$id"
if wait_for 20 status_is "$id" RUNNING; then ok "task ls: RUNNING after resume"; else not_ok "task ls: RUNNING after resume" "$(ctd_ctr task ls 2>&1)"; fi
fz=$(cat "/sys/fs/cgroup/freezer/$CTD_NS/$id/freezer.state" 2>/dev/null || cat "/sys/fs/cgroup/$CTD_NS/$id/cgroup.freeze" 2>/dev/null || true)
if [ "$fz" = THAWED ] || [ "$fz" = 0 ]; then ok "resumed: the cgroup is thawed ($fz)"; else not_ok "resumed: the cgroup is thawed" "freezer '$fz'"; fi
rc=0
out=$(ctd_ctr task resume "$id" 2>&1) || rc=$?
if [ "$rc" != 0 ]; then ok "resume of a running task is refused"; else not_ok "resume of a running task is refused" "$out"; fi

check "kill the exec x1" ctd_ctr task kill -s KILL --exec-id x1 "$id"
x1_gone() { ctd_ctr task ps "$id" >/dev/null 2>&1 && ! exec_listed "$id" x1; }
wait_for 20 x1_gone || true
ctd_ctr task delete --exec-id x1 "$id" >/dev/null 2>&1 || true

# --- An exec that cannot start fails promptly with the runtime's reason. containerd's client waits for the
# exec's stdout/stderr to end before it reports a failed Start, so the shim must not keep them open.
rc=0
out=$(CTD_CTR_TIMEOUT=20 e2e_exec --exec-id bad "$id" /nonexistent </dev/null 2>&1) || rc=$?
if [ "$rc" != 0 ] && [ "$rc" != 124 ] && [ "$rc" != 137 ] && grep -q 'no such file or directory' <<<"$out"; then ok "exec of a missing binary fails promptly, naming the cause"
else not_ok "exec of a missing binary fails promptly, naming the cause" "exit $rc (124/137: ctr timed out after 20 s)" "$out"; fi
out=$(ctd_ctr task ps "$id" 2>&1) || true
if [ "$(awk 'NR > 1' <<<"$out" | wc -l)" = 1 ]; then ok "the failed exec left nothing in ps"; else not_ok "the failed exec left nothing in ps" "$out"; fi
ctd_ctr task delete --exec-id bad "$id" >/dev/null 2>&1 || true   # in case ctr could not
rc=0
out=$(e2e_exec --exec-id bad "$id" echo fine </dev/null 2>&1) || rc=$?
if [ "$rc" = 0 ] && [ "$out" = fine ]; then ok "the exec id is free again after the failure"; else not_ok "the exec id is free again after the failure" "exit $rc: $out"; fi

# --- No exec into a paused task (runc-v2: "cannot exec in a paused state"): refused at once, and the task
# resumes as before.
check "pause for exec" ctd_ctr task pause "$id"
wait_for 20 status_is "$id" PAUSED || true
rc=0
out=$(CTD_CTR_TIMEOUT=20 e2e_exec --exec-id px "$id" echo hi </dev/null 2>&1) || rc=$?
if [ "$rc" != 0 ] && [ "$rc" != 124 ] && [ "$rc" != 137 ]; then ok "exec into a paused task is refused promptly ($(tail -1 <<<"$out"))"
else not_ok "exec into a paused task is refused promptly" "exit $rc (124/137: ctr timed out after 20 s)" "$out"; fi
ctd_ctr task delete --exec-id px "$id" >/dev/null 2>&1 || true
check "resume after the refused exec" ctd_ctr task resume "$id"
wait_for 20 status_is "$id" RUNNING || true
rc=0
out=$(e2e_exec --exec-id px "$id" echo resumed </dev/null 2>&1) || rc=$?
if [ "$rc" = 0 ] && [ "$out" = resumed ]; then ok "exec works again after resume"; else not_ok "exec works again after resume" "exit $rc: $out"; fi

# --- Update: a memory limit set through the Task API is the limit the metrics report.
limit=$((48 * 1024 * 1024))
if [ -z "$tc" ] || [ ! -x "$tc" ]; then
  not_ok "Go task client available (E2E_TASKCLIENT)" "'$tc'"
else
  out=$("$tc" -bundle "$(ctd_bundle "$id")" -namespace "$CTD_NS" update "$id" --memory "$limit" 2>&1) || true
  got=$(mval "$id" memory.usage.limit)
  if [ "$got" = "$limit" ]; then ok "update --memory $limit: metrics memory limit is $got"; else not_ok "update --memory $limit: metrics memory limit" "update: $out" "metrics limit: '$got'"; fi
  tab=$(ctd_ctr task metrics "$id" 2>&1) || true
  row=$(awk '$1 == "memory.limit_in_bytes" || $1 == "memory.usage_limit" {print $2}' <<<"$tab")
  if [ "$row" = "$limit" ]; then ok "ctr task metrics table shows the limit"; else not_ok "ctr task metrics table shows the limit" "$tab"; fi
  limit2=$((64 * 1024 * 1024))
  "$tc" -bundle "$(ctd_bundle "$id")" -namespace "$CTD_NS" update "$id" --memory "$limit2" >/dev/null 2>&1 || true
  got=$(mval "$id" memory.usage.limit)
  if [ "$got" = "$limit2" ]; then ok "a second update ($limit2) replaces the first"; else not_ok "a second update ($limit2) replaces the first" "metrics limit: '$got'"; fi
fi

# --- Checkpoint. ctr pauses the task, asks the shim to checkpoint into a temp dir, imports the dir as a
# checkpoint image, resumes. Whether CRIU can dump depends on the host: `criu check` tells us which to expect.
criu_reason=
if command -v criu >/dev/null; then
  criu_reason=$(criu check 2>&1 | grep -m1 '^Error' | sed 's/^Error ([^)]*): //') || true
fi
rc=0
out=$(ctd_ctr task checkpoint "$id" 2>&1) || rc=$?
diag "checkpoint: exit $rc: $out"
if [ "$rc" = 0 ]; then
  # CRIU works here: an image named in the output, listed by containerd, with CRIU's files in its content.
  name=$(tail -1 <<<"$out")
  images=$(ctd_ctr image ls -q 2>&1) || true
  if [ -n "$name" ] && grep -qxF "$name" <<<"$images"; then ok "checkpoint: image $name created"
  else not_ok "checkpoint: image created" "$out" "$images"; fi
  [ -z "$name" ] || ctd_ctr image rm "$name" >/dev/null 2>&1 || true
elif ! command -v criu >/dev/null; then
  not_ok "checkpoint: criu installed (scripts/deps.sh)" "$out"
elif [ -n "$criu_reason" ]; then
  # CRIU cannot work on this host: the error must say that CRIU failed and why (its own first error), not
  # just runc's "criu failed: type DUMP errno 0".
  if grep -q 'criu failed' <<<"$out"; then ok "checkpoint fails saying CRIU failed"; else not_ok "checkpoint fails saying CRIU failed" "$out"; fi
  if cshim_only "checkpoint error names CRIU's reason" "CRIU's reason in the error"; then
    if grep -qF "$criu_reason" <<<"$out"; then ok "checkpoint error names CRIU's reason ($criu_reason)"
    else not_ok "checkpoint error names CRIU's reason ($criu_reason)" "$out"; fi
  fi
  if [ -s "$(ctd_bundle "$id")/criu-dump.log" ]; then ok "checkpoint: CRIU's log kept as criu-dump.log in the bundle"
  else not_ok "checkpoint: CRIU's log kept as criu-dump.log in the bundle" "$(ls -la "$(ctd_bundle "$id")" 2>&1)"; fi
else
  not_ok "checkpoint succeeds (criu check passes on this host)" "$out"
fi
if wait_for 20 status_is "$id" RUNNING; then ok "the task is RUNNING after the checkpoint"; else not_ok "the task is RUNNING after the checkpoint" "$(ctd_ctr task ls 2>&1)"; fi
rc=0
out=$(e2e_exec --exec-id x2 "$id" echo alive </dev/null 2>&1) || rc=$?
if [ "$rc" = 0 ] && [ "$out" = alive ]; then ok "exec works after the checkpoint"; else not_ok "exec works after the checkpoint" "exit $rc: $out"; fi

remove_task "$id" "$pid"
