#!/usr/bin/env bash
# Terminals: `ctr task exec -t` and `ctr run -t` inside tmux, so ctr has a real pty on its side. The shim
# pumps the console master to the stdout FIFO and stdin to the master, and ResizePty (ctr forwards its
# SIGWINCH) must reach the container's pty: `stty size` inside shows the window size.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_extra.sh"
source "$E2E_LIB_DIR/../lib/tty.sh"
e2e_setup
e2e_on_exit tty_stop
command -v tmux >/dev/null || { not_ok "tmux installed"; exit 1; }

# ctr itself, with our private socket/namespace spelled out: the tmux pane does not inherit shell functions.
# --foreground: a plain timeout moves ctr into its own process group, off the pty's foreground, and ctr
# then stops on SIGTTOU as it puts the terminal into raw mode.
ctr_cmd=(timeout --foreground -k 5 120 ctr --address "$CTD_SOCK" --namespace "$CTD_NS")
prompt='/ #'   # busybox ash as root

# --- exec -t into a running task
id=tty1
check "run -d $id" e2e_run -d "$E2E_IMAGE" "$id" sleep 100000
wait_for 20 status_is "$id" RUNNING || true
pid=$(task_pid "$id")

tty_start ex 100 30 "${ctr_cmd[@]}" task exec -t --fifo-dir "$CTD_FIFO" --exec-id sh1 "$id" sh
if tty_wait_line ex "$prompt" 20; then ok "exec -t: the shell's prompt appears"; else not_ok "exec -t: the shell's prompt appears" "$(tty_screen ex)"; fi

# What we type goes stdin FIFO → pty master; the answer comes back master → stdout FIFO. The typed line is
# echoed as "echo $((6*7))", so a line that is exactly 42 can only be the shell's answer.
tty_type ex 'echo $((6*7))'
if tty_wait_line ex 42 10; then ok "exec -t: a typed command answers"; else not_ok "exec -t: a typed command answers" "$(tty_screen ex)"; fi
tty_type ex 'tty'
if tty_wait_line ex '/dev/pts/[0-9]+' 10; then ok "exec -t: the process's stdin is a pty"; else not_ok "exec -t: the process's stdin is a pty" "$(tty_screen ex)"; fi

# ctr sizes the console from its own terminal once the exec started: 30 rows x 100 columns.
tty_type ex 'stty size'
if tty_wait_line ex '30 100' 10; then ok "exec -t: initial size 30x100 reaches stty size"; else not_ok "exec -t: initial size 30x100 reaches stty size" "$(tty_screen ex)"; fi
tty_resize ex 120 40
# The SIGWINCH → ResizePty → TIOCSWINSZ chain is asynchronous to our typing: retype until it shows (bounded).
resized=0
for _ in $(seq 1 20); do
  tty_type ex 'stty size'
  if tty_wait_line ex '40 120' 1; then resized=1; break; fi
done
if [ "$resized" = 1 ]; then ok "exec -t: a window resize reaches stty size (40 120)"; else not_ok "exec -t: a window resize reaches stty size (40 120)" "$(tty_screen ex)"; fi

tty_type ex 'exit 7'
rc=$(tty_wait_exit ex 20) || rc=none
if [ "$rc" = 7 ]; then ok "exec -t: exit 7 of the shell is ctr's exit status"; else not_ok "exec -t: exit 7 of the shell is ctr's exit status" "got $rc" "$(tty_screen ex)"; fi
if status_is "$id" RUNNING; then ok "exec -t: the task keeps running after the exec"; else not_ok "exec -t: the task keeps running after the exec" "$(ctd_ctr task ls 2>&1)"; fi
out=$(ctd_ctr task ps "$id" 2>&1) || true
if [ "$(awk 'NR > 1' <<<"$out" | wc -l)" = 1 ]; then ok "exec -t: only init left in ps"; else not_ok "exec -t: only init left in ps" "$out"; fi

# --- containerd's Go client: an exec whose request asks for a terminal while its process spec says
# terminal:false (the request wins, as in runc-v2), with stdin held open by the client throughout. When the
# command exits its output must end before Delete: CRI and containerd's client wait for that EOF first
# (kubectl exec -it returned only once the user closed stdin).
if [ -n "${E2E_TASKCLIENT:-}" ]; then
  out=$("$E2E_TASKCLIENT" -containerd "$CTD_SOCK" -namespace "$CTD_NS" ctd-exec-tty "$id" tx1 \
    --fifo-dir "$CTD_FIFO" -- sh -c 'tty; exit 3' 2>&1) || true
  if grep -qx 'exit 3' <<<"$out"; then ok "exec with Terminal and a terminal:false spec runs on a pty (exit 3)"
  else not_ok "exec with Terminal and a terminal:false spec runs on a pty (exit 3)" "$out"; fi
  if grep -Eq '/dev/pts/[0-9]+' <<<"$out"; then ok "that exec's stdin is a pty"; else not_ok "that exec's stdin is a pty" "$out"; fi
  if grep -qx 'output-ended' <<<"$out"; then ok "exec -t with stdin open: the output ends when the command exits"
  else not_ok "exec -t with stdin open: the output ends when the command exits" "$out"; fi
else
  not_ok "Go task client available (E2E_TASKCLIENT)"
fi

remove_task "$id" "$pid"

# --- run -t: the init process itself on a terminal
id=tty2
ctd_track "$id"
tty_start run 80 24 "${ctr_cmd[@]}" run -t --rm --runtime "$RUNTIME" --fifo-dir "$CTD_FIFO" "$E2E_IMAGE" "$id" sh
if tty_wait_line run "$prompt" 20; then ok "run -t: the shell's prompt appears"; else not_ok "run -t: the shell's prompt appears" "$(tty_screen run)"; fi
pid=$(task_pid "$id")
tty_type run 'echo ok'
if tty_wait_line run ok 10; then ok "run -t: echo ok answers ok"; else not_ok "run -t: echo ok answers ok" "$(tty_screen run)"; fi
tty_type run 'stty size'
if tty_wait_line run '24 80' 10; then ok "run -t: the init's pty is 24x80"; else not_ok "run -t: the init's pty is 24x80" "$(tty_screen run)"; fi
tty_type run 'exit'
rc=$(tty_wait_exit run 30) || rc=none
if [ "$rc" = 0 ]; then ok "run -t: exit ends ctr run with status 0"; else not_ok "run -t: exit ends ctr run with status 0" "got $rc" "$(tty_screen run)"; fi
# --rm: ctr deleted task and container itself.
if wait_for 20 task_gone "$id" "$pid"; then ok "run -t --rm: nothing left of $id"; else not_ok "run -t --rm: nothing left of $id" "$(task_leftovers "$id" "$pid")"; fi
