//go:build windows

package main

// The statsasync scenario: Stats never waits for HCS on the shim's loop. Two containers in one shim; the fake
// HCS holds back every Statistics query of one of them (CSHIM_FAKEHCS_HANG_STATS, for CSHIM_FAKEHCS_HANG_MS).
// While that query hangs, Stats of the other container answers and the Watch stream (cshim.stats.v1.Stats)
// keeps sending its samples; the hung Stats fails with DeadlineExceeded naming its container. When the held
// query finally completes (long after its answer), the shim is still serving.

import (
	"encoding/binary"
	"encoding/json"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/runtime/v2/task"
	"github.com/containerd/ttrpc"
	"github.com/gogo/protobuf/proto"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
)

// watchRequest is cshim.stats.v1.WatchRequest{1 ids, 2 interval_ms} (proto/cshim/stats.proto).
func watchRequest(ids []string, intervalMs uint64) []byte {
	var b []byte
	for _, id := range ids {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, id)
	}
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	return protowire.AppendVarint(b, intervalMs)
}

// rawRequest is a ttrpc Request carrying an already encoded payload, without a timeout (a stream runs until
// closed).
func rawRequest(h *harness, service, method string, payload []byte) []byte {
	b, _ := proto.Marshal(&ttrpc.Request{Service: service, Method: method, Payload: payload,
		Metadata: []*ttrpc.KeyValue{{Key: namespaces.TTRPCHeader, Value: h.ns}}})
	return b
}

// sampleID is field 1 of a cshim.stats.v1.Sample.
func sampleID(b []byte) string {
	id := ""
	fields(b, func(num protowire.Number, typ protowire.Type, v uint64, s []byte) error {
		if num == 1 && typ == protowire.BytesType {
			id = string(s)
		}
		return nil
	})
	return id
}

// heldQueryDone: the fake logged the held Statistics query of system id as completed.
func heldQueryDone(logPath, id string) bool {
	b, _ := os.ReadFile(logPath)
	for _, line := range strings.Split(string(b), "\n") {
		var rec map[string]interface{}
		if json.Unmarshal([]byte(line), &rec) == nil && rec["call"] == "HcsGetComputeSystemProperties" &&
			rec["system"] == id && rec["held"] == true {
			return true
		}
	}
	return false
}

func scenarioStatsAsync(c *t) {
	h := c.h
	const hung, busy = "hung", "busy"
	logPath := os.Getenv("CSHIM_FAKEHCS_LOG")
	// Read by the fake computecore.dll in the shim, which inherits the harness's environment.
	os.Setenv("CSHIM_FAKEHCS_HANG_STATS", hung)
	os.Setenv("CSHIM_FAKEHCS_HANG_MS", "8000")
	defer os.Unsetenv("CSHIM_FAKEHCS_HANG_STATS")

	dir, err := h.bundle(hung, spec("ping -n 600 127.0.0.1"))
	c.noErr(err, "bundle "+hung)
	s, err := h.startShim(hung, dir)
	c.noErr(err, "start + dial")
	hio, err := newStdio(h, hung, "", "", [3]bool{false, true, true})
	c.noErr(err, "stdio "+hung)
	defer hio.close()
	_, err = c.create(s, hio)
	c.noErr(err, "Create "+hung, c.logs(s))
	c.start(s, "")

	// The second container, in the same shim (as a pod's containers are).
	bdir, err := h.bundle(busy, spec("ping -n 600 127.0.0.1"))
	c.noErr(err, "bundle "+busy)
	bio, err := newStdio(h, busy, "", "", [3]bool{false, true, true})
	c.noErr(err, "stdio "+busy)
	defer bio.close()
	ctx, cancel := s.call(callTimeout)
	_, err = s.task.Create(ctx, &task.CreateTaskRequest{ID: busy, Bundle: bdir, Stdout: bio.names[1], Stderr: bio.names[2]})
	cancel()
	c.noErr(err, "Create "+busy, c.logs(s))
	ctx, cancel = s.call(callTimeout)
	_, err = s.task.Start(ctx, &task.StartRequest{ID: busy})
	cancel()
	c.noErr(err, "Start "+busy, c.logs(s))

	// The Watch stream of both, on a second connection, read in the background.
	raw, err := dialPipeServed(s.address, 10*time.Second)
	c.noErr(err, "a second connection for the Watch stream")
	defer raw.Close()
	raw.Write(frame(1, 1, rawRequest(h, "cshim.stats.v1.Stats", "Watch", watchRequest([]string{busy, hung}, 100))))
	type sample struct {
		id string
		at time.Time
	}
	samples := make(chan sample, 1024)
	streamErr := make(chan string, 1)
	go func() {
		hdr := make([]byte, 10)
		for {
			if _, err := io.ReadFull(raw, hdr); err != nil {
				streamErr <- err.Error()
				return
			}
			b := make([]byte, binary.BigEndian.Uint32(hdr[0:4]))
			if _, err := io.ReadFull(raw, b); err != nil {
				streamErr <- err.Error()
				return
			}
			if hdr[8] != 3 {
				streamErr <- "the stream ended: a response frame"
				return
			}
			select {
			case samples <- sample{sampleID(b), time.Now()}:
			default:
			}
		}
	}()

	// The hung container's Stats, in the background.
	type result struct {
		err error
		at  time.Time
	}
	hungDone := make(chan result, 1)
	hungStart := time.Now()
	go func() {
		ctx, cancel := s.call(callTimeout)
		defer cancel()
		_, err := s.task.Stats(ctx, &task.StatsRequest{ID: hung})
		hungDone <- result{err, time.Now()}
	}()

	// Meanwhile: Stats of the other container answers, and before the hung one does.
	ctx, cancel = s.call(callTimeout)
	sr, err := s.task.Stats(ctx, &task.StatsRequest{ID: busy})
	cancel()
	busyAt := time.Now()
	ok := err == nil && sr.Stats != nil && sr.Stats.TypeUrl == runhcsStatsURL
	if ok {
		ws, derr := decodeRunhcsStats(sr.Stats.Value)
		ok = derr == nil && ws.HasWindows
	}
	c.ok(ok, "Stats of "+busy+" answers while "+hung+"'s HCS query hangs", err)

	r := <-hungDone
	c.ok(status.Code(r.err) == codes.DeadlineExceeded && strings.Contains(r.err.Error(), "container "+hung),
		"Stats of "+hung+": DeadlineExceeded naming the container", r.err)
	c.ok(busyAt.Before(r.at), "Stats of "+busy+" was answered before the hung query's deadline", busyAt, r.at)

	// The stream sent samples of the other container while the hung query was outstanding, and goes on.
	var during, after int
	deadline := time.After(callTimeout)
	for after < 3 {
		select {
		case smp := <-samples:
			if smp.id == busy && smp.at.After(hungStart) && smp.at.Before(r.at) {
				during++
			}
			if smp.id == busy && smp.at.After(r.at) {
				after++
			}
		case e := <-streamErr:
			c.ok(false, "the Watch stream stays open", e)
			after = 3
		case <-deadline:
			after = 3
		}
	}
	c.ok(during > 0, "the Watch stream sent samples of "+busy+" while "+hung+"'s query hung", during)

	// The held query completes long after its answer: the shim takes the late completion and keeps serving.
	if logPath != "" {
		done := false
		for end := time.Now().Add(60 * time.Second); !done && time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
			done = heldQueryDone(logPath, hung)
		}
		c.ok(done, "the fake HCS completed the held query (after its DeadlineExceeded)")
	}
	os.Unsetenv("CSHIM_FAKEHCS_HANG_STATS") // the shim keeps its own copy: its queries of hung still hang
	ctx, cancel = s.call(callTimeout)
	_, err = s.task.Stats(ctx, &task.StatsRequest{ID: busy})
	cancel()
	c.ok(err == nil, "the shim still answers Stats after the late completion", err, c.logs(s))
	st, err := c.state(s, "")
	c.ok(err == nil && st.Status.String() == "RUNNING", "State of "+hung+" after the late completion", st, err)

	raw.Close()
	for _, id := range []string{busy, hung} {
		ctx, cancel = s.call(callTimeout)
		_, err = s.task.Kill(ctx, &task.KillRequest{ID: id, Signal: uint32(syscall.SIGKILL)})
		cancel()
		c.ok(err == nil, "Kill "+id, err)
		ctx, cancel = s.call(60 * time.Second)
		_, err = s.task.Wait(ctx, &task.WaitRequest{ID: id})
		cancel()
		c.ok(err == nil, "Wait "+id, err)
		ctx, cancel = s.call(callTimeout)
		_, err = s.task.Delete(ctx, &task.DeleteRequest{ID: id})
		cancel()
		c.ok(err == nil, "Delete "+id, err)
	}
	c.shutdown(s)
}
