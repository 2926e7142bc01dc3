//go:build windows

// A stand-in shim in Go, for checking the harness itself: run the scenarios with -shim pointing at
// cshim-wintest.exe and it answers `start`, `delete` and the Task API the way the contract says, with
// Windows processes started directly (no HCS). It is a test of the test, not a model of cshim: the
// rules scenario needs the real shim and the fake HCS.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	eventsapi "github.com/containerd/containerd/api/events"
	ttrpcevents "github.com/containerd/containerd/api/services/ttrpc/events/v1"
	apitask "github.com/containerd/containerd/api/types/task"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/runtime/v2/task"
	"github.com/containerd/ttrpc"
	"github.com/containerd/typeurl"
	ptypes "github.com/gogo/protobuf/types"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/windows"
	"google.golang.org/protobuf/encoding/protowire"
)

func isMockShim() bool { return len(os.Args) > 1 && os.Args[1] == "-namespace" }

func mockShimMain() {
	fs := flag.NewFlagSet("mockshim", flag.ExitOnError)
	ns := fs.String("namespace", "", "")
	fs.String("address", "", "")
	fs.String("publish-binary", "", "")
	id := fs.String("id", "", "")
	bundle := fs.String("bundle", "", "")
	fs.Parse(os.Args[1:])
	addr := fmt.Sprintf(`\\.\pipe\cshim-mock-%s-%s-pipe`, *ns, *id)
	switch fs.Arg(0) {
	case "start":
		if c, err := dialPipe(context.Background(), addr); err == nil {
			c.Close()
			fmt.Print(addr)
			return
		}
		self, _ := os.Executable()
		cmd := exec.Command(self, append(os.Args[1:len(os.Args)-1], "serve")...)
		cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: windows.CREATE_NEW_PROCESS_GROUP | windows.DETACHED_PROCESS}
		if err := cmd.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		c, err := dialPipeServed(addr, 10*time.Second)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		c.Close()
		os.WriteFile("address", []byte(addr), 0o644)
		fmt.Print(addr)
	case "delete":
		b, _ := (&task.DeleteResponse{ExitStatus: 255, ExitedAt: time.Now()}).Marshal()
		_ = bundle
		os.Stdout.Write(b)
	case "serve":
		mockServe(*ns, *id, addr)
	}
}

type mockProc struct {
	cmd    *exec.Cmd
	pid    uint32
	status uint32
	exited time.Time
	done   chan struct{}
	stdio  [3]string
}

type mockTask struct {
	ns, id, bundle string
	mu             sync.Mutex
	procs          map[string]*mockProc
	events         *ttrpc.Client
	srv            *ttrpc.Server
}

func mockServe(ns, id, addr string) {
	l, err := listenPipe(addr)
	if err != nil {
		os.Exit(1)
	}
	if ll, err := listenPipe(fmt.Sprintf(`\\.\pipe\containerd-shim-%s-%s-log`, ns, id)); err == nil {
		go func() {
			for {
				c, err := ll.Accept()
				if err != nil {
					return
				}
				fmt.Fprintf(c, "mockshim %s serving %s\n", id, addr)
			}
		}()
	}
	m := &mockTask{ns: ns, id: id, procs: map[string]*mockProc{}}
	if c, err := dialPipeServed(os.Getenv("TTRPC_ADDRESS"), 10*time.Second); err == nil {
		m.events = ttrpc.NewClient(c)
	}
	m.srv, _ = ttrpc.NewServer()
	task.RegisterTaskService(m.srv, m)
	m.srv.Serve(context.Background(), l)
}

func (m *mockTask) publish(topic string, ev interface{}) {
	if m.events == nil {
		return
	}
	a, err := typeurl.MarshalAny(ev)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ttrpcevents.NewEventsClient(m.events).Forward(ctx, &ttrpcevents.ForwardRequest{Envelope: &ttrpcevents.Envelope{
		Timestamp: time.Now(), Namespace: m.ns, Topic: topic, Event: &ptypes.Any{TypeUrl: a.TypeUrl, Value: a.Value}}})
}

func (m *mockTask) proc(exec string) (*mockProc, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.procs[exec]
	if p == nil {
		return nil, errdefs.ToGRPCf(errdefs.ErrNotFound, "process %q", exec)
	}
	return p, nil
}

func mockCmd(p *specs.Process, stdio [3]string) (*exec.Cmd, error) {
	line := p.CommandLine
	first := strings.Fields(line)[0]
	if strings.HasPrefix(line, `"`) {
		first = strings.SplitN(line[1:], `"`, 2)[0]
	}
	path, err := exec.LookPath(first)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path)
	cmd.SysProcAttr = &syscall.SysProcAttr{CmdLine: line}
	cmd.Env = append(os.Environ(), p.Env...)
	for i, n := range stdio {
		if n == "" {
			continue
		}
		c, err := dialPipeServed(n, 10*time.Second)
		if err != nil {
			return nil, err
		}
		switch i {
		case 0:
			cmd.Stdin = c
		case 1:
			cmd.Stdout = c
		case 2:
			cmd.Stderr = c
		}
	}
	return cmd, nil
}

func (m *mockTask) add(exec string, p *specs.Process, stdio [3]string) error {
	cmd, err := mockCmd(p, stdio)
	if err != nil {
		return errdefs.ToGRPC(err)
	}
	m.mu.Lock()
	m.procs[exec] = &mockProc{cmd: cmd, done: make(chan struct{}), stdio: stdio}
	m.mu.Unlock()
	return nil
}

func (m *mockTask) State(ctx context.Context, r *task.StateRequest) (*task.StateResponse, error) {
	p, err := m.proc(r.ExecID)
	if err != nil {
		return nil, err
	}
	st := task.StateResponse{ID: m.id, ExecID: r.ExecID, Bundle: m.bundle, Pid: p.pid, Status: 1}
	select {
	case <-p.done:
		st.Status, st.ExitStatus, st.ExitedAt = 3, p.status, p.exited
	default:
		if p.pid != 0 {
			st.Status = 2
		}
	}
	return &st, nil
}

func (m *mockTask) Create(ctx context.Context, r *task.CreateTaskRequest) (*task.CreateTaskResponse, error) {
	b, err := os.ReadFile(filepath.Join(r.Bundle, "config.json"))
	if err != nil {
		return nil, errdefs.ToGRPC(err)
	}
	var s specs.Spec
	if err := json.Unmarshal(b, &s); err != nil || s.Process == nil {
		return nil, errdefs.ToGRPCf(errdefs.ErrInvalidArgument, "spec: %v", err)
	}
	m.bundle = r.Bundle
	if err := m.add("", s.Process, [3]string{r.Stdin, r.Stdout, r.Stderr}); err != nil {
		return nil, err
	}
	m.publish("/tasks/create", &eventsapi.TaskCreate{ContainerID: m.id, Bundle: r.Bundle,
		IO: &eventsapi.TaskIO{Stdin: r.Stdin, Stdout: r.Stdout, Stderr: r.Stderr}})
	return &task.CreateTaskResponse{}, nil
}

func (m *mockTask) Start(ctx context.Context, r *task.StartRequest) (*task.StartResponse, error) {
	p, err := m.proc(r.ExecID)
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, errdefs.ToGRPC(err)
	}
	p.pid = uint32(p.cmd.Process.Pid)
	if r.ExecID == "" {
		m.publish("/tasks/start", &eventsapi.TaskStart{ContainerID: m.id, Pid: p.pid})
	} else {
		m.publish("/tasks/exec-started", &eventsapi.TaskExecStarted{ContainerID: m.id, ExecID: r.ExecID, Pid: p.pid})
	}
	go func() {
		p.cmd.Wait()
		for _, c := range []interface{}{p.cmd.Stdin, p.cmd.Stdout, p.cmd.Stderr} {
			if c, ok := c.(*pipeConn); ok {
				c.Close()
			}
		}
		p.status, p.exited = uint32(p.cmd.ProcessState.ExitCode()), time.Now()
		id := r.ExecID
		if id == "" {
			id = m.id
		}
		m.publish("/tasks/exit", &eventsapi.TaskExit{ContainerID: m.id, ID: id, Pid: p.pid, ExitStatus: p.status, ExitedAt: p.exited})
		close(p.done)
	}()
	return &task.StartResponse{Pid: p.pid}, nil
}

func (m *mockTask) Delete(ctx context.Context, r *task.DeleteRequest) (*task.DeleteResponse, error) {
	p, err := m.proc(r.ExecID)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	delete(m.procs, r.ExecID)
	m.mu.Unlock()
	if r.ExecID == "" {
		m.publish("/tasks/delete", &eventsapi.TaskDelete{ContainerID: m.id, Pid: p.pid, ExitStatus: p.status, ExitedAt: p.exited})
	}
	return &task.DeleteResponse{Pid: p.pid, ExitStatus: p.status, ExitedAt: p.exited}, nil
}

func (m *mockTask) Pids(ctx context.Context, r *task.PidsRequest) (*task.PidsResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out task.PidsResponse
	for _, p := range m.procs {
		out.Processes = append(out.Processes, &apitask.ProcessInfo{Pid: p.pid})
	}
	return &out, nil
}

func (m *mockTask) Kill(ctx context.Context, r *task.KillRequest) (*ptypes.Empty, error) {
	p, err := m.proc(r.ExecID)
	if err != nil {
		return nil, err
	}
	p.cmd.Process.Kill()
	return &ptypes.Empty{}, nil
}

func (m *mockTask) Exec(ctx context.Context, r *task.ExecProcessRequest) (*ptypes.Empty, error) {
	v, err := typeurl.UnmarshalAny(r.Spec)
	if err != nil {
		return nil, errdefs.ToGRPC(err)
	}
	if err := m.add(r.ExecID, v.(*specs.Process), [3]string{r.Stdin, r.Stdout, r.Stderr}); err != nil {
		return nil, err
	}
	m.publish("/tasks/exec-added", &eventsapi.TaskExecAdded{ContainerID: m.id, ExecID: r.ExecID})
	return &ptypes.Empty{}, nil
}

func (m *mockTask) Wait(ctx context.Context, r *task.WaitRequest) (*task.WaitResponse, error) {
	p, err := m.proc(r.ExecID)
	if err != nil {
		return nil, err
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return &task.WaitResponse{ExitStatus: p.status, ExitedAt: p.exited}, nil
}

func (m *mockTask) Stats(ctx context.Context, r *task.StatsRequest) (*task.StatsResponse, error) {
	p, err := m.proc("")
	if err != nil {
		return nil, err
	}
	u, k, _ := cpuTimes(p.pid)
	var proc, mem, w, s []byte
	proc = protowire.AppendTag(proc, 1, protowire.VarintType)
	proc = protowire.AppendVarint(proc, u+k)
	proc = protowire.AppendTag(proc, 2, protowire.VarintType)
	proc = protowire.AppendVarint(proc, u)
	proc = protowire.AppendTag(proc, 3, protowire.VarintType)
	proc = protowire.AppendVarint(proc, k)
	mem = protowire.AppendTag(mem, 1, protowire.VarintType)
	mem = protowire.AppendVarint(mem, 1<<20)
	w = protowire.AppendTag(w, 1, protowire.BytesType)
	w = protowire.AppendBytes(w, []byte{8, 1})
	w = protowire.AppendTag(w, 4, protowire.BytesType)
	w = protowire.AppendBytes(w, proc)
	w = protowire.AppendTag(w, 5, protowire.BytesType)
	w = protowire.AppendBytes(w, mem)
	s = protowire.AppendTag(s, 1, protowire.BytesType)
	s = protowire.AppendBytes(s, w)
	return &task.StatsResponse{Stats: &ptypes.Any{TypeUrl: runhcsStatsURL, Value: s}}, nil
}

func (m *mockTask) Connect(ctx context.Context, r *task.ConnectRequest) (*task.ConnectResponse, error) {
	return &task.ConnectResponse{ShimPid: uint32(os.Getpid())}, nil
}

func (m *mockTask) Shutdown(ctx context.Context, r *task.ShutdownRequest) (*ptypes.Empty, error) {
	go func() {
		time.Sleep(100 * time.Millisecond) // let the reply go out first
		os.Exit(0)
	}()
	return &ptypes.Empty{}, nil
}

func (m *mockTask) Pause(context.Context, *task.PauseRequest) (*ptypes.Empty, error) {
	return nil, errdefs.ToGRPC(errdefs.ErrNotImplemented)
}
func (m *mockTask) Resume(context.Context, *task.ResumeRequest) (*ptypes.Empty, error) {
	return nil, errdefs.ToGRPC(errdefs.ErrNotImplemented)
}
func (m *mockTask) Checkpoint(context.Context, *task.CheckpointTaskRequest) (*ptypes.Empty, error) {
	return nil, errdefs.ToGRPC(errdefs.ErrNotImplemented)
}
func (m *mockTask) ResizePty(context.Context, *task.ResizePtyRequest) (*ptypes.Empty, error) {
	return &ptypes.Empty{}, nil
}
func (m *mockTask) CloseIO(context.Context, *task.CloseIORequest) (*ptypes.Empty, error) {
	return &ptypes.Empty{}, nil
}
func (m *mockTask) Update(context.Context, *task.UpdateTaskRequest) (*ptypes.Empty, error) {
	return &ptypes.Empty{}, nil
}
