#!/usr/bin/env bash
# ctr run --rm: output reaches ctr, and the exit status of the task is ctr's exit status.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
e2e_setup

rc=0
out=$(e2e_run --rm "$E2E_IMAGE" t1 echo hello </dev/null 2>&1) || rc=$?
if [ "$rc" = 0 ] && [ "$out" = hello ]; then ok "run --rm echo hello prints hello"
else not_ok "run --rm echo hello prints hello" "exit $rc, output: $out"; fi

rc=0
out=$(e2e_run --rm "$E2E_IMAGE" t2 sh -c 'exit 7' </dev/null 2>&1) || rc=$?
if [ "$rc" = 7 ]; then ok "run --rm sh -c 'exit 7' exits 7"; else not_ok "run --rm sh -c 'exit 7' exits 7" "exit $rc: $out"; fi

# stdin reaches the task and its EOF ends it (CloseIO). ctr only forwards EOF once its task handle exists
# (an early EOF is dropped by ctr itself), so stdin is a FIFO fed after the task is RUNNING.
mkfifo "$CTD_DIR/stdin"
exec 7<>"$CTD_DIR/stdin"    # read-write open: neither this nor ctr's open blocks
rc=0
e2e_run --rm "$E2E_IMAGE" t3 cat <"$CTD_DIR/stdin" >"$CTD_DIR/t3.out" 2>&1 7>&- &  # ctr must not hold our writer
ctr_pid=$!
wait_for 20 status_is t3 RUNNING || true
printf 'line1\nline2\n' >&7
exec 7>&-                   # last writer gone: ctr reads EOF and closes the task's stdin
wait "$ctr_pid" || rc=$?
out=$(cat "$CTD_DIR/t3.out")
if [ "$rc" = 0 ] && [ "$out" = $'line1\nline2' ]; then ok "run --rm cat echoes stdin until EOF"
else not_ok "run --rm cat echoes stdin until EOF" "exit $rc, output: $out"; fi

# stderr is carried separately from stdout.
rc=0
out=$(e2e_run --rm "$E2E_IMAGE" t4 sh -c 'echo out; echo err >&2' </dev/null 2>/dev/null) || rc=$?
if [ "$rc" = 0 ] && [ "$out" = out ]; then ok "run --rm keeps stdout and stderr apart"
else not_ok "run --rm keeps stdout and stderr apart" "exit $rc, stdout: $out"; fi

for id in t1 t2 t3 t4; do
  if wait_for 20 task_gone "$id"; then ok "run --rm $id leaves nothing"; else not_ok "run --rm $id leaves nothing" "$(task_leftovers "$id")"; fi
done
