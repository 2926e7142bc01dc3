"""cri_test.py HANDLER... : the CRI scenario through each runtime handler, then runc's and cshim's outcomes side
by side. TAP lines on stdout, "N passed, N failed" last. run.sh starts the containerd (lib.sh) first.

Per handler: RunPodSandbox -> CreateContainer x2 -> StartContainer x2 -> ExecSync (exit code, stdout, stderr,
the pod's address on eth0) -> Exec with tty and stdin over the streaming server (websocket), which must end
as soon as the command exits although stdin stays open -> ContainerStats / ListContainerStats (CPU, memory,
writable layer) -> StopContainer (the containers trap SIGTERM and exit 0 on it) -> RemoveContainer ->
StopPodSandbox -> RemovePodSandbox, then nothing may be left (shims, mounts, netns, cgroups, runc state,
bundles, shim sockets). With cshim the pod has one shim process.
"""

import ipaddress
import json
import os
import sys
import time

import cri



def shim_of(handler):
    """The shim executable behind a handler (lib.sh's config: runc* -> io.containerd.runc.v2, cshim* ->
    io.containerd.cshim.v2; more handlers of either, e.g. another sandboxer, keep the prefix)."""
    return "containerd-shim-cshim-v2" if handler.startswith("cshim") else "containerd-shim-runc-v2"

# Containers exit 0 on SIGTERM (and say so in their log): a SIGKILL after the grace period would show as 137.
TRAP_CMD = ["sh", "-c", "trap 'echo got-TERM; exit 0' TERM; echo started; while :; do sleep 1; done"]
STOP_GRACE_S = 20
TTY_EXEC_DEADLINE_S = 15   # the CRI conformance test closes stdin after 20 s; an exec that waits for it fails

passed = 0
failed = 0


def ok(name):
    global passed
    passed += 1
    print("ok - " + name, flush=True)


def not_ok(name, *diag):
    global failed
    failed += 1
    print("not ok - " + name, flush=True)
    for d in diag:
        for line in str(d).splitlines():
            print("#   " + line, flush=True)


def check(name, cond, *diag):
    if cond:
        ok(name)
    else:
        not_ok(name, *diag)
    return cond


class Abort(Exception):
    pass


def must(name, fn):
    """Runs a step the rest depends on; a failure is reported and ends this handler's scenario."""
    try:
        v = fn()
    except Exception as e:  # grpc.RpcError and anything else: the diagnostic is what matters
        details = e.details() if hasattr(e, "details") else repr(e)
        not_ok(name, details)
        raise Abort(name)
    ok(name)
    return v


def bundle_dir(cid):
    return os.path.join(os.environ["CTD_DIR"], "state", "io.containerd.runtime.v2.task", "k8s.io", cid)


def shim_address(cid):
    try:
        with open(os.path.join(bundle_dir(cid), "address")) as f:
            a = f.read().strip()
        return a[len("unix://"):] if a.startswith("unix://") else a
    except OSError:
        return None


def mounts_naming(words):
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f if any(w in line for w in words)]


def cgroup_dirs(ids):
    parent = os.environ["CRI_CGROUP_PARENT"].lstrip("/")
    found = []
    for ctrl in os.listdir("/sys/fs/cgroup"):
        for cid in ids:
            for p in ("/sys/fs/cgroup/%s/%s/%s" % (ctrl, parent, cid), "/sys/fs/cgroup/%s/%s" % (parent, cid)):
                if os.path.isdir(p):
                    found.append(p)
    return sorted(set(found))


def netns_path(pod_status_resp):
    info = json.loads(pod_status_resp.info.get("info", "{}"))
    for ns in (info.get("runtimeSpec") or {}).get("linux", {}).get("namespaces", []):
        if ns.get("type") == "network":
            return ns.get("path")
    # A pod of a shim sandboxer has no pause container's spec: the shim's own info names the netns.
    return info.get("netNamespacePath") or None


def leftovers(handler, ids, netns, sockets):
    out = []
    pids = cri.shim_pids(shim_of(handler))
    if pids:
        out.append("shim processes %s" % pids)
    for cid in ids:
        if os.path.exists(bundle_dir(cid)):
            out.append("bundle " + bundle_dir(cid))
        if os.path.exists("/run/containerd/runc/k8s.io/" + cid):
            out.append("runc state of " + cid[:12])
    m = mounts_naming(ids + ([netns] if netns else []))
    if m:
        out.append("mounts %s" % m)
    if netns and os.path.exists(netns):
        out.append("netns " + netns)
    out += ["cgroup " + c for c in cgroup_dirs(ids)]
    out += ["shim socket " + s for s in sockets if s and os.path.exists(s)]
    return out


def scenario(c, handler):
    """Runs the scenario through one handler; returns its outcomes (compared across handlers)."""
    r = {}
    name = "pod-" + handler
    t = "[%s] " % handler
    log_dir = os.path.join(os.environ["CTD_DIR"], "pods", handler)
    os.makedirs(log_dir, exist_ok=True)
    pcfg = c.pod_config(name, log_dir=log_dir)
    pod = None
    ids = []
    netns = None
    sockets = set()
    try:
        pod = must(t + "RunPodSandbox", lambda: c.run_pod(pcfg, handler))
        ids.append(pod)
        st = c.pod_status(pod, verbose=True)
        netns = netns_path(st)
        ip = st.status.network.ip
        r["pod_ready"] = st.status.state == cri.pb.SANDBOX_READY
        check(t + "pod is ready", r["pod_ready"], st.status)
        in_net = bool(ip) and ipaddress.ip_address(ip) in ipaddress.ip_network(os.environ["CRI_SUBNET"])
        r["pod_ip_in_subnet"] = in_net
        check(t + "pod has an address in the test's CNI subnet (%s)" % ip, in_net)
        check(t + "pod has its own network namespace (%s)" % netns, bool(netns) and os.path.exists(netns),
              "" if netns else "verbose info: %r" % dict(st.info))

        cids = {}
        for cname in ("c1", "c2"):
            ccfg = c.container_config(cname, TRAP_CMD, log_path=cname + ".log")
            cids[cname] = must(t + "CreateContainer " + cname, lambda: c.create(pod, ccfg, pcfg))
            ids.append(cids[cname])
        for cname in ("c1", "c2"):
            must(t + "StartContainer " + cname, lambda: c.start(cids[cname]))
        running = all(c.status(x).status.state == cri.pb.CONTAINER_RUNNING for x in cids.values())
        r["running"] = running
        check(t + "both containers running", running)
        started = cri.wait_until(lambda: all("started" in read_log(log_dir, n) for n in cids), 20)
        check(t + "both containers logged their start through CRI's log path", started,
              {n: read_log(log_dir, n) for n in cids})

        for x in ids:
            sockets.add(shim_address(x))
        pids = cri.shim_pids(shim_of(handler))
        r["shim_processes"] = len(pids)
        if handler.startswith("cshim"):
            check(t + "one shim process for the whole pod (%s)" % pids, len(pids) == 1)
        else:
            ok(t + "%d shim process(es) for the pod (recorded)" % len(pids))

        # ExecSync: exit code and both streams.
        es = must(t + "ExecSync", lambda: c.exec_sync(cids["c1"], ["sh", "-c", "echo out; echo err >&2; exit 3"]))
        r["execsync"] = [es.exit_code, es.stdout.decode(), es.stderr.decode()]
        check(t + "ExecSync exit code 3, stdout and stderr", r["execsync"] == [3, "out\n", "err\n"], r["execsync"])
        es = must(t + "ExecSync ip addr", lambda: c.exec_sync(cids["c2"], ["ip", "-4", "-o", "addr", "show", "eth0"]))
        r["exec_sees_pod_ip"] = es.exit_code == 0 and (" %s/" % ip) in es.stdout.decode()
        check(t + "the container's eth0 has the pod's address", r["exec_sees_pod_ip"], es.stdout, es.stderr)

        # Exec with a terminal and stdin through the streaming server. The command reads one line and exits;
        # stdin stays open: the session must end when the command does (kubectl exec -it ... returns).
        req = cri.pb.ExecRequest(container_id=cids["c1"], cmd=["sh", "-c", "read line; echo got:$line; exit 5"],
                                 tty=True, stdin=True, stdout=True, stderr=False)
        url = must(t + "Exec (tty, stdin) returns a streaming URL", lambda: c.call("Exec", req).url)
        try:
            ws = cri.ws_exec(url, b"hello\n", deadline_s=TTY_EXEC_DEADLINE_S, resize=(100, 30))
        except Exception as e:
            ws = {"closed": False, "seconds": None, "stdout": b"", "status": None, "error": repr(e)}
        got = b"got:hello" in ws["stdout"]
        code = cri.exit_code_of(ws["status"])
        r["tty_exec"] = {"ended_with_command": ws["closed"], "output": got, "exit_code": code}
        check(t + "tty exec: the command got stdin and its output came back", got, ws)
        check(t + "tty exec: the session ends when the command exits, stdin still open (within %d s)"
              % TTY_EXEC_DEADLINE_S, ws["closed"] and ws["status"] is not None,
              "session %s after %s s; status %s" % ("closed" if ws["closed"] else "still open",
                                                     ws["seconds"], ws["status"]))
        check(t + "tty exec: exit code 5 on the error channel", code == 5, ws["status"])

        # Stats: what kubelet's summary API reads. The writable layer's usage comes from the CRI's periodic
        # snapshot sync (stats_collect_period), so wait until a sample has everything, with a deadline.
        def sample():
            one = c.call("ContainerStats", cri.pb.ContainerStatsRequest(container_id=cids["c1"])).stats
            lst = c.call("ListContainerStats", cri.pb.ListContainerStatsRequest(
                filter=cri.pb.ContainerStatsFilter(pod_sandbox_id=pod))).stats
            return one, lst
        s1, ls = must(t + "ContainerStats and ListContainerStats answer", sample)

        def complete():
            one, lst = sample()
            return all(all(stat_flags(x).values()) for x in [one] + list(lst))
        cri.wait_until(complete, 15, step=0.2)
        s1, ls = sample()
        listed = sorted(s.attributes.id for s in ls)
        r["stats_listed"] = len(listed)
        check(t + "ListContainerStats lists both containers", listed == sorted(cids.values()), listed)
        r["stats"] = {}
        for label, s in [("ContainerStats", s1)] + [("ListContainerStats " + x.attributes.metadata.name, x) for x in ls]:
            f = stat_flags(s)
            r["stats"][label] = f
            check(t + "%s: CPU and memory present and non-zero" % label, f["cpu"] and f["memory"], s)
            check(t + "%s: writable layer's usage reported" % label, f["writable_layer"], s)

        # StopContainer: SIGTERM first; the containers exit 0 on it.
        r["stop"] = {}
        for cname in ("c2", "c1"):
            must(t + "StopContainer " + cname, lambda: c.call("StopContainer", cri.pb.StopContainerRequest(
                container_id=cids[cname], timeout=STOP_GRACE_S), timeout=STOP_GRACE_S + 60))
            cs = c.status(cids[cname]).status
            logged = cri.wait_until(lambda: "got-TERM" in read_log(log_dir, cname), 10)
            r["stop"][cname] = [cri.pb.ContainerState.Name(cs.state), cs.exit_code, cs.reason, bool(logged)]
            check(t + "%s exited 0 on SIGTERM (state, exit code, reason, log)" % cname,
                  r["stop"][cname] == ["CONTAINER_EXITED", 0, "Completed", True], r["stop"][cname])
        for cname in ("c1", "c2"):
            must(t + "RemoveContainer " + cname, lambda: c.call("RemoveContainer", cri.pb.RemoveContainerRequest(
                container_id=cids[cname])))
        left = [x for x in c.call("ListContainers", cri.pb.ListContainersRequest(
            filter=cri.pb.ContainerFilter(pod_sandbox_id=pod))).containers]
        check(t + "no container left in the pod", not left, left)
        must(t + "StopPodSandbox", lambda: c.call("StopPodSandbox", cri.pb.StopPodSandboxRequest(pod_sandbox_id=pod)))
        st = c.pod_status(pod).status
        r["pod_stopped"] = st.state == cri.pb.SANDBOX_NOTREADY
        check(t + "pod not ready after StopPodSandbox", r["pod_stopped"], st)
        must(t + "RemovePodSandbox", lambda: c.call("RemovePodSandbox",
                                                    cri.pb.RemovePodSandboxRequest(pod_sandbox_id=pod)))
        pod = None
        # The shim exits after containerd's Shutdown, asynchronously: wait for the state, with a deadline.
        left = cri.wait_until(lambda: not leftovers(handler, ids, netns, sockets), 20) or \
            leftovers(handler, ids, netns, sockets)
        r["leftovers"] = [] if left is True else left
        check(t + "nothing left: shims, bundles, runc state, mounts, netns, cgroups, shim sockets", left is True,
              *([] if left is True else left))
    except Abort as e:
        r["aborted_at"] = str(e)
    finally:
        if pod:
            try:
                c.teardown_pod(pod)
            except Exception as e:
                not_ok(t + "teardown after a failure", repr(e))
    return r


def stat_flags(s):
    return {
        "cpu": s.HasField("cpu") and s.cpu.usage_core_nano_seconds.value > 0,
        "memory": s.HasField("memory") and s.memory.working_set_bytes.value > 0,
        "writable_layer": s.HasField("writable_layer") and s.writable_layer.HasField("used_bytes")
                          and s.writable_layer.used_bytes.value > 0,
    }


def read_log(log_dir, cname):
    try:
        with open(os.path.join(log_dir, cname + ".log")) as f:
            return f.read()
    except OSError:
        return ""


def main(handlers):
    c = cri.Client()
    missing = c.wait_ready([os.environ["CRI_PAUSE_IMAGE"], os.environ["CRI_IMAGE"]], deadline_s=60)
    if not check("CRI ready: runtime and network conditions, pause and busybox images", missing is None, missing):
        print("%d passed, %d failed" % (passed, failed))
        return 1
    v = c.call("Version", cri.pb.VersionRequest())
    print("# CRI: %s %s, API %s" % (v.runtime_name, v.runtime_version, v.runtime_api_version), flush=True)
    results = {}
    for h in handlers:
        t0 = time.monotonic()
        results[h] = scenario(c, h)
        print("# %s: scenario took %.1f s" % (h, time.monotonic() - t0), flush=True)
    out = os.environ.get("CRI_RESULTS")
    if out:
        with open(out, "w") as f:
            json.dump(results, f, indent=1, sort_keys=True)
    # Same outcomes as runc: every recorded result of each handler against the first one's.
    base = handlers[0]
    for h in handlers[1:]:
        for key in sorted(set(results[base]) | set(results[h])):
            a, b = results[base].get(key), results[h].get(key)
            check("%s and %s agree: %s" % (base, h, key), a == b, "%s: %s" % (base, a), "%s: %s" % (h, b))
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["runc", "cshim"]))
