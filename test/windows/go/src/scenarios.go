//go:build windows

package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
	"unsafe"

	eventsapi "github.com/containerd/containerd/api/events"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/runtime/v2/task"
	"github.com/containerd/ttrpc"
	"github.com/containerd/typeurl"
	"github.com/gogo/protobuf/proto"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/windows"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const callTimeout = 30 * time.Second

// containerd's runtime/typeurl.go registration, so an exec's spec Any carries the type URL containerd sends:
// types.containerd.io/opencontainers/runtime-spec/1/Process.
func init() {
	typeurl.Register(&specs.Process{}, "types.containerd.io", "opencontainers/runtime-spec",
		fmt.Sprint(specs.VersionMajor), "Process")
}

// t collects TAP-style results; a scenario fails if any check failed.
type t struct {
	n, failed int
	h         *harness
}

func (c *t) ok(cond bool, name string, detail ...interface{}) bool {
	c.n++
	if cond {
		fmt.Printf("ok %d - %s\n", c.n, name)
		return true
	}
	c.failed++
	fmt.Printf("not ok %d - %s\n", c.n, name)
	for _, d := range detail {
		for _, l := range strings.Split(strings.TrimRight(fmt.Sprint(d), "\n"), "\n") {
			fmt.Printf("#   %s\n", l)
		}
	}
	return false
}

// must stops the scenario: what follows depends on it.
type fatal struct{}

func (c *t) must(cond bool, name string, detail ...interface{}) {
	if !c.ok(cond, name, detail...) {
		panic(fatal{})
	}
}

func (c *t) noErr(err error, name string, detail ...interface{}) {
	c.must(err == nil, name, append([]interface{}{err}, detail...)...)
}

func spec(cmdline string, env ...string) map[string]interface{} {
	p := map[string]interface{}{"commandLine": cmdline, "cwd": `C:\`}
	if len(env) > 0 {
		p["env"] = env
	}
	return map[string]interface{}{"process": p}
}

func (c *t) logs(s *shimConn) string {
	return "shim log:\n" + c.h.shimLog(s.id)
}

func (c *t) create(s *shimConn, io *stdioServer) (uint32, error) {
	ctx, cancel := s.call(callTimeout)
	defer cancel()
	r, err := s.task.Create(ctx, &task.CreateTaskRequest{ID: s.id, Bundle: s.bundle, Stdin: io.names[0],
		Stdout: io.names[1], Stderr: io.names[2]})
	if err != nil {
		return 0, err
	}
	return r.Pid, nil
}

func (c *t) start(s *shimConn, exec string) uint32 {
	ctx, cancel := s.call(callTimeout)
	defer cancel()
	r, err := s.task.Start(ctx, &task.StartRequest{ID: s.id, ExecID: exec})
	c.noErr(err, fmt.Sprintf("Start %s %s", s.id, exec), c.logs(s))
	return r.Pid
}

func (c *t) wait(s *shimConn, exec string, d time.Duration) (*task.WaitResponse, error) {
	ctx, cancel := s.call(d)
	defer cancel()
	return s.task.Wait(ctx, &task.WaitRequest{ID: s.id, ExecID: exec})
}

func (c *t) del(s *shimConn, exec string) (*task.DeleteResponse, error) {
	ctx, cancel := s.call(callTimeout)
	defer cancel()
	return s.task.Delete(ctx, &task.DeleteRequest{ID: s.id, ExecID: exec})
}

func (c *t) state(s *shimConn, exec string) (*task.StateResponse, error) {
	ctx, cancel := s.call(callTimeout)
	defer cancel()
	return s.task.State(ctx, &task.StateRequest{ID: s.id, ExecID: exec})
}

// shutdown asks the shim to exit and checks its process is gone. The call itself may fail with the
// connection closing under it, which containerd ignores too.
func (c *t) shutdown(s *shimConn) {
	pid := s.pid
	ctx, cancel := s.call(callTimeout)
	cr, err := s.task.Connect(ctx, &task.ConnectRequest{ID: s.id})
	cancel()
	if err == nil {
		// hcsshim's Connect fails for an id with no task (runc's does not): only check it when it answers.
		c.ok(s.pid == 0 || cr.ShimPid == s.pid, "Connect answers the serving process's pid", cr.ShimPid, s.pid)
		pid = cr.ShimPid
	}
	c.must(pid != 0, "the serving process's pid is known (Connect, or the process start launched)", err)
	ctx, cancel = s.call(callTimeout)
	_, err = s.task.Shutdown(ctx, &task.ShutdownRequest{ID: s.id})
	cancel()
	c.ok(err == nil || errors.Is(err, ttrpc.ErrClosed), "Shutdown", err)
	c.ok(processGone(pid, 20*time.Second), fmt.Sprintf("the shim process (pid %d) is gone after Shutdown", pid),
		c.logs(s))
	s.close()
}

func findEvent(evs []event, topic string, pred func(interface{}) bool) int {
	for i, e := range evs {
		if e.Topic == topic && (pred == nil || pred(e.Msg)) {
			return i
		}
	}
	return -1
}

// ------------------------------------------------------------------ a: echo

func scenarioEcho(c *t) {
	h := c.h
	id := "echo"
	dir, err := h.bundle(id, spec("cmd /c echo hello & exit 3"))
	c.noErr(err, "bundle")
	s, err := h.startShim(id, dir)
	c.noErr(err, "start prints an address and the harness dials it")
	c.ok(strings.HasPrefix(s.address, `\\.\pipe\`), "the address is a named pipe", s.address)
	if b, err := os.ReadFile(filepath.Join(dir, "address")); c.ok(err == nil, "the bundle has an address file", err) {
		c.ok(strings.TrimSpace(string(b)) == s.address, "the address file holds the printed address", string(b))
	}
	io, err := newStdio(h, id, "", "", [3]bool{false, true, true})
	c.noErr(err, "stdio pipes served")
	defer io.close()
	pid, err := c.create(s, io)
	c.noErr(err, "Create", c.logs(s))
	spid := c.start(s, "")
	c.ok(spid != 0, "Start answers a pid", spid, pid)
	w, err := c.wait(s, "", 60*time.Second)
	if c.ok(err == nil, "Wait", err, c.logs(s)) {
		c.ok(w.ExitStatus == 3, "Wait: exit status 3", w.ExitStatus)
		c.ok(!w.ExitedAt.IsZero(), "Wait: exited_at is set")
	}
	c.ok(io.wait(20*time.Second), "stdout and stderr reach end of file after the exit")
	c.ok(strings.TrimSpace(io.output(0)) == "hello", `stdout is "hello"`, fmt.Sprintf("%q", io.output(0)))
	d, err := c.del(s, "")
	c.ok(err == nil && d.ExitStatus == 3, "Delete: exit status 3", d, err)
	want := []string{"/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"}
	got := h.events.waitFor(20*time.Second, func(evs []event) bool { return len(evs) >= 4 })
	evs := h.events.snapshot()
	c.ok(got && strings.Join(topics(evs), " ") == strings.Join(want, " "), "events create, start, exit, delete in order",
		topics(evs))
	if i := findEvent(evs, "/tasks/exit", nil); i >= 0 {
		e, ok := evs[i].Msg.(*eventsapi.TaskExit)
		c.ok(ok && e.ContainerID == id && e.ExitStatus == 3 && e.ID == id, "TaskExit names the container and status 3", evs[i].Msg)
		c.ok(evs[i].TypeURL == "containerd.events.TaskExit", "TaskExit's type URL", evs[i].TypeURL)
		c.ok(evs[i].Namespace == h.ns, "events carry the namespace", evs[i].Namespace)
	}
	if i := findEvent(evs, "/tasks/create", nil); i >= 0 {
		e, ok := evs[i].Msg.(*eventsapi.TaskCreate)
		c.ok(ok && e.ContainerID == id && e.IO != nil && e.IO.Stdout == io.names[1], "TaskCreate names the container and its stdout",
			evs[i].Msg)
	}
	if i := findEvent(evs, "/tasks/delete", nil); i >= 0 {
		e, ok := evs[i].Msg.(*eventsapi.TaskDelete)
		c.ok(ok && e.ContainerID == id && e.ExitStatus == 3, "TaskDelete: status 3", evs[i].Msg)
	}
	c.shutdown(s)
}

// ------------------------------------------------------------------ b: a long-running process

// systemProcessInformation is the head of SYSTEM_PROCESS_INFORMATION (winternl.h, x64 layout).
type systemProcessInformation struct {
	NextEntryOffset              uint32
	NumberOfThreads              uint32
	WorkingSetPrivateSize        int64
	HardFaultCount               uint32
	NumberOfThreadsHighWatermark uint32
	CycleTime                    uint64
	CreateTime                   int64
	UserTime                     int64
	KernelTime                   int64
	ImageName                    windows.NTUnicodeString
	BasePriority                 int32
	UniqueProcessID              uintptr
}

// cpuTimes answers a process's user and kernel time in ns. Not GetProcessTimes: Wine 8 answers it for
// another process with the caller's own times (measured); SystemProcessInformation has each process's.
func cpuTimes(pid uint32) (user, kernel uint64, err error) {
	buf := make([]byte, 1<<20)
	var n uint32
	for {
		err = windows.NtQuerySystemInformation(windows.SystemProcessInformation, unsafe.Pointer(&buf[0]), uint32(len(buf)), &n)
		if err != windows.STATUS_INFO_LENGTH_MISMATCH {
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	if err != nil {
		return 0, 0, fmt.Errorf("NtQuerySystemInformation: %w", err)
	}
	for off := uint32(0); ; {
		p := (*systemProcessInformation)(unsafe.Pointer(&buf[off]))
		if uint32(p.UniqueProcessID) == pid {
			return uint64(p.UserTime) * 100, uint64(p.KernelTime) * 100, nil
		}
		if p.NextEntryOffset == 0 {
			return 0, 0, fmt.Errorf("process %d not found", pid)
		}
		off += p.NextEntryOffset
	}
}

func execSpec(cmdline string) (*task.ExecProcessRequest, error) {
	a, err := typeurl.MarshalAny(&specs.Process{CommandLine: cmdline, Cwd: `C:\`})
	if err != nil {
		return nil, err
	}
	return &task.ExecProcessRequest{Spec: a}, nil
}

func (c *t) exec(s *shimConn, execID, cmdline string, io *stdioServer) error {
	r, err := execSpec(cmdline)
	if err != nil {
		return err
	}
	r.ID, r.ExecID, r.Stdin, r.Stdout, r.Stderr = s.id, execID, io.names[0], io.names[1], io.names[2]
	ctx, cancel := s.call(callTimeout)
	defer cancel()
	_, err = s.task.Exec(ctx, r)
	return err
}

func (c *t) kill(s *shimConn, execID string, sig syscall.Signal) error {
	ctx, cancel := s.call(callTimeout)
	defer cancel()
	_, err := s.task.Kill(ctx, &task.KillRequest{ID: s.id, ExecID: execID, Signal: uint32(sig)})
	return err
}

func scenarioLong(c *t) {
	h := c.h
	id := "long"
	// The init process spins in user mode for 1.5 s of CPU, then sleeps: its user time is far above its
	// kernel time, so the Stats check can tell which figure the shim reported as user.
	self, _ := os.Executable()
	dir, err := h.bundle(id, spec(fmt.Sprintf(`"%s" burn 1500 600`, self)))
	c.noErr(err, "bundle")
	s, err := h.startShim(id, dir)
	c.noErr(err, "start + dial")
	io, err := newStdio(h, id, "", "", [3]bool{false, true, true})
	c.noErr(err, "stdio pipes")
	defer io.close()
	_, err = c.create(s, io)
	c.noErr(err, "Create", c.logs(s))
	pid := c.start(s, "")
	st, err := c.state(s, "")
	c.noErr(err, "State")
	c.ok(st.ID == id && st.Pid == pid && pid != 0 && st.Status == 2 /* RUNNING */ && st.Bundle == dir,
		"State: id, pid, RUNNING, bundle", st, pid)
	ctx, cancel := s.call(callTimeout)
	pr, err := s.task.Pids(ctx, &task.PidsRequest{ID: id})
	cancel()
	c.noErr(err, "Pids")
	found := false
	for _, p := range pr.Processes {
		found = found || p.Pid == pid
	}
	c.ok(found, "Pids lists the init process", pr.Processes, pid)
	c.ok(pid != 0, "Start answers the init process's pid", pid)
	if pid == 0 && len(pr.Processes) == 1 {
		pid = pr.Processes[0].Pid // so the checks below still say something
	}

	// Wait for the spin to end: the process's user time reaches 1.5 s.
	var u0, k0 uint64
	spun := false
	for end := time.Now().Add(90 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		u, k, err := cpuTimes(pid)
		if err != nil {
			c.ok(false, "the task's pid is a Windows process the harness can open", err)
			break
		}
		u0, k0 = u, k
		if u >= 1500*uint64(time.Millisecond) {
			spun = true
			break
		}
	}
	c.ok(spun, "the init process spun 1.5 s of user time", u0, k0)
	ctx, cancel = s.call(callTimeout)
	sr, err := s.task.Stats(ctx, &task.StatsRequest{ID: id})
	cancel()
	c.noErr(err, "Stats", c.logs(s))
	u1, k1, _ := cpuTimes(pid)
	c.must(sr.Stats != nil && sr.Stats.TypeUrl == runhcsStatsURL, "Stats type URL "+runhcsStatsURL, sr.Stats)
	ws, err := decodeRunhcsStats(sr.Stats.Value)
	c.noErr(err, "Stats decodes with runhcs's field numbers")
	c.ok(ws.HasWindows && ws.HasTimestamp, "Statistics.windows with a timestamp", ws)
	// The shim's user figure (RuntimeUser100ns x 100) must be near the process's user time, read before and
	// after the call, and not its kernel time (Wine's clock ticks and the reads' spacing make exact equality
	// impossible; the process is idle by now, so the margin is small against 1.5 s).
	detail := fmt.Sprintf("shim user=%d kernel=%d total=%d; SystemProcessInformation before user=%d kernel=%d, after user=%d kernel=%d",
		ws.RuntimeUserNs, ws.RuntimeKernelNs, ws.TotalRuntimeNs, u0, k0, u1, k1)
	fmt.Printf("# %s\n", detail)
	margin := uint64(300 * time.Millisecond)
	c.ok(u1 > k1+2*margin, "the process's user time is well apart from its kernel time", detail)
	near := func(v, lo, hi uint64) bool { return v+margin >= lo && v <= hi+margin }
	c.ok(near(ws.RuntimeUserNs, u0, u1),
		"Stats user time is the process's user time (RuntimeUser100ns), not the kernel figure", detail)
	c.ok(near(ws.RuntimeKernelNs, k0, k1), "Stats kernel time is near the process's kernel time", detail)
	c.ok(ws.TotalRuntimeNs >= ws.RuntimeUserNs, "total runtime >= user", detail)
	c.ok(ws.CommitBytes > 0 || ws.PrivateWSBytes > 0, "memory figures are filled", ws)

	// Exec with its own stdio: stdin in, stdout and stderr out, its own exit code.
	eio, err := newStdio(h, id, "e1", "from-stdin\r\n", [3]bool{true, true, true})
	c.noErr(err, "exec stdio pipes")
	defer eio.close()
	c.noErr(c.exec(s, "e1", `cmd /c set /p X=& call echo got %X% & echo to-stderr 1>&2 & exit 7`, eio), "Exec e1", c.logs(s))
	epid := c.start(s, "e1")
	c.ok(epid != 0 && epid != pid, "exec start answers its own pid", epid)
	w, err := c.wait(s, "e1", 60*time.Second)
	c.ok(err == nil && w.ExitStatus == 7, "Wait e1: exit status 7", w, err)
	c.ok(eio.wait(20*time.Second), "exec stdout/stderr reach end of file")
	c.ok(strings.Contains(eio.output(0), "got from-stdin"), "exec read its stdin and wrote stdout", fmt.Sprintf("%q", eio.output(0)))
	c.ok(strings.Contains(eio.output(1), "to-stderr"), "exec stderr on its own pipe", fmt.Sprintf("%q", eio.output(1)))
	d, err := c.del(s, "e1")
	c.ok(err == nil && d.ExitStatus == 7, "Delete e1: status 7", d, err)
	h.events.waitFor(10*time.Second, func(evs []event) bool {
		return findEvent(evs, "/tasks/exit", func(m interface{}) bool { e, _ := m.(*eventsapi.TaskExit); return e != nil && e.ID == "e1" }) >= 0
	})
	evs := h.events.snapshot()
	ia := findEvent(evs, "/tasks/exec-added", nil)
	is := findEvent(evs, "/tasks/exec-started", nil)
	ie := findEvent(evs, "/tasks/exit", func(m interface{}) bool { e, _ := m.(*eventsapi.TaskExit); return e != nil && e.ID == "e1" })
	c.ok(ia >= 0 && is > ia && ie > is, "exec-added, exec-started, exit(e1) in order", topics(evs))
	if ie >= 0 {
		e := evs[ie].Msg.(*eventsapi.TaskExit)
		c.ok(e.ExitStatus == 7 && e.Pid == epid && e.Pid != 0 && e.ContainerID == id, "exit(e1) carries 7 and the exec's pid", e)
	}

	// SIGKILL on an exec terminates it.
	kio, err := newStdio(h, id, "e2", "", [3]bool{false, true, true})
	c.noErr(err, "e2 stdio")
	defer kio.close()
	c.noErr(c.exec(s, "e2", `ping -n 600 127.0.0.1`, kio), "Exec e2 (long)")
	kpid := c.start(s, "e2")
	c.noErr(c.kill(s, "e2", syscall.SIGKILL), "Kill e2 SIGKILL")
	w, err = c.wait(s, "e2", 30*time.Second)
	c.ok(err == nil, "SIGKILL: e2 exits", err, c.logs(s))
	c.ok(processGone(kpid, 10*time.Second), "SIGKILL: e2's process is gone")
	if logPath := os.Getenv("CSHIM_FAKEHCS_LOG"); logPath != "" {
		c.ok(hcsCallFor(logPath, "HcsTerminateProcess", kpid) != nil, "SIGKILL is HcsTerminateProcess of e2's process", kpid)
	}
	_, err = c.del(s, "e2")
	c.ok(err == nil, "Delete e2", err)

	// SIGTERM on the init process: CtrlShutdown; then the process exits.
	c.noErr(c.kill(s, "", syscall.SIGTERM), "Kill init SIGTERM", c.logs(s))
	w, err = c.wait(s, "", 30*time.Second)
	c.ok(err == nil, "SIGTERM: the init process exits", err, c.logs(s))
	if logPath := os.Getenv("CSHIM_FAKEHCS_LOG"); logPath != "" {
		rec := hcsCallFor(logPath, "HcsSignalProcess", pid)
		var sig interface{}
		if rec != nil {
			doc, _ := rec["doc"].(map[string]interface{})
			sig = doc["Signal"]
		}
		c.ok(sig == "CtrlShutdown", "SIGTERM is HcsSignalProcess CtrlShutdown of the init process", rec)
	}
	st, err = c.state(s, "")
	c.ok(err == nil && st.Status == 3 /* STOPPED */, "State after the exit: STOPPED", st, err)
	_, err = c.del(s, "")
	c.ok(err == nil, "Delete", err)
	c.ok(processGone(pid, 10*time.Second), "the init process is gone")
	c.shutdown(s)
}

// ------------------------------------------------------------------ c: the seed rules

func lastDocFor(logPath, id string) (map[string]interface{}, error) {
	b, err := os.ReadFile(logPath)
	if err != nil {
		return nil, err
	}
	var found map[string]interface{}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.Contains(line, "HcsCreateComputeSystem") || !strings.Contains(line, id) {
			continue
		}
		var rec map[string]interface{}
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		// The document is an object or a JSON string, under "doc", "document" or "config".
		for _, k := range []string{"doc", "document", "config", "Document", "configuration"} {
			switch v := rec[k].(type) {
			case map[string]interface{}:
				found = v
			case string:
				var m map[string]interface{}
				if json.Unmarshal([]byte(v), &m) == nil {
					found = m
				}
			}
		}
	}
	if found == nil {
		return nil, fmt.Errorf("no HcsCreateComputeSystem document for %s in %s", id, logPath)
	}
	return found, nil
}

// processEnv answers the Environment of the first HcsCreateProcess document the fake logged for a system.
func processEnv(logPath, system string) (map[string]interface{}, error) {
	b, err := os.ReadFile(logPath)
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		var rec struct {
			Call   string                 `json:"call"`
			System string                 `json:"system"`
			Doc    map[string]interface{} `json:"doc"`
		}
		if json.Unmarshal([]byte(line), &rec) != nil || rec.Call != "HcsCreateProcess" || rec.System != system {
			continue
		}
		env, _ := rec.Doc["Environment"].(map[string]interface{})
		return env, nil
	}
	return nil, fmt.Errorf("no HcsCreateProcess document for %s", system)
}

// hcsCallFor answers the first record of a call the fake HCS logged for a process id.
func hcsCallFor(logPath, call string, pid uint32) map[string]interface{} {
	b, _ := os.ReadFile(logPath)
	for _, line := range strings.Split(string(b), "\n") {
		var rec map[string]interface{}
		if json.Unmarshal([]byte(line), &rec) != nil || rec["call"] != call {
			continue
		}
		if p, ok := rec["pid"].(float64); ok && uint32(p) == pid {
			return rec
		}
	}
	return nil
}

// startedPids answers the pids the fake HCS logged as started for a system.
func startedPids(logPath, system string) []uint32 {
	b, _ := os.ReadFile(logPath)
	var out []uint32
	for _, line := range strings.Split(string(b), "\n") {
		var rec struct {
			Call   string `json:"call"`
			System string `json:"system"`
			Pid    uint32 `json:"pid"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Call == "HcsCreateProcess.started" && rec.System == system {
			out = append(out, rec.Pid)
		}
	}
	return out
}

func scenarioRules(c *t) {
	h := c.h
	// Rejected: CPU maximum above 10000 (hcs_doc.c's range check).
	bad := spec("cmd /c exit 0")
	bad["windows"] = map[string]interface{}{"resources": map[string]interface{}{"cpu": map[string]interface{}{"maximum": 20000}}}
	dir, err := h.bundle("rej", bad)
	c.noErr(err, "bundle")
	s, err := h.startShim("rej", dir)
	c.noErr(err, "start + dial")
	io, err := newStdio(h, "rej", "", "", [3]bool{false, true, true})
	c.noErr(err, "stdio")
	_, err = c.create(s, io)
	c.ok(err != nil && status.Code(err) == codes.InvalidArgument, "Create with cpu.maximum 20000: InvalidArgument", err)
	c.ok(err != nil && strings.Contains(strings.ToLower(err.Error()), "maximum"), "the error names the CPU maximum", err)
	io.close()
	// The shim still serves: a good container in the same shim is not what containerd does (one task per
	// shim), so just check it answers.
	_, err = c.state(s, "")
	c.ok(status.Code(err) == codes.NotFound, "after the failed Create, State answers NotFound", err)
	c.shutdown(s)

	// Capped: a CPU count above the host's is lowered to the host's, and shares are dropped beside a count.
	capSpec := spec("cmd /c echo %FOO%", "FOO=a=b", "BAR==lead")
	capSpec["windows"] = map[string]interface{}{"resources": map[string]interface{}{"cpu": map[string]interface{}{
		"count": 64, "shares": 500}}}
	dir, err = h.bundle("capped", capSpec)
	c.noErr(err, "bundle")
	s, err = h.startShim("capped", dir)
	c.noErr(err, "start + dial")
	io, err = newStdio(h, "capped", "", "", [3]bool{false, true, true})
	c.noErr(err, "stdio")
	defer io.close()
	_, err = c.create(s, io)
	c.noErr(err, "Create with cpu.count 64, shares 500", c.logs(s))
	logPath := os.Getenv("CSHIM_FAKEHCS_LOG")
	if c.ok(logPath != "", "CSHIM_FAKEHCS_LOG names the fake HCS's document log") {
		doc, err := lastDocFor(logPath, "capped")
		if c.ok(err == nil, "the fake HCS logged the create document", err) {
			ctr, _ := doc["Container"].(map[string]interface{})
			proc, _ := ctr["Processor"].(map[string]interface{})
			cnt, _ := proc["Count"].(float64)
			c.ok(cnt >= 1 && cnt < 64 && int(cnt) == runtime.NumCPU(), "Processor.Count capped to the host's CPUs",
				fmt.Sprintf("Count=%v NumCPU=%d doc=%v", proc["Count"], runtime.NumCPU(), doc))
			_, hasWeight := proc["Weight"]
			c.ok(!hasWeight, "Processor.Weight dropped beside a count", proc)
		}
	}
	c.start(s, "")
	w, err := c.wait(s, "", 60*time.Second)
	c.ok(err == nil && w.ExitStatus == 0, "the process exits 0", w, err)
	if logPath != "" {
		env, err := processEnv(logPath, "capped")
		c.ok(err == nil && env["FOO"] == "a=b" && env["BAR"] == "=lead",
			"the HCS process document keeps the values whole (FOO=a=b, BAR==lead)", env, err)
	}
	c.ok(io.wait(20*time.Second), "stdout end of file")
	c.ok(strings.TrimSpace(io.output(0)) == "a=b", `FOO=a=b arrives as "a=b"`, fmt.Sprintf("%q", io.output(0)))
	_, err = c.del(s, "")
	c.ok(err == nil, "Delete", err)
	c.shutdown(s)
}

// ------------------------------------------------------------------ d: faults and bad input

func frame(stream uint32, typ byte, payload []byte) []byte {
	f := make([]byte, 10+len(payload))
	binary.BigEndian.PutUint32(f[0:4], uint32(len(payload)))
	binary.BigEndian.PutUint32(f[4:8], stream)
	f[8] = typ
	copy(f[10:], payload)
	return f
}

func readResponse(conn io.Reader) (uint32, *ttrpc.Response, error) {
	hdr := make([]byte, 10)
	if _, err := io.ReadFull(conn, hdr); err != nil {
		return 0, nil, err
	}
	l, sid := binary.BigEndian.Uint32(hdr[0:4]), binary.BigEndian.Uint32(hdr[4:8])
	if hdr[8] != 2 {
		return sid, nil, fmt.Errorf("frame type %d, want a response", hdr[8])
	}
	b := make([]byte, l)
	if _, err := io.ReadFull(conn, b); err != nil {
		return sid, nil, err
	}
	var r ttrpc.Response
	return sid, &r, proto.Unmarshal(b, &r)
}

func request(h *harness, service, method string, msg proto.Message) []byte {
	p, _ := proto.Marshal(msg)
	b, _ := proto.Marshal(&ttrpc.Request{Service: service, Method: method, Payload: p, TimeoutNano: int64(callTimeout),
		Metadata: []*ttrpc.KeyValue{{Key: namespaces.TTRPCHeader, Value: h.ns}}})
	return b
}

func scenarioFaults(c *t) {
	h := c.h
	id := "faults"
	dir, err := h.bundle(id, spec("ping -n 600 127.0.0.1"))
	c.noErr(err, "bundle")
	s, err := h.startShim(id, dir)
	c.noErr(err, "start + dial")
	io, err := newStdio(h, id, "", "", [3]bool{false, true, true})
	c.noErr(err, "stdio")
	defer io.close()
	_, err = c.create(s, io)
	c.noErr(err, "Create", c.logs(s))
	pid := c.start(s, "")
	c.ok(pid != 0, "Start answers the process's pid", pid)

	// Raw frames on a second connection.
	raw, err := dialPipeServed(s.address, 10*time.Second)
	c.noErr(err, "a second connection to the shim pipe")
	lastMsg := ""
	expect := func(name string, stream uint32, code codes.Code) {
		raw.SetReadDeadline(time.Now().Add(callTimeout))
		sid, r, err := readResponse(raw)
		var got codes.Code
		msg := ""
		if r != nil && r.Status != nil {
			got, msg = codes.Code(r.Status.Code), r.Status.Message
		}
		c.ok(err == nil && sid == stream && got == code, fmt.Sprintf("%s: %s on stream %d", name, code, stream),
			fmt.Sprintf("err=%v stream=%d code=%s msg=%q", err, sid, got, msg))
		if msg != "" {
			fmt.Printf("#   (%s: %q)\n", name, msg)
		}
		lastMsg = msg
	}
	raw.Write(frame(1, 1, []byte{0xff, 0xff, 0xff, 0xff, 0x0f}))
	expect("garbage request payload", 1, codes.InvalidArgument)
	raw.Write(frame(2, 1, request(h, "containerd.task.v2.Task", "State", &task.StateRequest{ID: id})))
	expect("even stream id", 2, codes.InvalidArgument)
	raw.Write(frame(3, 1, request(h, "containerd.task.v2.Task", "Frobnicate", &task.StateRequest{ID: id})))
	expect("unknown method", 3, codes.Unimplemented)
	c.ok(strings.Contains(lastMsg, "Frobnicate"), "the error names the unknown method", lastMsg)
	raw.Write(frame(5, 1, request(h, "containerd.task.v2.Nope", "State", &task.StateRequest{ID: id})))
	expect("unknown service", 5, codes.Unimplemented)
	big := make([]byte, 5<<20)
	raw.Write(frame(7, 1, big))
	expect("a 5 MiB request (over the 4 MiB limit)", 7, codes.ResourceExhausted)
	raw.Write(frame(9, 1, request(h, "containerd.task.v2.Task", "State", &task.StateRequest{ID: id})))
	expect("State on the same connection after the bad frames", 9, codes.OK)
	raw.Close()
	// Unknown method through containerd's ttrpc client, then the shim still answers on the main connection.
	ctx, cancel := s.call(callTimeout)
	err = s.client.Call(ctx, "containerd.task.v2.Task", "Frobnicate", &task.StateRequest{ID: id}, &task.StateResponse{})
	cancel()
	c.ok(status.Code(err) == codes.Unimplemented, "ttrpc client: unknown method is Unimplemented", err)
	st, err := c.state(s, "")
	c.ok(err == nil && st.Status == 2, "the shim keeps serving: State RUNNING", st, err)

	// A second start for the live id: the same address, no second serving process.
	ctx, cancel = s.call(callTimeout)
	cr, err := s.task.Connect(ctx, &task.ConnectRequest{ID: id})
	cancel()
	c.noErr(err, "Connect")
	shimName := filepath.Base(h.shimExe)
	addr2, spid, err := h.runStartPid(id, dir)
	c.ok(err == nil && addr2 == s.address, "a second start answers the live shim's address", addr2, err)
	// Wine does not enforce FILE_FLAG_FIRST_PIPE_INSTANCE, so a second server would not fail here: look for a
	// serving process the second start left behind (a shim process whose parent is that start). Other tests
	// may run shims at the same time, so the parent, not a count, tells.
	var children []uint32
	for p, parent := range processesNamed(shimName) {
		if parent == uint32(spid) && p != cr.ShimPid {
			children = append(children, p)
		}
	}
	c.ok(len(children) == 0, "a second start leaves no second serving process", fmt.Sprintf("start pid %d left %v", spid, children))
	c2, err := dialPipeServed(addr2, 10*time.Second)
	if c.ok(err == nil, "dial the answered address", err) {
		cl := ttrpc.NewClient(c2)
		ctx, cancel = s.call(callTimeout)
		cr2, err := task.NewTaskClient(cl).Connect(ctx, &task.ConnectRequest{ID: id})
		cancel()
		c.ok(err == nil && cr2.ShimPid == cr.ShimPid, "the answered address is served by the same shim", cr2, cr, err)
		cl.Close()
	}

	// The shim killed: `delete` cleans up and reports 255.
	ph, err := windows.OpenProcess(windows.PROCESS_TERMINATE|windows.SYNCHRONIZE, false, cr.ShimPid)
	c.noErr(err, "open the shim process")
	c.noErr(windows.TerminateProcess(ph, 1), "terminate the shim")
	r, _ := windows.WaitForSingleObject(ph, 20000)
	windows.CloseHandle(ph)
	c.ok(r == windows.WAIT_OBJECT_0, "the shim process is gone")
	s.close()
	// containerd runs delete from its own directory (not the bundle) with -bundle.
	cmd := h.shimCmd(h.tmp, "-id", id, "-bundle", dir, "delete")
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = runWithTimeout(cmd, 60*time.Second)
	c.ok(err == nil, "delete exits 0", err, errb.String())
	var dr task.DeleteResponse
	err = dr.Unmarshal([]byte(out.String()))
	c.ok(err == nil && dr.ExitStatus == 255, "delete prints a DeleteResponse with exit status 255", err, dr.String(),
		fmt.Sprintf("stdout=%q stderr=%q", out.String(), errb.String()))
	// Every process the fake HCS started for this container, not only the one Start named.
	pids := []uint32{pid}
	if logPath := os.Getenv("CSHIM_FAKEHCS_LOG"); logPath != "" {
		pids = append(pids, startedPids(logPath, id)...)
	}
	left := []uint32{}
	for _, p := range pids {
		if p != 0 && !processGone(p, 20*time.Second) {
			left = append(left, p)
		}
	}
	c.ok(len(left) == 0, "delete leaves no container process behind", pids, left)
}

func runWithTimeout(cmd *exec.Cmd, d time.Duration) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		cmd.Process.Kill()
		return fmt.Errorf("%s did not finish in %s", cmd.Path, d)
	}
}
