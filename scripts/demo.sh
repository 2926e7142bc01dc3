#!/usr/bin/env bash
# The main job: a busybox container through cshim with cshimctl (no containerd needed), then a running
# one's counters fed by the shim's push stream. Run by scripts/setup.sh after the build; needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
ctl=${CSHIMCTL:-$PWD/build/cli/cshimctl}
[ -x "$ctl" ] || { echo "demo: $ctl not built" >&2; exit 1; }
work=$(mktemp -d /tmp/cshim-demo.XXXXXX)
id=demo-$$
cleanup() {
  "$ctl" rm -f "$id" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# A busybox root filesystem from Debian's busybox-static.
rootfs=$work/rootfs
mkdir -p "$rootfs"/{bin,dev,proc,sys,tmp,etc,root}
cp /bin/busybox "$rootfs/bin/busybox"
for a in $("$rootfs/bin/busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$rootfs/bin/$a"; done

echo "== cshimctl run --rm: busybox through containerd-shim-cshim-v2"
"$ctl" run --rm --rootfs "$rootfs" -- sh -c 'echo "hello from busybox $(busybox | head -1 | cut -d" " -f2) in a container (pid $$, $(uname -sr))"'

echo "== a running container's counters (cshimctl stats, from the shim's Watch stream)"
"$ctl" run -d --id "$id" --memory 64m --rootfs "$rootfs" -- sh -c 'while :; do :; done' >/dev/null
"$ctl" ps
"$ctl" stats "$id" --watch --count 3 --interval 1s
"$ctl" rm -f "$id"
echo "== done"
