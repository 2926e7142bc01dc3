#!/usr/bin/env bash
# cli_net.sh CSHIMCTL SHIM — issue "a network namespace per container through CNI", end to end:
# two containers started with `cshimctl run --net` reach each other by IP, the host reaches them over the
# bridge, their rx/tx counters (cshimctl stats --json) grow, and after `rm -f` no namespace, veth, IPAM
# reservation or bridge port is left. A conflist of the test's own (bridge, subnet, state dir nobody else
# uses): traffic stays between the namespaces and that bridge.
set -euo pipefail
CTL_BIN=$(realpath -m "${1:?usage: cli_net.sh CSHIMCTL SHIM}")
SHIM=$(realpath -m "${2:?usage: cli_net.sh CSHIMCTL SHIM}")
pass=0 fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
not_ok() { echo "not ok - $1"; shift; printf '#   %s\n' "$@"; fail=$((fail + 1)); }
finish() { echo "$pass passed, $fail failed"; [ "$fail" = 0 ]; }
[ "$(id -u)" = 0 ] || { not_ok "runs as root"; finish; exit 1; }
[ -x "$SHIM" ] || { not_ok "shim $SHIM built"; finish; exit 1; }
[ -x /usr/lib/cni/bridge ] || { not_ok "CNI plugins installed (containernetworking-plugins)"; finish; exit 1; }

WORK=$(mktemp -d /tmp/cshim-clinet.XXXXXX)
NS=clinet-$$
BRIDGE=cshn$(($$ % 100000))
SUBNET=10.235.$(($$ % 250 + 1))
CTL=("$CTL_BIN" --state-dir "$WORK/state" --namespace "$NS")
NET=(--net --cni-config-dir "$WORK/cni/conf" --cni-state-dir "$WORK/cni/state")
cleanup() {
  for id in a b; do "${CTL[@]}" rm -f "$id" >/dev/null 2>&1 || true; done
  ip link del "$BRIDGE" >/dev/null 2>&1 || true
  # cshimctl's cgroups are /<namespace>/<id>: runc removes the leaves, the namespace level is ours
  for d in /sys/fs/cgroup/*/"$NS" /sys/fs/cgroup/"$NS"; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/rootfs/bin" "$WORK/rootfs"/{dev,proc,sys,tmp,etc} "$WORK/cni/conf" "$WORK/cni/state"
cp /bin/busybox "$WORK/rootfs/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$WORK/rootfs/bin/$a"; done
cat > "$WORK/cni/conf/10-clinet.conflist" <<JSON
{"cniVersion":"1.0.0","name":"$BRIDGE","plugins":[{"type":"bridge","bridge":"$BRIDGE","isGateway":true,"ipMasq":false,
 "ipam":{"type":"host-local","ranges":[[{"subnet":"$SUBNET.0/24","gateway":"$SUBNET.1"}]],"dataDir":"$WORK/cni/state/networks"}},
 {"type":"loopback"}]}
JSON

ip_of() { "${CTL[@]}" exec "$1" -- sh -c "ip -4 -o addr show eth0" | sed -E 's/.*inet ([0-9.]+)\/.*/\1/'; }
net_bytes() { "${CTL[@]}" stats "$1" --json | sed -E 's/.*"net_rx": *([0-9]+).*"net_tx": *([0-9]+).*/\1 \2/'; }

for id in a b; do
  if "${CTL[@]}" run -d --id "$id" "${NET[@]}" --rootfs "$WORK/rootfs" -- sleep 600 >/dev/null 2>"$WORK/err"
  then ok "run -d --net $id"; else not_ok "run -d --net $id" "$(cat "$WORK/err")"; fi
done
ipa=$(ip_of a || true)
ipb=$(ip_of b || true)
if [[ $ipa == $SUBNET.* && $ipb == $SUBNET.* && $ipa != "$ipb" ]]; then ok "each has its own address on $SUBNET.0/24 ($ipa, $ipb)"
else not_ok "each has its own address on $SUBNET.0/24" "a=$ipa b=$ipb"; fi
before_a=$(net_bytes a || true)
if out=$("${CTL[@]}" exec a -- ping -c 3 -W 3 "$ipb" 2>&1); then ok "a reaches b by IP"; else not_ok "a reaches b by IP" "$out"; fi
if out=$("${CTL[@]}" exec b -- ping -c 3 -W 3 "$ipa" 2>&1); then ok "b reaches a by IP"; else not_ok "b reaches a by IP" "$out"; fi
if out=$(/bin/busybox ping -c 2 -W 3 "$ipa" 2>&1); then ok "the host reaches a over the bridge"; else not_ok "the host reaches a over the bridge" "$out"; fi
after_a=$(net_bytes a || true)
read -r rx0 tx0 <<<"${before_a:-0 0}"
read -r rx1 tx1 <<<"${after_a:-0 0}"
if [[ $rx1 =~ ^[0-9]+$ && $tx1 =~ ^[0-9]+$ ]] && [ "$rx1" -gt "$rx0" ] && [ "$tx1" -gt "$tx0" ]; then
  ok "a's rx/tx counters grow ($rx0/$tx0 -> $rx1/$tx1)"
else not_ok "a's rx/tx counters grow" "before: $before_a" "after: $after_a"; fi

for id in a b; do
  if "${CTL[@]}" rm -f "$id" >/dev/null 2>"$WORK/err"; then ok "rm -f $id"; else not_ok "rm -f $id" "$(cat "$WORK/err")"; fi
done
left=$(ls /run/netns 2>/dev/null | grep -F "$NS" || true)
if [ -z "$left" ]; then ok "no network namespace left"; else not_ok "no network namespace left" "$left"; fi
if ! ip link show "$BRIDGE" >/dev/null 2>&1; then ok "no bridge, and so no bridge port or veth, left"
else not_ok "no bridge port left" "$(ip link show master "$BRIDGE" 2>&1)"; fi
res=$(find "$WORK/cni/state/networks" -type f -name '*.*.*.*' 2>/dev/null || true)
if [ -z "$res" ]; then ok "no IPAM reservation left"; else not_ok "no IPAM reservation left" "$res"; fi
cg=$(find /sys/fs/cgroup/*/"$NS" -mindepth 1 -type d 2>/dev/null || true)
if [ -z "$cg" ]; then ok "no container cgroup left"; else not_ok "no container cgroup left" "$cg"; fi
finish
