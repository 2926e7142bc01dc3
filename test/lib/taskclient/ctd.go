// The ctd-* commands: containerd's own Go client (github.com/containerd/containerd, 1.6 from Debian's
// sources) against a containerd socket, for what only that client does: it sends this runtime
// containerd.linux.runc.CreateOptions (its name is not io.containerd.runc.*), sends an exec's terminal flag
// apart from its process spec, waits for an exec's output to end before deleting it (as CRI does), and
// resizes a task without a terminal.
//
//	ctd-run ID IMAGE [--runtime R] [--fifo-dir D] [--shim-cgroup P] [--io-uid N] [--io-gid N]
//	        [--no-new-keyring] [--host-pid] [--config-path F] -- ARGS...
//	                     container + started task; prints "pid N". --config-path sends runtimeoptions.v1.Options
//	                     {config_path: F}, as CRI does for a runtime type that is not runc's.
//	ctd-exec-tty ID EXEC [--fifo-dir D] -- ARGS...
//	                     exec with a terminal (cio.WithTerminal) whose process spec says terminal:false, stdin
//	                     a pipe held open throughout; after the exit, the output must end (within 10 s) before
//	                     Delete. Prints "exit N", "output-ended", then the output.
//	ctd-resize ID        task.Resize(100, 30) on the task; prints "resized"
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/cio"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/oci"
	rto "github.com/containerd/containerd/pkg/runtimeoptions/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func ctdMain(sock, ns string, args []string) {
	if sock == "" {
		die("%s: -containerd SOCKET is required", args[0])
	}
	client, err := containerd.New(sock)
	check("connect to containerd", err)
	defer client.Close()
	ctx := namespaces.WithNamespace(context.Background(), ns)
	cmd, id := args[0], args[1]
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	runtime := fs.String("runtime", "io.containerd.cshim.v2", "runtime name")
	fifoDir := fs.String("fifo-dir", "", "where cio puts the FIFOs")
	shimCgroup := fs.String("shim-cgroup", "", "WithShimCgroup")
	ioUID := fs.Int("io-uid", -1, "WithUIDOwner")
	ioGID := fs.Int("io-gid", -1, "WithGIDOwner")
	noNewKeyring := fs.Bool("no-new-keyring", false, "WithNoNewKeyring")
	hostPID := fs.Bool("host-pid", false, "the host's pid namespace (no pid namespace in the spec)")
	configPath := fs.String("config-path", "", "runtimeoptions.v1.Options{ConfigPath}")

	switch cmd {
	case "ctd-run":
		if len(args) < 3 {
			usage()
		}
		check("flags", fs.Parse(args[3:]))
		image, err := client.GetImage(ctx, args[2])
		check("image", err)
		specOpts := []oci.SpecOpts{oci.WithImageConfig(image), oci.WithProcessArgs(fs.Args()...)}
		if *hostPID {
			specOpts = append(specOpts, oci.WithHostNamespace(specs.PIDNamespace))
		}
		ctr, err := client.NewContainer(ctx, id, containerd.WithNewSnapshot(id, image),
			containerd.WithRuntime(*runtime, nil), containerd.WithNewSpec(specOpts...))
		check("new container", err)
		var topts []containerd.NewTaskOpts
		if *shimCgroup != "" {
			topts = append(topts, containerd.WithShimCgroup(*shimCgroup))
		}
		if *ioUID >= 0 {
			topts = append(topts, containerd.WithUIDOwner(uint32(*ioUID)))
		}
		if *ioGID >= 0 {
			topts = append(topts, containerd.WithGIDOwner(uint32(*ioGID)))
		}
		if *noNewKeyring {
			topts = append(topts, containerd.WithNoNewKeyring)
		}
		if *configPath != "" {
			topts = append(topts, func(_ context.Context, _ *containerd.Client, ti *containerd.TaskInfo) error {
				ti.Options = &rto.Options{TypeUrl: "io.containerd.cshim.v2.options", ConfigPath: *configPath}
				return nil
			})
		}
		creator := cio.NewCreator(cio.WithStreams(nil, io.Discard, io.Discard), cio.WithFIFODir(*fifoDir))
		task, err := ctr.NewTask(ctx, creator, topts...)
		check("new task", err)
		check("start", task.Start(ctx))
		fmt.Printf("pid %d\n", task.Pid())
	case "ctd-exec-tty":
		if len(args) < 3 {
			usage()
		}
		check("flags", fs.Parse(args[3:]))
		ctr, err := client.LoadContainer(ctx, id)
		check("load container", err)
		task, err := ctr.Task(ctx, nil)
		check("task", err)
		spec, err := ctr.Spec(ctx)
		check("spec", err)
		pspec := spec.Process
		pspec.Terminal = false // the request says terminal (cio.WithTerminal); the spec, as the container's, does not
		pspec.Args = fs.Args()
		stdin, stdinW := io.Pipe()
		defer stdinW.Close() // held open until we are done: kubectl exec -it's stdin
		out := &safeBuffer{}
		creator := cio.NewCreator(cio.WithStreams(stdin, out, nil), cio.WithTerminal, cio.WithFIFODir(*fifoDir))
		proc, err := task.Exec(ctx, args[2], pspec, creator)
		check("exec", err)
		statusC, err := proc.Wait(ctx)
		check("wait", err)
		check("start", proc.Start(ctx))
		select {
		case st := <-statusC:
			fmt.Printf("exit %d\n", st.ExitCode())
		case <-time.After(30 * time.Second):
			die("exec did not exit within 30 s; output: %q", out.String())
		}
		ended := make(chan struct{})
		go func() { proc.IO().Wait(); close(ended) }()
		select {
		case <-ended:
			fmt.Println("output-ended")
		case <-time.After(10 * time.Second):
			fmt.Println("output-still-open")
		}
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, err = proc.Delete(dctx)
		check("delete exec", err)
		fmt.Print(out.String())
	case "ctd-resize":
		ctr, err := client.LoadContainer(ctx, id)
		check("load container", err)
		task, err := ctr.Task(ctx, nil)
		check("task", err)
		check("resize", task.Resize(ctx, 100, 30))
		fmt.Println("resized")
	default:
		usage()
	}
}
