#!/usr/bin/env bash
# Fuzzing: build the libFuzzer targets (test/fuzz/) with clang + ASan + UBSan in build-fuzz/, run each one.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [--long] [TARGET...]
#
# Short run (the default; 20 s per target, about a minute for the three; ctest runs it as `fuzz_short`,
# label fuzz): each target starts from its seed corpus (test/fuzz/corpus/<target>/), copied to a temporary
# working corpus so the repository is never modified. Any crash, leak, timeout or sanitizer report fails
# the run (exit 1); the reproducer and the log stay in the output directory that is printed. Prints, per
# target, the executions, exec/s, corpus growth and peak RSS.
#
# Long campaigns (aim for >= 10^7 executions per target; fuzz_task runs ~1k exec/s per core, fuzz_frame
# a few k, fuzz_envelope ~30k):
#
#   scripts/fuzz.sh 14400 --long                 4 h per target, one job per core
#   FUZZ_JOBS=8 scripts/fuzz.sh 86400 --long fuzz_task
#
#   --long keeps the working corpus between runs in $FUZZ_CORPUS (default build-fuzz/corpus/<target>/,
#   seeded from test/fuzz/corpus/ the first time) and runs libFuzzer with -jobs=N -workers=N
#   (N = $FUZZ_JOBS, default nproc): N independent fuzzing processes sharing that corpus directory, each
#   logging to <out>/<target>/fuzz-<i>.log; the run goes on after a crash in one job (the others keep
#   fuzzing) and fails at the end if any job found one. Extra libFuzzer flags: FUZZ_ARGS="-fork=8
#   -ignore_crashes=1" (fork mode instead of jobs), "-dict=...", etc.
#   Shrink a grown corpus now and then (and before copying new seeds into test/fuzz/corpus/):
#     build-fuzz/test/fuzz/fuzz_task -merge=1 /tmp/min build-fuzz/corpus/fuzz_task
#
# Reproduce a finding: build-fuzz/test/fuzz/<target> <crash-file>   (fuzz_task: FUZZ_TRACE=1 prints every
# reply; any target: FUZZ_LOG=1 shows cshim's log). FUZZ_SKIP_KNOWN=1 skips inputs that hit findings
# already reported (test/fuzz/README.md), for long runs before they are fixed.
#
# Needs clang and libclang-rt-*-dev (scripts/deps.sh installs them). fuzz_task unshares a user + mount
# namespace (it contains the mounts fuzzed Create requests make; test/fuzz/fuzz_sandbox.c).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

seconds=20
long=0
targets=()
for a in "$@"; do
  case "$a" in
    --long) long=1 ;;
    --help|-h) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    fuzz_*) targets+=("$a") ;;
    ''|*[!0-9]*) echo "fuzz.sh: unknown argument: $a" >&2; exit 2 ;;
    *) seconds=$a ;;
  esac
done
[ "${#targets[@]}" -gt 0 ] || targets=(fuzz_envelope fuzz_frame fuzz_task)

# Per-target input size limit: envelopes are small; a frame stream needs room for a few frames; a task
# sequence for a dozen requests.
max_len() {
  case "$1" in
    fuzz_envelope) echo 4096 ;;
    fuzz_frame) echo 32768 ;;
    fuzz_task) echo 8192 ;;
    *) echo 4096 ;;
  esac
}

command -v clang >/dev/null || { echo "fuzz.sh: clang not found (scripts/deps.sh installs it)" >&2; exit 2; }
jobs=$(nproc)
build=build-fuzz

# The libraries are compiled with coverage instrumentation but without libFuzzer's main (fuzzer-no-link);
# the targets add -fsanitize=fuzzer themselves (test/fuzz/CMakeLists.txt). UBSan findings abort, so
# libFuzzer records them like crashes. One configure + build at a time (ctest and a person may both start
# one); runs may overlap.
flags="-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
echo "== configure + build ($build, clang, ASan+UBSan+libFuzzer)"
mkdir -p "$build"
(
  flock 9
  cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCSHIM_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug \
    "-DCMAKE_C_FLAGS=$flags" >"$build/fuzz-configure.log" 2>&1 ||
    { tail -50 "$build/fuzz-configure.log" >&2; echo "fuzz.sh: configure failed" >&2; exit 1; }
  cmake --build "$build" -j"$jobs" --target "${targets[@]}" >"$build/fuzz-build.log" 2>&1 ||
    { tail -50 "$build/fuzz-build.log" >&2; echo "fuzz.sh: build failed" >&2; exit 1; }
) 9>"$build/.fuzz.lock"

out=${FUZZ_OUT:-$(mktemp -d /tmp/cshim-fuzz.XXXXXX)}
mkdir -p "$out"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

rc=0
summary=()
for t in "${targets[@]}"; do
  bin="$build/test/fuzz/$t"
  seeds="$repo/test/fuzz/corpus/$t"
  tdir="$out/$t"
  mkdir -p "$tdir"
  if [ "$long" = 1 ]; then
    corpus=${FUZZ_CORPUS:-$repo/$build/corpus}/$t
    if [ ! -d "$corpus" ]; then mkdir -p "$corpus"; cp "$seeds"/* "$corpus"/ 2>/dev/null || true; fi
    n=${FUZZ_JOBS:-$jobs}
    mode=(-jobs="$n" -workers="$n")
  else
    corpus="$tdir/corpus"
    mkdir -p "$corpus"
    cp "$seeds"/* "$corpus"/ 2>/dev/null || true
    mode=()
  fi
  echo "== $t: ${seconds}s, corpus $corpus"
  before=$(ls "$corpus" | wc -l)
  set +e
  # -jobs mode writes fuzz-<i>.log into the current directory: run from the target's output directory.
  (cd "$tdir" && "$repo/$bin" "${mode[@]}" -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=25 \
     -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$tdir/" ${FUZZ_ARGS:-} "$corpus") \
     >"$tdir/run.log" 2>&1
  status=$?
  set -e
  logs=("$tdir/run.log")
  for l in "$tdir"/fuzz-*.log; do [ -e "$l" ] && logs+=("$l"); done
  execs=0; eps=0; rss=0
  for l in "${logs[@]}"; do
    e=$(sed -n 's/^stat::number_of_executed_units: *//p' "$l" | tail -1)
    s=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$l" | tail -1)
    m=$(sed -n 's/^stat::peak_rss_mb: *//p' "$l" | tail -1)
    execs=$((execs + ${e:-0})); eps=$((eps + ${s:-0})); [ "${m:-0}" -gt "$rss" ] && rss=$m
  done
  after=$(ls "$corpus" | wc -l)
  found=$(ls "$tdir" | grep -E '^(crash|leak|timeout|oom|slow-unit)-' || true)
  sanitizer_report='^(==[0-9]+==ERROR|SUMMARY: (Address|Undefined|Leak)Sanitizer)'
  if [ "$status" != 0 ] || [ -n "$found" ] || grep -qE "$sanitizer_report" "${logs[@]}"; then
    rc=1
    verdict="FAIL"
    echo "   FAIL (exit $status). Reproducers:" $(for f in $found; do echo "$tdir/$f"; done)
    grep -m1 -hE 'ERROR:|invariant failed|runtime error' "${logs[@]}" | sed 's/^/   /' || true
    echo "   log: ${logs[*]}"
  else
    verdict="ok"
  fi
  line=$(printf '%-14s %-4s executions %10d  exec/s %7d  corpus %d -> %d  peak rss %s MB' \
    "$t" "$verdict" "$execs" "$eps" "$before" "$after" "$rss")
  echo "   $line"
  summary+=("$line")
done

echo "== summary (output: $out)"
printf '   %s\n' "${summary[@]}"
if [ "$rc" = 0 ] && [ "$long" = 0 ] && [ -z "${FUZZ_OUT:-}" ]; then rm -rf "$out"; fi
exit $rc
