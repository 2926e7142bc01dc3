#!/usr/bin/env bash
# One shim per pod: containers whose OCI spec carries the same io.kubernetes.cri.sandbox-id annotation share
# one shim process (its socket is named after the sandbox id, as runc-v2 does). Both tasks work through it
# (exec, ps, metrics, kill), deleting the first leaves the shim serving the second, and the shim exits only
# once the second is deleted. A task of another pod gets its own shim.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_extra.sh"
e2e_setup

ann=io.kubernetes.cri.sandbox-id
pod=pod1
# The shared socket is sha256(address/ns/pod1): tracking "pod1" makes cleanup look for it too.
ctd_track "$pod" pod2

# WHO in each container's environment tells us which container an exec landed in (execs inherit it).
check "run -d p1 (sandbox $pod)" e2e_run -d --env WHO=p1 --annotation "$ann=$pod" "$E2E_IMAGE" p1 sleep 100000
check "run -d p2 (sandbox $pod)" e2e_run -d --env WHO=p2 --annotation "$ann=$pod" "$E2E_IMAGE" p2 sleep 100000
wait_for 20 status_is p1 RUNNING || true
wait_for 20 status_is p2 RUNNING || true
pid1=$(task_pid p1)
pid2=$(task_pid p2)

a1=$(cat "$(ctd_bundle p1)/address" 2>/dev/null || true)
a2=$(cat "$(ctd_bundle p2)/address" 2>/dev/null || true)
if [ -n "$a1" ] && [ "$a1" = "$a2" ]; then ok "p1 and p2 have the same shim address"; else not_ok "p1 and p2 have the same shim address" "p1: '$a1'" "p2: '$a2'"; fi
want=$(printf '%s' "$CTD_SOCK/$CTD_NS/$pod" | sha256sum | cut -d' ' -f1)
if [ "$a1" = "unix:///run/containerd/s/$want" ]; then ok "the address is named after the sandbox id"; else not_ok "the address is named after the sandbox id" "got '$a1'" "want unix:///run/containerd/s/$want"; fi
shims=$(ctd_shim_pids)
if [ "$(wc -w <<<"$shims")" = 1 ]; then ok "one shim process for the pod ($shims)"; else not_ok "one shim process for the pod" "shims: $shims" "$(for p in $shims; do tr '\0' ' ' < "/proc/$p/cmdline"; echo; done)"; fi
shim=$(head -1 <<<"$shims")
# Both inits are children of that one shim (it is their subreaper).
pp1=$(awk '{print $4}' "/proc/$pid1/stat" 2>/dev/null || true)
pp2=$(awk '{print $4}' "/proc/$pid2/stat" 2>/dev/null || true)
if [ -n "$shim" ] && [ "$pp1" = "$shim" ] && [ "$pp2" = "$shim" ]; then ok "both inits are the shim's children"; else not_ok "both inits are the shim's children" "shim $shim, parents $pp1 $pp2"; fi

# Each task works through the shared shim, and each sees only its own processes.
for id in p1 p2; do
  rc=0
  out=$(e2e_exec --exec-id e-$id "$id" sh -c 'echo $WHO' </dev/null 2>&1) || rc=$?
  if [ "$rc" = 0 ] && [ "$out" = "$id" ]; then ok "exec in $id answers from $id"; else not_ok "exec in $id answers from $id" "exit $rc: $out"; fi
done
ps1=$(ctd_ctr task ps p1 2>&1 | awk 'NR > 1 {print $1}' | tr '\n' ' ') || true
ps2=$(ctd_ctr task ps p2 2>&1 | awk 'NR > 1 {print $1}' | tr '\n' ' ') || true
if [ "$ps1" = "$pid1 " ] && [ "$ps2" = "$pid2 " ]; then ok "ps of each task lists only its own init"; else not_ok "ps of each task lists only its own init" "p1: $ps1 (init $pid1)" "p2: $ps2 (init $pid2)"; fi
for id in p1 p2; do
  m=$(metrics_json "$id" 2>&1) || true
  mem=$(jget memory.usage.usage <<<"$m" 2>/dev/null || echo 0)
  np=$(jget pids.current <<<"$m" 2>/dev/null || echo 0)
  if [ "$mem" -gt 0 ] && [ "$np" = 1 ]; then ok "metrics of $id: memory $mem, pids 1"; else not_ok "metrics of $id: memory > 0, pids 1" "$m"; fi
done

# A task of another pod gets a shim of its own.
check "run -d q1 (sandbox pod2)" e2e_run -d --annotation "$ann=pod2" "$E2E_IMAGE" q1 sleep 100000
wait_for 20 status_is q1 RUNNING || true
qpid=$(task_pid q1)
aq=$(cat "$(ctd_bundle q1)/address" 2>/dev/null || true)
if [ -n "$aq" ] && [ "$aq" != "$a1" ] && [ "$(ctd_shim_pids | wc -l)" = 2 ]; then ok "another pod's task gets its own shim"; else not_ok "another pod's task gets its own shim" "q1: '$aq' p1: '$a1'" "shims: $(ctd_shim_pids | tr '\n' ' ')"; fi

# Kill and delete p1: the shim stays for p2.
check "kill p1" ctd_ctr task kill -s KILL p1
if wait_for 20 status_is p1 STOPPED; then ok "p1 STOPPED"; else not_ok "p1 STOPPED" "$(ctd_ctr task ls 2>&1)"; fi
if status_is p2 RUNNING; then ok "p2 still RUNNING after p1's kill"; else not_ok "p2 still RUNNING after p1's kill" "$(ctd_ctr task ls 2>&1)"; fi
check "delete p1" ctd_ctr task delete p1
check "container rm p1" ctd_ctr container rm p1
# `ctr task delete` returns after containerd's Delete and Shutdown calls to the shim; a shim that wrongly
# took that Shutdown would stop on its next loop turn. An exec served afterwards (the shim's one loop answers
# in order) is the positive signal that it did not: only then is its pid checked.
rc=0
out=$(e2e_exec --exec-id e-after p2 echo still </dev/null 2>&1) || rc=$?
if [ "$rc" = 0 ] && [ "$out" = still ]; then ok "exec in p2 after p1 is gone"; else not_ok "exec in p2 after p1 is gone" "exit $rc: $out"; fi
if kill -0 "$shim" 2>/dev/null && [ "$(ctd_shim_pids | grep -cx "$shim")" = 1 ]; then ok "the shim lives on after p1 is deleted"
else not_ok "the shim lives on after p1 is deleted" "shim $shim gone"; fi
m=$(metrics_json p2 2>&1) || true
if [ "$(jget pids.current <<<"$m" 2>/dev/null || echo 0)" = 1 ]; then ok "metrics of p2 after p1 is gone"; else not_ok "metrics of p2 after p1 is gone" "$m"; fi
if [ -S "${a1#unix://}" ]; then ok "the pod's socket is still there"; else not_ok "the pod's socket is still there" "${a1#unix://}"; fi
if task_gone p1 "$pid1"; then ok "nothing left of p1 (but the shared shim)"; else
  # The shared shim's command line names p1 (its first task): that is expected, anything else is not.
  left=$(task_leftovers p1 "$pid1" | grep -v '^shim process' || true)
  if [ -z "$left" ]; then ok "nothing left of p1 (but the shared shim)"; else not_ok "nothing left of p1 (but the shared shim)" "$left"; fi
fi

# Delete p2: now the shim has no task and exits, and its socket goes.
check "kill p2" ctd_ctr task kill -s KILL p2
wait_for 20 status_is p2 STOPPED || true
check "delete p2" ctd_ctr task delete p2
check "container rm p2" ctd_ctr container rm p2
if wait_for 20 eval '! kill -0 "$shim" 2>/dev/null'; then ok "the shim exits once its last task is deleted"; else not_ok "the shim exits once its last task is deleted" "shim $shim alive"; fi
if wait_for 20 eval '[ ! -e "${a1#unix://}" ]'; then ok "the pod's socket is removed"; else not_ok "the pod's socket is removed" "${a1#unix://}"; fi
if wait_for 20 task_gone p2 "$pid2"; then ok "nothing left of p2"; else not_ok "nothing left of p2" "$(task_leftovers p2 "$pid2")"; fi
if [ "$(ctd_shim_pids | wc -l)" = 1 ]; then ok "pod2's shim is untouched"; else not_ok "pod2's shim is untouched" "shims: $(ctd_shim_pids | tr '\n' ' ')"; fi

check "kill q1" ctd_ctr task kill -s KILL q1
wait_for 20 status_is q1 STOPPED || true
check "delete q1" ctd_ctr task delete q1
check "container rm q1" ctd_ctr container rm q1
if wait_for 20 task_gone q1 "$qpid"; then ok "nothing left of q1"; else not_ok "nothing left of q1" "$(task_leftovers q1 "$qpid")"; fi
