#!/usr/bin/env bash
# build_gottrpc.sh DIR — build the Go ttrpc peer (gottrpc/main.go) into DIR/gottrpc, offline, in GOPATH mode:
# the program lives in a throwaway GOPATH entry (DIR) and its dependencies come from Debian's gocode.
# Used by the interop test and the ttrpc benchmark.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:?usage: build_gottrpc.sh DIR}
gocode=/usr/share/gocode
mkdir -p "$dir/src/cshim.test/gottrpc"
cp "$here/gottrpc/main.go" "$dir/src/cshim.test/gottrpc/"
cd "$dir"
GO111MODULE=off GOPATH="$dir:$gocode" GOCACHE="$dir/gocache" GOPROXY=off GOFLAGS= GOTOOLCHAIN=local \
  go build -o "$dir/gottrpc" cshim.test/gottrpc
