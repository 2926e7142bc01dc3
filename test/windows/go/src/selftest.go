//go:build windows

// The harness checked on its own, under Wine, before any shim is involved: ttrpc over the overlapped pipe
// conn (with calls in flight while the reader waits), the events service, the stdio pipes and the
// dial-while-absent retry.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	eventsapi "github.com/containerd/containerd/api/events"
	ttrpcevents "github.com/containerd/containerd/api/services/ttrpc/events/v1"
	"github.com/containerd/containerd/runtime/v2/task"
	"github.com/containerd/ttrpc"
	"github.com/containerd/typeurl"
	ptypes "github.com/gogo/protobuf/types"
)

func scenarioSelf(c *t) {
	h := c.h
	svc, stop, err := floorServer(h)
	c.noErr(err, "a Go ttrpc Task server on a named pipe, dialled")
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	r, err := svc.State(ctx, &task.StateRequest{ID: "x"})
	cancel()
	c.ok(err == nil && r.ID == "x", "State round trip", err)
	// 16 calls at once: writes must proceed while ttrpc's reader goroutine has a read pending.
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			id := fmt.Sprint("c", i)
			r, err := svc.State(ctx, &task.StateRequest{ID: id})
			if err == nil && r.ID != id {
				err = fmt.Errorf("answer for %s came back as %s", id, r.ID)
			}
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	var bad []error
	for e := range errs {
		if e != nil {
			bad = append(bad, e)
		}
	}
	c.ok(len(bad) == 0, "16 concurrent calls on one connection", bad)

	// The events service, as a shim's publisher calls it.
	conn, err := dialPipeServed(h.ttrpcAdr, 10*time.Second)
	c.noErr(err, "dial the events service")
	cl := ttrpc.NewClient(conn)
	a, err := typeurl.MarshalAny(&eventsapi.TaskExit{ContainerID: "ctr", ID: "ctr", Pid: 42, ExitStatus: 3})
	c.noErr(err, "marshal TaskExit")
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	_, err = ttrpcevents.NewEventsClient(cl).Forward(ctx, &ttrpcevents.ForwardRequest{Envelope: &ttrpcevents.Envelope{
		Timestamp: time.Now(), Namespace: h.ns, Topic: "/tasks/exit", Event: &ptypes.Any{TypeUrl: a.TypeUrl, Value: a.Value}}})
	cancel()
	c.ok(err == nil, "Forward", err)
	cl.Close()
	evs := h.events.snapshot()
	c.ok(len(evs) == 1 && evs[0].Topic == "/tasks/exit" && evs[0].TypeURL == "containerd.events.TaskExit", "the event is recorded",
		evs)
	if len(evs) == 1 {
		e, ok := evs[0].Msg.(*eventsapi.TaskExit)
		c.ok(ok && e.ExitStatus == 3 && e.Pid == 42, "and decoded", evs[0].Msg)
	}

	// Stdio pipes as the shim will use them: it dials stdin and reads to EOF, dials stdout and writes.
	io2, err := newStdio(h, "self", "", "to-the-process", [3]bool{true, true, true})
	c.noErr(err, "stdio pipes served")
	defer io2.close()
	in, err := dialPipeServed(io2.names[0], 10*time.Second)
	c.noErr(err, "dial stdin")
	b, err := io.ReadAll(in)
	in.Close()
	c.ok(err == nil && string(b) == "to-the-process", "stdin delivers and ends", string(b), err)
	for i := 1; i < 3; i++ {
		out, err := dialPipeServed(io2.names[i], 10*time.Second)
		c.noErr(err, "dial "+io2.names[i])
		fmt.Fprintf(out, "stream%d", i)
		out.Close()
	}
	c.ok(io2.wait(10*time.Second), "stdout and stderr end when the writer closes")
	c.ok(io2.output(0) == "stream1" && io2.output(1) == "stream2", "both streams captured", io2.output(0), io2.output(1))

	// containerd's dial: a pipe that appears late is found; one that never appears fails after 5 s.
	late := `\\.\pipe\` + h.run + `-late`
	lc := make(chan *pipeListener, 1)
	go func() {
		time.Sleep(300 * time.Millisecond) // the pipe must appear after the dial began: that is the case tested
		l, _ := listenPipe(late)
		lc <- l
	}()
	lconn, err := dialPipeServed(late, 10*time.Second)
	c.ok(err == nil, "a pipe served 300 ms after the dial began is found", err)
	if l := <-lc; l != nil {
		// Accept the pending connection, then Close while a second Accept waits: it must return.
		if ac, err := l.Accept(); err == nil {
			ac.Close()
		}
		done := make(chan error, 1)
		go func() { _, err := l.Accept(); done <- err }()
		time.Sleep(100 * time.Millisecond) // let Accept block (a shorter wait only tests less)
		l.Close()
		select {
		case err := <-done:
			c.ok(errors.Is(err, net.ErrClosed), "Close ends a waiting Accept", err)
		case <-time.After(10 * time.Second):
			c.ok(false, "Close ends a waiting Accept")
		}
	}
	if lconn != nil {
		// A read on a connection whose server went away ends; a read deadline ends a read with no data.
		lconn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		_, err = lconn.Read(make([]byte, 1))
		var ne net.Error
		c.ok(err != nil && (errors.As(err, &ne) && ne.Timeout() || err == io.EOF), "a read on an idle pipe ends at its deadline or EOF", err)
		lconn.Close()
	}
	t0 := time.Now()
	_, err = dialPipeServed(`\\.\pipe\`+h.run+`-never`, 30*time.Second)
	el := time.Since(t0)
	c.ok(errors.Is(err, os.ErrNotExist) && el >= 4*time.Second, "a pipe never served: not found after about 5 s", err, el)
}
