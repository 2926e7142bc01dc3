#!/usr/bin/env bash
# The Windows programs import only DLLs every Windows (Server 2019+, the containerd 1.6 hosts) has in
# system32: nothing of the toolchain (libwinpthread-1.dll, libgcc_s_*.dll), no dependency DLL (libuv.dll,
# libjansson.dll), and no HCS/HNS DLL either (computecore.dll, vmcompute.dll, computenetwork.dll exist only
# with the Containers feature: the backend loads them at run time from system32, it must not import them).
# Usage: check-imports.sh OBJDUMP EXE...   Prints TAP, exits 1 if any program imports something else.
set -uo pipefail
objdump=$1
shift
# Compared case-insensitively: the PE import table spells names as the import library did.
allow="kernel32.dll advapi32.dll user32.dll userenv.dll iphlpapi.dll ws2_32.dll msvcrt.dll psapi.dll
ntdll.dll bcrypt.dll dbghelp.dll ole32.dll oleaut32.dll shell32.dll secur32.dll"
n=0 fail=0
for exe in "$@"; do
  n=$((n + 1))
  if [ ! -f "$exe" ]; then
    echo "not ok $n - $exe: missing"; fail=$((fail + 1)); continue
  fi
  dlls=$("$objdump" -p "$exe" | sed -n 's/^[[:space:]]*DLL Name: //p' | tr 'A-Z' 'a-z' | sort -u)
  if [ -z "$dlls" ]; then
    echo "not ok $n - $(basename "$exe"): no import table found"; fail=$((fail + 1)); continue
  fi
  bad=""
  for d in $dlls; do
    case " $(echo $allow) " in *" $d "*) ;; *) bad="$bad $d" ;; esac
  done
  if [ -n "$bad" ]; then
    echo "not ok $n - $(basename "$exe") imports non-system DLLs:$bad"; fail=$((fail + 1))
  else
    echo "ok $n - $(basename "$exe") imports only system DLLs:" $dlls
  fi
done
echo "1..$n"
[ "$fail" -eq 0 ]
