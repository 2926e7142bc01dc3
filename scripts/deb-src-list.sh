#!/usr/bin/env bash
# Print `deb-src` lines for the machine's own Debian mirrors, from either sources format, for a private apt
# view (apt-get -o Dir::Etc::sourcelist=...) that fetches source packages without changing the machine's apt
# sources. Used by scripts/win-deps.sh and test/windows/go/build.sh. Exits 2 when no mirror is found.
set -euo pipefail
lines=$({
  # deb822 (/etc/apt/sources.list.d/*.sources): one deb-src line per URI x suite of every enabled stanza
  # of type deb, keeping its Signed-By when that names a keyring file (an inline key is not carried over).
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk '
      function flush(   i, j, nu, ns, u, s, opt) {
        if (types ~ /(^|[ \t])deb([ \t]|$)/ && enabled != "no" && uris != "" && suites != "") {
          nu = split(uris, u, /[ \t]+/); ns = split(suites, s, /[ \t]+/)
          opt = (signed != "" && signed !~ /^-/) ? "[signed-by=" signed "] " : ""
          for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++)
            if (u[i] != "" && s[j] != "") print "deb-src " opt u[i] " " s[j] " " comps
        }
        types = uris = suites = comps = signed = enabled = ""
      }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      {
        key = tolower($1); sub(/:$/, "", key)
        val = $0; sub(/^[^:]*:[ \t]*/, "", val)
        if (key == "types") types = val
        else if (key == "uris") uris = val
        else if (key == "suites") suites = val
        else if (key == "components") comps = val
        else if (key == "signed-by") signed = val
        else if (key == "enabled") enabled = tolower(val)
      }
      END { flush() }' "$f"
  done
  # One-line format (/etc/apt/sources.list, *.list): every `deb` line as `deb-src`.
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    sed -n 's/^[ \t]*deb[ \t]/deb-src /p' "$f"
  done
} | sort -u)
[ -n "$lines" ] || { echo "deb-src-list: no Debian mirror found in /etc/apt/sources.list{,.d}" >&2; exit 2; }
printf '%s\n' "$lines"
