// ctdclient drives one task through containerd's own Go client (the package CRI and nerdctl use), so a
// test can pass runtime options ctr cannot: ctr sends --runc-binary only when the runtime is named
// io.containerd.runc.v2, while a client passes containerd.runc.v1.Options{BinaryName} to any runtime.
//
// Usage: ctdclient -address SOCK -namespace NS -runtime RT [-binary NAME] CMD ID
//
//	run ID [ARGS...]   container (new snapshot of -image) + task with Options{BinaryName: -binary}, started
//	                   detached (no stdio); prints "pid: N" once it runs
//	stop ID            SIGKILL, wait for the exit, delete the task and the container (and its snapshot);
//	                   prints "exit_status: N"
//
// Build (GOPATH mode, Debian's packaged sources, no network): test/lib/taskclient/build.sh OUT THIS_DIR.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/cio"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/oci"
	"github.com/containerd/containerd/runtime/v2/runc/options"
)

func die(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "ctdclient: "+format+"\n", a...)
	os.Exit(1)
}

func main() {
	address := flag.String("address", "", "containerd socket")
	ns := flag.String("namespace", "default", "containerd namespace")
	runtime := flag.String("runtime", "io.containerd.cshim.v2", "runtime name")
	binary := flag.String("binary", "", "OCI runtime binary (runc options BinaryName)")
	image := flag.String("image", "docker.io/library/busybox:cshim", "image (already imported)")
	timeout := flag.Duration("timeout", 60*time.Second, "bound on the whole command")
	flag.Parse()
	args := flag.Args()
	if *address == "" || len(args) < 2 {
		die("usage: ctdclient -address SOCK [-namespace NS] [-runtime RT] [-binary NAME] (run ID [ARGS...] | stop ID)")
	}
	client, err := containerd.New(*address, containerd.WithDefaultNamespace(*ns))
	if err != nil {
		die("connect: %v", err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(namespaces.WithNamespace(context.Background(), *ns), *timeout)
	defer cancel()
	id := args[1]
	switch args[0] {
	case "run":
		img, err := client.GetImage(ctx, *image)
		if err != nil {
			die("image %s: %v", *image, err)
		}
		procArgs := args[2:]
		if len(procArgs) == 0 {
			procArgs = []string{"sleep", "100000"}
		}
		c, err := client.NewContainer(ctx, id,
			containerd.WithNewSnapshot(id+"-snapshot", img),
			containerd.WithNewSpec(oci.WithImageConfig(img), oci.WithProcessArgs(procArgs...)),
			containerd.WithRuntime(*runtime, &options.Options{BinaryName: *binary}))
		if err != nil {
			die("new container: %v", err)
		}
		t, err := c.NewTask(ctx, cio.NullIO)
		if err != nil {
			die("new task: %v", err)
		}
		if err := t.Start(ctx); err != nil {
			die("start: %v", err)
		}
		fmt.Printf("pid: %d\n", t.Pid())
	case "stop":
		c, err := client.LoadContainer(ctx, id)
		if err != nil {
			die("load container: %v", err)
		}
		t, err := c.Task(ctx, nil)
		if err != nil {
			die("load task: %v", err)
		}
		exited, err := t.Wait(ctx)
		if err != nil {
			die("wait: %v", err)
		}
		if err := t.Kill(ctx, syscall.SIGKILL); err != nil {
			die("kill: %v", err)
		}
		st := <-exited
		if st.Error() != nil {
			die("exit status: %v", st.Error())
		}
		if _, err := t.Delete(ctx); err != nil {
			die("delete task: %v", err)
		}
		if err := c.Delete(ctx, containerd.WithSnapshotCleanup); err != nil {
			die("delete container: %v", err)
		}
		fmt.Printf("exit_status: %d\n", st.ExitCode())
	default:
		die("unknown command %s", args[0])
	}
}
