#!/usr/bin/env bash
# Counters as containerd reads them (Task.Stats → cgroups Metrics): memory, cpu and pids of a running task;
# CPU that grows under a busy loop and not while the task sleeps; block I/O after a 50 MB synced write;
# per-interface network counters after traffic over a veth pair into a namespace the test creates.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_extra.sh"
e2e_setup

tc=${E2E_TASKCLIENT:-}
v2=0
[ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] && v2=1
# The Metrics field paths of cgroup v1 and v2 (the JSON of `ctr task metrics --format json`).
if [ "$v2" = 1 ]; then p_cpu=cpu.usage_usec; cpu_unit=1000; else p_cpu=cpu.usage.total; cpu_unit=1; fi
cpu_ns() { local v; v=$(mval "$1" "$p_cpu"); echo $(( ${v:-0} * cpu_unit )); }

# A private block device for the I/O check: a loop-mounted ext4 in our temp dir, bind-mounted into the
# task at /data. Why not the rootfs's own disk: on cgroup v1 with a recent kernel (this host runs 6.18) the
# blkio counters only count on a disk whose queue has blk-throttle switched on, i.e. after some cgroup set a
# throttle rule for it; doing that to the host's root disk would change it for everyone until reboot. On
# our loop device we can set a rule that limits nothing, and the device goes away with the test.
blk=$CTD_DIR/blk
mkdir -p "$blk"
truncate -s 96M "$CTD_DIR/blk.img"
mkfs.ext4 -q -F "$CTD_DIR/blk.img"
# -o loop: autoclear, the loop device is released when the last mount of it goes.
mount -o loop "$CTD_DIR/blk.img" "$blk"
e2e_on_exit "umount '$blk' || umount -l '$blk'"
dev=$(mountpoint -d "$blk")
diag "I/O device: loop $dev"

id=ct1
check "run -d $id" e2e_run -d --mount "type=bind,src=$blk,dst=/data,options=rbind:rw" "$E2E_IMAGE" "$id" sleep 100000
wait_for 20 status_is "$id" RUNNING || true
pid=$(task_pid "$id")

# --- memory, cpu, pids: present and non-zero, in ctr's own table.
out=$(ctd_ctr task metrics "$id" 2>&1) || true
val() { awk -v k="$1" '$1 == k {print $2; exit}' <<<"$out"; }
mem=$(val memory.usage_in_bytes); [ -n "$mem" ] || mem=$(val memory.usage)
cpu=$(val cpuacct.usage); [ -n "$cpu" ] || cpu=$(val cpu.usage_usec)
np=$(val pids.current)
if [ "${mem:-0}" -gt 0 ] 2>/dev/null; then ok "metrics: memory usage $mem"; else not_ok "metrics: memory usage > 0" "$out"; fi
if [ "${cpu:-0}" -gt 0 ] 2>/dev/null; then ok "metrics: cpu usage $cpu"; else not_ok "metrics: cpu usage > 0" "$out"; fi
if [ "${np:-0}" = 1 ]; then ok "metrics: pids.current 1 (sleep)"; else not_ok "metrics: pids.current 1 (sleep)" "$out"; fi

# --- CPU: grows by at least 200 ms of CPU time while a busy loop runs (bounded wait), ...
check "exec -d a busy loop" e2e_exec -d --exec-id busy "$id" sh -c 'while :; do :; done'
c0=$(cpu_ns "$id")
grown() { [ $(( $(cpu_ns "$id") - c0 )) -ge 200000000 ]; }
if wait_for 30 grown; then ok "cpu grows under a busy loop (+$(( ($(cpu_ns "$id") - c0) / 1000000 )) ms)"; else not_ok "cpu grows by 200 ms under a busy loop" "from $c0 to $(cpu_ns "$id")"; fi
np=$(mval "$id" pids.current)
if [ "$np" -ge 2 ]; then ok "pids.current counts the exec ($np)"; else not_ok "pids.current counts the exec" "$np"; fi
check "kill the busy loop" ctd_ctr task kill -s KILL --exec-id busy "$id"
wait_for 20 eval '[ "$(ctd_ctr task ps "$id" | awk "NR > 1" | wc -l)" = 1 ]' || true
ctd_ctr task delete --exec-id busy "$id" >/dev/null 2>&1 || true
# ... and by less than 50 ms over two seconds of sleep (the reads of the counters are the shim's, not the task's).
c0=$(cpu_ns "$id")
sleep 2
c1=$(cpu_ns "$id")
if [ $((c1 - c0)) -lt 50000000 ]; then ok "cpu stays flat while the task sleeps (+$(( (c1 - c0) / 1000 )) us in 2 s)"; else not_ok "cpu stays flat while the task sleeps" "+$((c1 - c0)) ns in 2 s"; fi

# --- block I/O: 50 MB written with fsync to the task's /data (our loop device).
maj=${dev%:*}
min=${dev#*:}
if [ "$v2" = 1 ]; then p_w="io.usage[major=$maj,minor=$min].wbytes"
else
  p_w="blkio.io_service_bytes_recursive[op=Write,major=$maj,minor=$min].value"
  # A rule that limits nothing (1 TB/s) switches accounting on for this device (see above).
  echo "$dev 1099511627776" > "/sys/fs/cgroup/blkio/$CTD_NS/$id/blkio.throttle.write_bps_device"
fi
w0=$(mval "$id" "$p_w")
# oflag=direct: buffered pages may be written back by the kernel's flusher instead of by our fsync, and cgroup
# v1 charges that I/O to the root cgroup (it did here, for most of the 50 MB): direct I/O is issued by dd.
rc=0
out=$(e2e_exec --exec-id dd "$id" dd if=/dev/zero of=/data/f bs=1M count=50 oflag=direct conv=fsync </dev/null 2>&1) || rc=$?
w1=$(mval "$id" "$p_w")
if [ "$rc" = 0 ] && [ $((w1 - w0)) -ge $((50 * 1024 * 1024)) ]; then ok "blkio: Write bytes on $dev grow by >= 50 MiB (+$((w1 - w0)))"
else not_ok "blkio: Write bytes on $dev grow by >= 50 MiB" "dd exit $rc: $out" "before $w0, after $w1" "$(metrics_json "$id" | grep -A30 '"blkio"' | head -40)"; fi
if [ "$v2" = 0 ]; then
  k=$(awk -v d="$dev" '$1 == d && $2 == "Write" {print $3}' "/sys/fs/cgroup/blkio/$CTD_NS/$id/blkio.throttle.io_service_bytes")
  w2=$(mval "$id" "$p_w")
  if [ "$w2" = "${k:-x}" ]; then ok "blkio: the shim reports the kernel's own figure ($k)"; else not_ok "blkio: the shim reports the kernel's own figure" "kernel '$k', shim '$w2'"; fi
fi
# For the record (not asserted): the same write to the rootfs, whose disk has no throttle rule.
r0=$(mval "$id" 'blkio.io_service_bytes_recursive[op=Write].value')
e2e_exec --exec-id dd2 "$id" dd if=/dev/zero of=/f bs=1M count=50 conv=fsync </dev/null >/dev/null 2>&1 || true
r1=$(mval "$id" 'blkio.io_service_bytes_recursive[op=Write].value')
diag "rootfs write of 50 MiB: blkio Write over all devices +$((r1 - r0)) (0 where the kernel does not account)"
e2e_exec --exec-id rm "$id" rm -f /f /data/f </dev/null >/dev/null 2>&1 || true

# --- network: a veth pair between the task's netns and a netns of ours, test-only addresses (a /30 that
# exists only inside the two namespaces); ping from the task; the counters come from the v1 Metrics'
# network field as containerd's Go client decodes it (v2 Metrics have no network field).
sfx=${CTD_NS#cshim-}
netns=cshim-e2e-$sfx
vh=cshv$sfx   # our end, moved into $netns
vc=cshc$sfx   # the task's end
e2e_on_exit "ip netns del '$netns'; ip link del '$vh'"
net_stats() { "$tc" -bundle "$(ctd_bundle "$id")" -namespace "$CTD_NS" stats "$id" | sed 1d; }
if [ "$v2" = 1 ]; then
  not_ok "network counters in the Metrics (cgroup v2 Metrics have no network field)"
elif [ -z "$tc" ] || [ ! -x "$tc" ]; then
  not_ok "Go task client available (E2E_TASKCLIENT)" "'$tc'"
else
  rc=0
  out=$({
    ip netns add "$netns" &&
      ip link add "$vh" type veth peer name "$vc" &&
      ip link set "$vc" netns "$pid" &&
      ip link set "$vh" netns "$netns" &&
      nsenter -t "$pid" -n ip addr add 10.231.77.2/30 dev "$vc" &&
      nsenter -t "$pid" -n ip link set "$vc" up &&
      ip -n "$netns" addr add 10.231.77.1/30 dev "$vh" &&
      ip -n "$netns" link set "$vh" up
  } 2>&1) || rc=$?
  if [ "$rc" = 0 ]; then ok "veth $vc (task) <-> $vh (netns $netns) wired"; else not_ok "veth wired between the task and $netns" "$out"; fi
  # The Metrics' network field is cshim's (runc-v2 leaves it empty): under another runtime, wiring, ping and
  # clean-up are still checked.
  netcheck=0
  cshim_only "network counters in the v1 Metrics" "per-interface network counters" && netcheck=1
  s0=$(net_stats 2>>"$CTD_DIR/taskclient.err") || true
  rx0=$(jget "network[name=$vc].rx_bytes" <<<"$s0" 2>/dev/null || echo 0)
  tx0=$(jget "network[name=$vc].tx_bytes" <<<"$s0" 2>/dev/null || echo 0)
  if [ "$netcheck" = 0 ]; then :; elif grep -q "\"$vc\"" <<<"$s0"; then ok "stats: the network field lists $vc"; else not_ok "stats: the network field lists $vc" "$s0" "$(cat "$CTD_DIR/taskclient.err" 2>/dev/null)"; fi
  rc=0
  out=$(e2e_exec --exec-id ping "$id" ping -c 3 -W 5 10.231.77.1 </dev/null 2>&1) || rc=$?
  if [ "$rc" = 0 ]; then ok "ping from the task over the veth"; else not_ok "ping from the task over the veth" "exit $rc: $out"; fi
  s1=$(net_stats 2>>"$CTD_DIR/taskclient.err") || true
  rx1=$(jget "network[name=$vc].rx_bytes" <<<"$s1" 2>/dev/null || echo 0)
  tx1=$(jget "network[name=$vc].tx_bytes" <<<"$s1" 2>/dev/null || echo 0)
  txp=$(jget "network[name=$vc].tx_packets" <<<"$s1" 2>/dev/null || echo 0)
  # 3 echo requests of 84 bytes each at least (plus ARP): the counters grow by that much.
  if [ "$netcheck" = 0 ]; then :; elif [ $((tx1 - tx0)) -ge 252 ] && [ "$txp" -ge 3 ]; then ok "network: tx_bytes of $vc grow (+$((tx1 - tx0)), $txp packets)"; else not_ok "network: tx_bytes of $vc grow by >= 252" "before $tx0 after $tx1 packets $txp" "$s1"; fi
  if [ "$netcheck" = 0 ]; then :; elif [ $((rx1 - rx0)) -ge 252 ]; then ok "network: rx_bytes of $vc grow (+$((rx1 - rx0)))"; else not_ok "network: rx_bytes of $vc grow by >= 252" "before $rx0 after $rx1" "$s1"; fi
  # The kernel's view of the same interface (/proc/PID/net/dev is the task's netns), read before and after
  # ours: IPv6 neighbour discovery may add packets at any time, so the shim's figure lies between the two.
  kdev() { awk -v i="$vc:" '$1 == i {print $2}' "/proc/$pid/net/dev" 2>/dev/null || echo x; }
  k0=$(kdev)
  s2=$(net_stats 2>>"$CTD_DIR/taskclient.err") || true
  k1=$(kdev)
  r=$(jget "network[name=$vc].rx_bytes" <<<"$s2" 2>/dev/null || echo -1)
  if [ "$netcheck" = 0 ]; then :; elif [ "$k0" != x ] && [ "$r" -ge "$k0" ] && [ "$r" -le "$k1" ]; then ok "network: rx_bytes agree with the kernel's ($r)"; else not_ok "network: rx_bytes agree with the kernel's" "kernel $k0..$k1, shim $r" "$s2"; fi
  # Nothing of this reached the host's own namespace.
  addrs=$(ip -o addr show 2>&1) || true
  if ! grep -q '10\.231\.77\.' <<<"$addrs" && ! ip link show "$vh" >/dev/null 2>&1 && ! ip link show "$vc" >/dev/null 2>&1
  then ok "no test address or veth end in the host namespace"; else not_ok "no test address or veth end in the host namespace" "$(grep 10.231.77. <<<"$addrs")"; fi
fi

remove_task "$id" "$pid"

# Our namespace, veth pair and loop device go too (the task's netns died with it, taking its veth end).
ip netns del "$netns" 2>/dev/null || true
umount "$blk" 2>/dev/null || true
left=
grep -qw "$netns" <<<"$(ip netns list)" && left="$left netns $netns;"
ip link show "$vh" >/dev/null 2>&1 && left="$left link $vh;"
# autoclear detaches the loop device on its last close, just after the umount returns: a bounded wait.
wait_for 20 eval '[ -z "$(losetup -j "$CTD_DIR/blk.img" 2>/dev/null)" ]' >/dev/null 2>&1 || left="$left loop device of blk.img;"
mountpoint -q "$blk" && left="$left mount $blk;"
if [ -z "$left" ]; then ok "no netns, veth, loop device or mount left"; else not_ok "no netns, veth, loop device or mount left" "$left"; fi
