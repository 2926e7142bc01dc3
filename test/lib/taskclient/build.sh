#!/usr/bin/env bash
# build.sh OUT_BINARY [SRC_DIR] — builds a Go test client (default: the task client beside this file; SRC_DIR
# names another, e.g. ../ctdclient) in GOPATH mode against Debian's packaged sources (/usr/share/gocode:
# containerd 1.6, ttrpc, typeurl, cgroups, runtime-spec). No module proxy, no network.
# Reuses OUT_BINARY if it is newer than every .go file of SRC_DIR.
set -euo pipefail
out=${1:?usage: build.sh OUT_BINARY [SRC_DIR]}
src_dir=$(cd "${2:-$(dirname "$0")}" && pwd)
name=$(basename "$src_dir")
command -v go >/dev/null || { echo "$name: golang-go not installed" >&2; exit 1; }
[ -d /usr/share/gocode/src/github.com/containerd/containerd/runtime/v2/task ] \
  || { echo "$name: golang-github-containerd-containerd-dev not installed" >&2; exit 1; }
fresh=1
for f in "$src_dir"/*.go; do [ -x "$out" ] && [ "$out" -nt "$f" ] || fresh=0; done
[ "$fresh" = 1 ] && exit 0

# GOPATH mode wants the package inside a GOPATH src tree: a temp GOPATH holding a copy of main.go first,
# Debian's tree second. The build cache lives beside the binary so rebuilds are quick.
gp=$(mktemp -d)
trap 'rm -rf "$gp"' EXIT
mkdir -p "$gp/src/cshim/$name" "$(dirname "$out")"
cp "$src_dir"/*.go "$gp/src/cshim/$name/"
cache=${GOCACHE_DIR:-$(dirname "$out")/.gocache}
(cd "$gp/src/cshim/$name" &&
  GO111MODULE=off GOPROXY=off GOFLAGS= GOPATH="$gp:/usr/share/gocode" GOCACHE="$cache" \
    go build -o "$out.tmp" .)
mv "$out.tmp" "$out"
