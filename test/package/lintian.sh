#!/usr/bin/env bash
# lintian on the .deb of this build: no error and no warning (overrides are shipped, each with its reason,
# in packaging/deb/lintian-overrides). Env: CSHIM_BUILD_DIR (ctest sets it).
set -euo pipefail
build=${CSHIM_BUILD_DIR:?CSHIM_BUILD_DIR: the build dir to package}
command -v lintian >/dev/null || { echo "lintian not installed (scripts/deps.sh)" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
(cd "$build" && cpack -G DEB -B "$out") > "$out/cpack.log" 2>&1 || { cat "$out/cpack.log"; exit 1; }
deb=$(ls "$out"/cshim_*.deb)
echo "$(basename "$deb")"
# Root is fine here: lintian only unpacks the package into its own temp dir.
lintian --allow-root --fail-on error,warning "$deb"
echo "lintian: clean"
