"""cri.py: a small CRI (Kubernetes runtime.v1) client for the CRI end-to-end test and bench/cri.

Debian packages only: the message code is generated at run time from api.proto (beside this file) by
Debian's protoc (protobuf-compiler, the same release as the python3-protobuf runtime that loads it), the
service stubs by python3-grpc-tools; python3-grpcio carries the calls, python3-websocket the exec stream.
Nothing generated is kept in the tree: it goes to $CRI_GEN (lib.sh puts it in the instance's temp dir).

Environment: CRI_SOCK (containerd's socket), CRI_GEN, CRI_CGROUP_PARENT, CRI_PAUSE_IMAGE, CRI_IMAGE, CTD_DIR.

    python3 -m cri teardown      stop and remove every pod of the instance (lib.sh's cleanup)
"""

import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

pb = None        # api_pb2, once generated
pb_grpc = None   # api_pb2_grpc


def generate(gen_dir):
    """Compiles api.proto into gen_dir (once per instance) and imports it."""
    global pb, pb_grpc
    if pb is not None:
        return
    os.makedirs(gen_dir, exist_ok=True)
    if not os.path.exists(os.path.join(gen_dir, "api_pb2_grpc.py")):
        proto = os.path.join(HERE, "api.proto")
        # Messages from Debian's protoc: code of the protobuf release the runtime is (grpc_tools bundles an
        # older protoc whose output newer runtimes only accept with the pure-Python backend).
        subprocess.run(["protoc", "-I" + HERE, "--python_out=" + gen_dir, proto], check=True)
        subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I" + HERE, "--grpc_python_out=" + gen_dir,
                        proto], check=True)
    sys.path.insert(0, gen_dir)
    import api_pb2
    import api_pb2_grpc
    pb, pb_grpc = api_pb2, api_pb2_grpc


class Client:
    """RuntimeService and ImageService over containerd's gRPC socket; every call has a deadline."""

    def __init__(self, sock=None, gen_dir=None, timeout=60):
        import grpc
        generate(gen_dir or os.environ["CRI_GEN"])
        self.grpc = grpc
        self.channel = grpc.insecure_channel("unix://" + (sock or os.environ["CRI_SOCK"]))
        self.rt = pb_grpc.RuntimeServiceStub(self.channel)
        self.img = pb_grpc.ImageServiceStub(self.channel)
        self.timeout = timeout

    def call(self, name, req, timeout=None, service=None):
        return getattr(service or self.rt, name)(req, timeout=timeout or self.timeout)

    def wait_ready(self, images, deadline_s=60):
        """Until the runtime and network conditions are true and every image is known to the CRI
        (ctr's import reaches the CRI image store through an event). Returns None or what was missing."""
        end = time.monotonic() + deadline_s
        missing = "nothing asked yet"
        while time.monotonic() < end:
            try:
                st = self.call("Status", pb.StatusRequest(), timeout=5)
                conds = {c.type: c for c in st.status.conditions}
                missing = [t + ": " + (conds[t].reason + " " + conds[t].message if t in conds else "absent")
                           for t in ("RuntimeReady", "NetworkReady") if t not in conds or not conds[t].status]
                for image in images:
                    r = self.call("ImageStatus", pb.ImageStatusRequest(image=pb.ImageSpec(image=image)),
                                  timeout=5, service=self.img)
                    if not r.image.id:
                        missing.append("image " + image)
                if not missing:
                    return None
            except self.grpc.RpcError as e:
                missing = ["CRI: %s" % e.details()]
            time.sleep(0.1)
        return "; ".join(missing)

    # --- configs as kubelet builds them, trimmed to what the checks need ---

    def pod_config(self, name, log_dir=None):
        cfg = pb.PodSandboxConfig(
            metadata=pb.PodSandboxMetadata(name=name, uid="uid-" + name, namespace="cshim-test", attempt=0),
            hostname=name,
            log_directory=log_dir or "",
            labels={"cshim-test": "cri"},
        )
        cfg.linux.cgroup_parent = os.environ["CRI_CGROUP_PARENT"]
        # kubelet sets pid CONTAINER for v1 pods: each container's init is its own PID 1.
        cfg.linux.security_context.namespace_options.pid = pb.CONTAINER
        return cfg

    def container_config(self, name, command, log_path=None, tty=False, stdin=False):
        cfg = pb.ContainerConfig(
            metadata=pb.ContainerMetadata(name=name, attempt=0),
            image=pb.ImageSpec(image=os.environ["CRI_IMAGE"]),
            command=command,
            log_path=log_path or "",
            tty=tty,
            stdin=stdin,
            labels={"cshim-test": "cri"},
        )
        cfg.linux.security_context.namespace_options.pid = pb.CONTAINER
        return cfg

    def run_pod(self, cfg, handler):
        return self.call("RunPodSandbox", pb.RunPodSandboxRequest(config=cfg, runtime_handler=handler)).pod_sandbox_id

    def create(self, pod_id, ccfg, pcfg):
        return self.call("CreateContainer", pb.CreateContainerRequest(pod_sandbox_id=pod_id, config=ccfg,
                                                                      sandbox_config=pcfg)).container_id

    def start(self, cid):
        self.call("StartContainer", pb.StartContainerRequest(container_id=cid))

    def status(self, cid, verbose=False):
        return self.call("ContainerStatus", pb.ContainerStatusRequest(container_id=cid, verbose=verbose))

    def pod_status(self, pod_id, verbose=False):
        return self.call("PodSandboxStatus", pb.PodSandboxStatusRequest(pod_sandbox_id=pod_id, verbose=verbose))

    def exec_sync(self, cid, cmd, timeout_s=30):
        return self.call("ExecSync", pb.ExecSyncRequest(container_id=cid, cmd=cmd, timeout=timeout_s),
                         timeout=timeout_s + 30)

    def teardown_pod(self, pod_id):
        """Stop and remove a pod with everything in it (kubelet's order: containers, then the sandbox)."""
        for c in self.call("ListContainers", pb.ListContainersRequest(
                filter=pb.ContainerFilter(pod_sandbox_id=pod_id))).containers:
            self.call("StopContainer", pb.StopContainerRequest(container_id=c.id, timeout=0))
            self.call("RemoveContainer", pb.RemoveContainerRequest(container_id=c.id))
        self.call("StopPodSandbox", pb.StopPodSandboxRequest(pod_sandbox_id=pod_id))
        self.call("RemovePodSandbox", pb.RemovePodSandboxRequest(pod_sandbox_id=pod_id))

    def teardown_all(self):
        errors = []
        for p in self.call("ListPodSandbox", pb.ListPodSandboxRequest()).items:
            try:
                self.teardown_pod(p.id)
            except self.grpc.RpcError as e:
                errors.append("%s: %s" % (p.id[:12], e.details()))
        return errors


# --- the streaming server: exec over websocket (containerd 1.6 serves SPDY and websocket) ---

# Kubernetes' remotecommand channels over websocket: every binary message starts with the channel byte.
CH_STDIN, CH_STDOUT, CH_STDERR, CH_ERROR, CH_RESIZE = 0, 1, 2, 3, 4


def ws_exec(url, stdin_data=b"", deadline_s=15.0, resize=None):
    """Runs the exec session behind `url` (from the Exec RPC): sends stdin_data on the stdin channel and then
    keeps stdin OPEN (the websocket protocol before v5 cannot half-close it; only the connection's end does),
    reads until the server closes the session or deadline_s passes. Returns a dict: closed (the server ended
    the session by itself), seconds (from stdin sent to the end), stdout, status (the error channel's JSON)."""
    import websocket
    ws_url = "ws" + url[len("http"):] if url.startswith("http") else url
    ws = websocket.create_connection(ws_url, subprotocols=["v4.channel.k8s.io"], timeout=10)
    out = {"closed": False, "seconds": None, "stdout": b"", "status": None, "protocol": ws.subprotocol}
    try:
        if resize:
            ws.send_binary(bytes([CH_RESIZE]) + json.dumps({"Width": resize[0], "Height": resize[1]}).encode())
        if stdin_data:
            ws.send_binary(bytes([CH_STDIN]) + stdin_data)
        t0 = time.monotonic()
        end = t0 + deadline_s
        err = b""
        while True:
            left = end - time.monotonic()
            if left <= 0:
                break
            ws.settimeout(min(left, 1.0))
            try:
                opcode, data = ws.recv_data(control_frame=True)
            except websocket.WebSocketTimeoutException:
                continue
            except websocket.WebSocketConnectionClosedException:
                out["closed"] = True
                break
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                out["closed"] = True
                break
            if opcode not in (websocket.ABNF.OPCODE_BINARY, websocket.ABNF.OPCODE_TEXT) or not data:
                continue
            ch, payload = data[0], data[1:]
            if ch in (CH_STDOUT, CH_STDERR):
                out["stdout"] += payload
            elif ch == CH_ERROR:
                err += payload
        out["seconds"] = time.monotonic() - t0
        if err:
            try:
                out["status"] = json.loads(err)
            except ValueError:
                out["status"] = {"raw": err.decode(errors="replace")}
    finally:
        ws.close(timeout=1)
    return out


def exit_code_of(status):
    """The exit code in a v4 error-channel Status: Success = 0, NonZeroExitCode carries it in a cause."""
    if not status:
        return None
    if status.get("status") == "Success":
        return 0
    for c in (status.get("details") or {}).get("causes") or []:
        if c.get("reason") == "ExitCode":
            return int(c.get("message"))
    return None


# --- processes ---

def is_pod_process(pid):
    """The pod's own process of a shim sandboxer (cshim's `cshim-pod`, a clone of the shim that holds the
    pod's namespaces): the pod's pause, not a shim."""
    try:
        with open("/proc/%s/comm" % pid) as f:
            return f.read().strip() == "cshim-pod"
    except OSError:
        return False


def shim_pids(binary_name, ctd_sock=None):
    """Pids of shim processes of this containerd instance: the executable is `binary_name` and the command
    line names our socket (every shim gets `-address <containerd socket>`)."""
    sock = ctd_sock or os.environ["CRI_SOCK"]
    pids = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % p, "rb") as f:
                argv = f.read().split(b"\0")
            exe = os.path.basename(os.readlink("/proc/%s/exe" % p))
        except OSError:
            continue
        if exe == binary_name and sock.encode() in argv and not is_pod_process(p):
            pids.append(int(p))
    return sorted(pids)


def mem_kib(pid):
    """(VmRSS, Pss) of a process in KiB; Pss from smaps_rollup."""
    rss = pss = None
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


def wait_until(pred, deadline_s, step=0.05):
    """Polls pred() until it returns a true value or deadline_s passes: a liveness bound, never a speed check."""
    end = time.monotonic() + deadline_s
    while True:
        v = pred()
        if v or time.monotonic() >= end:
            return v
        time.sleep(step)


def main(argv):
    if argv[1:] == ["teardown"]:
        errors = Client().teardown_all()
        for e in errors:
            print("teardown: " + e, file=sys.stderr)
        return 1 if errors else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
