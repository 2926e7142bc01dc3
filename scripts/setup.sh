#!/usr/bin/env bash
# One command for a fresh Debian 12 machine (as root): install what cshim needs, build it, install the shim
# on PATH (/usr/local/bin, where containerd finds containerd-shim-cshim-v2), and run the main job.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/reroot.sh
[ "$(id -u)" = 0 ] || { echo "setup.sh: run as root" >&2; exit 2; }
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
cmake --install build >/dev/null
exec scripts/demo.sh
