#!/usr/bin/env bash
# fake-runc: an OCI runtime that misbehaves on `create` when the bundle asks it to, and is runc otherwise.
# The fault scripts copy it into their work dir (WORK/fake-runc) and name it in the runtime options
# (containerd.runc.v1.Options.binary_name). The bundle's `fake-mode` file selects the behaviour:
#   fail  print a runc-style JSON error to the --log file and exit 1
#   hang  record our pid in WORK/fake.pids (the cleanup kills it) and never return
# Anything else, and every other command, is passed to the real runc unchanged.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
args=("$@")
log= cmd= bundle= id=
for ((i = 0; i < ${#args[@]}; i++)); do
  a=${args[$i]}
  case "$a" in
    --log) log=${args[$((i + 1))]}; i=$((i + 1)) ;;
    --root | --log-format | --criu | --pid-file | --console-socket | --process) i=$((i + 1)) ;;
    --bundle | -b) bundle=${args[$((i + 1))]}; i=$((i + 1)) ;;
    -*) ;;
    *) if [ -z "$cmd" ]; then cmd=$a; else id=$a; fi ;;
  esac
done

# Every invocation is recorded (WORK/fake.calls: "COMMAND ID"), so a test can tell which runtime ran.
echo "$cmd $id" >> "$here/fake.calls"

mode=
if [ "$cmd" = create ] && [ -n "$bundle" ] && [ -f "$bundle/fake-mode" ]; then
  mode=$(cat "$bundle/fake-mode")
fi

case "$mode" in
  fail)
    now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    msg="boom: fake runtime refused to create $id"
    [ -n "$log" ] && printf '{"level":"error","msg":"%s","time":"%s"}\n' "$msg" "$now" >> "$log"
    echo "$msg" >&2
    exit 1
    ;;
  hang)
    echo $$ >> "$here/fake.pids"
    exec sleep 3600
    ;;
  *)
    exec runc "$@"
    ;;
esac
