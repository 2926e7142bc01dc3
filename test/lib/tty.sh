#!/usr/bin/env bash
# tty.sh — tmux as the terminal for interactive ctr (ctr run -t, ctr task exec -t) in e2e tests.
# Source it after lib.sh/containerd.sh: the tmux server is private to the test (its socket lives in CTD_DIR),
# so a user's tmux is never touched, and ctd_cleanup's sweep of processes naming CTD_DIR also catches it.
#
#   tty_start NAME COLS ROWS CMD...   detached session NAME running CMD on a COLSxROWS pty; CMD's exit status
#                                     goes to $CTD_DIR/tty-NAME.rc; the pane stays (dead) after CMD exits
#   tty_type NAME TEXT                type TEXT literally, then Enter
#   tty_screen NAME                   the pane's visible text, trailing blanks stripped
#   tty_wait_line NAME ERE [SECONDS]  wait until a whole screen line matches ERE (a liveness bound)
#   tty_resize NAME COLS ROWS         resize the window: the pty behind it changes size, ctr gets SIGWINCH
#   tty_wait_exit NAME [SECONDS]      wait until CMD has exited; prints its exit status
#   tty_stop                          kill the private tmux server (idempotent)

tty_tmux() { tmux -S "$CTD_DIR/tmux.sock" "$@"; }

tty_start() {
  local name=$1 cols=$2 rows=$3
  shift 3
  local script=$CTD_DIR/tty-$name.sh
  rm -f "$CTD_DIR/tty-$name.rc"
  # A wrapper script keeps the quoting of CMD intact and records its exit status for tty_wait_exit.
  {
    echo '#!/bin/sh'
    printf '%q ' "$@"
    printf '\necho $? > %q\n' "$CTD_DIR/tty-$name.rc"
  } > "$script"
  chmod +x "$script"
  # remain-on-exit in the same command queue as new-session: set before CMD can exit, so the last screen
  # stays readable for diagnostics.
  tty_tmux new-session -d -s "$name" -x "$cols" -y "$rows" "$script" \; set-option -t "$name" remain-on-exit on
}

tty_type() {
  tty_tmux send-keys -t "$1" -l "$2" && tty_tmux send-keys -t "$1" Enter
}

tty_screen() {
  tty_tmux capture-pane -p -t "$1" 2>/dev/null | sed 's/[[:space:]]*$//'
}

tty_wait_line() {
  local name=$1 re=$2 limit=${3:-20} _
  for _ in $(seq 1 $((limit * 10))); do
    # captured first: under pipefail, grep -q's early exit could SIGPIPE the capture and fail the pipeline
    grep -Eq -- "^($re)\$" <<<"$(tty_screen "$name")" && return 0
    sleep 0.1
  done
  return 1
}

tty_resize() {
  tty_tmux resize-window -t "$1" -x "$2" -y "$3"
}

tty_wait_exit() {
  local name=$1 limit=${2:-20} _
  for _ in $(seq 1 $((limit * 10))); do
    [ -s "$CTD_DIR/tty-$name.rc" ] && { cat "$CTD_DIR/tty-$name.rc"; return 0; }
    sleep 0.1
  done
  return 1
}

tty_stop() {
  [ -n "${CTD_DIR:-}" ] && [ -S "$CTD_DIR/tmux.sock" ] || return 0
  tty_tmux kill-server >/dev/null 2>&1 || true
  rm -f "$CTD_DIR/tmux.sock"
}
