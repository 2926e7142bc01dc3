// gottrpc: the Go side of the interop tests and of the transport benchmark, using containerd's own
// github.com/containerd/ttrpc (Debian's golang-github-containerd-ttrpc-dev) and gogo's well-known types,
// so no code generation is needed. Built in GOPATH mode, offline (see ../run_interop.sh).
//
//	gottrpc server -socket PATH        serve cshim.test.v1.Test (Echo, Empty, Fail, Meta, Sleep)
//	gottrpc client -socket PATH        check a server (ours) from a Go client; exit 1 on any failure
//	gottrpc bench  -socket PATH -conns N -calls M   empty round trips; prints p50/p99 (ns) and calls/s
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/ttrpc"
	"github.com/gogo/protobuf/types"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const service = "cshim.test.v1.Test"

var metaKeys = []string{"containerd-namespace-ttrpc", "x-a", "x-b", "x-c"}

func serve(socket string) error {
	s, err := ttrpc.NewServer()
	if err != nil {
		return err
	}
	s.Register(service, map[string]ttrpc.Method{
		"Echo": func(ctx context.Context, un func(interface{}) error) (interface{}, error) {
			var a types.Any
			if err := un(&a); err != nil {
				return nil, err
			}
			return &a, nil
		},
		"Empty": func(ctx context.Context, un func(interface{}) error) (interface{}, error) {
			var e types.Empty
			if err := un(&e); err != nil {
				return nil, err
			}
			return &e, nil
		},
		"Fail": func(ctx context.Context, un func(interface{}) error) (interface{}, error) {
			var a types.Any
			if err := un(&a); err != nil {
				return nil, err
			}
			code, _ := strconv.Atoi(a.TypeUrl)
			return nil, status.Error(codes.Code(code), string(a.Value))
		},
		"Meta": func(ctx context.Context, un func(interface{}) error) (interface{}, error) {
			var kv []string
			for _, k := range metaKeys {
				if v, ok := ttrpc.GetMetadataValue(ctx, k); ok {
					kv = append(kv, k+"="+v)
				}
			}
			ns, _ := ttrpc.GetMetadataValue(ctx, "containerd-namespace-ttrpc")
			return &types.Any{TypeUrl: ns, Value: []byte(strings.Join(kv, ";"))}, nil
		},
		"Sleep": func(ctx context.Context, un func(interface{}) error) (interface{}, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		},
	})
	os.Remove(socket)
	l, err := net.Listen("unix", socket)
	if err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		s.Close()
	}()
	fmt.Println("ready")
	if err := s.Serve(context.Background(), l); err != nil && !errors.Is(err, ttrpc.ErrServerClosed) {
		return err
	}
	return nil
}

func dial(socket string) (*ttrpc.Client, error) {
	conn, err := net.Dial("unix", socket)
	if err != nil {
		return nil, err
	}
	return ttrpc.NewClient(conn), nil
}

type checker struct{ failed int }

func (c *checker) errorf(format string, args ...interface{}) {
	c.failed++
	fmt.Fprintf(os.Stderr, "FAIL: "+format+"\n", args...)
}

func (c *checker) code(what string, err error, want codes.Code, wantMsg string) {
	st, ok := status.FromError(err)
	if !ok || st.Code() != want || (wantMsg != "" && st.Message() != wantMsg) {
		c.errorf("%s: got %v (status %v), want code %v %q", what, err, ok, want, wantMsg)
	}
}

func check(socket string) error {
	cl, err := dial(socket)
	if err != nil {
		return err
	}
	defer cl.Close()
	ck := &checker{}
	ctx := context.Background()

	var out types.Any
	in := &types.Any{TypeUrl: "echo", Value: []byte("hello from go")}
	if err := cl.Call(ctx, service, "Echo", in, &out); err != nil || out.TypeUrl != in.TypeUrl || string(out.Value) != string(in.Value) {
		ck.errorf("Echo: %v %+v", err, out)
	}
	var e types.Empty
	if err := cl.Call(ctx, service, "Empty", &types.Empty{}, &e); err != nil {
		ck.errorf("Empty: %v", err)
	}
	for _, code := range []codes.Code{codes.Canceled, codes.InvalidArgument, codes.DeadlineExceeded, codes.NotFound,
		codes.AlreadyExists, codes.FailedPrecondition, codes.Unimplemented, codes.Internal, codes.Unavailable} {
		msg := fmt.Sprintf("failure %d", code)
		err := cl.Call(ctx, service, "Fail", &types.Any{TypeUrl: strconv.Itoa(int(code)), Value: []byte(msg)}, &out)
		ck.code("Fail "+code.String(), err, code, msg)
	}
	ck.code("unknown method", cl.Call(ctx, service, "Nope", &e, &e), codes.Unimplemented, "")
	ck.code("unknown service", cl.Call(ctx, "no.such.Service", "Echo", &e, &e), codes.Unimplemented, "")

	mctx := ttrpc.WithMetadata(ctx, ttrpc.MD{"containerd-namespace-ttrpc": {"k8s.io"}, "x-a": {"1"}})
	if err := cl.Call(mctx, service, "Meta", &e, &out); err != nil || out.TypeUrl != "k8s.io" ||
		string(out.Value) != "containerd-namespace-ttrpc=k8s.io;x-a=1" {
		ck.errorf("Meta: %v %q %q", err, out.TypeUrl, out.Value)
	}

	// 64 concurrent calls on one connection, all held by the server until the last arrives and then
	// answered newest first: replies are matched to calls by stream id.
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var r types.Any
			want := fmt.Sprintf("call-%d", i)
			err := cl.Call(ctx, service, "Hold", &types.Any{TypeUrl: "64", Value: []byte(want)}, &r)
			if err != nil || string(r.Value) != want {
				mu.Lock()
				ck.errorf("Hold %d: %v %q", i, err, r.Value)
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()

	// A deadline travels as timeout_nano: the server answers DeadlineExceeded (or the Go client gives up
	// first with its own context error).
	tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	err = cl.Call(tctx, service, "Sleep", &e, &e)
	cancel()
	if st, ok := status.FromError(err); !errors.Is(err, context.DeadlineExceeded) && !(ok && st.Code() == codes.DeadlineExceeded) {
		ck.errorf("Sleep with deadline: %v", err)
	}
	if err := cl.Call(ctx, service, "Echo", in, &out); err != nil {
		ck.errorf("Echo after deadline: %v", err)
	}
	if ck.failed > 0 {
		return fmt.Errorf("%d checks failed", ck.failed)
	}
	fmt.Println("go client vs server: all checks passed")
	return nil
}

func bench(socket string, conns, calls int) error {
	lat := make([][]time.Duration, conns)
	clients := make([]*ttrpc.Client, conns)
	for i := range clients {
		c, err := dial(socket)
		if err != nil {
			return err
		}
		defer c.Close()
		clients[i] = c
		var e types.Empty
		for w := 0; w < 100; w++ { // warm up
			if err := c.Call(context.Background(), service, "Empty", &e, &e); err != nil {
				return err
			}
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	start := time.Now()
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var e types.Empty
			l := make([]time.Duration, 0, calls)
			for n := 0; n < calls; n++ {
				t := time.Now()
				if err := clients[i].Call(context.Background(), service, "Empty", &e, &e); err != nil {
					errs <- err
					return
				}
				l = append(l, time.Since(t))
			}
			lat[i] = l
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	p := func(q float64) int64 { return all[int(q*float64(len(all)-1))].Nanoseconds() }
	fmt.Printf("p50_ns=%d p99_ns=%d calls_per_s=%.0f\n", p(0.50), p(0.99), float64(len(all))/elapsed.Seconds())
	return nil
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gottrpc server|client|bench -socket PATH [-conns N -calls M]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	socket := fs.String("socket", "", "unix socket path")
	conns := fs.Int("conns", 1, "bench: connections, one goroutine each")
	calls := fs.Int("calls", 20000, "bench: calls per connection")
	fs.Parse(os.Args[2:])
	var err error
	switch os.Args[1] {
	case "server":
		err = serve(*socket)
	case "client":
		err = check(*socket)
	case "bench":
		err = bench(*socket, *conns, *calls)
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gottrpc:", err)
		os.Exit(1)
	}
}
