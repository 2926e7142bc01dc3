#!/usr/bin/env bash
# What `start` answers each containerd (shim_bootstrap.h), as containerd recorded it: 1.6 reads a bare
# address; 2.x writes the bootstrap parameters it took to the bundle's bootstrap.json — version 2 by default,
# version 3 with the runtime config's `BootstrapVersion = 3` opt-in, and then talks containerd.task.v3.Task.
# Also: `ctr plugins inspect-runtime` (2.x) runs the shim's -info; delete of a gone process warns nothing.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
e2e_setup

major=$(ctd_major)
bundle() { echo "$CTD_STATE/io.containerd.runtime.v2.task/$CTD_NS/$1"; }
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' "$1" "$2"; }

v3cfg=$CTD_DIR/cshim-v3.toml
printf '# cshim: answer start with bootstrap version 3 (containerd 2.x only)\nBootstrapVersion = 3\n' > "$v3cfg"

run_one() { # run_one ID [CONFIG]: a task left running, so its bundle is there to read
  E2E_RUNTIME_CONFIG=${2:-} e2e_run -d "$E2E_IMAGE" "$1" sleep 600 </dev/null >/dev/null 2>&1
}

check "run -d b2 (no opt-in)" run_one b2
check "run -d b3 (BootstrapVersion = 3)" run_one b3 "$v3cfg"
wait_for 20 status_is b2 RUNNING || true
wait_for 20 status_is b3 RUNNING || true

if [ "$major" = 2 ]; then
  for pair in b2:2 b3:3; do
    id=${pair%:*} want=${pair#*:}
    f=$(bundle "$id")/bootstrap.json
    if [ -f "$f" ] && [ "$(field "$f" version)" = "$want" ] && [ "$(field "$f" protocol)" = ttrpc ] &&
       [[ "$(field "$f" address)" == unix://* ]]; then
      ok "containerd 2.x took bootstrap version $want for $id"
    else
      not_ok "containerd 2.x took bootstrap version $want for $id" "$(cat "$f" 2>&1)"
    fi
  done
  # The task API of a version-3 shim is containerd.task.v3.Task: b3's State goes through it.
  if status_is b3 RUNNING; then ok "b3 served through task v3 (State: RUNNING)"; else not_ok "b3 served through task v3" "$(ctd_ctr task ls 2>&1)"; fi
  # -info, through containerd's introspection
  out=$(ctd_ctr plugins inspect-runtime --runtime "$RUNTIME" 2>&1) || true
  if [ "$RUNTIME" != io.containerd.cshim.v2 ]; then
    echo "# skip: -info checks are cshim's (RUNTIME=$RUNTIME)"
  elif grep -q '"Name": "io.containerd.cshim.v2"' <<<"$out" && grep -q ociVersionMax <<<"$out"; then
    ok "inspect-runtime shows cshim's RuntimeInfo with runc's features"
  else
    not_ok "inspect-runtime shows cshim's RuntimeInfo with runc's features" "$out"
  fi
else
  echo "# skip: bootstrap.json and task v3 are containerd 2.x's; containerd $major.x reads the bare address"
  for id in b2 b3; do
    a=$(cat "$(bundle "$id")/address" 2>/dev/null || true)
    if [[ "$a" == unix://* ]]; then ok "$id: containerd $major.x runs the shim at $a"; else not_ok "$id: address" "$a"; fi
  done
  echo "# skip: ctr plugins inspect-runtime (-info) exists from containerd 2.0 on"
fi

remove_task b2 "$(task_pid b2)"
remove_task b3 "$(task_pid b3)"
# delete of a dead shim's task: containerd logs any of delete's stderr as "warnings while cleaning up dead shim"
if grep -q "warnings while cleaning up dead shim" "$CTD_LOG"; then
  not_ok "no cleanup warnings in containerd's log" "$(grep "warnings while cleaning up dead shim" "$CTD_LOG" | head -3)"
else
  ok "no cleanup warnings in containerd's log"
fi
