#!/usr/bin/env bash
# build.sh OUTDIR — cross-builds the Windows Go test harness OUTDIR/cshim-wintest.exe (GOOS=windows) in
# GOPATH mode against Debian's packaged sources: containerd 1.6 and ttrpc from /usr/share/gocode, and
# golang.org/x/sys (whose windows/ Debian strips from golang-golang-x-sys-dev) from Debian's SOURCE package
# golang-golang-x-sys, fetched with apt-get source through a sources list of this script's own (the
# machine's apt sources are left as they are). No module proxy, no other download.
#
# Env: CSHIM_XSYS_SRC = an unpacked golang-golang-x-sys source tree to use instead of fetching one.
# Idempotent: the x/sys tree is kept in OUTDIR/xsys, and the .exe is rebuilt only when a source is newer.
set -euo pipefail
out=${1:?usage: build.sh OUTDIR}
src_dir=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
exe=$out/cshim-wintest.exe

command -v go >/dev/null || { echo "wintest: golang-go not installed (scripts/deps.sh)" >&2; exit 2; }
for d in containerd/containerd/runtime/v2/task containerd/ttrpc; do
  [ -d "/usr/share/gocode/src/github.com/$d" ] || { echo "wintest: /usr/share/gocode/src/github.com/$d missing (scripts/deps.sh)" >&2; exit 2; }
done

# --- golang.org/x/sys, the whole tree (windows/ alone fails on internal/unsafeheader) -----------------
xsys=${CSHIM_XSYS_SRC:-}
if [ -z "$xsys" ]; then
  xsys=$(ls -d "$out"/xsys/golang-golang-x-sys-*/ 2>/dev/null | head -1 || true)
  xsys=${xsys%/}
fi
if [ -z "$xsys" ] || [ ! -f "$xsys/windows/syscall_windows.go" ]; then
  command -v dpkg-source >/dev/null || { echo "wintest: dpkg-source missing (dpkg-dev)" >&2; exit 2; }
  apt_dir=$out/xsys/apt
  rm -rf "$out/xsys"
  mkdir -p "$apt_dir/lists/partial"
  # deb-src lines for the machine's own Debian mirrors, from either sources format.
  "$src_dir/../../../scripts/deb-src-list.sh" >"$apt_dir/sources.list"
  apt_opts=(-o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o Dir::Etc::sourceparts=- \
            -o "Dir::State::Lists=$apt_dir/lists" -o Dir::Cache=$apt_dir/cache -o APT::Get::List-Cleanup=0 \
            -o APT::Sandbox::User=root)
  mkdir -p "$apt_dir/cache/archives/partial"
  apt-get "${apt_opts[@]}" -qq update
  ver=$(dpkg-query -W -f='${db:Status-Status} ${source:Version}' golang-golang-x-sys-dev 2>/dev/null |
        awk '$1 == "installed" { print $2 }')
  (cd "$out/xsys" && apt-get "${apt_opts[@]}" -qq source "golang-golang-x-sys${ver:+=$ver}" >/dev/null)
  xsys=$(ls -d "$out"/xsys/golang-golang-x-sys-*/ | head -1)
  xsys=${xsys%/}
  [ -f "$xsys/windows/syscall_windows.go" ] || { echo "wintest: the x/sys source has no windows/" >&2; exit 2; }
fi

# --- build ---------------------------------------------------------------------------------------
if [ -f "$exe" ] && [ -z "$(find "$src_dir/src" "$0" -newer "$exe" -print -quit)" ]; then
  exit 0
fi
gp=$out/gopath
rm -rf "$gp"
mkdir -p "$gp/src/golang.org/x" "$gp/src/cshim"
ln -s "$xsys" "$gp/src/golang.org/x/sys"
cp -r "$src_dir/src" "$gp/src/cshim/wintest"
(cd "$gp/src/cshim/wintest" &&
  GO111MODULE=off GOPROXY=off GOFLAGS= GOOS=windows GOARCH=amd64 CGO_ENABLED=0 \
  GOPATH="$gp:/usr/share/gocode" GOCACHE="$out/.gocache" go build -o "$exe.tmp" .)
mv "$exe.tmp" "$exe"
