#!/usr/bin/env bash
# The whole test suite (the README's test command; CI runs exactly this through .ci/run), as root: installs
# what it needs, builds, runs every stage below and ends with exactly one line
#   tests: N passed, N failed, N skipped
#
# Stages. Each is one line in the list at the bottom; to add one, add a line:
#   stage NAME CMD...             one result: CMD exits 0 = passed, 77 = skipped (its last output line is the
#                                 reason), anything else = failed
#   ctest_stage NAME DIR ARGS...  ctest in build dir DIR (ARGS select: -L/-R): each ctest test is one result
#                                 (CTEST_CMD=... runs ctest through a wrapper, e.g. scripts/test-windows.sh).
#                                 A test that exits 0 but skipped part of itself (cmocka "[  SKIPPED ]", TAP
#                                 "# SKIP") counts as skipped, not passed; ctest's own skips (SKIP_RETURN_CODE)
#                                 too. test/junit-summary.py reads ctest's JUnit file for this.
#   Environment for one stage: prefix it (VAR=value stage ...).
#
# Skips. Every skip is listed with its reason. In CI (CI=true) a skip fails the run (it is counted as failed)
# unless "TEST: REASON" matches a pattern of test/skip-allowed.txt, a short list of host limits, each with
# why. The Go interop test is never on it.
#
# What runs:
#   build (RelWithDebInfo, static shim: scripts/setup.sh's build, what users install) and build-asan
#   (ASan+UBSan, leaks on). The load, fault and security tests (label integration) run against both: the
#   shipped binary is the one their RSS-growth checks judge.
#   plain: unit, integration, e2e (private containerd), interop (Go), fuzz (~60 s)
#   windows: build-windows (scripts/build-windows.sh), its tests under Wine (scripts/test-windows.sh)
#   coverage: a third build (build-cov, --coverage), unit tests only, line coverage of shim/ and runtime/
#   compile: Release and Debug with gcc and with clang, warnings as errors, compile only (build-matrix/)
#   package: lintian on the .deb, and the .deb installed into a fresh Debian 12 chroot running a container
#
# Warnings are errors in every build here (CSHIM_WERROR=ON); a plain configure leaves them warnings.
#
# Host-wide set-up: with CI=true or CSHIM_TEST_HOST_CGROUPS=1, test/lib/cgroup-hybrid.sh binds cgroup2's
# leftover controllers to v1 hierarchies so crun can run containers on a hybrid-cgroup host; undone at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/reroot.sh
[ "$(id -u)" = 0 ] || { echo "test.sh: run as root (containers, cgroups, mounts)" >&2; exit 2; }
scripts/deps.sh
jobs=$(nproc)
log=$(mktemp -d /tmp/cshim-test.XXXXXX)
host_cgroups=0
cleanup() {
  [ "$host_cgroups" = 1 ] && test/lib/cgroup-hybrid.sh unbind || true
  rm -rf "$log"
}
trap cleanup EXIT

n_pass=0 n_fail=0 n_skip=0
failed_list=() skip_list=()

# record STATUS NAME [REASON]
record() {
  case $1 in
    pass) n_pass=$((n_pass + 1)) ;;
    fail) n_fail=$((n_fail + 1)); failed_list+=("$2") ;;
    skip) n_skip=$((n_skip + 1)) ;;
    why) skip_list+=("$2"$'\t'"$3") ;;
  esac
}

stage() {
  local name=$1 rc out=$log/stage.out
  shift
  echo "== $name"
  set +e
  "$@" 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  set -e
  case $rc in
    0) record pass "$name" ;;
    77) record skip "$name"; record why "$name" "$(grep -v '^[[:space:]]*$' "$out" | tail -1)" ;;
    *) record fail "$name (exit $rc)" ;;
  esac
  devnull_check "$name"
}

ctest_stage() {
  local name=$1 dir=$2 xml=$log/$1.xml st t why
  shift 2
  echo "== $name: ctest $*"
  rm -f "$xml"
  "${CTEST_CMD:-ctest}" --test-dir "$dir" --output-on-failure --output-junit "$xml" \
    --test-output-size-passed 4000000 --test-output-size-failed 4000000 "$@" || true
  if [ ! -s "$xml" ]; then record fail "$name: ctest wrote no results"; return; fi
  local res
  if ! res=$(python3 test/junit-summary.py "$xml") || [ -z "$res" ]; then
    record fail "$name: its results ($xml) could not be read"
    return
  fi
  while IFS=$'\t' read -r st t why; do
    record "$st" "$name/$t" "$why"
  done <<<"$res"
  devnull_check "$name"
}

# Compile only, warnings as errors: Release and Debug with gcc and with clang, so a warning of either
# compiler at -O0 or -O3 fails CI, not a user's build. Separate build dirs, kept between runs (incremental).
# The tests' sources are compiled by clang here and by gcc with -Werror in the plain and ASan builds, so the
# gcc builds here leave them out (CSHIM_TESTS=OFF: about a third less to compile).
compile_only() {
  local cc=$1 type=$2 tests=ON
  [ "$cc" = gcc ] && tests=OFF
  CC=$cc cmake -S . -B "build-matrix/$cc-$type" -DCMAKE_BUILD_TYPE="$type" -DCSHIM_WERROR=ON \
    -DCSHIM_TESTS=$tests >/dev/null && cmake --build "build-matrix/$cc-$type" -j"$jobs" >/dev/null
}

# A test that replaces /dev/null (an unlink, then a write that creates a plain file) breaks every later
# stage and the machine itself: find the stage that did it, fail it, and put the device back.
devnull_check() {
  [ -c /dev/null ] && return 0
  record fail "$1: /dev/null is no longer a character device"
  rm -f /dev/null && mknod -m 666 /dev/null c 1 3
}

if [ "${CI:-}" = true ] || [ "${CSHIM_TEST_HOST_CGROUPS:-0}" = 1 ]; then
  host_cgroups=1
  stage "host: cgroup2 controllers bound to v1 (crun)" test/lib/cgroup-hybrid.sh bind
fi

stage "build: plain (RelWithDebInfo, static shim)" \
  sh -c 'cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCSHIM_WERROR=ON >/dev/null && cmake --build build -j"$1"' - "$jobs"
stage "build: ASan+UBSan" sh -c 'cmake -S . -B build-asan -DCSHIM_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DCSHIM_WERROR=ON >/dev/null &&
  cmake --build build-asan -j"$1"' - "$jobs"
for cc in gcc clang; do
  for type in Release Debug; do stage "compile: $cc $type, -Werror" compile_only "$cc" "$type"; done
done
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest_stage asan build-asan -L 'unit|integration'
ctest_stage plain build -L 'unit|integration|e2e|interop|fuzz'
stage "coverage: shim/ and runtime/ (unit tests)" test/coverage.sh build-cov "$jobs"
ctest_stage package build -L package
# Windows: the mingw-w64 build (dependencies cross-built from Debian's sources) and its tests under Wine, in a
# Wine prefix and wineserver of their own (scripts/test-windows.sh runs ctest -L windows there).
stage "build: Windows (mingw-w64, scripts/build-windows.sh)" scripts/build-windows.sh
CTEST_CMD=scripts/test-windows.sh ctest_stage windows build-windows

# Skips in CI: only host limits on the list.
allowed=$(grep -v -e '^#' -e '^[[:space:]]*$' test/skip-allowed.txt | cut -f1 || true)
declare -A moved=()
if [ "${#skip_list[@]}" -gt 0 ]; then
  echo "== skipped:"
  for s in "${skip_list[@]}"; do
    t=${s%%$'\t'*} s="${t}: ${s#*$'\t'}"
    if [ "${CI:-}" = true ] && ! { [ -n "$allowed" ] && grep -qE -e "$allowed" <<<"$s"; }; then
      echo "  NOT ALLOWED IN CI (test/skip-allowed.txt): $s"
      failed_list+=("skip in CI: $s")
      [ -n "${moved[$t]:-}" ] || { moved[$t]=1; n_skip=$((n_skip - 1)); n_fail=$((n_fail + 1)); }
    else
      echo "  $s"
    fi
  done
fi
if [ "${#failed_list[@]}" -gt 0 ]; then
  echo "== failed:"
  printf '  %s\n' "${failed_list[@]}"
fi
echo "tests: $n_pass passed, $n_fail failed, $n_skip skipped"
[ "$n_fail" = 0 ]
