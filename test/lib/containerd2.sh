#!/usr/bin/env bash
# containerd2.sh — fetch Debian sid's containerd 2.1 binaries for the e2e suite, without installing them.
#
#   test/lib/containerd2.sh [DEST]    prints the directory holding containerd, ctr, containerd-shim-runc-v2
#
# The .deb is downloaded with `apt-get download` through a sources list of our own (one `deb` line for sid
# on the machine's Debian mirror, private lists and cache directories): the machine's apt sources, lists and
# package state are untouched, and nothing is installed; `dpkg -x` unpacks it under DEST (default
# /var/cache/cshim/containerd2), where a later run finds it again without the network.
#
# The version is pinned (CSHIM_CTD2_VERSION): the tests were written against it. sid moves on; when it no
# longer has this version the script says so and exits 3 (the e2e test reports that as the reason it cannot
# run), listing what sid has now, so updating the pin is a one-line change after re-running the tests.
set -euo pipefail

VERSION=${CSHIM_CTD2_VERSION:-2.1.9+ds1-5}
DEST=${1:-${CSHIM_CTD2_DIR:-/var/cache/cshim/containerd2}}
say() { echo "containerd2.sh: $*" >&2; }

bin=$DEST/$VERSION/usr/bin
if [ -x "$bin/containerd" ] && [ -x "$bin/ctr" ] && [ -f "$DEST/$VERSION/.checked" ]; then
  echo "$bin"
  exit 0
fi

work=$DEST/.apt
mkdir -p "$work/lists/partial" "$work/archives/partial" "$DEST"

# The machine's Debian mirror: the first deb.debian.org-style archive URI its sources name (deb822 or
# one-line), never the security archive. CSHIM_DEBIAN_MIRROR overrides it.
mirror=${CSHIM_DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
  mirror=$( { grep -hs '^[[:space:]]*URIs:' /etc/apt/sources.list.d/*.sources | sed 's/^[^:]*:[[:space:]]*//' | tr ' ' '\n'
              sed -n 's/^[[:space:]]*deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]\+\).*/\2/p' \
                /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null; } |
            grep -E '/debian/?$' | grep -v -- '-security' | head -n 1 || true)
fi
[ -n "$mirror" ] || { say "no Debian mirror in /etc/apt/sources.list{,.d} (set CSHIM_DEBIAN_MIRROR)"; exit 2; }
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
opt=""
[ -f "$keyring" ] && opt="[signed-by=$keyring] "
echo "deb ${opt}${mirror%/} sid main" > "$work/sources.list"

# The mirror this machine reaches may serve a stored sid index whose Valid-Until has passed (seen: expired by
# 28 days); its signature is still checked, and the .deb is checked against the pinned version below.
APT=(apt-get -q -o Dir::Etc::sourcelist="$work/sources.list" -o Dir::Etc::sourceparts=-
     -o Dir::State::Lists="$work/lists" -o Dir::Cache="$work/cache" -o Dir::Cache::archives="$work/archives"
     -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o APT::Get::List-Cleanup=0
     -o APT::Architecture="$(dpkg --print-architecture)"
     -o Acquire::Check-Valid-Until=false)
mkdir -p "$work/cache"
say "reading sid's package index from $mirror (private lists in $work)"
"${APT[@]}" update >"$work/update.log" 2>&1 || { cat "$work/update.log" >&2; say "apt-get update of sid failed"; exit 2; }

policy=$(apt-cache -o Dir::Etc::sourcelist="$work/sources.list" -o Dir::Etc::sourceparts=- \
           -o Dir::State::Lists="$work/lists" -o Dir::Cache="$work/cache" -o Dir::Cache::pkgcache= \
           -o Dir::Cache::srcpkgcache= -o Dir::State::status=/dev/null madison containerd 2>/dev/null || true)
if ! awk -F'|' -v v="$VERSION" '{gsub(/ /, "", $2)} $2 == v {found=1} END {exit !found}' <<<"$policy"; then
  say "Debian sid no longer has containerd $VERSION (the version the e2e tests were written against)."
  say "sid has now: $(awk -F'|' '{gsub(/ /, "", $2); printf "%s ", $2}' <<<"$policy")"
  say "re-run the e2e suite against that version and update CSHIM_CTD2_VERSION in test/lib/containerd2.sh"
  exit 3
fi

tmp=$(mktemp -d "$DEST/.dl.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
( cd "$tmp" && "${APT[@]}" -o Dir::State::status=/dev/null download "containerd=$VERSION" ) >"$work/download.log" 2>&1 ||
  { cat "$work/download.log" >&2; say "apt-get download containerd=$VERSION failed"; exit 2; }
deb=$(ls "$tmp"/containerd_*.deb)
# apt-get download checked the file against sid's signed index; check what it is before using it.
[ "$(dpkg-deb -f "$deb" Package)" = containerd ] && [ "$(dpkg-deb -f "$deb" Version)" = "$VERSION" ] ||
  { say "$deb is not containerd $VERSION"; exit 2; }
rm -rf "$DEST/$VERSION"
dpkg -x "$deb" "$DEST/$VERSION"
"$bin/containerd" --version >&2 || { say "the unpacked containerd does not run on this machine"; exit 2; }
touch "$DEST/$VERSION/.checked"
echo "$bin"
