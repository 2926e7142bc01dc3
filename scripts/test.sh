#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds twice (plain, and ASan+UBSan), runs every test.
# Warnings are errors here (CSHIM_WERROR=ON); a compile-only matrix (gcc/clang x Release/Debug) and the
# package tests (lintian, the .deb in a fresh Debian 12 chroot) run right after the builds.
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
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCSHIM_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
cmake -S . -B build-asan -DCSHIM_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DCSHIM_WERROR=ON >/dev/null
cmake --build build-asan -j"$jobs"

rc=0
# ---- begin: compile matrix and package (issue 18) ----
# Compile only, warnings as errors: Release and Debug with gcc and with clang, so a warning of either
# compiler at -O0 or -O3 fails CI, not a user's build. Separate build dirs, kept between runs (incremental).
# The tests' sources are compiled by clang here, and by gcc with -Werror in the two builds above (-O2 and
# the ASan -O0), so the gcc builds here leave them out (CSHIM_TESTS=OFF: about a third less to compile).
# One summary line per stage in ctest's format, so each failed build counts as a failed test.
echo "== compile matrix: gcc and clang, Release and Debug, -Werror (no tests run)"
m_fail=0 m_total=0
for cc in gcc clang; do
  for type in Release Debug; do
    d=build-matrix/$cc-$type
    tests=ON
    [ "$cc" = gcc ] && tests=OFF
    m_total=$((m_total + 1))
    if CC=$cc cmake -S . -B "$d" -DCMAKE_BUILD_TYPE="$type" -DCSHIM_WERROR=ON -DCSHIM_TESTS=$tests \
         > "$log/matrix-$cc-$type.log" 2>&1 && cmake --build "$d" -j"$jobs" >> "$log/matrix-$cc-$type.log" 2>&1; then
      echo "  $cc $type: ok"
    else
      echo "  $cc $type: FAILED"; grep -E 'error|warning' "$log/matrix-$cc-$type.log" | head -20
      m_fail=$((m_fail + 1)); rc=1
    fi
  done
done
echo "$(( (m_total - m_fail) * 100 / m_total ))% tests passed, $m_fail tests failed out of $m_total" > "$log/matrix.txt"
echo "== package: lintian, and the .deb in a fresh Debian 12 chroot running a container through containerd"
ctest --test-dir build -L package --output-on-failure 2>&1 | tee "$log/package.txt" || rc=1
# ---- end: compile matrix and package (issue 18) ----
echo "== sanitizer build (ASan+UBSan): unit + integration"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan -L 'unit|integration' --output-on-failure 2>&1 | tee "$log/asan.txt" || rc=1
echo "== plain build: unit, e2e, interop, cross, fuzz"
ctest --test-dir build -L 'unit|e2e|interop|cross|fuzz' --output-on-failure 2>&1 | tee "$log/plain.txt" || rc=1

# ctest's own summary: "NN% tests passed, F tests failed out of T"
passed=0 failed=0
for f in "$log"/*.txt; do
  line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$f" | tail -1 || true)
  if [ -z "$line" ]; then failed=$((failed + 1)); rc=1; continue; fi
  f_n=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
  t_n=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")
  passed=$((passed + t_n - f_n))
  failed=$((failed + f_n))
done
echo "tests: $passed passed, $failed failed"
exit $rc
