#!/usr/bin/env bash
# ctd21.sh [t_NAME.sh ...] — the e2e suite (run.sh) against Debian sid's containerd 2.1, fetched and unpacked
# by test/lib/containerd2.sh (cached; never installed), driven with a version 3 config. The shim is run
# with the BootstrapVersion = 3 opt-in where t_bootstrap.sh does not choose itself (E2E_RUNTIME_CONFIG), so
# containerd 2.1 talks containerd.task.v3.Task to it throughout.
#   CSHIM_CTD2_DIR  cache dir (default: /var/cache/cshim/containerd2)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rc=0
bin=$("$here/../lib/containerd2.sh") || rc=$?
if [ "$rc" != 0 ]; then
  case $rc in
    3) echo "not ok - containerd 2.1 for the e2e suite: Debian sid no longer has the pinned version (see above)" ;;
    *) echo "not ok - containerd 2.1 for the e2e suite: fetching sid's package failed (exit $rc, see above)" ;;
  esac
  echo "0 passed, 1 failed"
  exit 1
fi
export CTD_BIN_DIR=$bin CTD_CONFIG_VERSION=3
cfg=$(mktemp /tmp/cshim-ctd21-XXXXXX.toml)
trap 'rm -f "$cfg"' EXIT
printf '# cshim runtime config for containerd 2.x: bootstrap version 3, task API v3\nBootstrapVersion = 3\n' > "$cfg"
[ "${RUNTIME:-io.containerd.cshim.v2}" = io.containerd.cshim.v2 ] && export E2E_RUNTIME_CONFIG=$cfg
echo "# e2e against $("$bin/containerd" --version)"
"$here/run.sh" "$@"
