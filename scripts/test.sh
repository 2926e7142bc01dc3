#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds twice (plain, and ASan+UBSan), runs every test.
#   plain build:      all labels (unit, integration, e2e, interop, cross)
#   sanitizer build:  unit and integration
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "test.sh: run as root (containers, cgroups, mounts)" >&2; exit 2; }
scripts/deps.sh
jobs=$(nproc)

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
cmake -S . -B build-asan -DCSHIM_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j"$jobs"

rc=0
echo "== sanitizer build (ASan+UBSan): unit + integration"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan -L 'unit|integration' --output-on-failure || rc=1
echo "== plain build: everything"
ctest --test-dir build --output-on-failure || rc=1
exit $rc
