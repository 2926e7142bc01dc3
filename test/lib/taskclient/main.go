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
//
// Build (GOPATH mode, Debian's packaged sources, no network): see build.sh beside this file.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
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
  bench-state ID N | bench-stats ID N`)
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
	flag.Usage = usage
	flag.Parse()
	args := flag.Args()
	if len(args) < 2 {
		usage()
	}
	cmd, id := args[0], args[1]

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
