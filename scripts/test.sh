#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds twice (plain, and ASan+UBSan), runs every test.
#   sanitizer build (ASan+UBSan, leaks on): unit + integration (real sockets, real runc, the shim itself)
#   plain build (the shipped, static shim):  unit + e2e (private containerd) + interop (Go) + cross
#                                            (mingw-w64) + fuzz (libFuzzer, ~60 s)
# Ends with one line "tests: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/reroot.sh
[ "$(id -u)" = 0 ] || { echo "test.sh: run as root (containers, cgroups, mounts)" >&2; exit 2; }
scripts/deps.sh
jobs=$(nproc)
log=$(mktemp -d /tmp/cshim-test.XXXXXX)
trap 'rm -rf "$log"' EXIT

echo "== build: plain (RelWithDebInfo, static shim) and ASan+UBSan"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
cmake -S . -B build-asan -DCSHIM_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j"$jobs"

rc=0
echo "== sanitizer build (ASan+UBSan): unit + integration"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan -L 'unit|integration' --output-on-failure 2>&1 | tee "$log/asan.txt" || rc=1
echo "== plain build: unit, e2e, interop, cross, fuzz"
ctest --test-dir build -L 'unit|e2e|interop|cross|fuzz' --output-on-failure 2>&1 | tee "$log/plain.txt" || rc=1

# ctest's own summary: "NN% tests passed, F tests failed out of T"
passed=0 failed=0
for f in "$log/asan.txt" "$log/plain.txt"; do
  line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$f" | tail -1 || true)
  if [ -z "$line" ]; then failed=$((failed + 1)); rc=1; continue; fi
  f_n=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
  t_n=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")
  passed=$((passed + t_n - f_n))
  failed=$((failed + f_n))
done
# ---- Windows: the mingw-w64 build and its tests under Wine (label windows) ------------------------------
echo "== Windows: cross-build (scripts/build-windows.sh), tests under Wine (scripts/test-windows.sh)"
if scripts/build-windows.sh >"$log/win-build.txt" 2>&1; then
  scripts/test-windows.sh 2>&1 | tee "$log/windows.txt" || rc=1
else
  tail -n 40 "$log/win-build.txt"
  echo "test-windows: 0 passed, 1 failed (the Windows build failed)" >"$log/windows.txt"
fi
win_line=$(grep -E '^test-windows: [0-9]+ passed, [0-9]+ failed' "$log/windows.txt" | tail -1 || true)
if [[ $win_line =~ ^test-windows:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
  passed=$((passed + BASH_REMATCH[1]))
  failed=$((failed + BASH_REMATCH[2]))
  [ "${BASH_REMATCH[2]}" -eq 0 ] || rc=1
else
  failed=$((failed + 1))
  rc=1
fi
# ---- end Windows ------------------------------------------------------------------------------------------
echo "tests: $passed passed, $failed failed"
exit $rc
