#!/usr/bin/env bash
# The lifecycle with crun: runtime options BinaryName = "crun", sent through containerd's own Go client
# (test/lib/ctdclient; ctr sends --runc-binary only for io.containerd.runc.v2). crun must really be the one
# running it: the task's state is crun's (crun state reads it, runc state cannot).
# On a hybrid-cgroup host crun needs cgroup2's leftover controllers bound to v1 hierarchies
# (test/lib/cgroup-hybrid.sh; scripts/test.sh does it in CI or with CSHIM_TEST_HOST_CGROUPS=1); without that
# this script skips, which a CI run does not accept.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
e2e_setup

cc=${E2E_CTDCLIENT:-}
if [ -z "$cc" ] || [ ! -x "$cc" ]; then not_ok "containerd Go client (test/lib/ctdclient) built" "E2E_CTDCLIENT='$cc'"; exit 1; fi
if ! command -v crun >/dev/null; then not_ok "crun installed (scripts/deps.sh)"; exit 1; fi
cg2=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
left=$( [ -n "$cg2" ] && [ "$cg2" != /sys/fs/cgroup ] && cat "$cg2/cgroup.controllers" 2>/dev/null || true)
if [ -n "$left" ]; then
  ok "crun lifecycle # SKIP crun: cgroups in hybrid mode, cgroup2 still holds: $left (CSHIM_TEST_HOST_CGROUPS=1 binds them)"
  exit 0
fi

ccl() { timeout -k 5 90 "$cc" -address "$CTD_SOCK" -namespace "$CTD_NS" -runtime "$RUNTIME" -binary crun \
  -image "$E2E_IMAGE" "$@"; }
id=crun1
ctd_track "$id"
rc=0
out=$(ccl run "$id" sleep 100000 2>&1) || rc=$?
if [ "$rc" = 0 ]; then ok "Go client: container + task with Options{BinaryName: crun} started"
else not_ok "Go client: container + task with Options{BinaryName: crun} started" "exit $rc: $out"; fi
if wait_for 20 status_is "$id" RUNNING; then ok "task ls shows RUNNING"; else not_ok "task ls shows RUNNING" "$(ctd_ctr task ls 2>&1)"; fi
pid=$(task_pid "$id")
if [ -n "$pid" ] && pid_alive "$pid"; then ok "task pid $pid is alive"; else not_ok "task pid is alive" "pid '$pid'"; fi

root=$CTD_RUNC_ROOT/$CTD_NS
st=$(crun --root "$root" state "$id" 2>&1) || true
if grep -q '"status": *"running"' <<<"$st"; then ok "crun ran it: crun state shows it running"
else not_ok "crun ran it: crun state shows it running" "$st" "$(ls -la "$root" 2>&1)"; fi
if ! runc --root "$root" state "$id" >/dev/null 2>&1; then ok "runc does not know it (crun's state, not runc's)"
else not_ok "runc does not know it (crun's state, not runc's)"; fi

rc=0
out=$(e2e_exec --exec-id x1 "$id" sh -c 'echo exec-through-crun' </dev/null 2>&1) || rc=$?
if [ "$rc" = 0 ] && [ "$out" = exec-through-crun ]; then ok "exec runs (crun exec)"; else not_ok "exec runs (crun exec)" "exit $rc: $out"; fi

rc=0
out=$(ccl stop "$id" 2>&1) || rc=$?
if [ "$rc" = 0 ] && grep -qx 'exit_status: 137' <<<"$out"; then ok "Go client: kill, Wait gives 137, task and container deleted"
else not_ok "Go client: kill, Wait gives 137, task and container deleted" "exit $rc: $out"; fi
if wait_for 20 task_gone "$id" "$pid"; then ok "no bundle, mount, shim, process, cgroup or crun state left"
else not_ok "no bundle, mount, shim, process, cgroup or crun state left" "$(task_leftovers "$id" "$pid")"; fi
