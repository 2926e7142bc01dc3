#!/usr/bin/env bash
# stdin: bytes written into ctr's stdin reach the task (FIFO → shim pump → pipe → process), and the end of
# ctr's stdin (ctr calls CloseIO) becomes EOF for the process, for an init (run) and for an exec; a 1 MiB
# stream arrives intact in both directions.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_extra.sh"
e2e_setup

# ctr 1.6 calls CloseIO only if its stdin reaches EOF *after* task creation returned (cmd/ctr/commands/tasks:
# stdinCloser.closer is set after NewTask / Exec): with `printf | ctr run cat` the EOF usually comes first and cat
# never sees it, with runc-v2 as with this shim. So each stdin here is a FIFO we hold open until the process
# is known to be started, and only then fed and closed.
#
# gate_start NAME CMD...: CMD in the background, stdin from our FIFO, stdout/stderr to $CTD_DIR/NAME.out/.err.
gate_start() {
  local name=$1
  shift
  rm -f "$CTD_DIR/$name.fifo"
  mkfifo "$CTD_DIR/$name.fifo"
  "$@" < "$CTD_DIR/$name.fifo" > "$CTD_DIR/$name.out" 2> "$CTD_DIR/$name.err" &
  GATE_PID=$!
  exec {GATE_FD}> "$CTD_DIR/$name.fifo"
}
# gate_feed READY...: once READY succeeds (a liveness bound), copy our stdin into the FIFO and close it. Never
# call it in a pipeline (a subshell would close only its own copy of the FIFO): feed it with a redirect.
gate_feed() {
  local rc=0
  wait_for 20 "$@" >/dev/null 2>&1 || rc=1
  [ "$rc" = 0 ] && { cat >&"$GATE_FD" || rc=1; }
  exec {GATE_FD}>&-
  [ "$rc" = 0 ] || kill "$GATE_PID" 2>/dev/null || true
  return $rc
}
# gate_wait: CMD's exit status into rc (not in $(...): only this shell can wait for its child).
gate_wait() { rc=0; wait "$GATE_PID" || rc=$?; }
# Output captured first: `ctr | grep -q` under pipefail fails if grep's early exit gives ctr a SIGPIPE.

# --- init: data | ctr run --rm cat. cat only exits (and ctr only returns) if EOF reached it.
gate_start in1 e2e_run --rm "$E2E_IMAGE" in1 cat
gate_feed status_is in1 RUNNING < <(printf 'a\nb\n') || true
gate_wait
out=$(cat "$CTD_DIR/in1.out")
if [ "$rc" = 0 ] && [ "$out" = $'a\nb' ]; then ok "run --rm cat: stdin arrives, CloseIO ends cat"; else not_ok "run --rm cat: stdin arrives, CloseIO ends cat" "exit $rc: $out" "$(cat "$CTD_DIR/in1.err")"; fi
if wait_for 20 task_gone in1; then ok "run --rm: nothing left of in1"; else not_ok "run --rm: nothing left of in1" "$(task_leftovers in1)"; fi

# --- exec with stdin into a running task
id=in2
check "run -d $id" e2e_run -d "$E2E_IMAGE" "$id" sleep 100000
wait_for 20 status_is "$id" RUNNING || true
pid=$(task_pid "$id")

# "done" is printed only after cat returned, i.e. after CloseIO turned into EOF.
gate_start e1 e2e_exec --exec-id e1 "$id" sh -c 'cat; echo done'
gate_feed exec_listed "$id" e1 < <(printf 'x\ny\nz\n') || true
gate_wait
out=$(cat "$CTD_DIR/e1.out")
if [ "$rc" = 0 ] && [ "$out" = $'x\ny\nz\ndone' ]; then ok "exec: stdin arrives, CloseIO ends cat"; else not_ok "exec: stdin arrives, CloseIO ends cat" "exit $rc: $out" "$(cat "$CTD_DIR/e1.err")"; fi

# An open stdin with nothing in it is not EOF: cat is still there a second later, and data fed then arrives.
gate_start e2 e2e_exec --exec-id e2 "$id" sh -c 'cat; echo " eof"'
wait_for 20 exec_listed "$id" e2 >/dev/null 2>&1 || true
sleep 1
if exec_listed "$id" e2; then ok "exec: an idle open stdin is not EOF (cat still runs)"; else not_ok "exec: an idle open stdin is not EOF (cat still runs)" "$(ctd_ctr task ps "$id" 2>&1)" "$(cat "$CTD_DIR/e2.out" "$CTD_DIR/e2.err")"; fi
gate_feed true < <(printf late) || true
gate_wait
out=$(cat "$CTD_DIR/e2.out")
if [ "$rc" = 0 ] && [ "$out" = "late eof" ]; then ok "exec: late data arrives, then EOF"; else not_ok "exec: late data arrives, then EOF" "exit $rc: $out" "$(cat "$CTD_DIR/e2.err")"; fi

# 1 MiB of random bytes: the task checksums what it read; and cat echoes it back for us to checksum.
blob=$CTD_DIR/blob
head -c 1048576 /dev/urandom > "$blob"
want=$(sha256sum < "$blob" | cut -d' ' -f1)
gate_start e3 e2e_exec --exec-id e3 "$id" sha256sum
gate_feed exec_listed "$id" e3 < "$blob" || true
gate_wait
got=$(awk '{print $1}' "$CTD_DIR/e3.out")
if [ "$rc" = 0 ] && [ "$got" = "$want" ]; then ok "exec: 1 MiB on stdin arrives intact (sha256)"; else not_ok "exec: 1 MiB on stdin arrives intact (sha256)" "exit $rc: want $want got $got" "$(cat "$CTD_DIR/e3.err")"; fi
gate_start e4 e2e_exec --exec-id e4 "$id" cat
gate_feed exec_listed "$id" e4 < "$blob" || true
gate_wait
got=$(sha256sum < "$CTD_DIR/e4.out" | cut -d' ' -f1)
if [ "$rc" = 0 ] && [ "$got" = "$want" ]; then ok "exec: 1 MiB through cat and back intact (sha256)"; else not_ok "exec: 1 MiB through cat and back intact (sha256)" "exit $rc: want $want got $got ($(wc -c < "$CTD_DIR/e4.out") bytes)" "$(cat "$CTD_DIR/e4.err")"; fi

# The same for an init: run --rm reading 1 MiB.
gate_start in3 e2e_run --rm "$E2E_IMAGE" in3 sha256sum
gate_feed status_is in3 RUNNING < "$blob" || true
gate_wait
got=$(awk '{print $1}' "$CTD_DIR/in3.out")
if [ "$rc" = 0 ] && [ "$got" = "$want" ]; then ok "run --rm: 1 MiB on stdin arrives intact (sha256)"; else not_ok "run --rm: 1 MiB on stdin arrives intact (sha256)" "exit $rc: want $want got $got" "$(cat "$CTD_DIR/in3.err")"; fi
if wait_for 20 task_gone in3; then ok "run --rm: nothing left of in3"; else not_ok "run --rm: nothing left of in3" "$(task_leftovers in3)"; fi

# No exec is left behind by any of the above.
out=$(ctd_ctr task ps "$id" 2>&1) || true
if [ "$(awk 'NR > 1' <<<"$out" | wc -l)" = 1 ]; then ok "only init left in ps after the stdin execs"; else not_ok "only init left in ps after the stdin execs" "$out"; fi

remove_task "$id" "$pid"
