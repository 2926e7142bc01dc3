//go:build windows

package main

// The taskapi scenario (the HCS backend's side, in the harness's conventions): the rest of the Task API on a
// running process-isolated container. Pids comes from HCS's ProcessList; Update goes to HCS as
// ModifySettingRequests (Container/Memory/SizeInMB, Container/Processor) after Create's Windows rules; ResizePty
// of a process without a console is a deliberate success (containerd's Linux shims; runhcs answers
// FailedPrecondition); Pause of a process-isolated container is refused by HCS (Windows pauses only Hyper-V
// isolated systems: the fake HCS answers ERROR_NOT_SUPPORTED as HCS does) and the task keeps running. And an
// HNS endpoint the spec names that does not exist fails Create with NotFound naming it.

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/containerd/runtime/v2/task"
	"github.com/containerd/typeurl"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// containerd's runtime/typeurl.go registration: Update's resources Any carries
// types.containerd.io/opencontainers/runtime-spec/1/WindowsResources.
func init() {
	typeurl.Register(&specs.WindowsResources{}, "types.containerd.io", "opencontainers/runtime-spec",
		fmt.Sprint(specs.VersionMajor), "WindowsResources")
}

// modifyDocs answers the options documents of the HcsModifyComputeSystem calls the fake logged for a system.
func modifyDocs(logPath, system string) []string {
	b, _ := os.ReadFile(logPath)
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.Contains(line, "HcsModifyComputeSystem") {
			continue
		}
		var rec map[string]interface{}
		if json.Unmarshal([]byte(line), &rec) != nil || rec["call"] != "HcsModifyComputeSystem" || rec["system"] != system {
			continue
		}
		d, _ := json.Marshal(rec["options"])
		out = append(out, string(d))
	}
	return out
}

func scenarioTaskAPI(c *t) {
	h := c.h
	id := "taskapi"
	logPath := os.Getenv("CSHIM_FAKEHCS_LOG")
	self, _ := os.Executable()

	// An HNS endpoint the spec names that HNS does not know: Create fails NotFound naming it.
	const ghost = "0badc0de-0000-4000-8000-000000000001"
	nsp := spec("cmd /c exit 0")
	nsp["windows"] = map[string]interface{}{"network": map[string]interface{}{"endpointList": []string{ghost}}}
	ndir, err := h.bundle("noep", nsp)
	c.noErr(err, "bundle noep")
	ns, err := h.startShim("noep", ndir)
	c.noErr(err, "start + dial noep")
	nio, err := newStdio(h, "noep", "", "", [3]bool{false, true, true})
	c.noErr(err, "stdio noep")
	_, err = c.create(ns, nio)
	nio.close()
	c.ok(status.Code(err) == codes.NotFound && strings.Contains(err.Error(), ghost),
		"Create naming an unknown HNS endpoint: NotFound naming it", err)
	c.shutdown(ns)

	dir, err := h.bundle(id, spec(fmt.Sprintf(`"%s" burn 0 600`, self)))
	c.noErr(err, "bundle")
	s, err := h.startShim(id, dir)
	c.noErr(err, "start + dial")
	io, err := newStdio(h, id, "", "", [3]bool{false, true, true})
	c.noErr(err, "stdio")
	defer io.close()
	_, err = c.create(s, io)
	c.noErr(err, "Create", c.logs(s))
	pid := c.start(s, "")

	ctx, cancel := s.call(callTimeout)
	pr, err := s.task.Pids(ctx, &task.PidsRequest{ID: id})
	cancel()
	found := false
	if err == nil {
		for _, p := range pr.Processes {
			found = found || p.Pid == pid
		}
	}
	c.ok(err == nil && found, "Pids lists the init process (HCS ProcessList)", pr, err, pid)

	lim, cnt := uint64(256<<20), uint64(1)
	res, err := typeurl.MarshalAny(&specs.WindowsResources{Memory: &specs.WindowsMemoryResources{Limit: &lim},
		CPU: &specs.WindowsCPUResources{Count: &cnt}})
	c.noErr(err, "marshal WindowsResources")
	ctx, cancel = s.call(callTimeout)
	_, err = s.task.Update(ctx, &task.UpdateTaskRequest{ID: id, Resources: res})
	cancel()
	c.ok(err == nil, "Update memory 256 MiB, CPU count 1", err, c.logs(s))
	if logPath != "" {
		docs := strings.Join(modifyDocs(logPath, id), "\n")
		c.ok(strings.Contains(docs, `"Container/Memory/SizeInMB"`) && strings.Contains(docs, `"Settings":256`),
			"HcsModifyComputeSystem Container/Memory/SizeInMB 256", docs)
		c.ok(strings.Contains(docs, `"Container/Processor"`) && strings.Contains(docs, `"Count":1`),
			"HcsModifyComputeSystem Container/Processor Count 1", docs)
	}
	max := uint16(20000)
	res, _ = typeurl.MarshalAny(&specs.WindowsResources{CPU: &specs.WindowsCPUResources{Maximum: &max}})
	ctx, cancel = s.call(callTimeout)
	_, err = s.task.Update(ctx, &task.UpdateTaskRequest{ID: id, Resources: res})
	cancel()
	c.ok(status.Code(err) == codes.InvalidArgument && strings.Contains(err.Error(), "maximum"),
		"Update with CPU maximum 20000: InvalidArgument by Create's rules", err)

	ctx, cancel = s.call(callTimeout)
	_, err = s.task.ResizePty(ctx, &task.ResizePtyRequest{ID: id, Width: 120, Height: 40})
	cancel()
	c.ok(err == nil, "ResizePty of a process without a console: success, nothing to resize", err)

	ctx, cancel = s.call(callTimeout)
	_, err = s.task.Pause(ctx, &task.PauseRequest{ID: id})
	cancel()
	c.ok(err != nil && strings.Contains(err.Error(), "HcsPauseComputeSystem"),
		"Pause of a process-isolated container: HCS's refusal, naming the call", err)
	st, err := c.state(s, "")
	c.ok(err == nil && st.Status.String() == "RUNNING", "still running after the refused Pause", st, err)

	ctx, cancel = s.call(callTimeout)
	_, err = s.task.Kill(ctx, &task.KillRequest{ID: id, Signal: uint32(syscall.SIGKILL)})
	cancel()
	c.ok(err == nil, "Kill SIGKILL", err)
	w, err := c.wait(s, "", 60*time.Second)
	c.ok(err == nil && w.ExitStatus != 0, "Wait after SIGKILL", w, err)
	_, err = c.del(s, "")
	c.ok(err == nil, "Delete", err)
	c.shutdown(s)
}
