//go:build windows

// cshim-wintest drives containerd-shim-cshim-v2.exe as containerd 1.6's Windows runtime manager does, with
// containerd's own generated Task client and ttrpc over named pipes, and checks one scenario per run.
//
// Usage: cshim-wintest.exe [-shim PATH] [-namespace NS] SCENARIO
//
//	selftest  the harness alone: a Go ttrpc server on a pipe, the events service, a stdio pipe (no shim)
//	echo      create + start `cmd /c echo hello & exit 3`: output, exit status, events, Shutdown
//	long      State, Pids, Stats (runhcs type), Exec with stdio, Kill SIGKILL/SIGTERM, Delete
//	rules     a rejected resource, a capped one in the HCS document, env values holding '='
//	faults    bad frames, unknown methods, a second start, the shim killed then `delete`
//	hyperv    a Hyper-V container's VM, storage and NICs, HNS namespaces; nothing left after Delete or any failed step
//	stdio     CloseIO ends a held-open stdin; an Exec with a terminal (console output, exit code, ResizePty)
//	bench N   footprint of a shim serving one container, State/Stats p50 beside the Go-to-Go floor
//
// Output is TAP-like ("ok N - ..." / "not ok N - ..."); the exit status is 1 if any check failed.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"time"
	"unsafe"

	"github.com/containerd/containerd/runtime/v2/task"
	"github.com/containerd/ttrpc"
	"golang.org/x/sys/windows"
)

var unsafeSizeofProcessEntry = unsafe.Sizeof(windows.ProcessEntry32{})

func main() {
	if isMockShim() {
		mockShimMain()
		return
	}
	if len(os.Args) == 2 && os.Args[1] == "cat" {
		catMain()
		return
	}
	if len(os.Args) == 4 && os.Args[1] == "burn" {
		burn(os.Args[2], os.Args[3])
		return
	}
	shim := flag.String("shim", os.Getenv("CSHIM_SHIM_EXE"), "path of containerd-shim-cshim-v2.exe")
	ns := flag.String("namespace", "", "containerd namespace (default: one of this run's own, so runs side by side never share a pipe name)")
	flag.Parse()
	if flag.NArg() < 1 {
		fmt.Fprintln(os.Stderr, "usage: cshim-wintest [-shim PATH] [-namespace NS] selftest|echo|long|rules|faults|layers|taskapi|stdio|bench N")
		os.Exit(2)
	}
	name := flag.Arg(0)
	if name != "selftest" {
		if *shim == "" {
			fmt.Fprintln(os.Stderr, "cshim-wintest: -shim or CSHIM_SHIM_EXE must name the shim")
			os.Exit(2)
		}
		if _, err := os.Stat(*shim); err != nil {
			fmt.Fprintf(os.Stderr, "cshim-wintest: shim: %v\n", err)
			os.Exit(2)
		}
		abs, _ := filepath.Abs(*shim)
		*shim = abs
	}
	h, err := newHarness(*shim, *ns)
	if err != nil {
		fmt.Printf("not ok 1 - harness set-up\n#   %v\n", err)
		os.Exit(1)
	}
	c := &t{h: h}
	scenarios := map[string]func(*t){"selftest": scenarioSelf, "echo": scenarioEcho, "long": scenarioLong,
		"rules": scenarioRules, "faults": scenarioFaults, "layers": scenarioLayers, "taskapi": scenarioTaskAPI,
		"hyperv": scenarioHyperV, "statsasync": scenarioStatsAsync, "stdio": scenarioStdio, "bench": func(c *t) { scenarioBench(c, flag.Arg(1)) }}
	f := scenarios[name]
	if f == nil {
		fmt.Fprintf(os.Stderr, "cshim-wintest: unknown scenario %q\n", name)
		os.Exit(2)
	}
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(fatal); !ok {
					c.ok(false, "panic", r, string(debug.Stack()))
				} else {
					fmt.Println("# stopped: a check the rest depends on failed")
				}
			}
		}()
		f(c)
	}()
	for _, s := range h.shims {
		if s.client != nil && c.failed > 0 {
			fmt.Printf("# shim %s log:\n", s.id)
			fmt.Println(h.shimLog(s.id))
		}
	}
	h.killLeftovers()
	h.close()
	fmt.Printf("1..%d\n", c.n)
	if c.failed > 0 || c.n == 0 {
		fmt.Printf("# %d of %d checks failed\n", c.failed, c.n)
		os.Exit(1)
	}
}

// killLeftovers: a scenario stopped half-way may leave a shim serving; end it so the test leaves nothing
// behind (Shutdown first, as containerd would, then terminate what still runs).
func (h *harness) killLeftovers() {
	for _, s := range h.shims {
		if s.client == nil {
			continue
		}
		pid := s.pid
		ctx, cancel := s.call(5 * time.Second)
		if cr, err := s.task.Connect(ctx, &task.ConnectRequest{ID: s.id}); err == nil {
			pid = cr.ShimPid
		}
		cancel()
		ctx, cancel = s.call(5 * time.Second)
		s.task.Kill(ctx, &task.KillRequest{ID: s.id, Signal: 9, All: true})
		cancel()
		ctx, cancel = s.call(5 * time.Second)
		s.task.Delete(ctx, &task.DeleteRequest{ID: s.id})
		cancel()
		ctx, cancel = s.call(5 * time.Second)
		s.task.Shutdown(ctx, &task.ShutdownRequest{ID: s.id, Now: true})
		cancel()
		if pid != 0 && !processGone(pid, 5*time.Second) {
			if ph, err := windows.OpenProcess(windows.PROCESS_TERMINATE, false, pid); err == nil {
				windows.TerminateProcess(ph, 1)
				windows.CloseHandle(ph)
			}
		}
		s.close()
	}
}

// nullTask answers State and Connect at once; every other method is the nil embedded interface.
type nullTask struct{ task.TaskService }

func (nullTask) State(ctx context.Context, r *task.StateRequest) (*task.StateResponse, error) {
	return &task.StateResponse{ID: r.ID, Status: 2}, nil
}

// floorServer serves nullTask on a fresh pipe and returns a Task client on it.
func floorServer(h *harness) (task.TaskService, func(), error) {
	name := `\\.\pipe\` + h.run + `-floor`
	l, err := listenPipe(name)
	if err != nil {
		return nil, nil, err
	}
	srv, err := ttrpc.NewServer()
	if err != nil {
		return nil, nil, err
	}
	task.RegisterTaskService(srv, nullTask{})
	go srv.Serve(context.Background(), l)
	conn, err := dialPipeServed(name, 10*time.Second)
	if err != nil {
		srv.Close()
		return nil, nil, err
	}
	cl := ttrpc.NewClient(conn)
	return task.NewTaskClient(cl), func() { cl.Close(); srv.Close() }, nil
}

// Wine answers another process's GetProcessTimes with what looks like its first thread's times only
// (measured: a Go process spinning 1.5 s on another thread showed 0.16 s), so burn spins on the main
// thread: a goroutine locked during init stays on it.
func init() {
	if len(os.Args) == 2 && os.Args[1] == "cat" {
		catMain()
		return
	}
	if len(os.Args) == 4 && os.Args[1] == "burn" {
		runtime.LockOSThread()
	}
}

// burn is a container process for the Stats check: spin in user mode until this process has used MS
// milliseconds of user time, then sleep SECS seconds.
func burn(ms, secs string) {
	var want, sleep int
	fmt.Sscan(ms, &want)
	fmt.Sscan(secs, &sleep)
	x := uint64(1)
	for {
		for i := 0; i < 20000000; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
		var cr, ex, k, u windows.Filetime
		windows.GetProcessTimes(windows.CurrentProcess(), &cr, &ex, &k, &u)
		if (uint64(u.HighDateTime)<<32|uint64(u.LowDateTime))/10000 >= uint64(want) {
			break
		}
	}
	fmt.Println("burnt", x%10)
	time.Sleep(time.Duration(sleep) * time.Second)
}
