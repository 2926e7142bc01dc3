#!/usr/bin/env bash
# run.sh NAME SHIM DRIVER [ARGS...] — one load/fault/security driver against the shim, as root.
# TAP on stdout ending in "N passed, M failed"; exits non-zero if anything failed. The EXIT trap (lib.sh)
# removes shims, containers, mounts, sockets, cgroups and the work dir whatever happened.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

name=${1:?usage: run.sh NAME SHIM DRIVER [ARGS...]}
shim=${2:?usage: run.sh NAME SHIM DRIVER [ARGS...]}
driver=${3:?usage: run.sh NAME SHIM DRIVER [ARGS...]}
shift 3

st_setup "$name" "$shim"
# The misbehaving OCI runtime lives in the work dir: it records the pids of its hanging instances there.
install -m 0755 "$here/fake-runc.sh" "$ST_WORK/fake-runc"
rc=0
st_run "$driver" "$@" || rc=$?
exit "$rc"
