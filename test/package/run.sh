#!/usr/bin/env bash
# The Debian package on a fresh Debian 12: makes the .deb from this build (cpack), installs it with apt into
# a new debootstrap chroot (minbase bookworm; the base is debootstrapped once and cached in /var/tmp, as
# ../shared/tools/fresh-check does) together with containerd and busybox-static, and runs a busybox
# container through containerd with runtime io.containerd.cshim.v2, containerd's config being Debian's
# with the packaged CRI snippets merged in as the package's README says (inside.sh does that part).
#
# Everything runs in a mount and pid namespace of our own: the chroot's mounts (proc, sys, dev, run, the
# apt cache) and every process in it (containerd, shims, containers) go when the test ends, however it
# ends. Cgroups are not namespaced: the container's namespace cgroups are removed here if inside.sh could
# not. Works inside a chroot too (CI under fresh-check): inside.sh re-roots itself with scripts/reroot.sh.
# Env: CSHIM_BUILD_DIR (the build dir; ctest sets it). Needs root, network (the Debian mirror), debootstrap.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${CSHIM_BUILD_DIR:?CSHIM_BUILD_DIR: the build dir to package}
[ "$(id -u)" = 0 ] || { echo "package test: needs root" >&2; exit 1; }
for t in debootstrap unshare chroot cpack; do
  command -v "$t" >/dev/null || { echo "package test: $t missing (scripts/deps.sh)" >&2; exit 1; }
done

work=$(mktemp -d /var/tmp/cshim-pkg.XXXXXX)
ns=cshim-pkg-$(basename "$work" | cut -d. -f2 | tr 'A-Z' 'a-z')
root=$work/root

# The container's cgroups (<controller>/<ns>/...), if inside.sh's cleanup did not get to them. The
# processes in them are gone with the pid namespace; an emptied cgroup may take a moment to be removable.
remove_cgroups() {
  local i left
  for i in $(seq 1 50); do
    left=0
    while read -r d; do
      find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || left=1
    done < <(find /sys/fs/cgroup -maxdepth 2 -type d -name "$ns" 2>/dev/null)
    [ "$left" = 0 ] && return 0
    sleep 0.1
  done
  echo "package test: cgroups of $ns left behind" >&2
  return 1
}
cleanup() {
  local rc=$?
  remove_cgroups || rc=1
  # Nothing can be mounted under $work out here (the mounts were made in the namespace), but never let
  # rm walk into a mount.
  if grep -qF " $work" /proc/self/mountinfo; then
    echo "package test: mounts left under $work; not removing it" >&2
    rc=1
  else
    rm -rf --one-file-system "$work"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 143' TERM INT   # so the cleanup runs when ctest's timeout stops us

echo "== cpack -G DEB"
(cd "$build" && cpack -G DEB -B "$work/deb") > "$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; exit 1; }
deb=$(ls "$work"/deb/cshim_*.deb)
echo "$(basename "$deb")"

# The cached base: our own, else fresh-check's (the same debootstrap), else a new debootstrap.
base=/var/tmp/cshim-pkg-base
exec 9>/var/tmp/cshim-pkg-base.lock
flock 9
if [ ! -f "$base/.ok" ]; then
  rm -rf --one-file-system "$base" "$base.tmp"
  if [ -f /var/tmp/fresh-check-base/.ok ]; then
    echo "== base: a copy of /var/tmp/fresh-check-base"
    cp -a /var/tmp/fresh-check-base "$base.tmp"
  else
    mirror=$(grep -rhoE '^(deb|URIs:) *\S+' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
             | awk '{print $NF}' | grep -v security | head -1 || true)
    echo "== base: debootstrap --variant=minbase bookworm ${mirror:-(default mirror)} (once, cached in $base)"
    # In a mount namespace of its own: the proc and sys it mounts in the target cannot outlive it.
    unshare --mount --propagation private \
      debootstrap --variant=minbase bookworm "$base.tmp" ${mirror:+"$mirror"} > "$work/debootstrap.log" 2>&1 \
      || { tail -30 "$work/debootstrap.log"; exit 1; }
  fi
  mv "$base.tmp" "$base"
  touch "$base/.ok"
fi
cp -a "$base/." "$root/"
flock -u 9
rm -f "$root/.ok"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
# Downloaded .debs are kept between runs (bind-mounted as the chroot's apt archive).
apt_cache=/var/tmp/cshim-pkg-apt-cache
mkdir -p "$apt_cache/partial"

t=$root/root/cshim-test
mkdir -p "$t"
cp "$deb" "$here/inside.sh" "$src/scripts/reroot.sh" "$src/test/lib/containerd.sh" "$src/test/lib/mkimage.sh" "$t/"

echo "== in a fresh Debian 12 chroot: apt-get install ./$(basename "$deb") containerd busybox-static; ctr run"
# pid namespace: when its first process (the shell below) exits, the kernel kills every process left in
# it; --kill-child kills that shell if unshare itself is killed. Mount namespace, private: the mounts below never reach the host and vanish with the namespace.
unshare --mount --propagation private --pid --fork --kill-child /bin/bash -euc '
  root=$1 apt_cache=$2 ns=$3
  mount -t proc proc "$root/proc"
  mount --rbind /sys "$root/sys"
  mount --rbind /dev "$root/dev"
  mount -t tmpfs tmpfs "$root/run"
  mount --bind "$apt_cache" "$root/var/cache/apt/archives"
  # env -i: nothing of ours leaks in (CSHIM_REROOTED of an outer re-root above all).
  chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    CTD_NS="$ns" /bin/bash /root/cshim-test/inside.sh
' package-test "$root" "$apt_cache" "$ns" < /dev/null
echo "package test: passed"
