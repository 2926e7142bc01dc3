#!/usr/bin/env bash
# cgroup-hybrid.sh bind|unbind|status — let crun run containers on a hybrid-cgroup host.
#
# On a hybrid host (v1 hierarchies under /sys/fs/cgroup, cgroup2 at /sys/fs/cgroup/unified) crun refuses to
# make cgroups while any controller is still attached to cgroup2 ("cgroups in hybrid mode not supported, drop
# all controllers from cgroupv2"). Controllers no v1 hierarchy took stay on cgroup2 (on Debian 12 with
# systemd's hybrid layout: hugetlb). `bind` mounts a v1 hierarchy for each of them at /sys/fs/cgroup/NAME,
# which moves the controller off cgroup2 (the kernel allows it while cgroup2 does not use it: no
# cgroup.subtree_control enables it).
#
# This changes the whole host, so scripts/test.sh does it only in CI (CI=true) or when asked
# (CSHIM_TEST_HOST_CGROUPS=1), and runs `unbind` at exit: each hierarchy bind mounted is unmounted; the
# kernel destroys a v1 hierarchy once it is unmounted AND has no child cgroups left, and then gives its
# controllers back to cgroup2. If a child cgroup is still there (a container not cleaned up), the controller
# stays on its (now unmounted) v1 hierarchy until that cgroup goes; unbind says so and cannot do more
# (nothing can remove a cgroup of an unmounted hierarchy, short of mounting it again).
#
# Mounts made are listed in /run/cshim-cgroup-hybrid.mounts; a hierarchy someone else mounted is left alone.
set -euo pipefail
state=/run/cshim-cgroup-hybrid.mounts
base=/sys/fs/cgroup

cg2_dir() { awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo; }

# v1 controllers this process is in (from /proc/self/cgroup) that no visible cgroup mount carries: their
# hierarchy was mounted once and unmounted while it still had child cgroups (an earlier run's leftovers, or a
# mount namespace that ended), so the kernel keeps it, invisible. containerd's cgroups library fails every
# cgroup load then ("cannot find cgroup mount destination": runc-v2 has no stats). Mounting the same
# controller set again attaches that hierarchy, so it can be seen and its leftovers removed.
unmounted_v1() {
  local c
  awk -F: '$1 != 0 && $2 != "" && $2 !~ /^name=/ {print $2}' /proc/self/cgroup | while read -r c; do
    awk -v c="$c" '{ for (i = 1; i <= NF; i++) if ($i == "-") break
                     if ($(i+1) != "cgroup") next
                     n = split($(i+3), o, ","); for (j = 1; j <= n; j++) if (o[j] == c) found = 1 }
                   END { exit !found }' /proc/self/mountinfo || echo "$c"
  done
}

# mount_v1 CONTROLLERS: a v1 hierarchy for them at $base/CONTROLLERS, recorded for unbind
mount_v1() {
  local m=$base/$1
  if mountpoint -q "$m"; then echo "cgroup-hybrid: $m already mounted"; return 0; fi
  mkdir -p "$m"
  if ! mount -t cgroup -o "$1" cgroup "$m"; then
    echo "cgroup-hybrid: binding $1 to a v1 hierarchy at $m failed (is it enabled in a cgroup2 subtree_control?)"
    rmdir "$m" 2>/dev/null || true
    return 1
  fi
  echo "$m" >> "$state"
  echo "cgroup-hybrid: $1 bound to a v1 hierarchy at $m"
}

case ${1:-} in
  bind)
    for c in $(unmounted_v1); do
      echo "cgroup-hybrid: $c is on a v1 hierarchy nobody has mounted: mounting it again"
      mount_v1 "$c" || exit 1
    done
    d=$(cg2_dir)
    if [ -z "$d" ]; then echo "cgroup-hybrid: no cgroup2 mounted: nothing to do"; exit 0; fi
    if [ "$d" = "$base" ]; then echo "cgroup-hybrid: unified host (cgroup2 at $base): nothing to do"; exit 0; fi
    ctrls=$(cat "$d/cgroup.controllers")
    if [ -z "$ctrls" ]; then echo "cgroup-hybrid: cgroup2 at $d has no controllers: nothing to do"; exit 0; fi
    for c in $ctrls; do mount_v1 "$c" || exit 1; done
    left=$(cat "$d/cgroup.controllers")
    if [ -n "$left" ]; then echo "cgroup-hybrid: still on cgroup2: $left"; exit 1; fi
    ;;
  unbind)
    [ -f "$state" ] || exit 0
    d=$(cg2_dir)
    while read -r m; do
      c=$(basename "$m")
      # empty child cgroups the runs may have left (deepest first); busy ones stay
      find "$m" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null || true
      # a removed cgroup is freed a little later; unmounted before that, the hierarchy counts it as a child
      # and stays, unmounted (the state unmounted_v1 repairs): wait until only the root is counted
      for _ in $(seq 1 50); do
        [ "$(awk -v c="${c%%,*}" '$1 == c {print $3}' /proc/cgroups)" = 1 ] && break
        sleep 0.1
      done
      umount "$m" 2>/dev/null || umount -l "$m" || true
      rmdir "$m" 2>/dev/null || true
      # the kernel destroys an unmounted, empty hierarchy asynchronously (after an RCU grace period)
      for _ in $(seq 1 50); do
        [ -n "$d" ] && grep -qw "$c" "$d/cgroup.controllers" && break
        sleep 0.1
      done
      if [ -n "$d" ] && grep -qw "$c" "$d/cgroup.controllers"; then
        echo "cgroup-hybrid: $c back on cgroup2"
      else
        echo "cgroup-hybrid: $c stays on its v1 hierarchy until its remaining cgroups go (kernel rule)"
      fi
    done < "$state"
    rm -f "$state"
    ;;
  status)
    d=$(cg2_dir)
    echo "cgroup2: ${d:-none}, controllers: $(cat "${d:-/nonexistent}/cgroup.controllers" 2>/dev/null)"
    cat "$state" 2>/dev/null || true
    ;;
  *) echo "usage: cgroup-hybrid.sh bind|unbind|status" >&2; exit 2 ;;
esac
