#!/usr/bin/env bash
# lib.sh — shared by the e2e tests: TAP output, one private containerd per test script, the busybox image,
# and the checks for "nothing left of a task". Source it, then call e2e_setup.
#
# Environment:
#   RUNTIME         containerd runtime under test (default io.containerd.cshim.v2)
#   SHIM_DIR        directory holding containerd-shim-<name>-v2, first on containerd's PATH
#   E2E_IMAGE_TAR   prebuilt image tarball (run.sh builds one for all scripts); built here if unset
#   E2E_TASKCLIENT  prebuilt Go task client; the checks that use it are skipped-as-failed if it is missing
#   E2E_KEEP_LOG    directory to copy containerd's log into (named after the test script)

E2E_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib/containerd.sh
source "$E2E_LIB_DIR/../lib/containerd.sh"

RUNTIME=${RUNTIME:-io.containerd.cshim.v2}
E2E_IMAGE=docker.io/library/busybox:cshim
E2E_NAME=$(basename "$0" .sh)
E2E_PASS=0
E2E_FAIL=0

ok() { echo "ok - $1"; E2E_PASS=$((E2E_PASS + 1)); }

# not_ok NAME [DIAGNOSTIC...]: diagnostics become TAP comments.
not_ok() {
  echo "not ok - $1"
  shift
  local l
  for l in "$@"; do printf '%s\n' "$l" | sed 's/^/#   /'; done
  E2E_FAIL=$((E2E_FAIL + 1))
}

diag() { printf '%s\n' "$*" | sed 's/^/# /'; }

# check NAME CMD...: ok if CMD succeeds; on failure its output becomes the diagnostic.
check() {
  local name=$1 out rc=0
  shift
  out=$("$@" 2>&1) || rc=$?
  if [ "$rc" = 0 ]; then ok "$name"; else not_ok "$name" "exit $rc: $*" "$out"; fi
}

# wait_for SECONDS CMD...: poll until CMD succeeds. A liveness bound, never a speed assertion.
wait_for() {
  local limit=$1 i
  shift
  for i in $(seq 1 $((limit * 10))); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  "$@"
}

# The shim binary containerd will look for: io.containerd.X.v2 → containerd-shim-X-v2.
e2e_shim_binary() {
  local x=${RUNTIME#io.containerd.}
  x=${x%.v2}
  echo "containerd-shim-$x-v2"
}

# ctr run with the runtime under test; FIFOs in our temp dir so nothing is left in /run/containerd/fifo.
# The container id is the argument after the image (every test passes "$E2E_IMAGE" ID ...).
e2e_run() {
  local prev= a
  for a in "$@"; do [ "$prev" = "$E2E_IMAGE" ] && ctd_track "$a"; prev=$a; done
  # E2E_RUNTIME_CONFIG: the runtime's own config file (runtimeoptions.v1.Options config_path), e.g. the
  # BootstrapVersion = 3 opt-in the containerd 2.1 run uses.
  ctd_ctr run --runtime "$RUNTIME" ${E2E_RUNTIME_CONFIG:+--runtime-config-path "$E2E_RUNTIME_CONFIG"} \
    --fifo-dir "$CTD_FIFO" "$@"
}
e2e_exec() { ctd_ctr task exec --fifo-dir "$CTD_FIFO" "$@"; }

task_field() { ctd_ctr task ls 2>/dev/null | awk -v id="$1" -v f="$2" '$1 == id {print $f}'; }
task_status() { task_field "$1" 3; }
task_pid() { task_field "$1" 2; }
status_is() { [ "$(task_status "$1")" = "$2" ]; }
# exec_info_re EXEC: matches the Info column `ctr task ps` prints for an exec's pid: Go's struct in 1.6
# (&ProcessDetails{ExecID:x1,}), protobuf text in 2.x (exec_id:"x1").
exec_info_re() { printf 'ExecID:%s,|exec_id:"%s"' "$1" "$1"; }
exec_listed() { local o; o=$(ctd_ctr task ps "$1" 2>/dev/null) || return 1; grep -Eq "$(exec_info_re "$2")" <<<"$o"; }

# A pid that is gone or a zombie no longer runs anything.
pid_alive() {
  local st
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ]
}

# What is left of task ID (whose init pid was PID): prints one line per leftover, fails if any.
task_leftovers() {
  local id=$1 pid=${2:-} bad=0 b
  b=$(ctd_bundle "$id")
  [ -e "$b" ] && { echo "bundle dir $b exists"; bad=1; }
  if awk -v b="$b" 'index($5, b) == 1 {found=1} END {exit !found}' /proc/self/mountinfo; then
    echo "mount under $b"; bad=1
  fi
  [ -n "$(ctd_shim_pids "$id")" ] && { echo "shim process for $id: $(ctd_shim_pids "$id" | tr '\n' ' ')"; bad=1; }
  if [ -n "$pid" ] && pid_alive "$pid"; then echo "container process $pid alive"; bad=1; fi
  if [ -n "$(find /sys/fs/cgroup -maxdepth 3 -type d -path "*/$CTD_NS/$id" 2>/dev/null)" ]; then
    echo "cgroup of $id exists"; bad=1
  fi
  [ -e "$CTD_RUNC_ROOT/$CTD_NS/$id" ] && { echo "runc state $CTD_RUNC_ROOT/$CTD_NS/$id"; bad=1; }
  return $bad
}
task_gone() { task_leftovers "$@" >/dev/null; }

# Delete task ID (init pid PID), stopped or on its way there, and its container; check nothing is left.
delete_task() {
  local id=$1 pid=$2
  wait_for 20 status_is "$id" STOPPED || true
  check "delete $id" ctd_ctr task delete "$id"
  check "container rm $id" ctd_ctr container rm "$id"
  if wait_for 20 task_gone "$id" "$pid"; then ok "nothing left of $id"; else not_ok "nothing left of $id" "$(task_leftovers "$id" "$pid")"; fi
}
# Kill task ID (init pid PID), then delete_task.
remove_task() {
  check "kill $1" ctd_ctr task kill -s KILL "$1"
  delete_task "$1" "$2"
}

e2e_finish() {
  local rc=$?
  trap - EXIT
  if [ -n "${CTD_DIR:-}" ]; then
    if [ "$E2E_FAIL" -gt 0 ] && [ -f "$CTD_LOG" ]; then
      diag "containerd log tail ($CTD_LOG):"
      tail -25 "$CTD_LOG" | cut -c1-400 | sed 's/^/#   /'
    fi
    [ -n "${E2E_KEEP_LOG:-}" ] && mkdir -p "$E2E_KEEP_LOG" && cp "$CTD_LOG" "$E2E_KEEP_LOG/$E2E_NAME.containerd.log" 2>/dev/null
    local out
    if out=$(ctd_cleanup 2>&1); then ok "$E2E_NAME: cleanup leaves nothing"; else not_ok "$E2E_NAME: cleanup leaves nothing" "$out"; fi
  fi
  [ "$rc" = 0 ] || not_ok "$E2E_NAME: script ran to the end" "aborted with exit $rc"
  echo "$E2E_PASS passed, $E2E_FAIL failed"
  [ "$E2E_FAIL" = 0 ] && [ "$rc" = 0 ]
  exit $?
}

# Preconditions are failures, never skips: a missing shim must turn the run red.
e2e_setup() {
  trap e2e_finish EXIT
  trap 'exit 130' INT TERM
  echo "# $E2E_NAME: runtime $RUNTIME, SHIM_DIR=${SHIM_DIR:-unset}"
  if [ "$(id -u)" != 0 ]; then not_ok "$E2E_NAME: running as root"; exit 1; fi
  local bin
  bin=$(PATH=${SHIM_DIR:+$SHIM_DIR:}$PATH command -v "$(e2e_shim_binary)" || true)
  if [ -z "$bin" ]; then
    not_ok "$E2E_NAME: shim binary $(e2e_shim_binary) found" "not in SHIM_DIR=${SHIM_DIR:-unset} nor on PATH"
    exit 1
  fi
  diag "shim binary: $bin"
  if ! ctd_start; then not_ok "$E2E_NAME: private containerd starts"; exit 1; fi
  local tar=${E2E_IMAGE_TAR:-}
  if [ -z "$tar" ]; then
    tar=$CTD_DIR/image.tar
    "$E2E_LIB_DIR/../lib/mkimage.sh" "$tar" "$E2E_IMAGE"
  fi
  local out
  if ! out=$(ctd_ctr image import "$tar" 2>&1); then
    not_ok "$E2E_NAME: image imports" "$out"; exit 1
  fi
}
