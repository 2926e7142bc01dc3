#!/usr/bin/env bash
# mkpause.sh PAUSE_BIN OUT.tar NAME — an OCI image-layout tarball whose one layer holds PAUSE_BIN as /pause
# and whose entrypoint is /pause: the CRI plugin's sandbox_image, imported with ctr (no registry).
# As test/lib/mkimage.sh: the index entry carries io.containerd.image.name (containerd 1.6 `ctr image import`
# names the image after it) and the host platform (import skips manifests of other platforms).
set -euo pipefail
bin=${1:?usage: mkpause.sh PAUSE_BIN OUT.tar NAME}
out=${2:?usage: mkpause.sh PAUSE_BIN OUT.tar NAME}
name=${3:?usage: mkpause.sh PAUSE_BIN OUT.tar NAME}
[ -x "$bin" ] || { echo "mkpause: $bin is not an executable (build target cri_pause)" >&2; exit 1; }
file -L "$bin" | grep -q 'statically linked' || { echo "mkpause: $bin is not statically linked" >&2; exit 1; }

case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64) arch=arm64 ;;
  *) arch=$(uname -m) ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/rootfs" "$work/oci/blobs/sha256"
install -m 0755 "$bin" "$work/rootfs/pause"
blobs=$work/oci/blobs/sha256
# Same bytes on every run: no mtimes, owners or ordering noise in the layer.
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work/rootfs" -cf "$work/layer.tar" .

# put FILE: moves FILE into the blob store, prints "sha size".
put() {
  local sha
  sha=$(sha256sum "$1" | cut -d' ' -f1)
  mv "$1" "$blobs/$sha"
  echo "$sha $(stat -c %s "$blobs/$sha")"
}
read -r layer_sha layer_size < <(put "$work/layer.tar")
cat > "$work/config.json" <<JSON
{"architecture":"$arch","os":"linux","config":{"Entrypoint":["/pause"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:$layer_sha"]},"history":[{"created_by":"test/cri/mkpause.sh"}]}
JSON
read -r cfg_sha cfg_size < <(put "$work/config.json")
cat > "$work/manifest.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:$cfg_sha","size":$cfg_size},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:$layer_sha","size":$layer_size}]}
JSON
read -r man_sha man_size < <(put "$work/manifest.json")
cat > "$work/oci/index.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:$man_sha","size":$man_size,"platform":{"architecture":"$arch","os":"linux"},"annotations":{"io.containerd.image.name":"$name","org.opencontainers.image.ref.name":"${name##*:}"}}]}
JSON
echo '{"imageLayoutVersion":"1.0.0"}' > "$work/oci/oci-layout"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work/oci" -cf "$work/out.tar" oci-layout index.json blobs
mv "$work/out.tar" "$out"
