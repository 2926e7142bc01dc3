#!/usr/bin/env bash
# Interop with containerd's Go ttrpc (Debian golang-github-containerd-ttrpc-dev, GOPATH mode, offline):
#   1. Go client  → our server  (ttrpc_interop_server)
#   2. our client → Go server   (ttrpc_interop_client)
# usage: run_interop.sh PATH/ttrpc_interop_server PATH/ttrpc_interop_client
# Exit 77 (ctest: skipped) when Go or the ttrpc sources are not installed; in CI (CI=true) that is a failure
# (exit 1): CI installs both (scripts/deps.sh), so it never skips there.
set -euo pipefail
c_server=$1
c_client=$2
here=$(cd "$(dirname "$0")" && pwd)
gocode=/usr/share/gocode
missing=77
[ "${CI:-}" = true ] && missing=1

command -v go >/dev/null || { echo "go not installed: skipping"; exit $missing; }
[ -d "$gocode/src/github.com/containerd/ttrpc" ] || { echo "containerd ttrpc sources missing: skipping"; exit $missing; }

source "$here/peers.sh" ttrpc-interop

rc=0
echo "== Go client -> C server"
start_server "$tmp/c-server.log" "$c_server" "$tmp/c.sock"
"$tmp/gottrpc" client -socket "$tmp/c.sock" || rc=1
stop_server || { echo "C server did not exit cleanly"; cat "$tmp/c-server.log"; rc=1; }

echo "== C client -> Go server"
start_server "$tmp/go-server.log" "$tmp/gottrpc" server -socket "$tmp/go.sock"
"$c_client" "$tmp/go.sock" || rc=1
stop_server || true   # Go's Serve returns an error for the closed listener; exit status is not the point

exit $rc
