#!/usr/bin/env bash
# package-windows.sh [OUT_DIR]: pack the Windows build (scripts/build-windows.sh puts it in build-windows/)
# into cshim_<version>_windows_amd64.zip in OUT_DIR (default build/): the two .exe files and a README (CRLF).
# `cmake --build <build dir> --target package-windows` runs it for that build dir.
# When that build is not there it says so and exits 0: the Windows build is optional on a Linux machine.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build}
win=${CSHIM_WINDOWS_BUILD:-build-windows}
exes=()
for name in containerd-shim-cshim-v2.exe cshimctl.exe; do
  f=$(find "$win" -name "$name" -type f 2>/dev/null | head -1 || true)
  if [ -z "$f" ]; then
    echo "package-windows: skipped: no $name under $win/ (run scripts/build-windows.sh first)"
    exit 0
  fi
  exes+=("$f")
done
# The one place the version is set: project(VERSION) in CMakeLists.txt.
version=$(sed -nE 's/^project\(cshim VERSION ([0-9.]+).*/\1/p' CMakeLists.txt)
[ -n "$version" ] || { echo "package-windows: no project(VERSION) in CMakeLists.txt" >&2; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
base=cshim_${version}_windows_amd64
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/$base"
cp "${exes[@]}" "$stage/$base/"
sed -e "s/@VERSION@/$version/" -e 's/$/\r/' packaging/windows/README.txt > "$stage/$base/README.txt"
rm -f "$out/$base.zip"
# cmake (already needed to build) writes the zip: no zip tool to install.
(cd "$stage" && cmake -E tar cf "$out/$base.zip" --format=zip "$base")
echo "package-windows: $out/$base.zip"
