#!/usr/bin/env bash
# cli-wine.sh CSHIMCTL_EXE SHIM_EXE FAKEHCS_DLL_DIR WORKDIR
# cshimctl.exe under Wine against the fake HCS, as a user would drive it (TAP output):
#   run --rm prints the process's output and returns its exit code; run -i feeds our stdin; run -d, ps, stats --watch (a few samples,
#   then it stops by itself), exec, kill, rm -f; --cpus/--memory reach the compute system's document and
#   --isolation hyperv makes a utility VM; bad flags fail with a clear message; afterwards no shim process,
#   no served pipe and no state are left.
# The Wine prefix is the tests' own (cmake/wine-run.sh); the fake DLLs are installed into it as
# test/windows/go/run-scenario.sh does. Paths go to Windows programs as Z:\... (Wine's drive for /).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../.." && pwd)
[ $# -eq 4 ] || { echo "usage: cli-wine.sh CSHIMCTL_EXE SHIM_EXE FAKEHCS_DLL_DIR WORKDIR" >&2; exit 2; }
ctl=$1 shim=$2 dlls=$3
mkdir -p "$4" && work=$(cd "$4" && pwd)
wine_run=$src/cmake/wine-run.sh
winpath() { local p=$1; printf 'Z:%s' "${p//\//\\}"; }

export WINEPREFIX=${WINEPREFIX:-$src/build-windows/wine-prefix}
[ -f "$WINEPREFIX/system.reg" ] || "$wine_run" cmd /c rem </dev/null >/dev/null 2>&1 || true
ws=$(command -v wineserver || echo /usr/lib/wine/wineserver64)
# A wineserver started by a test program would inherit its stdout and hold ctest's pipe open.
"$ws" -p5 </dev/null >/dev/null 2>&1 || true
sys32=$WINEPREFIX/drive_c/windows/system32
(
  flock 9
  if [ ! -f "$WINEPREFIX/.cshim-server-edition" ]; then
    "$wine_run" regedit /S "$(winpath "$src/test/windows/go/server-edition.reg")" </dev/null >/dev/null 2>&1
    touch "$WINEPREFIX/.cshim-server-edition"
  fi
  for d in computecore vmcompute computenetwork; do
    if [ -f "$dlls/$d.dll" ] && { [ ! -f "$sys32/$d.dll" ] || [ "$dlls/$d.dll" -nt "$sys32/$d.dll" ]; }; then
      cp "$dlls/$d.dll" "$sys32/.$d.dll.tmp" && mv -f "$sys32/.$d.dll.tmp" "$sys32/$d.dll"
    fi
  done
) 9>"$WINEPREFIX.dlls.lock"

# Everything of this run under one directory, one namespace of its own (ctest may run other tests beside).
tmp=$(mktemp -d "$work/cli.XXXXXX")
ns=clitest$$
state=$tmp/state
layer=$tmp/layers/base
mkdir -p "$layer"
log=$tmp/hcs.log
export CSHIM_FAKEHCS_LOG
CSHIM_FAKEHCS_LOG=$(winpath "$log")
# The shim found by cshimctl (next to it or in ../shim/ of the build tree) is this one.
[ -f "$shim" ] || { echo "Bail out! shim $shim not built"; exit 1; }

n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); [ -n "${3:-}" ] && printf '#   %s\n' "${3//$'\n'/$'\n#   '}"; fi; }
# ctl ARGS...: cshimctl.exe with this run's state dir and namespace; stdout in $out, stderr in $err, exit in $rc.
ctl() {
  out=$("$wine_run" "$ctl" --state-dir "$(winpath "$state")" --namespace "$ns" "$@" 2>"$tmp/stderr" </dev/null)
  rc=$?
  out=${out//$'\r'/}
  err=$(tr -d '\r' <"$tmp/stderr")
}
# ctl_in TEXT ARGS...: the same with TEXT on stdin.
ctl_in() {
  local text=$1
  shift
  out=$(printf '%s' "$text" | "$wine_run" "$ctl" --state-dir "$(winpath "$state")" --namespace "$ns" "$@" 2>"$tmp/stderr")
  rc=$?
  out=${out//$'\r'/}
  err=$(tr -d '\r' <"$tmp/stderr")
}
# The shims of this run, by their command line (Wine shows a Windows program's own command line).
shims_left() { pgrep -f -- "containerd-shim-cshim-v2.exe -namespace $ns " || true; }
cleanup() {
  # Whatever a failed check left: containers removed through cshimctl, then any shim of ours ended.
  if [ -d "$state" ]; then
    for d in "$state"/*/; do [ -d "$d" ] && ctl rm -f "$(basename "$d")"; done
  fi
  for p in $(shims_left); do kill "$p" 2>/dev/null; done
  if [ "$failed" -eq 0 ]; then rm -rf "$tmp"; else echo "# kept: $tmp"; fi
}
trap cleanup EXIT
L=$(winpath "$layer")

# ---- run --rm: output and exit code
ctl run --rm --rootfs "$L" -- cmd /c echo hi
[[ $rc -eq 0 && "$out" == "hi" ]]; ok $? "run --rm -- cmd /c echo hi prints hi, exits 0" "rc=$rc out=[$out] err=[$err]"
ctl run --rm --rootfs "$L" -- cmd /c "echo bye & exit 3"
[[ $rc -eq 3 ]]; ok $? "run --rm returns the process's exit code (3)" "rc=$rc out=[$out] err=[$err]"
[ "$(ls -A "$state" 2>/dev/null)" = "" ]; ok $? "run --rm leaves no state" "$(ls -A "$state")"

# ---- run -i: our stdin reaches the process, and its end ends the process's input (CloseIO)
ctl_in $'typed in\r\n' run --rm -i --rootfs "$L" -- cmd /c more
[[ $rc -eq 0 && "$out" == "typed in" ]]; ok $? "run --rm -i -- cmd /c more echoes what cshimctl.exe read on its stdin" "rc=$rc out=[$out] err=[$err]"

# ---- --cpus, --memory reach the compute system's document
ctl run --rm --id limits --cpus 1 --memory 256m --rootfs "$L" -- cmd /c exit 0
[[ $rc -eq 0 ]]; ok $? "run --rm --cpus 1 --memory 256m" "rc=$rc err=[$err]"
grep -q '"SizeInMB": *256' "$log" 2>/dev/null || grep -q '"SizeInMB":256' "$log" 2>/dev/null
ok $? "the container's document has Memory.SizeInMB 256" "$(grep -o '"Memory":{[^}]*}' "$log" | head -3)"
grep -Eq '"Maximum": *[0-9]+' "$log"
ok $? "the container's document has Processor.Maximum" "$(grep -o '"Processor":{[^}]*}' "$log" | head -3)"

# ---- --isolation hyperv: a utility VM, torn down with the container
ctl run --rm --id hv --isolation hyperv --rootfs "$L" -- cmd /c echo hv
[[ $rc -eq 0 && "$out" == "hv" ]]; ok $? "run --rm --isolation hyperv prints hv" "rc=$rc out=[$out] err=[$err]"
grep -q 'hv@vm' "$log"
ok $? "--isolation hyperv created the utility VM hv@vm"

# ---- run -d, ps, stats --watch, exec, kill, rm -f
ctl run -d --id web --rootfs "$L" -- ping -n 600 127.0.0.1
[[ $rc -eq 0 && "$out" == "web" ]]; ok $? "run -d prints the id" "rc=$rc out=[$out] err=[$err]"
ctl ps
[[ $rc -eq 0 ]]; ok $? "ps" "rc=$rc err=[$err]"
echo "$out" | grep -Eq '^web +[0-9]+ +RUNNING +[0-9]+'
ok $? "ps lists web RUNNING with its pid and its shim's pid" "$out"
ctl stats web --watch --interval 200ms --count 3
[[ $rc -eq 0 ]]; ok $? "stats --watch --count 3 stops by itself" "rc=$rc out=[$out] err=[$err]"
rows=$(echo "$out" | grep -c '^web ')
[[ $rows -eq 3 ]]; ok $? "stats --watch printed 3 samples of web" "$out"
ctl stats web --json
[[ $rc -eq 0 ]]; ok $? "stats (one sample, Stats RPC) answers" "rc=$rc out=[$out] err=[$err]"
ctl exec web -- cmd /c "echo inside& exit 5"
[[ $rc -eq 5 && "$out" == "inside" ]]; ok $? "exec prints its output and returns its exit code (5)" "rc=$rc out=[$out] err=[$err]"
ctl rm web
[[ $rc -eq 1 ]]; ok $? "rm of a running container refuses (exit 1)" "rc=$rc err=[$err]"
echo "$err" | grep -q 'stop it first or use rm -f'; ok $? "rm says to stop it first or use rm -f" "$err"
ctl kill web -s KILL
[[ $rc -eq 0 ]]; ok $? "kill -s KILL" "rc=$rc err=[$err]"
stopped=1
for _ in $(seq 1 100); do
  ctl ps
  if echo "$out" | grep -Eq '^web +[0-9]+ +STOPPED'; then stopped=0; break; fi
  sleep 0.1
done
ok $stopped "after kill, ps shows web STOPPED" "$out"
ctl run -d --id web2 --rootfs "$L" -- ping -n 600 127.0.0.1
ctl rm -f web web2
[[ $rc -eq 0 ]]; ok $? "rm -f web web2 (a stopped and a running container)" "rc=$rc err=[$err]"

# ---- bad flags: one clear line, the usage exit status, nothing made
ctl run --rm --isolation sandbox --rootfs "$L" -- cmd /c exit 0
[[ $rc -eq 125 ]]; ok $? "run --isolation sandbox fails with 125" "rc=$rc err=[$err]"
echo "$err" | grep -q 'isolation sandbox: want process or hyperv'; ok $? "and says what --isolation takes" "$err"
ctl run --rm --cpus lots --rootfs "$L" -- cmd /c exit 0
[[ $rc -eq 125 ]]; ok $? "run --cpus lots fails with 125" "rc=$rc err=[$err]"
ctl run --rm --memory 12q --rootfs "$L" -- cmd /c exit 0
[[ $rc -eq 125 && "$err" == *--memory* ]]; ok $? "run --memory 12q fails naming --memory" "rc=$rc err=[$err]"
ctl run --rm -t --rootfs "$L" -- cmd
[[ $rc -eq 125 ]]; ok $? "run -t fails with 125 (no console attach on Windows yet)" "rc=$rc err=[$err]"
echo "$err" | grep -q 'terminal (-t) is not supported by cshimctl on Windows yet'; ok $? "and says so" "$err"
ctl kill nosuch -s BOGUS
[[ $rc -eq 2 ]]; ok $? "kill -s BOGUS is bad usage (2)" "rc=$rc err=[$err]"
ctl run --rm -- cmd /c exit 0
[[ $rc -eq 125 ]]; ok $? "run without --rootfs fails with 125" "rc=$rc err=[$err]"
ctl frobnicate
[[ $rc -eq 2 ]]; ok $? "an unknown command is bad usage (2)" "rc=$rc err=[$err]"

# ---- nothing left
[ "$(ls -A "$state" 2>/dev/null)" = "" ]; ok $? "no state left" "$(ls -A "$state" 2>/dev/null)"
left=1
for _ in $(seq 1 100); do [ -z "$(shims_left)" ] && { left=0; break; }; sleep 0.1; done
ok $left "no shim process of this run left" "$(shims_left)"
ctl --address '\\.\pipe\ProtectedPrefix\Administrators\containerd-shim-'"$ns"'-web-pipe' state web
[[ $rc -ne 0 ]]; ok $? "the shim's pipe of web is no longer served" "rc=$rc out=[$out]"

echo "1..$n"
[ "$failed" -eq 0 ]
