//go:build windows

// The harness plays containerd's Windows runtime manager (runtime/v2/binary.go, shim_windows.go,
// shim/util.go, shim/util_windows.go of containerd 1.6): it starts the shim with `start` in the bundle,
// dials the printed pipe, serves the events service on TTRPC_ADDRESS, dials the log pipe, and serves the
// stdio pipes it names in Create/Exec as containerd's cio does.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	eventsapi "github.com/containerd/containerd/api/events"
	ttrpcevents "github.com/containerd/containerd/api/services/ttrpc/events/v1"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/runtime/v2/task"
	"github.com/containerd/ttrpc"
	"github.com/containerd/typeurl"
	ptypes "github.com/gogo/protobuf/types"
	"golang.org/x/sys/windows"
)

// Referencing the event types links in their gogo registrations, so typeurl can decode every Envelope.
var _ = []interface{}{&eventsapi.TaskCreate{}, &eventsapi.TaskStart{}, &eventsapi.TaskExit{}, &eventsapi.TaskDelete{},
	&eventsapi.TaskExecAdded{}, &eventsapi.TaskExecStarted{}}

// event is one Forward the shim made, decoded.
type event struct {
	Topic     string
	Namespace string
	TypeURL   string
	Msg       interface{}
}

// eventRecorder is containerd's events service as far as a shim sees it.
type eventRecorder struct {
	mu     sync.Mutex
	cond   *sync.Cond
	events []event
	errs   []string
}

func newEventRecorder() *eventRecorder {
	r := &eventRecorder{}
	r.cond = sync.NewCond(&r.mu)
	return r
}

func (r *eventRecorder) Forward(ctx context.Context, req *ttrpcevents.ForwardRequest) (*ptypes.Empty, error) {
	e := req.Envelope
	r.mu.Lock()
	defer r.mu.Unlock()
	defer r.cond.Broadcast()
	if e == nil || e.Event == nil {
		r.errs = append(r.errs, "Forward without an envelope or event")
		return &ptypes.Empty{}, nil
	}
	ev := event{Topic: e.Topic, Namespace: e.Namespace, TypeURL: e.Event.TypeUrl}
	v, err := typeurl.UnmarshalAny(e.Event)
	if err != nil {
		r.errs = append(r.errs, fmt.Sprintf("event %s: %v", e.Topic, err))
	} else {
		ev.Msg = v
	}
	r.events = append(r.events, ev)
	return &ptypes.Empty{}, nil
}

func (r *eventRecorder) snapshot() []event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]event(nil), r.events...)
}

// waitFor waits until pred holds for the recorded events.
func (r *eventRecorder) waitFor(d time.Duration, pred func([]event) bool) bool {
	deadline := time.Now().Add(d)
	t := time.AfterFunc(d, func() { r.cond.Broadcast() })
	defer t.Stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	for !pred(r.events) {
		if time.Now().After(deadline) {
			return false
		}
		r.cond.Wait()
	}
	return true
}

func topics(evs []event) []string {
	var t []string
	for _, e := range evs {
		t = append(t, e.Topic)
	}
	return t
}

// stdioServer serves one process's stdin/stdout/stderr pipes the way containerd's cio (io_windows.go) does:
// listen first, pass the names, accept the shim's connection, copy.
type stdioServer struct {
	names   [3]string
	ls      [3]*pipeListener
	stdin   string
	mu      sync.Mutex
	out     [2]bytes.Buffer
	done    [2]chan struct{}
	connErr [3]error
}

func newStdio(h *harness, id, exec string, stdin string, want [3]bool) (*stdioServer, error) {
	s := &stdioServer{stdin: stdin, done: [2]chan struct{}{make(chan struct{}), make(chan struct{})}}
	kinds := [3]string{"stdin", "stdout", "stderr"}
	for i, k := range kinds {
		if !want[i] {
			if i > 0 {
				close(s.done[i-1])
			}
			continue
		}
		s.names[i] = fmt.Sprintf(`\\.\pipe\containerd-%s-%s-%s-%s`, h.run, id, exec, k)
		l, err := listenPipe(s.names[i])
		if err != nil {
			s.close()
			return nil, err
		}
		s.ls[i] = l
	}
	for i := range kinds {
		if s.ls[i] == nil {
			continue
		}
		go s.serve(i)
	}
	return s, nil
}

func (s *stdioServer) serve(i int) {
	c, err := s.ls[i].Accept()
	s.ls[i].Close() // one connection per stream, as cio accepts once
	if err != nil {
		s.mu.Lock()
		s.connErr[i] = err
		s.mu.Unlock()
		if i > 0 {
			close(s.done[i-1])
		}
		return
	}
	if i == 0 {
		io.WriteString(c, s.stdin)
		c.Close() // end of file for the process's stdin
		return
	}
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		s.mu.Lock()
		s.out[i-1].Write(buf[:n])
		s.mu.Unlock()
		if err != nil {
			break
		}
	}
	c.Close()
	close(s.done[i-1])
}

// wait waits for stdout and stderr to reach end of file.
func (s *stdioServer) wait(d time.Duration) bool {
	t := time.After(d)
	for i := 0; i < 2; i++ {
		select {
		case <-s.done[i]:
		case <-t:
			return false
		}
	}
	return true
}

func (s *stdioServer) output(i int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out[i].String()
}

func (s *stdioServer) close() {
	for _, l := range s.ls {
		if l != nil {
			l.Close()
		}
	}
}

// harness is one run: its own pipe names, namespace, events server and temp dir.
type harness struct {
	shimExe  string
	run      string // unique part of every pipe name of this run
	ns       string
	address  string // containerd's GRPC address (never served: the shim only derives names from it)
	ttrpcAdr string
	tmp      string
	events   *eventRecorder
	evSrv    *ttrpc.Server
	evL      *pipeListener
	logMu    sync.Mutex
	shimLogs map[string]*bytes.Buffer
	shims    []*shimConn
}

func newHarness(shimExe, ns string) (*harness, error) {
	h := &harness{shimExe: shimExe, ns: ns, events: newEventRecorder(), shimLogs: map[string]*bytes.Buffer{}}
	h.run = fmt.Sprintf("cshimgo%d-%d", os.Getpid(), time.Now().UnixNano()%1000000)
	h.address = `\\.\pipe\` + h.run + `-containerd`
	h.ttrpcAdr = h.address + ".ttrpc"
	if h.ns == "" {
		h.ns = h.run
	}
	tmp, err := os.MkdirTemp("", "cshimgo")
	if err != nil {
		return nil, err
	}
	h.tmp = tmp
	l, err := listenPipe(h.ttrpcAdr)
	if err != nil {
		return nil, fmt.Errorf("events service: %w", err)
	}
	srv, err := ttrpc.NewServer()
	if err != nil {
		return nil, err
	}
	ttrpcevents.RegisterEventsService(srv, h.events)
	h.evL, h.evSrv = l, srv
	go srv.Serve(context.Background(), l)
	return h, nil
}

func (h *harness) close() {
	for _, s := range h.shims {
		s.close()
	}
	if h.evSrv != nil {
		h.evSrv.Close()
	}
	os.RemoveAll(h.tmp)
}

// bundle makes a bundle directory with the spec as config.json and the layer folders the spec names.
func (h *harness) bundle(id string, spec map[string]interface{}) (string, error) {
	dir := filepath.Join(h.tmp, id)
	layers := []string{filepath.Join(h.tmp, "layers", "base"), filepath.Join(dir, "scratch")}
	for _, d := range append([]string{dir}, layers...) {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", err
		}
	}
	if spec["windows"] == nil {
		spec["windows"] = map[string]interface{}{}
	}
	w := spec["windows"].(map[string]interface{})
	if w["layerFolders"] == nil {
		w["layerFolders"] = layers
	}
	if spec["root"] == nil {
		spec["root"] = map[string]interface{}{"path": filepath.Join(dir, "rootfs")}
	}
	if spec["ociVersion"] == nil {
		spec["ociVersion"] = "1.0.2"
	}
	b, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return "", err
	}
	return dir, os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644)
}

// shimCmd is containerd's shim.Command: the three common flags, TTRPC_ADDRESS, cwd = dir.
func (h *harness) shimCmd(dir string, args ...string) *exec.Cmd {
	self, _ := os.Executable()
	a := append([]string{"-namespace", h.ns, "-address", h.address, "-publish-binary", self}, args...)
	cmd := exec.Command(h.shimExe, a...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOMAXPROCS=2", "TTRPC_ADDRESS="+h.ttrpcAdr)
	return cmd
}

// shimConn is one started shim as the runtime manager holds it.
type shimConn struct {
	id      string
	bundle  string
	address string
	conn    *pipeConn
	client  *ttrpc.Client
	task    task.TaskService
	ctx     context.Context
	logDone chan struct{}
	pid     uint32 // the serving process (0 if not found)
}

func (s *shimConn) close() {
	if s.client != nil {
		s.client.Close()
		s.client = nil
	}
}

// call returns a context with the namespace and a per-call timeout, as containerd's calls carry.
func (s *shimConn) call(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(s.ctx, d)
}

// runStart runs `start` as binary.Start does (combined output trimmed is the address). A start whose
// serving process kept start's output open would never return: that is reported, not waited out.
func (h *harness) runStart(id, dir string) (string, error) {
	addr, _, err := h.runStartPid(id, dir)
	return addr, err
}

// runStartPid also answers the Windows pid the start process had.
func (h *harness) runStartPid(id, dir string) (string, int, error) {
	cmd := h.shimCmd(dir, "-id", id, "start")
	cmd.Stdin = bytes.NewReader(nil)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", 0, fmt.Errorf("start: %w", err)
	}
	pid := cmd.Process.Pid
	ch := make(chan error, 1)
	go func() { ch <- cmd.Wait() }()
	select {
	case err := <-ch:
		if err != nil {
			return "", pid, fmt.Errorf("start: %v: %s", err, out.String())
		}
		return strings.TrimSpace(out.String()), pid, nil
	case <-time.After(60 * time.Second):
		return "", pid, fmt.Errorf("start did not return in 60 s (does the serving process hold start's stdout?)")
	}
}

// startShim: log pipe dial first (containerd dials it before running start), then start, then dial.
func (h *harness) startShim(id, dir string) (*shimConn, error) {
	s := &shimConn{id: id, bundle: dir, logDone: make(chan struct{}),
		ctx: namespaces.WithNamespace(context.Background(), h.ns)}
	logName := fmt.Sprintf(`\\.\pipe\containerd-shim-%s-%s-log`, h.ns, id)
	buf := &bytes.Buffer{}
	h.logMu.Lock()
	h.shimLogs[id] = buf
	h.logMu.Unlock()
	go func() {
		defer close(s.logDone)
		c, err := dialPipeServed(logName, 10*time.Second)
		if err != nil {
			h.logMu.Lock()
			fmt.Fprintf(buf, "[harness: log pipe: %v]\n", err)
			h.logMu.Unlock()
			return
		}
		defer c.Close()
		b := make([]byte, 4096)
		for {
			n, err := c.Read(b)
			h.logMu.Lock()
			buf.Write(b[:n])
			h.logMu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	addr, spid, err := h.runStartPid(id, dir)
	if err != nil {
		return nil, err
	}
	s.address = addr
	// The serving process is the one start launched: its parent is start's pid.
	for p, parent := range processesNamed(filepath.Base(h.shimExe)) {
		if parent == uint32(spid) {
			s.pid = p
		}
	}
	c, err := dialPipeServed(addr, 10*time.Second)
	if err != nil {
		return nil, fmt.Errorf("dial shim %q: %w", addr, err)
	}
	s.conn = c
	s.client = ttrpc.NewClient(c)
	s.task = task.NewTaskClient(s.client)
	h.shims = append(h.shims, s)
	return s, nil
}

func (h *harness) shimLog(id string) string {
	h.logMu.Lock()
	defer h.logMu.Unlock()
	if b := h.shimLogs[id]; b != nil {
		return b.String()
	}
	return ""
}

// processGone waits for a Windows pid to exit (or not to exist).
func processGone(pid uint32, d time.Duration) bool {
	h, err := windows.OpenProcess(windows.SYNCHRONIZE|windows.PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
	if err != nil {
		return true
	}
	defer windows.CloseHandle(h)
	r, _ := windows.WaitForSingleObject(h, uint32(d.Milliseconds()))
	return r == windows.WAIT_OBJECT_0
}

// processesNamed lists the pids of running processes with this image name, and their parents' pids.
func processesNamed(name string) map[uint32]uint32 {
	snap, err := windows.CreateToolhelp32Snapshot(windows.TH32CS_SNAPPROCESS, 0)
	if err != nil {
		return nil
	}
	defer windows.CloseHandle(snap)
	var pe windows.ProcessEntry32
	pe.Size = uint32(unsafeSizeofProcessEntry)
	out := map[uint32]uint32{}
	for err = windows.Process32First(snap, &pe); err == nil; err = windows.Process32Next(snap, &pe) {
		if strings.EqualFold(windows.UTF16ToString(pe.ExeFile[:]), name) {
			out[pe.ProcessID] = pe.ParentProcessID
		}
	}
	return out
}
