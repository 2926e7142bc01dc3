#!/usr/bin/env bash
# containerd.sh — a private containerd for tests and benchmarks. Source it, do not run it.
#
#   source test/lib/containerd.sh
#   ctd_start                  # temp dir, config, containerd on its own socket; waits until it answers
#   ctd_ctr run ...            # ctr against the private socket and namespace
#   ctd_track ID...            # remember ids run, so their shim sockets are found at cleanup
#   ctd_kill; ctd_relaunch     # SIGKILL containerd (shims keep running); start it again on the same dirs
#   ctd_kill_restart           # both
#   ctd_stop                   # SIGTERM, then SIGKILL after CTD_STOP_TIMEOUT seconds
#   ctd_cleanup                # stop, remove tasks/containers/shims/mounts/cgroups/sockets/temp dir, verify
#   ctd_shim_pids [ID], ctd_bundle ID, ctd_mounts, ctd_cgroups, ctd_leftovers   # for assertions
# ctd_start first reaps instances whose owner died without cleaning up (a test killed by a timeout).
#
# Inputs (environment):
#   SHIM_DIR     directory put first on containerd's PATH, so it finds containerd-shim-<name>-v2 there
#   CTD_NS       containerd namespace (default: unique per instance, so cgroups and runc state are ours alone;
#                cleanup force-removes cgroups and runc state of the namespace only if its name starts "cshim-")
#   CTD_TMPBASE  where the temp dir goes (default /tmp; keep it short: socket paths are limited to 108 bytes)
# Outputs: CTD_DIR CTD_ROOT CTD_STATE CTD_SOCK CTD_NS CTD_PID CTD_LOG CTD_FIFO
#
# Never touches the host's default containerd: every ctr call names CTD_SOCK explicitly.

CTD_STOP_TIMEOUT=${CTD_STOP_TIMEOUT:-10}
# CTD_BIN_DIR: containerd and ctr from this directory (test/lib/containerd2.sh unpacks containerd 2.1 there),
# ahead of the machine's; every ctr and containerd of the test, and containerd's own runc shim, come from it.
if [ -n "${CTD_BIN_DIR:-}" ]; then
  case ":$PATH:" in *":$CTD_BIN_DIR:"*) ;; *) export PATH=$CTD_BIN_DIR:$PATH ;; esac
fi
# containerd's major version (1 or 2): 2.x wants config version 3 and renamed its plugins.
ctd_major() { containerd --version 2>/dev/null | awk '{v=$3; sub(/^v/, "", v); split(v, p, "."); print p[1]}'; }
CTD_SHIM_SOCKDIR=/run/containerd/s      # shims put sockets here regardless of containerd's state dir
CTD_RUNC_ROOT=/run/containerd/runc      # runc-v2's default runc --root; <root>/<ns>/<id>

ctd_log() { echo "containerd.sh: $*" >&2; }

# ctr against our instance only, bounded so a hung shim fails a test instead of hanging the run.
ctd_ctr() {
  : "${CTD_SOCK:?ctd_ctr: no private containerd (ctd_start first)}"   # never fall back to the host's socket
  timeout -k 5 "${CTD_CTR_TIMEOUT:-60}" ctr --address "$CTD_SOCK" --namespace "$CTD_NS" "$@"
}

# ctd_config_head VERSION PLUGIN...: the top of a config.toml for our instance (dirs, sockets, debug log,
# no metrics listener), PLUGINs disabled; callers append their plugin tables.
ctd_config_head() {
  local ver=$1 list
  shift
  list=$(printf '"%s", ' "$@")
  cat <<EOF
version = $ver
root = "$CTD_ROOT"
state = "$CTD_STATE"
disabled_plugins = [${list%, }]

[grpc]
  address = "$CTD_SOCK"

[ttrpc]
  address = "$CTD_SOCK.ttrpc"

[debug]
  address = "$CTD_DIR/debug.sock"
  level = "debug"

[metrics]
  address = ""
EOF
}

# Plugins no test here wants: "opt" would write to /opt/containerd, tracing needs a collector, and the
# snapshotters other than overlayfs/native only log errors. 1.x then 2.x names.
CTD_UNUSED_PLUGINS_V2=(io.containerd.internal.v1.opt io.containerd.snapshotter.v1.btrfs io.containerd.snapshotter.v1.zfs
  io.containerd.snapshotter.v1.devmapper io.containerd.snapshotter.v1.aufs
  io.containerd.tracing.processor.v1.otlp io.containerd.internal.v1.tracing)
CTD_UNUSED_PLUGINS_V3=(io.containerd.internal.v1.opt io.containerd.snapshotter.v1.btrfs io.containerd.snapshotter.v1.zfs
  io.containerd.snapshotter.v1.devmapper io.containerd.snapshotter.v1.erofs
  io.containerd.tracing.processor.v1.otlp io.containerd.internal.v1.tracing)

# CRI is disabled (it wants CNI and is noisy): one plugin in 1.x (config version 2), three in 2.x (version 3:
# images, runtime, the gRPC service). v2 runtimes need no registration: io.containerd.X.v2 resolves to
# containerd-shim-X-v2 on PATH.
ctd__write_config() {
  local ver=${CTD_CONFIG_VERSION:-}
  [ -n "$ver" ] || { [ "$(ctd_major)" = 2 ] && ver=3 || ver=2; }
  if [ "$ver" = 3 ]; then
    ctd_config_head 3 io.containerd.grpc.v1.cri io.containerd.cri.v1.images io.containerd.cri.v1.runtime \
      "${CTD_UNUSED_PLUGINS_V3[@]}" > "$CTD_DIR/config.toml"
  else
    ctd_config_head 2 io.containerd.grpc.v1.cri "${CTD_UNUSED_PLUGINS_V2[@]}" > "$CTD_DIR/config.toml"
  fi
}

# Start containerd on an existing CTD_DIR (first start or restart).
ctd__launch() {
  local path=$PATH
  # Absolute: containerd resolves the shim binary through PATH from its own working directory.
  [ -n "${SHIM_DIR:-}" ] && path=$(cd "$SHIM_DIR" 2>/dev/null && pwd || echo "$SHIM_DIR"):$PATH
  echo "=== containerd start $(date +%T.%N)" >> "$CTD_LOG"
  PATH=$path containerd --config "$CTD_DIR/config.toml" >> "$CTD_LOG" 2>&1 &
  CTD_PID=$!
  echo "$CTD_PID" > "$CTD_DIR/containerd.pid"
  local i
  for i in $(seq 1 200); do
    if ctr --address "$CTD_SOCK" version >/dev/null 2>&1; then
      return 0
    fi
    if ! kill -0 "$CTD_PID" 2>/dev/null; then
      ctd_log "containerd exited during start; log tail:"; tail -20 "$CTD_LOG" >&2
      return 1
    fi
    sleep 0.1
  done
  ctd_log "containerd did not answer within 20 s; log tail:"; tail -20 "$CTD_LOG" >&2
  return 1
}

# Instances under CTD_TMPBASE whose owner process is gone: clean each up in a subshell as its owner would
# have. An instance whose owner lives (another test running now) is never touched.
ctd_reap_stale() {
  local d owner
  for d in "${CTD_TMPBASE:-/tmp}"/cshim-ctd.*; do
    [ -f "$d/owner.pid" ] && [ -f "$d/ns" ] || continue
    owner=$(cat "$d/owner.pid")
    [ -n "$owner" ] && kill -0 "$owner" 2>/dev/null && continue
    ctd_log "reaping stale instance $d (owner $owner gone)"
    (
      CTD_DIR=$d CTD_ROOT=$d/root CTD_STATE=$d/state CTD_SOCK=$d/containerd.sock CTD_LOG=$d/containerd.log
      CTD_FIFO=$d/fifo CTD_NS=$(cat "$d/ns") CTD_PID=$(cat "$d/containerd.pid" 2>/dev/null || true)
      CTD__SOCKETS=
      ctd_cleanup
    ) || true
  done
}

ctd_start() {
  ctd_reap_stale
  command -v containerd >/dev/null && command -v ctr >/dev/null || { ctd_log "containerd/ctr not installed"; return 1; }
  CTD_DIR=$(mktemp -d "${CTD_TMPBASE:-/tmp}/cshim-ctd.XXXXXX")
  CTD_ROOT=$CTD_DIR/root
  CTD_STATE=$CTD_DIR/state
  CTD_SOCK=$CTD_DIR/containerd.sock
  CTD_LOG=$CTD_DIR/containerd.log
  CTD_FIFO=$CTD_DIR/fifo
  # Lower-case suffix of the temp dir: a valid namespace, unique while the dir exists.
  if [ -z "${CTD_NS:-}" ]; then
    CTD_NS=cshim-$(basename "$CTD_DIR" | cut -d. -f2 | tr 'A-Z' 'a-z')
    CTD__NS_OURS=1   # forgotten at cleanup, so a second ctd_start gets a fresh one
  fi
  CTD__SOCKETS=
  mkdir -p "$CTD_ROOT" "$CTD_STATE" "$CTD_FIFO"
  # The owner (this shell) and namespace, so a later ctd_start can reap this instance if we die uncleanly.
  echo "$$" > "$CTD_DIR/owner.pid"
  echo "$CTD_NS" > "$CTD_DIR/ns"
  export CTD_DIR CTD_ROOT CTD_STATE CTD_SOCK CTD_LOG CTD_FIFO CTD_NS
  ctd__write_config
  ctd__launch
}

# Waits for a pid that may or may not be our child.
ctd__wait_gone() {
  local pid=$1 tries=$2 i
  for i in $(seq 1 "$tries"); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    # A zombie child answers kill -0: reap it if it is ours.
    if [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ]; then wait "$pid" 2>/dev/null || true; return 0; fi
    sleep 0.1
  done
  return 1
}

ctd_stop() {
  [ -n "${CTD_PID:-}" ] || return 0
  if kill -0 "$CTD_PID" 2>/dev/null; then
    kill -TERM "$CTD_PID" 2>/dev/null || true
    if ! ctd__wait_gone "$CTD_PID" $((CTD_STOP_TIMEOUT * 10)); then
      ctd_log "containerd $CTD_PID ignored SIGTERM; SIGKILL"
      kill -KILL "$CTD_PID" 2>/dev/null || true
      ctd__wait_gone "$CTD_PID" 50 || true
    fi
  fi
  wait "$CTD_PID" 2>/dev/null || true
  CTD_PID=
}

# SIGKILL containerd; shims survive (they run in their own sessions). ctd_relaunch starts it again on the
# same dirs; ctd_kill_restart does both.
ctd_kill() {
  kill -KILL "$CTD_PID" 2>/dev/null || true
  ctd__wait_gone "$CTD_PID" 100 || { ctd_log "containerd $CTD_PID survived SIGKILL"; return 1; }
  CTD_PID=
}
ctd_relaunch() { ctd__launch; }
ctd_kill_restart() { ctd_kill && ctd__launch; }

# Processes whose command line names our temp dir: containerd itself and every shim (-address CTD_SOCK).
ctd_pids() {
  local p
  for p in /proc/[0-9]*; do
    [ "${p#/proc/}" = "$$" ] && continue
    tr '\0' ' ' 2>/dev/null < "$p/cmdline" | grep -qF -- "$CTD_DIR" && echo "${p#/proc/}"
  done
  return 0
}

# Shim pids of our instance (optionally of one container id).
ctd_shim_pids() {
  local id=${1:-} p cmd
  for p in $(ctd_pids); do
    cmd=$(tr '\0' ' ' 2>/dev/null < "/proc/$p/cmdline") || continue
    case "$cmd" in
      *containerd-shim*) ;;
      *) continue ;;
    esac
    if [ -z "$id" ] || [[ " $cmd " == *" -id $id "* ]]; then echo "$p"; fi
  done
  return 0
}

# Mount points at or under our temp dir, deepest first.
ctd_mounts() {
  awk -v d="$CTD_DIR" '$5 == d || index($5, d "/") == 1 {print $5}' /proc/self/mountinfo | sort -r
}

# Cgroup dirs created for our namespace (v1: /sys/fs/cgroup/<ctrl>/<ns>, v2: /sys/fs/cgroup/<ns>).
ctd_cgroups() {
  find /sys/fs/cgroup -maxdepth 2 -type d -name "$CTD_NS" 2>/dev/null || true
}

# Record container ids a caller runs, so their shim sockets are found even after the bundle is gone and
# whatever the shim logs (containerd's log names bundles only when the shim logs them).
ctd_track() {
  local id
  for id in "$@"; do echo "$CTD_NS/$id" >> "$CTD_DIR/task-keys"; done
}

# "ns/id" pairs this instance ever ran: tracked ids, bundles left, bundle paths in containerd's log.
ctd__task_keys() {
  {
    cat "$CTD_DIR/task-keys" 2>/dev/null || true
    ls -d "$CTD_STATE"/io.containerd.runtime.v2.task/*/* 2>/dev/null | awk -F/ '{print $(NF-1) "/" $NF}'
    grep -oE 'io\.containerd\.runtime\.v2\.task/[A-Za-z0-9._-]+/[A-Za-z0-9._-]+' "$CTD_LOG" 2>/dev/null \
      | cut -d/ -f2-
  } | sort -u
}

# Shim socket paths this instance may have used, existing or not: sha256(filepath.Join(grpc address, ns,
# id)) as containerd's shim library computes it, plus what a bundle's address file says (a shim may choose
# otherwise). Computed before the temp dir goes, remembered in CTD__SOCKETS for the final check.
ctd__socket_candidates() {
  local key
  for key in $(ctd__task_keys); do
    echo "$CTD_SHIM_SOCKDIR/$(printf '%s' "$CTD_SOCK/$key" | sha256sum | cut -d' ' -f1)"
  done
  cat "$CTD_STATE"/io.containerd.runtime.v2.task/*/*/address 2>/dev/null | sed 's|^unix://||'
  for key in ${CTD__SOCKETS:-}; do echo "$key"; done
  return 0
}

# Those of them that exist.
ctd_shim_sockets() {
  local s
  for s in $(ctd__socket_candidates | sort -u); do [ -e "$s" ] && echo "$s"; done
  return 0
}

# Bundle dir of a task.
ctd_bundle() { echo "$CTD_STATE/io.containerd.runtime.v2.task/$CTD_NS/$1"; }

# Polite removal through containerd while it runs: the shims unmount and delete cgroups themselves.
ctd__remove_all() {
  local id
  for id in $(timeout 10 ctr --address "$CTD_SOCK" -n "$CTD_NS" task ls -q 2>/dev/null); do
    timeout 10 ctr --address "$CTD_SOCK" -n "$CTD_NS" task resume "$id" >/dev/null 2>&1 || true
    timeout 10 ctr --address "$CTD_SOCK" -n "$CTD_NS" task kill -a -s KILL "$id" >/dev/null 2>&1 || true
  done
  for id in $(timeout 10 ctr --address "$CTD_SOCK" -n "$CTD_NS" task ls -q 2>/dev/null); do
    timeout 20 ctr --address "$CTD_SOCK" -n "$CTD_NS" task delete -f "$id" >/dev/null 2>&1 || true
  done
  for id in $(timeout 10 ctr --address "$CTD_SOCK" -n "$CTD_NS" container ls -q 2>/dev/null); do
    timeout 20 ctr --address "$CTD_SOCK" -n "$CTD_NS" container rm "$id" >/dev/null 2>&1 || true
  done
}

# Kill every process in our cgroups (thawing frozen ones first: a frozen task never dies) and remove them.
ctd__remove_cgroups() {
  local cg f i left
  for cg in $(ctd_cgroups); do
    find "$cg" -name freezer.state 2>/dev/null | while read -r f; do echo THAWED > "$f" 2>/dev/null || true; done
    find "$cg" -name cgroup.freeze 2>/dev/null | while read -r f; do echo 0 > "$f" 2>/dev/null || true; done
    find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
  done
  for i in $(seq 1 50); do
    left=0
    for cg in $(ctd_cgroups); do
      find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null || left=1
      [ -d "$cg" ] && left=1
    done
    [ "$left" = 0 ] && return 0
    sleep 0.1
  done
}

# Everything this instance may leave behind, or nothing: prints what is left, returns 1 if anything is.
ctd_leftovers() {
  local bad=0 x
  for x in $(ctd_pids); do echo "leftover process $x: $(tr '\0' ' ' 2>/dev/null < /proc/$x/cmdline)"; bad=1; done
  for x in $(ctd_mounts); do echo "leftover mount $x"; bad=1; done
  for x in $(ctd_cgroups); do echo "leftover cgroup $x"; bad=1; done
  [ -e "$CTD_RUNC_ROOT/$CTD_NS" ] && { echo "leftover runc state $CTD_RUNC_ROOT/$CTD_NS"; bad=1; }
  for x in $(ctd_shim_sockets); do echo "leftover shim socket $x"; bad=1; done
  [ -e "$CTD_DIR" ] && { echo "leftover temp dir $CTD_DIR"; bad=1; }
  return $bad
}

ctd_cleanup() {
  [ -n "${CTD_DIR:-}" ] && [ -d "$CTD_DIR" ] || return 0
  if [ -n "${CTD_PID:-}" ] && kill -0 "$CTD_PID" 2>/dev/null; then
    ctd__remove_all
  fi
  ctd_stop
  # Shims that outlived their tasks or containerd.
  local p s pass
  for p in $(ctd_pids); do kill -KILL "$p" 2>/dev/null || true; done
  # Force-removal by namespace only for a namespace that is ours by name: never the host's "default".
  case "$CTD_NS" in cshim-*) ;; *) ctd_log "namespace $CTD_NS not cshim-*: cgroups/runc state left alone";; esac
  [[ "$CTD_NS" == cshim-* ]] && ctd__remove_cgroups
  # runc state of tasks whose shim never got to delete them.
  if [[ "$CTD_NS" == cshim-* ]] && [ -d "$CTD_RUNC_ROOT/$CTD_NS" ]; then
    for s in "$CTD_RUNC_ROOT/$CTD_NS"/*; do
      [ -e "$s" ] && runc --root "$CTD_RUNC_ROOT/$CTD_NS" delete --force "$(basename "$s")" >/dev/null 2>&1 || true
    done
    rm -rf "${CTD_RUNC_ROOT:?}/$CTD_NS"
  fi
  CTD__SOCKETS=$(ctd__socket_candidates | sort -u)
  for s in $(ctd_shim_sockets); do rm -f "$s"; done
  # Unmount deepest first; a lazy unmount as a last resort so rm -rf never walks into a live mount.
  for pass in 1 2 3; do
    for p in $(ctd_mounts); do umount "$p" 2>/dev/null || [ "$pass" -lt 3 ] || umount -l "$p" 2>/dev/null || true; done
  done
  local keep_log=${CTD_KEEP_LOG:-}
  [ -n "$keep_log" ] && cp "$CTD_LOG" "$keep_log" 2>/dev/null
  if [ -z "$(ctd_mounts)" ]; then rm -rf "$CTD_DIR"; fi
  local out
  out=$(ctd_leftovers) || true
  [ -n "${CTD__NS_OURS:-}" ] && { CTD_NS=; CTD__NS_OURS=; }
  if [ -n "$out" ]; then
    ctd_log "cleanup incomplete:"; echo "$out" >&2
    return 1
  fi
  return 0
}
