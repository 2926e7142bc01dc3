"""cri_bench.py PODS HANDLER... : CRI pod start time and shim memory per pod, handlers side by side in one run.

Pod start = RunPodSandbox + CreateContainer + StartContainer of one container, timed at the client; the
handlers take turns pod by pod so drift of the machine hits both alike. Once all pods run, the shim
processes of each handler are counted and their VmRSS / Pss summed and divided by the pods. Prints a table
and ratios against the first handler; asserts nothing. run.sh starts the containerd (test/cri/lib.sh).
"""
import os
import statistics
import sys
import time

import cri



def shim_of(handler):
    return "containerd-shim-cshim-v2" if handler.startswith("cshim") else "containerd-shim-runc-v2"


def shim_id(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv = f.read().decode(errors="replace").split("\0")
    except OSError:
        return None
    return argv[argv.index("-id") + 1] if "-id" in argv[:-1] else None


def main(argv):
    pods_per = int(argv[0])
    handlers = argv[1:]
    c = cri.Client()
    missing = c.wait_ready([os.environ["CRI_PAUSE_IMAGE"], os.environ["CRI_IMAGE"]], deadline_s=60)
    if missing:
        print("bench: CRI not ready: " + missing, file=sys.stderr)
        return 1
    starts = {h: [] for h in handlers}
    pods = {h: [] for h in handlers}
    try:
        for i in range(pods_per):
            for h in handlers:
                pcfg = c.pod_config("bench-%s-%d" % (h, i))
                ccfg = c.container_config("sleeper", ["sleep", "100000"])
                t0 = time.monotonic()
                pod = c.run_pod(pcfg, h)
                cid = c.create(pod, ccfg, pcfg)
                c.start(cid)
                starts[h].append((time.monotonic() - t0) * 1000.0)
                pods[h].append(pod)
        mem = {}
        for h in handlers:
            # Two handlers may run the same shim binary: a shim is this handler's when its -id is one of the
            # handler's pods (a pod's shim is started for the pod's sandbox id, with either sandboxer).
            pids = [p for p in cri.shim_pids(shim_of(h)) if shim_id(p) in pods[h]]
            rss = pss = 0
            for p in pids:
                r, s = cri.mem_kib(p)
                rss += r or 0
                pss += s or 0
            mem[h] = (len(pids), rss / pods_per, pss / pods_per)
    finally:
        for h in handlers:
            for pod in pods[h]:
                try:
                    c.teardown_pod(pod)
                except Exception as e:  # report and go on: lib.sh's cleanup removes the rest
                    print("bench: teardown %s: %r" % (pod[:12], e), file=sys.stderr)

    base = handlers[0]
    rows = [
        ("pod start median (ms)", {h: statistics.median(starts[h]) for h in handlers}, "%.1f"),
        ("pod start min (ms)", {h: min(starts[h]) for h in handlers}, "%.1f"),
        ("pod start max (ms)", {h: max(starts[h]) for h in handlers}, "%.1f"),
        ("shim processes per pod", {h: mem[h][0] / pods_per for h in handlers}, "%.2f"),
        ("shim VmRSS per pod (KiB)", {h: mem[h][1] for h in handlers}, "%.0f"),
        ("shim Pss per pod (KiB)", {h: mem[h][2] for h in handlers}, "%.0f"),
    ]
    print("CRI pod start and shim memory, %d pods per handler (1 container each), all running at once" % pods_per)
    print("| metric | " + " | ".join(handlers) + " | " + " | ".join("%s/%s" % (h, base) for h in handlers[1:]) + " |")
    print("| --- |" + " ---: |" * (2 * len(handlers) - 1))
    for name, v, fmt in rows:
        ratios = ["%.3f" % (v[h] / v[base]) if v[base] else "n/a" for h in handlers[1:]]
        print("| %s | %s | %s |" % (name, " | ".join(fmt % v[h] for h in handlers), " | ".join(ratios)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
