//go:build windows

package main

// The hyperv scenario (the HCS backend's side, in the harness's conventions): a Hyper-V isolated container and
// HNS endpoints as the shim gives them to HCS. Create makes the utility VM, hot-adds the container's storage to
// it (VSMB shares, the scratch on a SCSI Lun mapped at the container's root, the combined layers), puts the
// spec's endpoints in an HNS namespace and each as a NIC of the VM, then creates the hosted container. The fake
// computecore.dll checks every hot-add (refusing a hosted container whose root is not there) and logs after each
// system call how many systems are live and how many attachments they hold; the fake vmcompute.dll logs how many
// namespaces and namespace endpoints remain. After Delete, and after a Create failed at each step in turn
// (CSHIM_FAKEHCS_FAIL in the shim's environment), nothing is left. A process-isolated container's endpoints go the
// same way through the namespace, Stats reads each endpoint's counters, and a missing endpoint fails Create with
// NotFound naming it.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/containerd/containerd/runtime/v2/task"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const (
	hvEP1 = "6e3a1f10-2b7c-4d55-9a0e-1c2d3e4f5a6b"
	hvEP2 = "7f4b2021-3c8d-4e66-8b1f-2d3e4f5a6b7c"
)

// logRecs answers the fake's log records for which pick returns true, in order.
func logRecs(logPath string, pick func(map[string]interface{}) bool) []map[string]interface{} {
	b, _ := os.ReadFile(logPath)
	var out []map[string]interface{}
	for _, line := range strings.Split(string(b), "\n") {
		var rec map[string]interface{}
		if line == "" || json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		if pick(rec) {
			out = append(out, rec)
		}
	}
	return out
}

// census answers the last census the fake logged for a system of container id (it or its VM id@vm): what the
// shim's process still has, live systems and attachments, as a string "live=N attached=M"; "" if none was logged.
func census(logPath, id string) string {
	recs := logRecs(logPath, func(r map[string]interface{}) bool {
		sys, _ := r["system"].(string)
		_, has := r["census"]
		return has && (sys == id || sys == id+"@vm")
	})
	if len(recs) == 0 {
		return ""
	}
	m, _ := recs[len(recs)-1]["census"].(map[string]interface{})
	return fmt.Sprintf("live=%v attached=%v", m["live"], m["attached"])
}

// hnsCensus answers the last namespace census of the fake HNS: "namespaces=N nsEndpoints=M".
func hnsCensus(logPath string) string {
	recs := logRecs(logPath, func(r map[string]interface{}) bool { _, has := r["census"]; return has && r["call"] == "HNSCall" })
	if len(recs) == 0 {
		return "namespaces=0 nsEndpoints=0"
	}
	m, _ := recs[len(recs)-1]["census"].(map[string]interface{})
	return fmt.Sprintf("namespaces=%v nsEndpoints=%v", m["namespaces"], m["nsEndpoints"])
}

func scenarioHyperV(c *t) {
	h := c.h
	logPath := os.Getenv("CSHIM_FAKEHCS_LOG")
	c.must(logPath != "", "CSHIM_FAKEHCS_LOG names the fake HCS's log")
	cfg := filepath.Join(h.tmp, "hns.json")
	eps := map[string]interface{}{"Endpoints": []map[string]interface{}{
		{"Id": hvEP1, "Name": "ep1", "MacAddress": "00-15-5D-01-02-03", "Stats": map[string]interface{}{
			"BytesReceived": 1234, "BytesSent": 99, "PacketsReceived": 7, "PacketsSent": 3}},
		{"Id": hvEP2, "Name": "ep2", "MacAddress": "00-15-5D-01-02-04", "Stats": map[string]interface{}{
			"BytesReceived": 4321, "BytesSent": 11, "PacketsReceived": 9, "PacketsSent": 2}},
	}}
	b, _ := json.Marshal(eps)
	c.noErr(os.WriteFile(cfg, b, 0o644), "HNS endpoints config")
	os.Setenv("CSHIM_FAKEHCS_CONFIG", cfg)
	defer os.Unsetenv("CSHIM_FAKEHCS_CONFIG")

	mkspec := func(hyperv bool, cmd string, endpoints ...string) map[string]interface{} {
		sp := spec(cmd)
		w := map[string]interface{}{"network": map[string]interface{}{"endpointList": endpoints}}
		if hyperv {
			w["hyperv"] = map[string]interface{}{}
			sp["root"] = map[string]interface{}{} // the hosted container's root is the scratch inside the VM
		}
		sp["windows"] = w
		return sp
	}
	create := func(id string, sp map[string]interface{}, fail string) (*shimConn, *stdioServer, error) {
		dir, err := h.bundle(id, sp)
		c.noErr(err, "bundle "+id)
		if fail != "" {
			os.Setenv("CSHIM_FAKEHCS_FAIL", fail)
		}
		s, err := h.startShim(id, dir)
		os.Unsetenv("CSHIM_FAKEHCS_FAIL")
		c.noErr(err, "start + dial "+id)
		io, err := newStdio(h, id, "", "", [3]bool{false, true, true})
		c.noErr(err, "stdio "+id)
		_, err = c.create(s, io)
		return s, io, err
	}
	modifies := func(system string) []string { return modifyDocs(logPath, system) }

	// A Hyper-V container with two endpoints: made, run, counted, deleted, nothing left.
	s, io, err := create("hv", mkspec(true, "cmd /c echo hyperv", hvEP1, hvEP2), "")
	c.noErr(err, "Create a Hyper-V isolated container with two endpoints", c.logs(s))
	ms := modifies("hv@vm")
	joined := strings.Join(ms, "\n")
	c.ok(len(ms) == 5, "five hot-adds to the utility VM: layer share, scratch, combined layers, two NICs", joined)
	c.ok(strings.Contains(joined, `"VirtualMachine/Devices/VirtualSmb/Shares"`) &&
		strings.Contains(joined, `"VirtualMachine/Devices/Scsi/0/Attachments/1"`) &&
		strings.Contains(joined, `"MappedVirtualDisk"`) && strings.Contains(joined, `"CombinedLayers"`),
		"the scratch is attached on SCSI and mounted, the layers combined over it", joined)
	c.ok(strings.Contains(joined, "NetworkAdapters/"+hvEP1) && strings.Contains(joined, "NetworkAdapters/"+hvEP2) &&
		strings.Contains(joined, "00-15-5D-01-02-04"), "each endpoint is a NIC of the VM with HNS's MAC", joined)
	c.ok(census(logPath, "hv") == "live=2 attached=6",
		"VM and container live; six attachments (share, disk, its guest mapping, combined layers, two NICs)",
		census(logPath, "hv"))
	c.ok(hnsCensus(logPath) == "namespaces=1 nsEndpoints=2", "the endpoints are in a namespace", hnsCensus(logPath))
	if doc, err := lastDocFor(logPath, "hv"); c.ok(err == nil, "the hosted container's document was logged", err) {
		hs, _ := doc["HostedSystem"].(map[string]interface{})
		ctr, _ := hs["Container"].(map[string]interface{})
		nw, _ := ctr["Networking"].(map[string]interface{})
		st, _ := ctr["Storage"].(map[string]interface{})
		c.ok(doc["HostingSystemId"] == "hv@vm" && st["Path"] == `C:\c\hv`, "hosted in hv@vm, rooted at C:\\c\\hv", doc)
		c.ok(strings.HasPrefix(fmt.Sprint(nw["Namespace"]), "5e5e0000-"), "the container names the namespace", nw)
	}
	c.start(s, "")
	w, err := c.wait(s, "", callTimeout)
	c.ok(err == nil && w.ExitStatus == 0, "the hosted process exits 0", w, err)
	_ = w
	c.ok(io.wait(callTimeout) && strings.TrimSpace(io.output(0)) == "hyperv", "stdout", io.output(0))
	io.close()
	ctx, cancel := s.call(callTimeout)
	_, err = s.task.Stats(ctx, &task.StatsRequest{ID: "hv"})
	cancel()
	c.ok(err == nil, "Stats of the stopped Hyper-V container answers", err)
	_, err = c.del(s, "")
	c.ok(err == nil, "Delete", err)
	ms = modifies("hv@vm")
	c.ok(len(ms) == 7 && strings.Contains(ms[5], `"Remove"`) && strings.Contains(ms[6], hvEP2),
		"Delete removes both NICs from the VM before it goes", strings.Join(ms, "\n"))
	c.ok(census(logPath, "hv") == "live=0 attached=0", "after Delete: no system, no attachment", census(logPath, "hv"))
	c.ok(hnsCensus(logPath) == "namespaces=0 nsEndpoints=0", "after Delete: no namespace", hnsCensus(logPath))
	c.shutdown(s)

	// Each step of Create failing in turn: Create fails, and nothing is left.
	steps := []struct{ name, fail string }{
		{"the VM's creation", "HcsCreateComputeSystem/hvf0@vm"},
		{"the VM's start", "HcsStartComputeSystem/hvf1@vm"},
		{"the layer share", "HcsModifyComputeSystem/hvf2@vm/VirtualSmb"},
		{"the scratch attachment", "HcsModifyComputeSystem/hvf3@vm/Scsi"},
		{"the combined layers", "HcsModifyComputeSystem/hvf4@vm/CombinedLayers"},
		{"the second NIC", "HcsModifyComputeSystem/hvf5@vm/" + hvEP2},
		{"the hosted container's creation", "HcsCreateComputeSystem/hvf6"},
		{"the hosted container's start", "HcsStartComputeSystem/hvf7"},
	}
	for i, st := range steps {
		id := fmt.Sprintf("hvf%d", i)
		s, io, err := create(id, mkspec(true, "cmd /c exit 0", hvEP1, hvEP2), st.fail)
		io.close()
		c.ok(err != nil && strings.Contains(err.Error(), "injected"), "Create fails when "+st.name+" fails", err)
		left := census(logPath, id)
		// A VM whose creation failed never existed: no system call, no census, nothing to leave.
		c.ok(left == "live=0 attached=0" || (i == 0 && left == ""), "after it, no system and no attachment ("+st.name+")",
			left, c.logs(s))
		c.ok(hnsCensus(logPath) == "namespaces=0 nsEndpoints=0", "after it, no namespace ("+st.name+")", hnsCensus(logPath))
		c.shutdown(s)
	}

	// A missing endpoint: NotFound naming it, before any system is made.
	const ghost = "0badc0de-0000-4000-8000-0000000000aa"
	s, io, err = create("hvghost", mkspec(true, "cmd /c exit 0", hvEP1, ghost), "")
	io.close()
	c.ok(status.Code(err) == codes.NotFound && strings.Contains(err.Error(), ghost),
		"Hyper-V Create naming an unknown endpoint: NotFound naming it", err)
	c.ok(census(logPath, "hvghost") == "", "no system was made for it", census(logPath, "hvghost"))
	c.shutdown(s)

	// Process isolation: the endpoints in the namespace the container names, counters per endpoint, all gone after Delete.
	self, _ := os.Executable()
	s, io, err = create("pnet", mkspec(false, fmt.Sprintf(`"%s" burn 0 600`, self), hvEP1, hvEP2), "")
	c.noErr(err, "Create a process-isolated container with two endpoints", c.logs(s))
	c.ok(hnsCensus(logPath) == "namespaces=1 nsEndpoints=2", "its endpoints are in a namespace", hnsCensus(logPath))
	if doc, err := lastDocFor(logPath, "pnet"); c.ok(err == nil, "the container document was logged", err) {
		ctr, _ := doc["Container"].(map[string]interface{})
		nw, _ := ctr["Networking"].(map[string]interface{})
		c.ok(strings.HasPrefix(fmt.Sprint(nw["Namespace"]), "5e5e0000-"), "Networking.Namespace is that namespace", nw)
	}
	c.ok(len(modifies("pnet")) == 0, "no NIC hot-add for a process-isolated container")
	c.start(s, "")
	ctx, cancel = s.call(callTimeout)
	_, err = s.task.Stats(ctx, &task.StatsRequest{ID: "pnet"})
	cancel()
	c.ok(err == nil, "Stats", err)
	statsCalls := logRecs(logPath, func(r map[string]interface{}) bool {
		p, _ := r["path"].(string)
		return r["call"] == "HNSCall" && strings.HasPrefix(p, "/endpointstats/")
	})
	var asked []string
	for _, r := range statsCalls {
		asked = append(asked, fmt.Sprint(r["path"]))
	}
	c.ok(strings.Contains(strings.Join(asked, " "), hvEP1) && strings.Contains(strings.Join(asked, " "), hvEP2),
		"Stats read each endpoint's counters from HNS", asked)
	// The Watch stream carries the counters per endpoint, named by the endpoint id.
	samples, err := watchSamples(s.address, "pnet", 50, 2)
	c.ok(err == nil && len(samples) == 2, "Watch sends the two samples asked for", err, len(samples))
	var byName = map[string]watchIface{}
	for _, smp := range samples {
		for _, w := range smp {
			byName[w.Name] = w
		}
	}
	c.ok(byName[hvEP1].RxBytes == 1234 && byName[hvEP1].TxBytes == 99 && byName[hvEP2].RxBytes == 4321 &&
		byName[hvEP2].RxPackets == 9 && byName[hvEP2].TxPkts == 2, "Watch carries each endpoint's HNS counters", byName)
	c.ok(c.kill(s, "", syscall.SIGKILL) == nil, "SIGKILL")
	_, err = c.wait(s, "", callTimeout)
	c.ok(err == nil, "the process ends", err)
	io.close()
	_, err = c.del(s, "")
	c.ok(err == nil, "Delete", err)
	c.ok(hnsCensus(logPath) == "namespaces=0 nsEndpoints=0", "after Delete the endpoints left and the namespace is gone",
		hnsCensus(logPath))
	c.shutdown(s)
}
