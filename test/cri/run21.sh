#!/usr/bin/env bash
# run21.sh — the CRI test (run.sh) against Debian sid's containerd 2.1 (test/lib/containerd2.sh: fetched and
# unpacked, never installed), config version 3, with runc beside two cshim handlers: `cshim` (containerd's
# own pod controller: a pause container, cshim runs the containers) and `cshim-shim` (`sandboxer = "shim"`:
# the shim owns the pod through its Sandbox API). Its own bridge and subnet, so it never meets e2e_cri's.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rc=0
bin=$("$here/../lib/containerd2.sh") || rc=$?
if [ "$rc" != 0 ]; then
  echo "not ok - containerd 2.1 for the CRI test: fetching sid's package failed (exit $rc, see above)"
  echo "0 passed, 1 failed"
  exit 1
fi
export CRI_CONTAINERD_DIR=$bin CRI_CONFIG_VERSION=3 CRI_HANDLERS="runc cshim cshim-shim"
export CRI_BRIDGE=${CRI_BRIDGE:-cshimcri21} CRI_SUBNET=${CRI_SUBNET:-10.231.97.0/24}
exec "$here/run.sh" "$@"
