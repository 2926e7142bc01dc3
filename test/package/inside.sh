#!/usr/bin/env bash
# Runs in the fresh Debian 12 chroot of run.sh (as root, env -i, CTD_NS set): installs the package as a
# node operator would, merges the packaged snippets into containerd's config as the package's README says,
# and runs a busybox container through containerd with runtime io.containerd.cshim.v2.
set -euo pipefail
cd /root/cshim-test
# "/" of a chroot is no mount point, which runc cannot work with: re-run this script re-rooted.
source ./reroot.sh

export DEBIAN_FRONTEND=noninteractive
# A chroot runs no init: packages must not try to start their services.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
chmod +x /usr/sbin/policy-rc.d
deb=$(ls ./cshim_*.deb)
echo "== apt-get install $deb containerd busybox-static"
apt-get update -qq
apt-get install -y -qq --no-install-recommends "$deb" containerd busybox-static > apt.log 2>&1 \
  || { tail -30 apt.log; exit 1; }
dpkg-query -W -f='${Package} ${Version} ${Status}\n' cshim runc containerd

fail() { echo "package test: FAILED: $*" >&2; exit 1; }
for f in /usr/bin/containerd-shim-cshim-v2 /usr/bin/cshimctl /usr/share/doc/cshim/copyright \
         /usr/share/doc/cshim/README /usr/share/man/man1/cshimctl.1.gz \
         /usr/share/man/man1/containerd-shim-cshim-v2.1.gz; do
  [ -e "$f" ] || fail "$f not installed"
done
# -v in containerd's form, with the commit this was built from (a hash, also in a `git archive` tree).
for v in "$(containerd-shim-cshim-v2 -v)" "$(cshimctl version)"; do
  echo "$v"
  grep -qE '^  Version:  [0-9]+\.[0-9]+\.[0-9]+$' <<<"$v" || fail "no version line"
  grep -qE '^  Revision: [0-9a-f]{40}(-dirty)?$' <<<"$v" || fail "no commit in the revision line"
done

echo "== merge the snippets into /etc/containerd/config.toml (as /usr/share/doc/cshim/README says)"
ex=/usr/share/doc/cshim/examples
cat "$ex/containerd-cri-runtime-cshim.toml" "$ex/containerd-cri-default-runtime.toml" >> /etc/containerd/config.toml
containerd --config /etc/containerd/config.toml config dump > config-dump.toml 2> config-dump.err \
  || { cat config-dump.err; fail "containerd does not accept the merged config"; }
grep -q 'runtime_type = "io.containerd.cshim.v2"' config-dump.toml || fail "cshim runtime not in the config"
grep -q 'bin_dir = "/usr/lib/cni"' config-dump.toml || fail "Debian's CNI bin_dir was lost"

# containerd.sh's private instance, on Debian's merged config: only root, state and sockets are the
# instance's own (the top-level keys go before the first table).
source ./containerd.sh
ctd__write_config() {
  {
    printf 'root = "%s"\nstate = "%s"\n' "$CTD_ROOT" "$CTD_STATE"
    cat /etc/containerd/config.toml
    printf '\n[grpc]\n  address = "%s"\n[ttrpc]\n  address = "%s.ttrpc"\n' "$CTD_SOCK" "$CTD_SOCK"
    printf '[debug]\n  address = "%s/debug.sock"\n  level = "info"\n' "$CTD_DIR"
  } > "$CTD_DIR/config.toml"
}
trap 'ctd_cleanup || true' EXIT
ctd_start || fail "containerd did not start"
cri=$(ctd_ctr plugins ls | awk '$1 == "io.containerd.grpc.v1" && $2 == "cri" {print $NF}')
[ "$cri" = ok ] || { tail -30 "$CTD_LOG"; fail "the CRI plugin did not load with the merged config ($cri)"; }
line=$(grep -m1 'Start cri plugin with config' "$CTD_LOG" || true)
[[ "$line" == *"DefaultRuntimeName:cshim"* ]] || fail "CRI's default runtime is not cshim"
[[ "$line" == *"cshim:{Type:io.containerd.cshim.v2"* ]] || fail "CRI has no cshim runtime handler"
[[ "$line" == *"NetworkPluginBinDir:/usr/lib/cni"* ]] || fail "CRI lost Debian's CNI bin_dir"
echo "CRI: default runtime cshim (io.containerd.cshim.v2), CNI bin_dir /usr/lib/cni"

echo "== ctr run --rm --runtime io.containerd.cshim.v2 busybox echo hello"
bash ./mkimage.sh image.tar docker.io/library/busybox:cshim
ctd_ctr image import image.tar > /dev/null
ctd_track hello
out=$(ctd_ctr run --rm --runtime io.containerd.cshim.v2 docker.io/library/busybox:cshim hello echo hello) \
  || { tail -30 "$CTD_LOG"; fail "ctr run failed"; }
[ "$out" = hello ] || fail "ctr run printed '$out', not 'hello'"
echo "$out"
trap - EXIT
ctd_cleanup || fail "cleanup left something behind"
echo "== the package works"
