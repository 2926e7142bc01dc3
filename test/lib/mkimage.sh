#!/usr/bin/env bash
# mkimage.sh OUT.tar [NAME]
# Builds an OCI image-layout tarball holding one uncompressed layer with busybox-static, with no network.
# containerd 1.6 `ctr image import` names an image after the index entry's `io.containerd.image.name`
# annotation (falling back to `org.opencontainers.image.ref.name` + a generated prefix), and only imports
# manifests whose index descriptor platform matches the host, so both are set here.
set -euo pipefail

out=${1:?usage: mkimage.sh OUT.tar [NAME]}
name=${2:-docker.io/library/busybox:cshim}
bb=$(command -v busybox || true)
[ -n "$bb" ] && file -L "$bb" 2>/dev/null | grep -q 'statically linked' || bb=/bin/busybox
[ -x "$bb" ] || { echo "mkimage: busybox-static not installed (apt-get install busybox-static)" >&2; exit 1; }

arch=$(uname -m)
case "$arch" in
  x86_64) arch=amd64 ;;
  aarch64) arch=arm64 ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root"/{bin,dev,proc,sys,etc,tmp,root,var,run}
chmod 1777 "$root/tmp"
cp "$bb" "$root/bin/busybox"
# Every applet this busybox has, plus the ones the tests name explicitly (fail early if one is missing).
for a in $("$root/bin/busybox" --list) sh echo sleep cat dd true false ping nc top yes stty ls ps kill; do
  [ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"
done
# grep without -q reads the whole list: busybox writes one line at a time, and a grep -q that quits at
# "nc" would kill it with SIGPIPE, failing the pipe (pipefail) now and then.
"$root/bin/busybox" --list | grep -x nc >/dev/null || { echo "mkimage: busybox lacks nc" >&2; exit 1; }
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$root/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' > "$root/etc/group"

blobs=$work/oci/blobs/sha256
mkdir -p "$blobs"
# Deterministic layer: same bytes → same digest on every run (no mtimes, owners or ordering noise).
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$root" -cf "$work/layer.tar" .
layer_sha=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
layer_size=$(stat -c %s "$work/layer.tar")
mv "$work/layer.tar" "$blobs/$layer_sha"

# Writes stdin to a blob and prints "sha size".
put_blob() {
  local tmp=$work/blob.tmp sha
  cat > "$tmp"
  sha=$(sha256sum "$tmp" | cut -d' ' -f1)
  mv "$tmp" "$blobs/$sha"
  echo "$sha $(stat -c %s "$blobs/$sha")"
}

read -r cfg_sha cfg_size < <(put_blob <<JSON
{"architecture":"$arch","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:$layer_sha"]},"history":[{"created_by":"test/lib/mkimage.sh"}]}
JSON
)
read -r man_sha man_size < <(put_blob <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:$cfg_sha","size":$cfg_size},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:$layer_sha","size":$layer_size}]}
JSON
)
tag=${name##*:}
cat > "$work/oci/index.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:$man_sha","size":$man_size,"platform":{"architecture":"$arch","os":"linux"},"annotations":{"io.containerd.image.name":"$name","org.opencontainers.image.ref.name":"$tag"}}]}
JSON
echo '{"imageLayoutVersion":"1.0.0"}' > "$work/oci/oci-layout"

tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work/oci" -cf "$work/out.tar" oci-layout index.json blobs
mv "$work/out.tar" "$out"
