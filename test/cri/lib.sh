#!/usr/bin/env bash
# lib.sh — a private containerd with its CRI plugin, for the CRI end-to-end test (run.sh) and bench/cri.
# Source it, then:
#   cri_start        temp dir, CNI bridge config, containerd with CRI (handlers runc and cshim), pause and
#                    busybox images imported into the k8s.io namespace; returns once containerd answers
#   cri_py ARGS...   Python 3 (Debian's, whatever python3 is first on PATH) with the CRI client on its path
#   cri_cleanup      remove pods, stop containerd, then every shim, mount, netns, cgroup, runc state, IPAM
#                    and CNI cache entry, bridge and temp dir this instance made; prints what is left, fails if any
#
# Built on test/lib/containerd.sh (temp dir, launch, stop, stale-instance reaping); only the config differs.
#
# Inputs (environment):
#   SHIM_DIR            directory with containerd-shim-cshim-v2, put first on containerd's PATH
#   CRI_PAUSE_BIN       the static pause program (build target cri_pause)
#   CRI_CONTAINERD_DIR  directory holding the containerd and ctr to run (default: those on PATH), so the same
#                       harness can drive another containerd build (e.g. an unpacked 2.x package)
#   CRI_CONFIG_VERSION  containerd config version to write: 2 (containerd 1.6/1.7, the default) or 3
#                       (containerd 2.x: plugins io.containerd.cri.v1.runtime / .images / grpc.v1.cri), which
#                       adds the handler cshim-shim: cshim with sandboxer = "shim" (the shim owns the pod).
#   CRI_BRIDGE, CRI_SUBNET  the CNI bridge and its subnet (default cshimcri0, 10.231.98.0/24). The bridge has
#                       no address on the host (isGateway false), no masquerade and no port mappings: nothing
#                       is routed or NATed to or from the host, and no iptables rule is added.
# Outputs: CTD_* (containerd.sh), CRI_SOCK, CRI_GEN (where the client code is generated), CRI_CGROUP_PARENT,
#   CRI_PAUSE_IMAGE, CRI_IMAGE.

CRI_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib/containerd.sh
source "$CRI_LIB_DIR/../lib/containerd.sh"

CRI_CONFIG_VERSION=${CRI_CONFIG_VERSION:-2}
CRI_BRIDGE=${CRI_BRIDGE:-cshimcri0}
CRI_SUBNET=${CRI_SUBNET:-10.231.98.0/24}
CRI_CNI_BIN=${CRI_CNI_BIN:-/usr/lib/cni}
CRI_PAUSE_IMAGE=localhost/cshim-pause:1
CRI_IMAGE=docker.io/library/busybox:cshim
CRI_NETNAME=cshimcri
CRI_PY=${CRI_PY:-/usr/bin/python3}   # Debian's: python3-grpcio & co. live in its dist-packages
# CRI keeps everything in containerd's k8s.io namespace; runc-v2 keeps runc state under <runc root>/k8s.io.
CTD_NS=k8s.io

cri_log() { echo "cri/lib.sh: $*" >&2; }

cri_py() { PYTHONPATH=$CRI_LIB_DIR${PYTHONPATH:+:$PYTHONPATH} PYTHONDONTWRITEBYTECODE=1 "$CRI_PY" "$@"; }

# containerd.sh calls this to write the config; ours enables CRI instead of disabling it.
ctd__write_config() { cri__write_config; }

cri__write_config() {
  mkdir -p "$CTD_DIR/cni" "$CTD_DIR/ipam" "$CTD_DIR/pods"
  # The CNI network: one bridge, host-local addresses recorded in our temp dir.
  cat > "$CTD_DIR/cni/10-$CRI_NETNAME.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "$CRI_NETNAME",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$CRI_BRIDGE",
      "isGateway": false,
      "ipMasq": false,
      "hairpinMode": false,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$CRI_SUBNET"}]],
        "dataDir": "$CTD_DIR/ipam"
      }
    }
  ]
}
EOF
  case "$CRI_CONFIG_VERSION" in
    2) cri__write_config_v2 ;;
    3) cri__write_config_v3 ;;
    *) cri_log "config version $CRI_CONFIG_VERSION not supported (2 or 3)"; return 1 ;;
  esac
}

# containerd 1.6/1.7: config version 2, CRI is the single plugin io.containerd.grpc.v1.cri.
# The runtime handler tables are what README's containerd section shows.
cri__write_config_v2() {
  { ctd_config_head 2 "${CTD_UNUSED_PLUGINS_V2[@]}"; cat <<EOF; } > "$CTD_DIR/config.toml"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$CRI_PAUSE_IMAGE"
  # Exec/attach URLs on loopback, a free port.
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  disable_apparmor = true
  # Never below containerd's own oom_score_adj (the pod's pause asks -998): lowering it needs
  # CAP_SYS_RESOURCE, which root lacks on machines like the CI VM, and then runc's init fails.
  restrict_oom_score_adj = true
  # The writable layer's usage in ContainerStats is refreshed by a background sync every this many seconds
  # (default 10): shorter, so the test's wait for it stays short.
  stats_collect_period = 1
  # Pod network namespaces under our state dir, not the host's /var/run/netns.
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.cshim]
      runtime_type = "io.containerd.cshim.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CRI_CNI_BIN"
    conf_dir = "$CTD_DIR/cni"
    max_conf_num = 1
EOF
}

# containerd 2.x: config version 3; CRI is split into io.containerd.cri.v1.images (pulls, snapshotter, the
# pinned pause image), io.containerd.cri.v1.runtime (handlers, CNI, netns) and io.containerd.grpc.v1.cri
# (the streaming server). Handlers: runc; cshim with containerd's own pod controller (a pause container);
# cshim-shim with sandboxer = "shim": containerd creates the pod through the shim's Sandbox API and runs
# every container of the pod in that shim. Both cshim handlers opt in to bootstrap version 3 (the task API
# v3, and for the shim sandboxer no `start` per container). What README's containerd 2.x section shows.
cri__write_config_v3() {
  { ctd_config_head 3 "${CTD_UNUSED_PLUGINS_V3[@]}"; cat <<EOF; } > "$CTD_DIR/config.toml"

[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"
  stats_collect_period = 1
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = "$CRI_PAUSE_IMAGE"

[plugins."io.containerd.cri.v1.runtime"]
  enable_selinux = false
  disable_apparmor = true
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.cshim]
      runtime_type = "io.containerd.cshim.v2"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.cshim.options]
        BootstrapVersion = 3
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.cshim-shim]
      runtime_type = "io.containerd.cshim.v2"
      sandboxer = "shim"
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["$CRI_CNI_BIN"]
    conf_dir = "$CTD_DIR/cni"
    max_conf_num = 1

[plugins."io.containerd.grpc.v1.cri"]
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
EOF
}

# Instances of this harness whose owner died (a test killed by a timeout) left what containerd.sh's reaper
# does not know: a cgroup parent, a bridge. Their temp dir is gone or its owner dead.
cri__instance_live() {
  local d=$1
  [ -d "$d" ] && [ -f "$d/owner.pid" ] && kill -0 "$(cat "$d/owner.pid")" 2>/dev/null
}

cri__reap_stale() {
  local cg name d f
  for cg in /sys/fs/cgroup/*/cshimcri-* /sys/fs/cgroup/cshimcri-*; do
    [ -d "$cg" ] || continue
    name=$(basename "$cg")
    cri__instance_live "${CTD_TMPBASE:-/tmp}/cshim-ctd.${name#cshimcri-}" && continue
    cri__remove_cgroup_tree "$cg"
  done
  if ip link show "$CRI_BRIDGE" >/dev/null 2>&1; then
    for f in "${CTD_TMPBASE:-/tmp}"/cshim-ctd.*/cri-bridge; do
      [ -f "$f" ] && [ "$(cat "$f")" = "$CRI_BRIDGE" ] || continue
      d=$(dirname "$f")
      if cri__instance_live "$d"; then cri_log "bridge $CRI_BRIDGE is in use by the live instance $d"; return 1; fi
    done
    cri_log "removing stale bridge $CRI_BRIDGE"
    ip link del "$CRI_BRIDGE" 2>/dev/null || true
  fi
}

# Kill what runs in a cgroup tree (thawing first: a frozen task never dies) and remove it, deepest first.
cri__remove_cgroup_tree() {
  local cg=$1 f i
  [ -d "$cg" ] || return 0
  find "$cg" -name freezer.state 2>/dev/null | while read -r f; do echo THAWED > "$f" 2>/dev/null || true; done
  find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
  for i in $(seq 1 50); do
    find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    [ -d "$cg" ] || return 0
    sleep 0.1
  done
  return 1
}

cri_start() {
  if [ -n "${CRI_CONTAINERD_DIR:-}" ]; then
    [ -x "$CRI_CONTAINERD_DIR/containerd" ] || { cri_log "no containerd in CRI_CONTAINERD_DIR=$CRI_CONTAINERD_DIR"; return 1; }
    PATH=$CRI_CONTAINERD_DIR:$PATH
    export PATH
  fi
  [ -x "${CRI_PAUSE_BIN:-}" ] || { cri_log "CRI_PAUSE_BIN=${CRI_PAUSE_BIN:-unset} is not the built pause program"; return 1; }
  [ -x "$CRI_CNI_BIN/bridge" ] && [ -x "$CRI_CNI_BIN/host-local" ] && [ -x "$CRI_CNI_BIN/loopback" ] \
    || { cri_log "CNI plugins missing in $CRI_CNI_BIN (apt-get install containernetworking-plugins)"; return 1; }
  cri__reap_stale || return 1
  ctd_start || return 1
  echo "$CRI_BRIDGE" > "$CTD_DIR/cri-bridge"
  CRI_SOCK=$CTD_SOCK
  CRI_GEN=$CTD_DIR/gen
  # Named after the temp dir, so a stale one can be matched to its (dead) instance.
  CRI_CGROUP_PARENT=/cshimcri-${CTD_DIR##*.}
  export CRI_SOCK CRI_GEN CRI_CGROUP_PARENT CRI_PAUSE_IMAGE CRI_IMAGE CRI_BRIDGE CRI_SUBNET
  "$CRI_LIB_DIR/mkpause.sh" "$CRI_PAUSE_BIN" "$CTD_DIR/pause.tar" "$CRI_PAUSE_IMAGE" || return 1
  "$CRI_LIB_DIR/../lib/mkimage.sh" "$CTD_DIR/busybox.tar" "$CRI_IMAGE" || return 1
  ctd_ctr images import "$CTD_DIR/pause.tar" >/dev/null || return 1
  ctd_ctr images import "$CTD_DIR/busybox.tar" >/dev/null || return 1
  rm -f "$CTD_DIR/pause.tar" "$CTD_DIR/busybox.tar"
}

# Ids (sandboxes and containers) this instance ran: the bundles containerd's runtime made.
cri__task_ids() {
  ls "$CTD_STATE/io.containerd.runtime.v2.task/$CTD_NS" 2>/dev/null
  grep -oE "io\.containerd\.runtime\.v2\.task/$CTD_NS/[0-9a-f]{64}" "$CTD_LOG" 2>/dev/null | awk -F/ '{print $3}'
  return 0
}

# What this instance left: processes, mounts, runc state of its ids, its cgroup parent, netns, IPAM
# records, CNI result cache entries, the bridge, shim sockets, the temp dir. One line each; fails if any.
cri_leftovers() {
  local bad=0 x
  for x in $(ctd_pids); do echo "leftover process $x: $(tr '\0' ' ' 2>/dev/null < "/proc/$x/cmdline")"; bad=1; done
  for x in $(ctd_mounts); do echo "leftover mount $x"; bad=1; done
  for x in ${CRI__IDS:-}; do
    [ -e "$CTD_RUNC_ROOT/$CTD_NS/$x" ] && { echo "leftover runc state $CTD_RUNC_ROOT/$CTD_NS/$x"; bad=1; }
    ls /var/lib/cni/results/"$CRI_NETNAME-$x"-* >/dev/null 2>&1 && { echo "leftover CNI result cache of $x"; bad=1; }
  done
  if [ -n "${CRI_CGROUP_PARENT:-}" ]; then
    for x in /sys/fs/cgroup/*"$CRI_CGROUP_PARENT" /sys/fs/cgroup"$CRI_CGROUP_PARENT"; do
      [ -d "$x" ] && { echo "leftover cgroup $x"; bad=1; }
    done
  fi
  ip link show "$CRI_BRIDGE" >/dev/null 2>&1 && { echo "leftover bridge $CRI_BRIDGE"; bad=1; }
  for x in $(ctd_shim_sockets); do echo "leftover shim socket $x"; bad=1; done
  [ -e "$CTD_DIR" ] && { echo "leftover temp dir $CTD_DIR"; bad=1; }
  return $bad
}

cri_cleanup() {
  [ -n "${CTD_DIR:-}" ] && [ -d "$CTD_DIR" ] || return 0
  # Through the CRI first, as kubelet would: it tears down networks (CNI DEL) and netns, which the
  # containerd-level removal below does not know about.
  if [ -n "${CTD_PID:-}" ] && kill -0 "$CTD_PID" 2>/dev/null && [ -d "${CRI_GEN:-/nonexistent}" ]; then
    timeout -k 5 120 env PYTHONPATH="$CRI_LIB_DIR" PYTHONDONTWRITEBYTECODE=1 "$CRI_PY" -m cri teardown >&2 \
      || cri_log "CRI teardown failed; forcing"
  fi
  CRI__IDS=$(cri__task_ids | sort -u)
  [ -n "${CRI_KEEP_LOG:-}" ] && mkdir -p "$CRI_KEEP_LOG" && cp "$CTD_LOG" "$CRI_KEEP_LOG/${CRI_LOG_NAME:-cri}.containerd.log" 2>/dev/null
  # containerd.sh: kill tasks, stop containerd, kill shims, unmount (the netns bind mounts under our state
  # dir included), remove sockets and the temp dir. It leaves cgroups and runc state of namespaces not named
  # cshim-* alone (k8s.io is shared with any other containerd): ours are removed by id and parent below.
  local x
  ctd_cleanup >/dev/null 2>&1 || true
  for x in $CRI__IDS; do
    if [ -e "$CTD_RUNC_ROOT/$CTD_NS/$x" ]; then
      runc --root "$CTD_RUNC_ROOT/$CTD_NS" delete --force "$x" >/dev/null 2>&1 || true
      rm -rf "${CTD_RUNC_ROOT:?}/$CTD_NS/$x"
    fi
    # libcni caches results outside our dirs; a pod torn down normally has none left.
    rm -f /var/lib/cni/results/"$CRI_NETNAME-$x"-* 2>/dev/null
  done
  rmdir "$CTD_RUNC_ROOT/$CTD_NS" 2>/dev/null || true   # only if empty: another containerd may use it
  if [ -n "${CRI_CGROUP_PARENT:-}" ]; then
    for x in /sys/fs/cgroup/*"$CRI_CGROUP_PARENT" /sys/fs/cgroup"$CRI_CGROUP_PARENT"; do
      cri__remove_cgroup_tree "$x" || true
    done
  fi
  ip link del "$CRI_BRIDGE" 2>/dev/null || true
  local out rc=0
  out=$(cri_leftovers) || rc=1
  if [ "$rc" != 0 ]; then cri_log "cleanup incomplete:"; echo "$out" >&2; fi
  return $rc
}
