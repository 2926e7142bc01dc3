#!/usr/bin/env bash
# lib_extra.sh — what the Task API / counters e2e scripts need beyond lib.sh. Source it after lib.sh.
#
#   e2e_on_exit CMD        run CMD (eval'd, failures ignored) when the script exits, before lib.sh's
#                          e2e_finish cleans containerd up; the last registered runs first. Call after e2e_setup.
#   metrics_json ID        `ctr task metrics --format json ID`: the decoded cgroups Metrics, as containerd sees it
#   jget PATH              read JSON on stdin, print the number at PATH (0 if absent: protobuf's JSON omits
#                          zeros). PATH: dot-separated keys; a list step [k=v,k2=v2] sums over matching elements,
#                          e.g. blkio.io_service_bytes_recursive[op=Write,major=7].value
#   mval ID PATH           jget PATH of metrics_json ID; empty (never a failure) if the metrics do not come
#   e2e_tool NAME          path of a helper built with the tree (test/e2e-tools), beside SHIM_DIR's build
#   shim_rss_kb PID        VmRSS of a process in KiB
#   cshim_only NAME WHAT   true under cshim; under another runtime (RUNTIME=io.containerd.runc.v2 validates the
#                          harness) prints "ok - NAME # SKIP <runtime> has no WHAT" and is false, so a check of a
#                          cshim-only feature reads: if cshim_only NAME WHAT; then <the check>; fi

E2E_ON_EXIT=()

e2e__extra_finish() {
  local rc=$? c
  set +e
  for c in "${E2E_ON_EXIT[@]}"; do eval "$c" >/dev/null 2>&1; done
  # e2e_finish reads the script's exit status from $?: hand it the original one.
  e2e__return "$rc"
  e2e_finish
}
e2e__return() { return "$1"; }

e2e_on_exit() {
  E2E_ON_EXIT=("$*" "${E2E_ON_EXIT[@]}")
  trap e2e__extra_finish EXIT
}

metrics_json() { ctd_ctr task metrics --format json "$1"; }

jget() {
  python3 -c '
import json, re, sys
path = sys.argv[1]
try:
    data = json.load(sys.stdin)
except ValueError:
    sys.exit(1)
def walk(node, steps):
    if not steps:
        return node if isinstance(node, (int, float)) else 0
    step, rest = steps[0], steps[1:]
    m = re.fullmatch(r"(\w+)\[(.*)\]", step)
    if m:
        items = node.get(m.group(1)) if isinstance(node, dict) else None
        conds = [c.split("=", 1) for c in m.group(2).split(",") if c]
        total = 0
        for it in items or []:
            if all(str(it.get(k, 0)) == v for k, v in conds):
                total += walk(it, rest)
        return total
    return walk(node.get(step), rest) if isinstance(node, dict) else 0
print(int(walk(data, path.split("."))))
' "$1"
}

mval() { metrics_json "$1" 2>/dev/null | jget "$2" 2>/dev/null || true; }

e2e_tool() {
  local name=$1 var
  var=E2E_$(echo "${name#cshim-}" | tr 'a-z-' 'A-Z_')
  if [ -n "${!var:-}" ]; then echo "${!var}"; return; fi
  echo "${SHIM_DIR:-.}/../test/e2e-tools/$name"
}

cshim_only() {
  [ "$RUNTIME" = io.containerd.cshim.v2 ] && return 0
  ok "$1 # SKIP $RUNTIME has no $2"
  return 1
}

shim_rss_kb() { awk '$1 == "VmRSS:" {print $2}' "/proc/$1/status" 2>/dev/null; }
