//go:build windows

package main

// The layers scenario (owned by the HCS backend's side, written to the harness's conventions): containerd 1.6's
// process-isolated Create, where the rootfs arrives as one windows-layer mount (source = the scratch folder,
// option parentLayerPaths=<JSON>, containerd's snapshots/windows) and the spec has no root.path. The shim must
// activate and prepare the scratch through vmcompute (the fake vmcompute.dll logs each call with the number of
// layers still active), give HCS the volume as Storage.Path, and leave nothing active after Delete or after a
// Create whose layer step fails (CSHIM_FAKEHCS_LAYER_FAIL in the shim's environment).

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/containerd/api/types"
	"github.com/containerd/containerd/runtime/v2/task"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// layerCalls answers the fake's layer log records for one layer folder, in order.
func layerCalls(logPath, layer string) []map[string]interface{} {
	b, _ := os.ReadFile(logPath)
	var out []map[string]interface{}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.Contains(line, "Layer") {
			continue
		}
		var rec map[string]interface{}
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		if l, _ := rec["layer"].(string); strings.EqualFold(l, layer) {
			out = append(out, rec)
		}
	}
	return out
}

func callNames(recs []map[string]interface{}) string {
	var n []string
	for _, r := range recs {
		n = append(n, fmt.Sprintf("%v(%v active=%v)", r["call"], r["hr"], r["active"]))
	}
	return strings.Join(n, " ")
}

func scenarioLayers(c *t) {
	h := c.h
	logPath := os.Getenv("CSHIM_FAKEHCS_LOG")
	c.must(logPath != "", "CSHIM_FAKEHCS_LOG names the fake HCS's log")
	base := filepath.Join(h.tmp, "layers", "base")
	parents, _ := json.Marshal([]string{base})

	create := func(id, fail string) (*shimConn, *stdioServer, string, error) {
		sp := spec("cmd /c echo layered")
		sp["root"] = map[string]interface{}{}                              // no root.path: the runtime mounts
		sp["windows"] = map[string]interface{}{"layerFolders": []string{}} // the layers come as the mount
		dir, err := h.bundle(id, sp)
		c.noErr(err, "bundle "+id)
		scratch := filepath.Join(dir, "scratch")
		if fail != "" {
			os.Setenv("CSHIM_FAKEHCS_LAYER_FAIL", fail)
		}
		s, err := h.startShim(id, dir)
		os.Unsetenv("CSHIM_FAKEHCS_LAYER_FAIL")
		c.noErr(err, "start + dial "+id)
		io, err := newStdio(h, id, "", "", [3]bool{false, true, true})
		c.noErr(err, "stdio "+id)
		ctx, cancel := s.call(callTimeout)
		defer cancel()
		_, err = s.task.Create(ctx, &task.CreateTaskRequest{ID: s.id, Bundle: s.bundle, Stdout: io.names[1],
			Stderr: io.names[2], Rootfs: []*types.Mount{{Type: "windows-layer", Source: scratch,
				Options: []string{"rw", "parentLayerPaths=" + string(parents)}}}})
		return s, io, scratch, err
	}

	// Mounted, used, unmounted.
	s, io, scratch, err := create("layered", "")
	c.noErr(err, "Create with a windows-layer rootfs mount and no root.path", c.logs(s))
	recs := layerCalls(logPath, scratch)
	c.ok(len(recs) >= 3 && recs[0]["call"] == "ActivateLayer" && recs[1]["call"] == "PrepareLayer" &&
		recs[2]["call"] == "GetLayerMountPath", "ActivateLayer, PrepareLayer, GetLayerMountPath on the scratch",
		callNames(recs))
	if len(recs) >= 2 {
		ps, _ := recs[1]["parents"].([]interface{})
		c.ok(len(ps) == 1 && strings.EqualFold(fmt.Sprint(ps[0]), base), "PrepareLayer got the parent from parentLayerPaths", recs[1])
	}
	doc, err := lastDocFor(logPath, "layered")
	if c.ok(err == nil, "the fake HCS logged the create document", err) {
		ctr, _ := doc["Container"].(map[string]interface{})
		st, _ := ctr["Storage"].(map[string]interface{})
		p, _ := st["Path"].(string)
		c.ok(strings.HasPrefix(p, `\\?\Volume{`) && strings.HasSuffix(p, `}\`), "Storage.Path is the mounted volume", st)
		ls, _ := st["Layers"].([]interface{})
		l0, _ := func() (map[string]interface{}, bool) {
			if len(ls) == 1 {
				m, ok := ls[0].(map[string]interface{})
				return m, ok
			}
			return nil, false
		}()
		c.ok(l0 != nil && strings.EqualFold(fmt.Sprint(l0["Path"]), base), "Storage.Layers is the parent", st)
	}
	c.start(s, "")
	w, err := c.wait(s, "", callTimeout)
	c.ok(err == nil && w.ExitStatus == 0, "the process exits 0", w, err)
	c.ok(io.wait(callTimeout) && strings.TrimSpace(io.output(0)) == "layered", "stdout", io.output(0))
	io.close()
	_, err = c.del(s, "")
	c.ok(err == nil, "Delete", err)
	recs = layerCalls(logPath, scratch)
	n := len(recs)
	c.ok(n >= 2 && recs[n-2]["call"] == "UnprepareLayer" && recs[n-1]["call"] == "DeactivateLayer" &&
		fmt.Sprint(recs[n-1]["active"]) == "0", "Delete unprepares and deactivates: nothing active", callNames(recs))
	c.shutdown(s)

	// A failed step fails Create naming the layer and the step, and leaves nothing active.
	s, io, scratch, err = create("layerfail", "PrepareLayer")
	io.close()
	c.ok(err != nil && status.Code(err) != codes.OK, "Create fails when PrepareLayer fails", err)
	c.ok(err != nil && strings.Contains(err.Error(), "PrepareLayer") &&
		strings.Contains(strings.ToLower(err.Error()), strings.ToLower(scratch)),
		"the error names the step and the layer", err)
	recs = layerCalls(logPath, scratch)
	n = len(recs)
	c.ok(n >= 1 && recs[n-1]["call"] == "DeactivateLayer" && fmt.Sprint(recs[n-1]["active"]) == "0",
		"after the failed Create nothing is active", callNames(recs))
	c.shutdown(s)
}
