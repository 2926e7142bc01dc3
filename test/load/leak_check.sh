#!/usr/bin/env bash
# leak_check.sh RUN_SH LEAKY_SHIM LOAD_SHIM — the RSS-growth checks of load_shim can fail: a shorter load run
# against cshim-leaky-shim (a test-only build that leaks 64 bytes per request, leak_hook.c) must fail both
# of them ("shim RSS after the run ..." and "shim RSS after churn ..."). Everything else may pass or fail.
set -uo pipefail
run_sh=${1:?usage: leak_check.sh RUN_SH LEAKY_SHIM LOAD_SHIM}
out=$(bash "$run_sh" load "$2" "$3" 8 1500 3000 2>&1)
rc=$?
printf '%s\n' "$out" | grep -E '^(not ok|# shim VmRSS)' | sed 's/^/# leaky run: /'
pass=0 fail=0
t() { if eval "$2"; then echo "ok - $1"; pass=$((pass + 1)); else echo "not ok - $1"; fail=$((fail + 1)); fi; }
t "the load run against the leaking shim fails (exit $rc)" '[ "$rc" != 0 ]'
t "its RSS check after the call rounds fails" 'grep -q "^not ok .*shim RSS after the run within" <<<"$out"'
t "its RSS check after connection churn fails" 'grep -q "^not ok .*shim RSS after churn within" <<<"$out"'
t "the shim served the run (clients connected)" 'grep -q "^ok .*clients connected" <<<"$out"'
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
