#!/usr/bin/env bash
# lib.sh — shared by the load, fault and security scripts (test/load, test/faults, test/security).
# Source it, then: st_setup NAME SHIM; st_run DRIVER [ARGS...]; exit with what st_run returned.
#
# st_setup makes a fresh work dir (busybox rootfs, `runc spec` template), a namespace of this run only, and
# an EXIT trap that removes everything the run may have left even if the driver crashed or was killed:
# hanging fake runtimes, shim processes (by pid: their command line names this run's -address), containers
# (runc delete --force in the run's runc root), mounts under the work dir, the shim sockets the driver
# recorded, the run's cgroups, and the work dir.


st_fail_early() {
  echo "not ok 1 - $1"
  echo "1..1"
  echo "0 passed, 1 failed"
  exit 1
}

# st_our_shims [WORK]: pids of shim processes whose command line names WORK/ctd.sock (-address).
st_our_shims() {
  local w=${1:-$ST_WORK} p
  for p in /proc/[0-9]*; do
    [ -r "$p/cmdline" ] || continue
    if tr '\0' '\n' < "$p/cmdline" 2>/dev/null | grep -qxF -- "$w/ctd.sock"; then
      echo "${p#/proc/}"
    fi
  done
}

# st_remove_run WORK NS: everything a run may have left, whatever state it is in.
st_remove_run() {
  local w=$1 ns=$2 p id s d
  for p in $(cat "$w/fake.pids" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
  for p in $(st_our_shims "$w"); do kill -9 "$p" 2>/dev/null; done
  local root=/run/containerd/runc/$ns
  if [ -d "$root" ]; then
    for id in $(ls "$root" 2>/dev/null); do
      timeout 30 runc --root "$root" delete --force "$id" >/dev/null 2>&1
    done
    rmdir "$root" 2>/dev/null
  fi
  # Mounts under the work dir (a rootfs, the tiny tmpfs), deepest first.
  awk -v w="$w" 'index($5, w) == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null
  done
  for s in $(cat "$w/sockets" 2>/dev/null); do
    case "$s" in /run/containerd/s/*) [ -S "$s" ] && rm -f "$s" ;; esac
  done
  for d in /sys/fs/cgroup/*/"$ns" /sys/fs/cgroup/"$ns"; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  rm -rf "$w"
}

st_cleanup() {
  local rc=$?
  set +e
  trap - EXIT
  [ -n "${ST_DRIVER_PID:-}" ] && kill -9 "$ST_DRIVER_PID" 2>/dev/null && wait "$ST_DRIVER_PID" 2>/dev/null
  st_remove_run "$ST_WORK" "$ST_NS"
  exit "$rc"
}

# Runs killed outright (SIGKILL: a ctest timeout) could not clean up: their work dir names its owner, and
# a dir whose owner is gone is removed with everything it lists.
st_reap_stale() {
  local w pid ns
  for w in /tmp/cshim-faults-*.* /tmp/cshim-load.* /tmp/cshim-security.*; do
    [ -f "$w/owner" ] || continue
    read -r pid ns < "$w/owner" || continue
    [ -n "$pid" ] && [ -n "$ns" ] || continue
    kill -0 "$pid" 2>/dev/null && continue
    echo "# removing what an interrupted run left: $w (namespace $ns)"
    st_remove_run "$w" "$ns"
  done
}

# st_setup NAME SHIM
st_setup() {
  local name=$1
  ST_SHIM=$(realpath -m "$2")
  [ "$(id -u)" = 0 ] || st_fail_early "running as root (containers, mounts and uid switches need it)"
  [ -x "$ST_SHIM" ] || st_fail_early "shim binary $ST_SHIM exists (build target containerd-shim-cshim-v2)"
  command -v runc >/dev/null || st_fail_early "runc installed"
  ST_BUSYBOX=/bin/busybox
  file -L "$ST_BUSYBOX" 2>/dev/null | grep -q 'statically linked' ||
    st_fail_early "busybox-static installed ($ST_BUSYBOX statically linked)"
  st_reap_stale
  ST_WORK=$(mktemp -d "/tmp/cshim-$name.XXXXXX")
  ST_NS=cshim-$name-$$
  echo "$$ $ST_NS" > "$ST_WORK/owner"
  trap st_cleanup EXIT
  trap 'exit 130' INT TERM
  local r=$ST_WORK/rootfs a
  mkdir -p "$r"/{bin,dev,proc,sys,etc,tmp,root,run}
  chmod 1777 "$r/tmp"
  cp "$ST_BUSYBOX" "$r/bin/busybox"
  for a in $("$r/bin/busybox" --list); do
    [ "$a" = busybox ] || ln -sf busybox "$r/bin/$a"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$r/etc/passwd"
  runc spec --bundle "$ST_WORK" && mv "$ST_WORK/config.json" "$ST_WORK/spec.json" ||
    st_fail_early "runc spec writes a template"
}

# st_run DRIVER [EXTRA...]: the driver's TAP goes to stdout; returns its exit status.
# Sanitizer reports (a sanitizer build of the driver or of the shim, whose daemon inherits the environment)
# go to files in the work dir; any report fails the run, after the shims of the run have exited (so
# LeakSanitizer has run in them).
st_run() {
  local driver=$1 rc=0 t0=$SECONDS i f
  shift
  [ -x "$driver" ] || st_fail_early "driver $driver built"
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$ST_WORK/sanitizer"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:log_path=$ST_WORK/sanitizer"
  # In the background so that a signal runs the EXIT trap at once (it kills the driver first).
  "$driver" "$ST_SHIM" "$ST_WORK" "$ST_NS" "$@" &
  ST_DRIVER_PID=$!
  wait "$ST_DRIVER_PID" || rc=$?
  ST_DRIVER_PID=
  for ((i = 0; i < 100; i++)); do
    [ -z "$(st_our_shims)" ] && break
    sleep 0.1
  done
  local reports
  reports=$(ls "$ST_WORK"/sanitizer.* 2>/dev/null || true)
  if [ -n "$reports" ]; then
    local pass fail
    read -r pass fail < "$ST_WORK/counts" || { pass=0; fail=0; }
    echo "not ok - sanitizer reports from the driver or the shim"
    for f in $reports; do sed 's/^/#   /' "$f"; done
    echo "$pass passed, $((fail + 1)) failed"
    rc=1
  fi
  echo "# $(basename "$driver"): exit $rc after $((SECONDS - t0)) s"
  return "$rc"
}
