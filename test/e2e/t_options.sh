#!/usr/bin/env bash
# Where containerd's own Go client (test/lib/taskclient ctd-*) and CRI meet a runtime that is not runc's, as
# runc-v2 behaves: the options this runtime is sent (containerd.linux.runc.CreateOptions from WithShimCgroup,
# WithUIDOwner/GIDOwner, WithNoNewKeyring; runtimeoptions.v1.Options with a TOML file at config_path, as
# CRI 1.6 sends it), runc's state under <Root>/<namespace> (and the dead-shim cleanup finding it there), a
# Resize of a task without a terminal, and a host-pid-namespace container whose init exit takes the rest of
# the container with it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_extra.sh"
e2e_setup

tc=${E2E_TASKCLIENT:-}
if [ -z "$tc" ] || [ ! -x "$tc" ]; then not_ok "Go task client available (E2E_TASKCLIENT)" "'$tc'"; exit 1; fi
tcc() { "$tc" -containerd "$CTD_SOCK" -namespace "$CTD_NS" "$@"; }
# ctd-run ID [opts] -- ARGS: the container runs with the runtime under test; prints its pid.
ctd_run() {
  local id=$1
  shift
  ctd_track "$id"
  tcc ctd-run "$id" "$E2E_IMAGE" --runtime "$RUNTIME" --fifo-dir "$CTD_FIFO" "$@" | awk '$1 == "pid" {print $2}'
}
runc_lists() { runc --root "$1" list -q 2>/dev/null | grep -qx "$2"; }
shim_cg=cshim-e2e-$$
cg_dirs=()
e2e_on_exit 'for d in "${cg_dirs[@]}"; do rmdir "$d"; done; rm -rf "/run/cshim-e2e-root-$$"'

# --- runc's state dir: <default root>/<namespace>, where `runc list` and containerd's tools look.
id=o1
check "run -d $id (ctr)" e2e_run -d "$E2E_IMAGE" "$id" sleep 100000
wait_for 20 status_is "$id" RUNNING || true
if runc_lists "$CTD_RUNC_ROOT/$CTD_NS" "$id"; then ok "runc --root $CTD_RUNC_ROOT/<ns> list shows $id"
else not_ok "runc --root $CTD_RUNC_ROOT/<ns> list shows $id" "$(runc --root "$CTD_RUNC_ROOT/$CTD_NS" list 2>&1)"; fi

# --- Resize of a task without a terminal: a no-op success (containerd's task.Resize), as runc-v2.
out=$(tcc ctd-resize "$id" 2>&1) || true
if [ "$out" = resized ]; then ok "Resize of a task without a terminal succeeds"; else not_ok "Resize of a task without a terminal succeeds" "$out"; fi
remove_task "$id" "$(task_pid "$id")"

if [ "${CTD_CONFIG_VERSION:-2}" = 3 ] && [ "$RUNTIME" != io.containerd.runc.v2 ]; then
  # containerd 2.x dropped the v1 runtime and its option type: the 1.6 Go client's
  # containerd.linux.runc.CreateOptions (all Debian 12 has) is refused by containerd before any shim starts,
  # and so is runtimeoptions.v1.Options from a client (2.x's CRI hands a handler's options on itself). The
  # shim's decoding of both is covered on 1.6 and by the unit tests; what holds on 2.x is the refusal.
  out=$(ctd_run o2 --shim-cgroup /nowhere --io-uid 1234 -- true 2>&1) || true
  if grep -q 'containerd.linux.runc.CreateOptions: not found' <<<"$out" && [ -z "$(ctd_shim_pids o2)" ]; then
    ok "containerd 2.x refuses containerd.linux.runc.CreateOptions itself (no shim started)"
  else not_ok "containerd 2.x refuses containerd.linux.runc.CreateOptions itself (no shim started)" "$out"; fi
  ctd_ctr container rm o2 >/dev/null 2>&1 || true
  conf=$CTD_DIR/cshim-options.toml
  printf 'BinaryName = "runc"\n' > "$conf"
  out=$(ctd_run o3 --config-path "$conf" -- true 2>&1) || true
  if grep -q 'invalid task create option' <<<"$out" && [ -z "$(ctd_shim_pids o3)" ]; then
    ok "containerd 2.x refuses runtimeoptions.v1.Options from a client itself (no shim started)"
  else not_ok "containerd 2.x refuses runtimeoptions.v1.Options from a client itself (no shim started)" "$out"; fi
  ctd_ctr container rm o3 >/dev/null 2>&1 || true
else
  # --- containerd.linux.runc.CreateOptions: ShimCgroup, IoUid/IoGid, NoNewKeyring.
  # ShimCgroup: made in every v1 hierarchy we need (or in the unified tree) before the task, as a user would.
  if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
    cg_dirs=("/sys/fs/cgroup/$shim_cg")
    cg_check=("/sys/fs/cgroup/$shim_cg")
  else
    cg_dirs=("/sys/fs/cgroup/memory/$shim_cg" "/sys/fs/cgroup/pids/$shim_cg")
    cg_check=("/sys/fs/cgroup/memory/$shim_cg" "/sys/fs/cgroup/pids/$shim_cg")
  fi
  for d in "${cg_dirs[@]}"; do mkdir -p "$d"; done
  id=o2
  pid=$(ctd_run "$id" --shim-cgroup "/$shim_cg" --io-uid 1234 --io-gid 2345 --no-new-keyring -- sleep 100000 2>&1) || true
  if [[ "$pid" =~ ^[0-9]+$ ]]; then ok "task with CreateOptions{ShimCgroup, IoUid, IoGid, NoNewKeyring} starts (pid $pid)"
  else not_ok "task with CreateOptions{ShimCgroup, IoUid, IoGid, NoNewKeyring} starts" "$pid" "$(tail -5 "$CTD_LOG")"; pid=; fi
  shim=$(ctd_shim_pids "$id")
  for d in "${cg_check[@]}"; do
    if [ -n "$shim" ] && grep -qx "$shim" "$d/cgroup.procs"; then ok "the shim ($shim) is in ShimCgroup: $d"
    else not_ok "the shim is in ShimCgroup: $d" "shim '$shim'; cgroup.procs: $(tr '\n' ' ' < "$d/cgroup.procs")" "$(cat "/proc/$shim/cgroup" 2>/dev/null)"; fi
  done
  # The shim hands over stdio owned by IoUid:IoGid; runc then gives the owner (not the group) to the container's
  # user (root here), as it does behind runc-v2's pipes too: the group is what shows.
  own=$( [ -n "$pid" ] && stat -Lc %u:%g "/proc/$pid/fd/1" 2>&1) || true
  if [ "$own" = 0:2345 ]; then ok "IoGid: the process's stdout FIFO has group 2345 (owner: the container's user, set by runc)"
  else not_ok "IoGid: the process's stdout FIFO has group 2345 (owner: the container's user, set by runc)" "got '$own'"; fi
  st=$CTD_RUNC_ROOT/$CTD_NS/$id/state.json
  if grep -q '"no_new_keyring":true' "$st" 2>/dev/null; then ok "NoNewKeyring reached runc (state.json)"
  else not_ok "NoNewKeyring reached runc (state.json)" "$(grep -o '"no_new_keyring":[a-z]*' "$st" 2>&1)"; fi
  if grep -q '"systemd_cgroup":true\|"systemd":true' "$st" 2>/dev/null; then not_ok "ShimCgroup is not read as SystemdCgroup"
  else ok "ShimCgroup is not read as SystemdCgroup"; fi
  [ -n "$pid" ] && remove_task "$id" "$pid"
  if wait_for 20 eval '[ -z "$(ctd_shim_pids "$id")" ]'; then :; fi
  for d in "${cg_dirs[@]}"; do
    if wait_for 20 rmdir "$d"; then ok "ShimCgroup $d empty once the shim is gone"; else not_ok "ShimCgroup $d empty once the shim is gone" "$(cat "$d/cgroup.procs")"; fi
  done
  cg_dirs=()

  # --- runtimeoptions.v1.Options{config_path}: runc's options from a TOML file, as CRI 1.6 passes a handler's
  # ConfigPath. Root = R puts runc's state under R/<namespace>; the dead-shim cleanup (`delete`) finds it there.
  if cshim_only "runtimeoptions.v1.Options with a TOML config_path" "runtimeoptions.v1 support"; then
    root=/run/cshim-e2e-root-$$
    conf=$CTD_DIR/cshim-options.toml
    printf '# runc-v2 option names\nBinaryName = "runc"\nRoot = %s\nNoNewKeyring = true\nTypeUrl = "x"\n' "'$root'" > "$conf"
    id=o3
    pid=$(ctd_run "$id" --config-path "$conf" -- sleep 100000 2>&1) || true
    if [[ "$pid" =~ ^[0-9]+$ ]]; then ok "task with runtimeoptions{config_path} starts"; else not_ok "task with runtimeoptions{config_path} starts" "$pid"; pid=; fi
    if runc_lists "$root/$CTD_NS" "$id"; then ok "Root from the TOML file: runc --root <Root>/<ns> list shows $id"
    else not_ok "Root from the TOML file: runc --root <Root>/<ns> list shows $id" "$(ls -R "$root" 2>&1 | head)"; fi
    if grep -q '"no_new_keyring":true' "$root/$CTD_NS/$id/state.json" 2>/dev/null; then ok "NoNewKeyring from the TOML file reached runc"
    else not_ok "NoNewKeyring from the TOML file reached runc"; fi
    shim=$(ctd_shim_pids "$id")
    [ -n "$shim" ] && kill -KILL $shim
    if wait_for 30 eval '[ ! -e "$root/$CTD_NS/$id" ]'; then ok "the dead-shim cleanup deletes runc's state under <Root>/<ns>"
    else not_ok "the dead-shim cleanup deletes runc's state under <Root>/<ns>" "$(ls "$root/$CTD_NS" 2>&1)"; fi
    if [ -n "$pid" ] && wait_for 20 eval '! pid_alive "$pid"'; then ok "the dead shim's container process is gone"
    else not_ok "the dead shim's container process is gone" "pid '$pid'"; fi
    wait_for 20 eval '[ -z "$(ctd_ctr task ls -q)" ]' || true
    check "container rm $id" ctd_ctr container rm "$id"

    # A TOML line beyond the subset: the task fails with the line named, and nothing is left.
    printf 'BinaryName = "runc"\n[nested]\n' > "$conf"
    out=$(ctd_run o4 --config-path "$conf" -- true 2>&1) || true
    if grep -q 'line 2: tables are not supported' <<<"$out"; then ok "a TOML table in config_path fails naming line 2"
    else not_ok "a TOML table in config_path fails naming line 2" "$out"; fi
    ctd_ctr container rm o4 >/dev/null 2>&1 || true
  fi

fi

# --- Host pid namespace: init's exit kills the rest of the container before the exit is reported.
id=o5
pid=$(ctd_run "$id" --host-pid -- sh -c 'sleep 100000 & exec sleep 100000' 2>&1) || true
if [[ "$pid" =~ ^[0-9]+$ ]]; then ok "host-pid task starts (pid $pid)"; else not_ok "host-pid task starts" "$pid"; pid=; fi
child=
wait_for 20 eval '[ "$(ctd_ctr task ps "$id" 2>/dev/null | awk "NR > 1" | wc -l)" = 2 ]' || true
child=$(ctd_ctr task ps "$id" 2>/dev/null | awk -v p="$pid" 'NR > 1 && $1 != p {print $1}')
if [ -n "$child" ] && pid_alive "$child"; then ok "host-pid task has a second process ($child)"; else not_ok "host-pid task has a second process" "$(ctd_ctr task ps "$id" 2>&1)"; fi
# Kill init only (runc kill without --all), as an init that exits by itself.
check "kill init only" ctd_ctr task kill -s KILL "$id"
wait_for 20 status_is "$id" STOPPED || true
if status_is "$id" STOPPED && [ -n "$child" ] && wait_for 10 eval '! pid_alive "$child"'; then
  ok "init's exit took the rest of the host-pid container ($child) with it"
else not_ok "init's exit took the rest of the host-pid container with it" "status $(task_status "$id"), $child alive: $(pid_alive "$child" && echo yes || echo no)"; fi
[ -n "$pid" ] && delete_task "$id" "$pid"
