// taskclient talks to one shim's Task service directly, the way containerd 1.6 does: containerd's own
// generated client (runtime/v2/task) over containerd/ttrpc on the shim's unix socket, with the namespace
// in the context (namespaces.WithNamespace also sets the ttrpc metadata key containerd-namespace-ttrpc).
//
// Usage: taskclient (-address unix:///run/containerd/s/HASH | -bundle DIR) [-namespace NS] [-timeout D] CMD ARGS
//
//	state ID [EXEC]        StateResponse fields, one "key: value" a line
//	stats ID               the metrics Any's type URL, then the decoded message as JSON
//	pids ID                one pid a line
//	update ID --memory N   UpdateTask with specs.LinuxResources{Memory.Limit=N} marshalled by typeurl
//	connect ID             shim_pid, task_pid, version
//	wait ID [EXEC]         exit_status, exited_at (blocks until the process exits)
//	bench-state ID N       N sequential State round trips: "n=N p50_us=X p99_us=Y"
//	bench-stats ID N       the same with Stats
//	bench-state-raw ID N   State round trips as hand-built ttrpc frames, written and read synchronously on one
//	bench-stats-raw ID N   connection: no client goroutines, so the figure is the socket plus the shim
//	ctd-run, ctd-exec-tty, ctd-resize   containerd's Go client against -containerd SOCKET (see ctd.go)
//	bench-floor N          State round trips against an in-process Go ttrpc server that answers at once:
//	                       the floor this client + ttrpc + a unix socket put under any shim's figure
//
// Build (GOPATH mode, Debian's packaged sources, no network): see build.sh beside this file.
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	v1 "github.com/containerd/cgroups/stats/v1"
	v2 "github.com/containerd/cgroups/v2/stats"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/runtime/v2/task"
	"github.com/containerd/ttrpc"
	"github.com/containerd/typeurl"
	"github.com/gogo/protobuf/proto"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Same registration as containerd's runtime/typeurl.go, so Update's Any carries the type URL containerd
// sends: types.containerd.io/opencontainers/runtime-spec/1/LinuxResources.
func init() {
	major := strconv.Itoa(specs.VersionMajor)
	typeurl.Register(&specs.LinuxResources{}, "types.containerd.io", "opencontainers/runtime-spec", major, "LinuxResources")
	// The metrics types are gogo messages registered under their proto names
	// (io.containerd.cgroups.v1.Metrics / .v2.Metrics); referencing them links the registration in.
	_ = &v1.Metrics{}
	_ = &v2.Metrics{}
}

func die(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "taskclient: "+format+"\n", a...)
	os.Exit(1)
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage: taskclient (-address ADDR | -bundle DIR) [-namespace NS] [-timeout D] CMD ARGS
  state ID [EXEC] | stats ID | pids ID | update ID --memory BYTES | connect ID | wait ID [EXEC]
  bench-state ID N | bench-stats ID N | bench-state-raw ID N | bench-stats-raw ID N
  bench-floor N (no address needed)
  -containerd SOCK [-namespace NS] ctd-run ID IMAGE [opts] -- ARGS | ctd-exec-tty ID EXEC -- ARGS | ctd-resize ID`)
	os.Exit(2)
}

// socketPath accepts "unix:///path" or a plain path (ttrpc addresses from shims carry the unix:// prefix).
func socketPath(address, bundle string) string {
	if address == "" && bundle != "" {
		b, err := os.ReadFile(filepath.Join(bundle, "address"))
		if err != nil {
			die("read bundle address: %v", err)
		}
		address = strings.TrimSpace(string(b))
	}
	if address == "" {
		usage()
	}
	return strings.TrimPrefix(address, "unix://")
}

func main() {
	address := flag.String("address", "", "shim ttrpc address (unix:///run/containerd/s/...)")
	bundle := flag.String("bundle", "", "bundle dir whose address file names the shim socket")
	ns := flag.String("namespace", "default", "containerd namespace sent in ttrpc metadata")
	timeout := flag.Duration("timeout", 10*time.Second, "per-call timeout (not used by wait)")
	ctdSock := flag.String("containerd", "", "containerd socket, for the ctd-* commands (ctd.go)")
	flag.Usage = usage
	flag.Parse()
	args := flag.Args()
	if len(args) >= 2 && strings.HasPrefix(args[0], "ctd-") {
		ctdMain(*ctdSock, *ns, args)
		return
	}
	if len(args) == 2 && args[0] == "bench-floor" {
		benchFloor(args[1], *timeout)
		return
	}
	if len(args) < 2 {
		usage()
	}
	cmd, id := args[0], args[1]

	if cmd == "bench-state-raw" || cmd == "bench-stats-raw" {
		n, err := strconv.Atoi(arg(args, 2))
		if err != nil || n < 1 {
			die("%s: N must be a positive number", cmd)
		}
		benchRaw(socketPath(*address, *bundle), *ns, id, strings.TrimSuffix(cmd, "-raw"), n, *timeout)
		return
	}
	conn, err := net.Dial("unix", socketPath(*address, *bundle))
	if err != nil {
		die("dial: %v", err)
	}
	client := ttrpc.NewClient(conn)
	defer client.Close()
	svc := task.NewTaskClient(client)
	base := namespaces.WithNamespace(context.Background(), *ns)
	call := func() (context.Context, context.CancelFunc) { return context.WithTimeout(base, *timeout) }

	switch cmd {
	case "state":
		ctx, cancel := call()
		defer cancel()
		r, err := svc.State(ctx, &task.StateRequest{ID: id, ExecID: arg(args, 2)})
		check("state", err)
		fmt.Printf("id: %s\nexec_id: %s\nbundle: %s\npid: %d\nstatus: %s\nstdin: %s\nstdout: %s\nstderr: %s\n"+
			"terminal: %v\nexit_status: %d\nexited_at: %s\n", r.ID, r.ExecID, r.Bundle, r.Pid, r.Status,
			r.Stdin, r.Stdout, r.Stderr, r.Terminal, r.ExitStatus, r.ExitedAt.Format(time.RFC3339Nano))
	case "stats":
		ctx, cancel := call()
		defer cancel()
		r, err := svc.Stats(ctx, &task.StatsRequest{ID: id})
		check("stats", err)
		if r.Stats == nil {
			die("stats: empty Any")
		}
		fmt.Printf("type_url: %s\n", r.Stats.TypeUrl)
		v, err := typeurl.UnmarshalAny(r.Stats)
		check("decode stats", err)
		b, err := json.MarshalIndent(v, "", "  ")
		check("encode stats", err)
		fmt.Println(string(b))
	case "pids":
		ctx, cancel := call()
		defer cancel()
		r, err := svc.Pids(ctx, &task.PidsRequest{ID: id})
		check("pids", err)
		for _, p := range r.Processes {
			fmt.Println(p.Pid)
		}
	case "update":
		if len(args) != 4 || (args[2] != "--memory" && args[2] != "-memory") {
			usage()
		}
		limit, err := strconv.ParseInt(args[3], 10, 64)
		check("parse --memory", err)
		// containerd's client does exactly this: typeurl.MarshalAny(*specs.LinuxResources).
		res, err := typeurl.MarshalAny(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}})
		check("marshal resources", err)
		ctx, cancel := call()
		defer cancel()
		_, err = svc.Update(ctx, &task.UpdateTaskRequest{ID: id, Resources: res})
		check("update", err)
		fmt.Printf("updated: memory.limit=%d type_url=%s\n", limit, res.TypeUrl)
	case "connect":
		ctx, cancel := call()
		defer cancel()
		r, err := svc.Connect(ctx, &task.ConnectRequest{ID: id})
		check("connect", err)
		fmt.Printf("shim_pid: %d\ntask_pid: %d\nversion: %s\n", r.ShimPid, r.TaskPid, r.Version)
	case "wait":
		r, err := svc.Wait(base, &task.WaitRequest{ID: id, ExecID: arg(args, 2)})
		check("wait", err)
		fmt.Printf("exit_status: %d\nexited_at: %s\n", r.ExitStatus, r.ExitedAt.Format(time.RFC3339Nano))
	case "bench-state", "bench-stats":
		n, err := strconv.Atoi(arg(args, 2))
		if err != nil || n < 1 {
			die("%s: N must be a positive number", cmd)
		}
		one := func(ctx context.Context) error {
			_, err := svc.State(ctx, &task.StateRequest{ID: id})
			return err
		}
		if cmd == "bench-stats" {
			one = func(ctx context.Context) error {
				_, err := svc.Stats(ctx, &task.StatsRequest{ID: id})
				return err
			}
		}
		bench(cmd, n, call, one)
	default:
		usage()
	}
}

func arg(args []string, i int) string {
	if i < len(args) {
		return args[i]
	}
	return ""
}

func check(what string, err error) {
	if err != nil {
		die("%s: %v", what, err)
	}
}

// bench runs a few warm-up calls (first-call costs are not what we compare), then n timed sequential
// round trips, and prints nearest-rank percentiles in microseconds.
func bench(name string, n int, call func() (context.Context, context.CancelFunc), one func(context.Context) error) {
	run := func() time.Duration {
		ctx, cancel := call()
		defer cancel()
		t0 := time.Now()
		if err := one(ctx); err != nil {
			die("%s: %v", name, err)
		}
		return time.Since(t0)
	}
	for i := 0; i < 10; i++ {
		run()
	}
	d := make([]float64, n)
	for i := range d {
		d[i] = float64(run().Nanoseconds()) / 1000.0
	}
	sort.Float64s(d)
	pct := func(p float64) float64 {
		i := int(p*float64(n)+0.999999) - 1
		if i < 0 {
			i = 0
		}
		if i >= n {
			i = n - 1
		}
		return d[i]
	}
	fmt.Printf("n=%d p50_us=%.1f p99_us=%.1f\n", n, pct(0.50), pct(0.99))
}

// nullTask answers State at once; every other method is the nil embedded interface (never called).
type nullTask struct{ task.TaskService }

func (nullTask) State(ctx context.Context, r *task.StateRequest) (*task.StateResponse, error) {
	return &task.StateResponse{ID: r.ID, Status: 2}, nil
}

func benchFloor(nArg string, timeout time.Duration) {
	n, err := strconv.Atoi(nArg)
	if err != nil || n < 1 {
		die("bench-floor: N must be a positive number")
	}
	dir, err := os.MkdirTemp("", "taskclient-floor")
	check("temp dir", err)
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "s")
	l, err := net.Listen("unix", sock)
	check("listen", err)
	srv, err := ttrpc.NewServer()
	check("ttrpc server", err)
	task.RegisterTaskService(srv, nullTask{})
	go srv.Serve(context.Background(), l)
	defer srv.Close()
	conn, err := net.Dial("unix", sock)
	check("dial", err)
	client := ttrpc.NewClient(conn)
	defer client.Close()
	svc := task.NewTaskClient(client)
	base := namespaces.WithNamespace(context.Background(), "floor")
	call := func() (context.Context, context.CancelFunc) { return context.WithTimeout(base, timeout) }
	bench("bench-floor", n, call, func(ctx context.Context) error {
		_, err := svc.State(ctx, &task.StateRequest{ID: "floor"})
		return err
	})
}

// benchRaw sends the same Request frame containerd's client would (service, method, payload, timeout,
// namespace metadata) and reads the Response frame before sending the next: one goroutine, blocking I/O.
func benchRaw(path, ns, id, cmd string, n int, timeout time.Duration) {
	conn, err := net.Dial("unix", path)
	check("dial", err)
	defer conn.Close()
	method, payload := "State", []byte(nil)
	if cmd == "bench-stats" {
		method = "Stats"
		payload, err = proto.Marshal(&task.StatsRequest{ID: id})
	} else {
		payload, err = proto.Marshal(&task.StateRequest{ID: id})
	}
	check("marshal", err)
	body, err := proto.Marshal(&ttrpc.Request{
		Service: "containerd.task.v2.Task", Method: method, Payload: payload, TimeoutNano: int64(timeout),
		Metadata: []*ttrpc.KeyValue{{Key: namespaces.TTRPCHeader, Value: ns}},
	})
	check("marshal request", err)
	frame := make([]byte, 10+len(body))
	binary.BigEndian.PutUint32(frame[0:4], uint32(len(body)))
	frame[8] = 1 // request
	copy(frame[10:], body)
	stream := uint32(1)
	hdr := make([]byte, 10)
	buf := make([]byte, 64<<10)
	one := func(ctx context.Context) error {
		binary.BigEndian.PutUint32(frame[4:8], stream)
		if _, err := conn.Write(frame); err != nil {
			return err
		}
		if _, err := io.ReadFull(conn, hdr); err != nil {
			return err
		}
		l, sid := binary.BigEndian.Uint32(hdr[0:4]), binary.BigEndian.Uint32(hdr[4:8])
		if sid != stream || hdr[8] != 2 {
			return fmt.Errorf("unexpected frame: stream %d type %d", sid, hdr[8])
		}
		if int(l) > len(buf) {
			buf = make([]byte, l)
		}
		if _, err := io.ReadFull(conn, buf[:l]); err != nil {
			return err
		}
		var resp ttrpc.Response
		if err := proto.Unmarshal(buf[:l], &resp); err != nil {
			return err
		}
		if resp.Status != nil && resp.Status.Code != 0 {
			return fmt.Errorf("status %d: %s", resp.Status.Code, resp.Status.Message)
		}
		stream += 2
		return nil
	}
	call := func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }
	bench(cmd+"-raw", n, call, one)
}
