#!/usr/bin/env bash
# lib.sh — shared by the load, fault and security scripts (test/load, test/faults, test/security).
# Source it, then: st_setup NAME SHIM; st_run DRIVER [ARGS...]; exit with what st_run returned.
#
# st_setup makes a fresh work dir (busybox rootfs, `runc spec` template), a namespace of this run only, and
# an EXIT trap that removes everything the run may have left even if the driver crashed or was killed:
# hanging fake runtimes, shim processes (by pid: their command line names this run's -address), containers
# (runc delete --force in the run's runc root), mounts under the work dir, the shim sockets the driver
# recorded, the run's cgroups, and the work dir.

ST_PASS=0
ST_FAIL=0

st_fail_early() {
  echo "not ok 1 - $1"
  echo "1..1"
  echo "0 passed, 1 failed"
  exit 1
}

st_our_shims() {
  local p
  for p in /proc/[0-9]*; do
    [ -r "$p/cmdline" ] || continue
    if tr '\0' '\n' < "$p/cmdline" 2>/dev/null | grep -qxF -- "$ST_WORK/ctd.sock"; then
      echo "${p#/proc/}"
    fi
  done
}

st_cleanup() {
  local rc=$? p id s d
  set +e
  trap - EXIT
  for p in $(cat "$ST_WORK/fake.pids" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
  for p in $(st_our_shims); do kill -9 "$p" 2>/dev/null; done
  local root=/run/containerd/runc/$ST_NS
  if [ -d "$root" ]; then
    for id in $(ls "$root" 2>/dev/null); do
      timeout 30 runc --root "$root" delete --force "$id" >/dev/null 2>&1
    done
    rmdir "$root" 2>/dev/null
  fi
  # Mounts under the work dir (a rootfs, the tiny tmpfs), deepest first.
  awk -v w="$ST_WORK" 'index($5, w) == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null
  done
  for s in $(cat "$ST_WORK/sockets" 2>/dev/null); do
    case "$s" in /run/containerd/s/*) [ -S "$s" ] && rm -f "$s" ;; esac
  done
  for d in /sys/fs/cgroup/*/"$ST_NS" /sys/fs/cgroup/"$ST_NS"; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  rm -rf "$ST_WORK"
  exit "$rc"
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
  ST_WORK=$(mktemp -d "/tmp/cshim-$name.XXXXXX")
  ST_NS=cshim-$name-$$
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
st_run() {
  local driver=$1 rc=0 t0=$SECONDS
  shift
  [ -x "$driver" ] || st_fail_early "driver $driver built"
  "$driver" "$ST_SHIM" "$ST_WORK" "$ST_NS" "$@" || rc=$?
  echo "# $(basename "$driver"): exit $rc after $((SECONDS - t0)) s"
  return "$rc"
}
