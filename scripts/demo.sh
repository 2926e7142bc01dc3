#!/usr/bin/env bash
# The main job: a busybox container through cshim, driven by a private containerd with ctr, then its
# counters. Run by scripts/setup.sh after the build; needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
export SHIM_DIR=${SHIM_DIR:-$PWD/build/shim}
[ -x "$SHIM_DIR/containerd-shim-cshim-v2" ] || { echo "demo: $SHIM_DIR/containerd-shim-cshim-v2 not built" >&2; exit 1; }
source test/lib/containerd.sh
trap ctd_cleanup EXIT
ctd_start
img=$CTD_DIR/busybox.tar
test/lib/mkimage.sh "$img" >/dev/null
ctd_ctr image import "$img" >/dev/null
R=io.containerd.cshim.v2
IMG=docker.io/library/busybox:cshim
echo "== ctr run --rm --runtime $R busybox: echo"
ctd_ctr run --rm --runtime "$R" "$IMG" demo-echo sh -c 'echo "hello from busybox through cshim ($(uname -sr))"'
echo "== a running container and its counters (ctr task metrics)"
ctd_ctr run -d --runtime "$R" "$IMG" demo-stats sh -c 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; sleep 60' >/dev/null
sleep 1
ctd_ctr task ls
ctd_ctr task metrics demo-stats
ctd_ctr task kill -s KILL demo-stats
sleep 0.5
ctd_ctr task delete demo-stats >/dev/null || true
ctd_ctr container rm demo-stats
echo "== done"
