# peers.sh NAME — sourced by the interop test and the ttrpc bench: a temp dir ($tmp, removed at exit), the
# Go ttrpc peer built into it ($tmp/gottrpc), and TTRPC servers started in the background
# (start_server LOG CMD...) and stopped (stop_server, the last one started; all of them at exit).
# The Go program is built offline in GOPATH mode: it lives in a throwaway GOPATH entry ($tmp) and its
# dependencies come from Debian's gocode.
peers_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/$1-XXXXXX")
pids=()
peers_cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap peers_cleanup EXIT

mkdir -p "$tmp/src/cshim.test/gottrpc"
cp "$peers_dir/gottrpc/main.go" "$tmp/src/cshim.test/gottrpc/"
(cd "$tmp" && GO111MODULE=off GOPATH="$tmp:/usr/share/gocode" GOCACHE="$tmp/gocache" GOPROXY=off GOFLAGS= \
  GOTOOLCHAIN=local go build -o "$tmp/gottrpc" cshim.test/gottrpc)

# Start a server in the background and wait (bounded) for its "ready" line.
start_server() {
  local log=$1; shift
  "$@" >"$log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 500); do
    grep -q ready "$log" 2>/dev/null && return 0
    kill -0 "${pids[-1]}" 2>/dev/null || { echo "server exited: $*"; cat "$log"; return 1; }
    sleep 0.02
  done
  echo "server did not become ready: $*"; cat "$log"; return 1
}

# Stop the last server started; its exit status is returned.
stop_server() {
  local pid=${pids[-1]} rc=0
  kill -TERM "$pid"
  wait "$pid" || rc=$?
  unset 'pids[-1]'
  return $rc
}
