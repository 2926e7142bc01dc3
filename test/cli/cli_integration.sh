#!/usr/bin/env bash
# cli_integration.sh CSHIMCTL SHIM — cshimctl end to end against a real shim, as root (ctest label
# integration). TAP output; exits non-zero if any check fails. A missing shim is a failure, never a skip.
#
# Everything lives under a fresh temp dir and a namespace of its own (cgroups /<ns>/<id>); the EXIT trap
# removes containers, shim processes (by pid), mounts, sockets, cgroups, the tmux server and the temp dir.
set -uo pipefail

CSHIMCTL=${1:?usage: cli_integration.sh CSHIMCTL SHIM}
SHIM=${2:?usage: cli_integration.sh CSHIMCTL SHIM}

PASS=0
FAIL=0
ok() { echo "ok - $1"; PASS=$((PASS + 1)); }
not_ok() {
  echo "not ok - $1"
  shift
  local l
  for l in "$@"; do printf '%s\n' "$l" | sed 's/^/#   /'; done
  FAIL=$((FAIL + 1))
}
finish() {
  echo "1..$((PASS + FAIL))"
  echo "# pass $PASS fail $FAIL"
  [ "$FAIL" = 0 ]
}

SHIM=$(realpath -m "$SHIM")
CSHIMCTL=$(realpath -m "$CSHIMCTL")
if [ ! -x "$SHIM" ]; then
  not_ok "shim binary $SHIM exists (build target containerd-shim-cshim-v2)"
  finish
  exit 1
fi
if [ ! -x "$CSHIMCTL" ]; then
  not_ok "cshimctl binary $CSHIMCTL exists"
  finish
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  not_ok "running as root (containers need it)"
  finish
  exit 1
fi
BUSYBOX=/bin/busybox
if ! file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked'; then
  not_ok "busybox-static installed ($BUSYBOX statically linked)"
  finish
  exit 1
fi

WORK=$(mktemp -d /tmp/cli-it.XXXXXX)
STATE=$WORK/state
NS=cli-it-$$
TMUX_SOCK=cli-it-$$
ROOTFS=$WORK/rootfs
CNI_CONF=$WORK/cni/conf
CNI_STATE=$WORK/cni/state
BRIDGE=cliit$(($$ % 100000))
SUBNET=10.234.$(($$ % 250 + 1))
CTL=("$CSHIMCTL" --state-dir "$STATE" --namespace "$NS")
RUN=("${CTL[@]}" run --shim "$SHIM")  # the shim under test, never one found elsewhere

# Shim processes of this run: their command line names our state dir (-address $STATE/cshimctl.sock).
our_shims() { pgrep -f -- "-address $STATE/cshimctl.sock" || true; }

cleanup() {
  local id pid
  for id in $(ls "$STATE" 2>/dev/null); do
    [ -d "$STATE/$id" ] && timeout 30 "${CTL[@]}" rm -f "$id" >/dev/null 2>&1
  done
  for pid in $(our_shims); do kill -9 "$pid" 2>/dev/null; done
  # Mounts under the work dir (a rootfs a dead shim left), deepest first.
  awk -v w="$WORK" '$5 ~ "^"w {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done
  # Sockets that were ours: listed when containers started.
  for s in $(cat "$WORK/sockets" 2>/dev/null); do [ -S "$s" ] && rm -f "$s"; done
  local d
  for d in /sys/fs/cgroup/*/"$NS" /sys/fs/cgroup/"$NS" /sys/fs/cgroup/unified/"$NS"; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  tmux -L "$TMUX_SOCK" kill-server 2>/dev/null
  for d in /run/netns/cshim-"$NS".*; do [ -e "$d" ] && umount "$d" 2>/dev/null; rm -f "$d"; done
  ip link del "$BRIDGE" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

# The busybox rootfs: the static binary and one symlink per applet.
mkdir -p "$ROOTFS"/{bin,dev,proc,sys,etc,tmp,root,run}
cp "$BUSYBOX" "$ROOTFS/bin/busybox"
for a in $("$ROOTFS/bin/busybox" --list); do
  [ "$a" = busybox ] || ln -sf busybox "$ROOTFS/bin/$a"
done
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$ROOTFS/etc/passwd"

# wait_for SECONDS CMD...: poll until CMD succeeds (a liveness bound, not a speed assertion).
wait_for() {
  local limit=$1 i
  shift
  for ((i = 0; i < limit * 10; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  "$@" >/dev/null 2>&1
}

pid_gone() {
  local st
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
  [ -z "$st" ] || [ "$st" = Z ]
}

# The socket a shim serves for ID: sha256 of "<address>/<namespace>/<id>" (containerd's naming).
socket_of() {
  echo "/run/containerd/s/$(printf '%s' "$STATE/cshimctl.sock/$NS/$1" | sha256sum | cut -d' ' -f1)"
}

remember_socket() {
  local a
  a=$(cat "$STATE/$1/address" 2>/dev/null) && echo "${a#unix://}" >> "$WORK/sockets"
}

# Snapshot of what exists, to prove a failed command created nothing.
snapshot() {
  {
    ls -A "$STATE" 2>/dev/null | sed 's/^/state: /'
    our_shims | sed 's/^/shim: /'
    grep -c "$WORK" /proc/self/mountinfo | sed 's/^/mounts: /'
    local id
    for id in miss nf dup x; do [ -e "$(socket_of "$id")" ] && echo "socket: $id"; done
  } | sort
}

# bad_input NAME WANT_SUBSTRING CMD...: non-zero status, exactly one line on stderr containing WANT, nothing
# new on stdout, nothing created.
bad_input() {
  local name=$1 want=$2 before after out err rc=0
  shift 2
  before=$(snapshot)
  out=$("$@" 2>"$WORK/err") || rc=$?
  err=$(cat "$WORK/err")
  after=$(snapshot)
  if [ "$rc" = 0 ]; then
    not_ok "$name: non-zero status" "stdout: $out" "stderr: $err"
  elif [ "$(printf '%s\n' "$err" | wc -l)" != 1 ] || [ -z "$err" ]; then
    not_ok "$name: one line on stderr" "$err"
  elif ! grep -qF -- "$want" <<<"$err"; then
    not_ok "$name: error names the problem ($want)" "$err"
  elif [ "$before" != "$after" ]; then
    not_ok "$name: nothing half-created" "before: $before" "after: $after"
  else
    ok "$name (exit $rc: $err)"
  fi
}

# ---------------------------------------------------------------- run --rm: output and exit status
out=$("${RUN[@]}" --rm --id rm1 --rootfs "$ROOTFS" -- sh -c 'echo hi; exit 3' 2>"$WORK/err")
rc=$?
if [ "$rc" = 3 ] && [ "$out" = hi ]; then ok "run --rm prints hi and exits 3"
else not_ok "run --rm prints hi and exits 3" "exit $rc, stdout '$out'" "$(cat "$WORK/err")"; fi
if [ ! -e "$STATE/rm1" ] && wait_for 20 test -z "$(our_shims)"; then ok "run --rm leaves no bundle and no shim"
else not_ok "run --rm leaves no bundle and no shim" "$(ls -la "$STATE" 2>&1)" "$(our_shims)"; fi

out=$("${RUN[@]}" --rm --rootfs "$ROOTFS" -- sh -c 'echo out; echo err >&2' 2>"$WORK/err")
if [ "$out" = out ] && [ "$(cat "$WORK/err")" = err ]; then ok "stdout and stderr kept apart"
else not_ok "stdout and stderr kept apart" "stdout '$out'" "stderr '$(cat "$WORK/err")'"; fi

out=$(printf 'one\ntwo\n' | "${RUN[@]}" --rm -i --rootfs "$ROOTFS" -- sh -c 'cat; echo eof' 2>&1)
if [ "$out" = "$(printf 'one\ntwo\neof')" ]; then ok "run -i: stdin copied, EOF delivered"
else not_ok "run -i: stdin copied, EOF delivered" "$out"; fi

# A signal to cshimctl goes to the container's process (here its TERM trap decides the exit status).
"${RUN[@]}" --rm --id sig1 --rootfs "$ROOTFS" -- sh -c 'trap "exit 9" TERM; echo ready; while :; do sleep 0.1; done' \
  > "$WORK/sig.out" 2>&1 &
sig_pid=$!
if wait_for 20 grep -qx ready "$WORK/sig.out"; then
  kill -TERM "$sig_pid"
  wait "$sig_pid"
  rc=$?
  if [ "$rc" = 9 ]; then ok "SIGTERM to cshimctl reaches the container"
  else not_ok "SIGTERM to cshimctl reaches the container" "exit $rc" "$(cat "$WORK/sig.out")"; fi
else
  not_ok "SIGTERM to cshimctl reaches the container" "never ready: $(cat "$WORK/sig.out")"
  kill -9 "$sig_pid" 2>/dev/null
fi

# --bundle: an OCI bundle of one's own (runc spec's config), the command given on the line.
if command -v runc >/dev/null; then
  mkdir -p "$WORK/bundle"
  ln -s "$ROOTFS" "$WORK/bundle/rootfs"
  (cd "$WORK/bundle" && runc spec)
  out=$("${RUN[@]}" --rm --bundle "$WORK/bundle" -- sh -c 'echo from-bundle; exit 2' 2>&1)
  rc=$?
  if [ "$rc" = 2 ] && [ "$out" = from-bundle ]; then ok "run --bundle"
  else not_ok "run --bundle" "exit $rc: $out"; fi
fi

# ---------------------------------------------------------------- run -d, stats, ps, exec, rm -f
busy_id=$("${RUN[@]}" -d --id busy --cpus 1 --memory 64m --rootfs "$ROOTFS" -- sh -c 'while :; do :; done' 2>"$WORK/err")
rc=$?
if [ "$rc" = 0 ] && [ "$busy_id" = busy ]; then ok "run -d prints the id"
else not_ok "run -d prints the id" "exit $rc, stdout '$busy_id'" "$(cat "$WORK/err")"; fi
remember_socket busy

ps_out=$("${CTL[@]}" ps 2>&1)
shim_pid=$(awk '$1 == "busy" {print $4}' <<<"$ps_out")
if awk '$1 == "busy" && $3 == "RUNNING" && $4 ~ /^[0-9]+$/ && $5 ~ /B$/ {f=1} END {exit !f}' <<<"$ps_out"; then
  ok "ps lists it RUNNING with its shim pid and RSS"
else not_ok "ps lists it RUNNING with its shim pid and RSS" "$ps_out"; fi

stats_out=$("${CTL[@]}" stats busy 2>&1)
cpu=$(awk '$1 == "busy" {sub("%", "", $2); print $2}' <<<"$stats_out")
if [ -n "$cpu" ] && awk -v c="$cpu" 'BEGIN {exit !(c > 1)}'; then ok "stats shows the busy loop's CPU ($cpu%)"
else not_ok "stats shows the busy loop's CPU" "$stats_out"; fi
if grep -q '64MiB' <<<"$stats_out"; then ok "stats shows the memory limit"
else not_ok "stats shows the memory limit" "$stats_out"; fi
json=$("${CTL[@]}" stats --json --watch --count 2 --interval 300ms busy 2>&1)
if [ "$(wc -l <<<"$json")" = 2 ] && grep -q '"id":"busy"' <<<"$json" && grep -q '"cpu_percent":[0-9]' <<<"$json"; then
  ok "stats --json --watch: one object per sample"
else not_ok "stats --json --watch: one object per sample" "$json"; fi
# The stream's own figures, not only its shape: the busy loop's CPU, its memory usage and limit.
last=$(tail -1 <<<"$json")
if awk -v s="$last" 'BEGIN {
    c = s; sub(/.*"cpu_percent":/, "", c); sub(/,.*/, "", c)
    m = s; sub(/.*"memory_usage":/, "", m); sub(/,.*/, "", m)
    exit !(c + 0 > 1 && m + 0 > 0)
  }' && grep -q '"memory_limit":67108864' <<<"$last"; then
  ok "stats --watch: the stream's CPU and memory figures are the task's"
else not_ok "stats --watch: the stream's CPU and memory figures are the task's" "$json"; fi

state=$("${CTL[@]}" state busy 2>&1)
if grep -q '"status": "RUNNING"' <<<"$state"; then ok "state"; else not_ok "state" "$state"; fi
addr=$(cat "$STATE/busy/address" 2>/dev/null)
state=$("$CSHIMCTL" state --address "$addr" --namespace "$NS" busy 2>&1)
if grep -q '"status": "RUNNING"' <<<"$state"; then ok "state --address talks to the shim directly"
else not_ok "state --address talks to the shim directly" "$state"; fi

out=$("${CTL[@]}" exec busy sh -c 'echo in-exec; exit 5' 2>&1)
rc=$?
if [ "$rc" = 5 ] && [ "$out" = in-exec ]; then ok "exec: output and exit status"
else not_ok "exec: output and exit status" "exit $rc: $out"; fi

if "${CTL[@]}" pause busy && "${CTL[@]}" state busy | grep -q PAUSED && "${CTL[@]}" resume busy &&
  "${CTL[@]}" state busy | grep -q RUNNING; then ok "pause and resume"
else not_ok "pause and resume" "$("${CTL[@]}" state busy 2>&1)"; fi

if "${CTL[@]}" update busy --memory 96m 2>"$WORK/err" && "${CTL[@]}" stats busy | grep -q 96MiB; then ok "update --memory"
else not_ok "update --memory" "$(cat "$WORK/err")"; fi

bad_input "rm of a running container without -f" "use rm -f" "${CTL[@]}" rm busy

sock=${addr#unix://}
out=$("${CTL[@]}" rm -f busy 2>&1)
rc=$?
if [ "$rc" = 0 ]; then ok "rm -f"; else not_ok "rm -f" "exit $rc: $out"; fi
if [ -n "$shim_pid" ] && wait_for 20 pid_gone "$shim_pid"; then ok "rm -f: no shim process"
else not_ok "rm -f: no shim process" "pid '$shim_pid': $(ps -o pid,stat,args -p "$shim_pid" 2>&1)"; fi
if [ ! -e "$STATE/busy" ]; then ok "rm -f: no bundle, no FIFOs"; else not_ok "rm -f: no bundle" "$(ls -laR "$STATE/busy")"; fi
if [ -n "$sock" ] && [ ! -e "$sock" ]; then ok "rm -f: no socket"; else not_ok "rm -f: no socket" "'$sock'"; fi
if ! grep -q "$WORK" /proc/self/mountinfo; then ok "rm -f: no mount"
else not_ok "rm -f: no mount" "$(grep "$WORK" /proc/self/mountinfo)"; fi
if ! ls -d /sys/fs/cgroup/*/"$NS"/busy >/dev/null 2>&1; then ok "rm -f: no cgroup"
else not_ok "rm -f: no cgroup" "$(ls -d /sys/fs/cgroup/*/"$NS"/busy)"; fi

# A shim that died: rm cleans up through `<shim> delete` (the container's process goes too).
"${RUN[@]}" -d --id dead --rootfs "$ROOTFS" -- sleep 600 >/dev/null 2>"$WORK/err" || not_ok "run -d dead" "$(cat "$WORK/err")"
remember_socket dead
dead_shim=$("${CTL[@]}" ps | awk '$1 == "dead" {print $4}')
dead_task=$("${CTL[@]}" ps | awk '$1 == "dead" {print $2}')
if [ -n "$dead_shim" ] && [ -n "$dead_task" ]; then
  kill -9 "$dead_shim"
  wait_for 10 pid_gone "$dead_shim"
  if "${CTL[@]}" ps | awk '$1 == "dead" && $3 == "SHIM-GONE" {f=1} END {exit !f}'; then ok "ps shows a dead shim"
  else not_ok "ps shows a dead shim" "$("${CTL[@]}" ps 2>&1)"; fi
  out=$("${CTL[@]}" rm dead 2>&1)
  rc=$?
  if [ "$rc" = 0 ] && [ ! -e "$STATE/dead" ] && [ ! -e "$(socket_of dead)" ] && wait_for 10 pid_gone "$dead_task"; then
    ok "rm after the shim died: bundle, socket and container process gone"
  else not_ok "rm after the shim died: bundle, socket and container process gone" "exit $rc: $out" \
    "$(ls -la "$STATE/dead" 2>&1)" "$(ps -o pid,stat,args -p "$dead_task" 2>&1)"; fi
else
  not_ok "run -d dead: ps shows pids" "$("${CTL[@]}" ps 2>&1)"
fi

# ---------------------------------------------------------------- run -t in tmux
tmux -L "$TMUX_SOCK" new-session -d -s t -x 100 -y 30 \
  "${RUN[*]} --rm -t --id tty1 --rootfs $ROOTFS -- sh; echo EXIT=\$?; sleep 600"
pane() { tmux -L "$TMUX_SOCK" capture-pane -t t -p; }
if wait_for 20 bash -c "tmux -L $TMUX_SOCK capture-pane -t t -p | grep -q '^/ #'"; then ok "run -t gives a shell prompt"
else not_ok "run -t gives a shell prompt" "$(pane)"; fi
remember_socket tty1
tmux -L "$TMUX_SOCK" send-keys -t t 'echo o""k; stty size' Enter
if wait_for 10 bash -c "tmux -L $TMUX_SOCK capture-pane -t t -p | grep -qx 'ok'"; then ok "run -t: typed echo ok answers"
else not_ok "run -t: typed echo ok answers" "$(pane)"; fi
if wait_for 5 bash -c "tmux -L $TMUX_SOCK capture-pane -t t -p | grep -qx '30 100'"; then ok "run -t: the terminal size is passed on"
else not_ok "run -t: the terminal size is passed on" "$(pane)"; fi
tmux -L "$TMUX_SOCK" resize-window -t t -x 90 -y 20 2>/dev/null
# The resize travels tmux → cshimctl (SIGWINCH) → shim (ResizePty) → pty asynchronously: type `stty size`
# again until the new size shows (20 s deadline), as t_tty.sh does.
resized=0
for _ in $(seq 1 20); do
  tmux -L "$TMUX_SOCK" send-keys -t t 'stty size' Enter
  if wait_for 1 bash -c "tmux -L $TMUX_SOCK capture-pane -t t -p | grep -qx '20 90'"; then resized=1; break; fi
done
if [ "$resized" = 1 ]; then ok "run -t: SIGWINCH resizes"
else not_ok "run -t: SIGWINCH resizes" "$(pane)"; fi
tmux -L "$TMUX_SOCK" send-keys -t t 'exit 4' Enter
if wait_for 30 bash -c "tmux -L $TMUX_SOCK capture-pane -t t -p | grep -qx 'EXIT=4'"; then ok "run -t: the shell's exit status is ours"
else not_ok "run -t: the shell's exit status is ours" "$(pane)"; fi
tmux -L "$TMUX_SOCK" kill-server 2>/dev/null

# ---------------------------------------------------------------- run --net (network/cni)
# A conflist of our own (bridge and subnet nobody else uses), so the host's defaults are never touched.
if [ -x /usr/lib/cni/bridge ] || [ -x /opt/cni/bin/bridge ]; then
  mkdir -p "$CNI_CONF" "$CNI_STATE"
  cat > "$CNI_CONF/10-cli-it.conflist" <<JSON
{"cniVersion":"1.0.0","name":"$BRIDGE","plugins":[{"type":"bridge","bridge":"$BRIDGE","isGateway":true,"ipMasq":false,
 "ipam":{"type":"host-local","ranges":[[{"subnet":"$SUBNET.0/24","gateway":"$SUBNET.1"}]],"dataDir":"$CNI_STATE/networks"}},
 {"type":"loopback"}]}
JSON
  NET=(--net --cni-config-dir "$CNI_CONF" --cni-state-dir "$CNI_STATE")
  out=$("${RUN[@]}" --rm "${NET[@]}" --rootfs "$ROOTFS" -- sh -c "ip -4 -o addr show eth0; ping -c1 -W3 $SUBNET.1 >/dev/null && echo reached" 2>&1)
  if grep -q "inet $SUBNET\." <<<"$out" && grep -qx reached <<<"$out"; then ok "run --net: an address on the bridge, the gateway answers"
  else not_ok "run --net: an address on the bridge, the gateway answers" "$out"; fi
  "${RUN[@]}" -d --id net1 "${NET[@]}" --rootfs "$ROOTFS" -- sleep 600 >/dev/null 2>"$WORK/err" || not_ok "run -d --net" "$(cat "$WORK/err")"
  remember_socket net1
  if "${CTL[@]}" ps | awk -v s="$SUBNET." '$1 == "net1" && index($6, s) == 1 {f=1} END {exit !f}'; then ok "ps shows the IP"
  else not_ok "ps shows the IP" "$("${CTL[@]}" ps 2>&1)"; fi
  "${CTL[@]}" rm -f net1 >/dev/null 2>"$WORK/err" || not_ok "rm -f net1" "$(cat "$WORK/err")"
  if [ ! -e "/run/netns/cshim-$NS.net1" ] && ! ip link show "$BRIDGE" >/dev/null 2>&1; then ok "rm -f: netns and bridge gone"
  else not_ok "rm -f: netns and bridge gone" "$(ls /run/netns)" "$(ip link show "$BRIDGE" 2>&1)"; fi
else
  ok "run --net # SKIP no CNI plugins (containernetworking-plugins)"
fi

# ---------------------------------------------------------------- bad input
bad_input "unknown subcommand" 'unknown command "frobnicate"' "${CTL[@]}" frobnicate
bad_input "missing rootfs" "$WORK/nope" "${RUN[@]}" --rm --id miss --rootfs "$WORK/nope" -- true
bad_input "id with ../" 'container id "../x" is invalid' "${RUN[@]}" --rm --id ../x --rootfs "$ROOTFS" -- true
bad_input "rm of an id with ../" 'is invalid' "${CTL[@]}" rm -f ../x
bad_input "no command" "missing command" "${RUN[@]}" --rm --rootfs "$ROOTFS"
bad_input "bad --memory" "invalid size" "${RUN[@]}" --rm --memory 12q --rootfs "$ROOTFS" -- true
bad_input "--cni-config-dir without --net" "go with --net" "${RUN[@]}" --rm --cni-config-dir /x --rootfs "$ROOTFS" -- true
bad_input "command not found in the container" "executable file not found" "${RUN[@]}" --rm --id nf --rootfs "$ROOTFS" -- nosuchcmd
bad_input "state of an unknown container" "container nobody not found" "${CTL[@]}" state nobody

"${RUN[@]}" -d --id dup --rootfs "$ROOTFS" -- sleep 600 >/dev/null 2>"$WORK/err" || not_ok "run -d dup" "$(cat "$WORK/err")"
remember_socket dup
bad_input "duplicate id" "container dup already exists" "${RUN[@]}" --rm --id dup --rootfs "$ROOTFS" -- true
if "${CTL[@]}" state dup 2>/dev/null | grep -q RUNNING; then ok "duplicate id: the first container is untouched"
else not_ok "duplicate id: the first container is untouched" "$("${CTL[@]}" state dup 2>&1)"; fi
"${CTL[@]}" rm -f dup >/dev/null 2>&1

# ---------------------------------------------------------------- nothing left
if wait_for 20 test -z "$(our_shims)"; then ok "no shim process left"; else not_ok "no shim process left" "$(our_shims)"; fi
left=$(ls -A "$STATE" 2>/dev/null | grep -v '^cshimctl.sock$')
if [ -z "$left" ]; then ok "state dir empty"; else not_ok "state dir empty" "$left"; fi

finish
