//go:build windows

// The footprint and speed of a shim serving one container, measured from the Go client, beside the
// floor: the same client against an empty Go ttrpc server on a named pipe in the same run. Under Wine
// every pipe message goes through wineserver: these are Wine's figures, not Windows'.
package main

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"
	"unsafe"

	"github.com/containerd/containerd/runtime/v2/task"
	"golang.org/x/sys/windows"
)

// processMemoryCountersEx is PROCESS_MEMORY_COUNTERS_EX (psapi.h).
type processMemoryCountersEx struct {
	CB                         uint32
	PageFaultCount             uint32
	PeakWorkingSetSize         uintptr
	WorkingSetSize             uintptr
	QuotaPeakPagedPoolUsage    uintptr
	QuotaPagedPoolUsage        uintptr
	QuotaPeakNonPagedPoolUsage uintptr
	QuotaNonPagedPoolUsage     uintptr
	PagefileUsage              uintptr
	PeakPagefileUsage          uintptr
	PrivateUsage               uintptr
}

var procGetProcessMemoryInfo = windows.NewLazySystemDLL("psapi.dll").NewProc("GetProcessMemoryInfo")

func memoryOf(pid uint32) (*processMemoryCountersEx, error) {
	ph, err := windows.OpenProcess(windows.PROCESS_QUERY_INFORMATION|windows.PROCESS_VM_READ, false, pid)
	if err != nil {
		return nil, err
	}
	defer windows.CloseHandle(ph)
	var m processMemoryCountersEx
	m.CB = uint32(unsafe.Sizeof(m))
	r, _, err := procGetProcessMemoryInfo.Call(uintptr(ph), uintptr(unsafe.Pointer(&m)), uintptr(m.CB))
	if r == 0 {
		return nil, err
	}
	return &m, nil
}

func threadsOf(pid uint32) (int, error) {
	snap, err := windows.CreateToolhelp32Snapshot(windows.TH32CS_SNAPTHREAD, 0)
	if err != nil {
		return 0, err
	}
	defer windows.CloseHandle(snap)
	var te windows.ThreadEntry32
	te.Size = uint32(unsafe.Sizeof(te))
	n := 0
	for err = windows.Thread32First(snap, &te); err == nil; err = windows.Thread32Next(snap, &te) {
		if te.OwnerProcessID == pid {
			n++
		}
	}
	return n, nil
}

func p50p99(name string, n int, one func(context.Context) error) (float64, float64, error) {
	run := func() (time.Duration, error) {
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		defer cancel()
		t0 := time.Now()
		err := one(ctx)
		return time.Since(t0), err
	}
	for i := 0; i < 10; i++ { // warm-up: first-call costs are not what is compared
		if _, err := run(); err != nil {
			return 0, 0, fmt.Errorf("%s: %w", name, err)
		}
	}
	d := make([]float64, n)
	for i := range d {
		v, err := run()
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", name, err)
		}
		d[i] = float64(v.Nanoseconds()) / 1000
	}
	sort.Float64s(d)
	at := func(p float64) float64 {
		i := int(p*float64(n)+0.999999) - 1
		if i < 0 {
			i = 0
		}
		if i >= n {
			i = n - 1
		}
		return d[i]
	}
	return at(0.5), at(0.99), nil
}

func scenarioBench(c *t, nArg string) {
	n, err := strconv.Atoi(nArg)
	if err != nil || n < 1 {
		n = 300
	}
	h := c.h
	id := "bench"
	dir, err := h.bundle(id, spec("ping -n 3600 127.0.0.1"))
	c.noErr(err, "bundle")
	s, err := h.startShim(id, dir)
	c.noErr(err, "start + dial")
	io, err := newStdio(h, id, "", "", [3]bool{false, true, true})
	c.noErr(err, "stdio")
	defer io.close()
	_, err = c.create(s, io)
	c.noErr(err, "Create", c.logs(s))
	c.start(s, "")
	ctx, cancel := s.call(callTimeout)
	cr, err := s.task.Connect(ctx, &task.ConnectRequest{ID: id})
	cancel()
	c.noErr(err, "Connect")

	stP50, stP99, err := p50p99("State", n, func(ctx context.Context) error {
		_, err := s.task.State(ctx, &task.StateRequest{ID: id})
		return err
	})
	c.noErr(err, "State bench")
	ssP50, ssP99, err := p50p99("Stats", n, func(ctx context.Context) error {
		_, err := s.task.Stats(ctx, &task.StatsRequest{ID: id})
		return err
	})
	c.noErr(err, "Stats bench")
	m, err := memoryOf(cr.ShimPid)
	c.noErr(err, "GetProcessMemoryInfo on the shim")
	th, err := threadsOf(cr.ShimPid)
	c.noErr(err, "thread snapshot of the shim")
	fsvc, stop, err := floorServer(h)
	c.noErr(err, "floor server")
	flP50, flP99, err := p50p99("floor", n, func(ctx context.Context) error {
		_, err := fsvc.State(ctx, &task.StateRequest{ID: id})
		return err
	})
	stop()
	c.noErr(err, "floor bench")

	fmt.Println("# Figures under Wine 8 (every pipe message goes through wineserver): Wine's, not Windows'.")
	priv, privFrom := uint64(m.PrivateUsage), "PrivateUsage"
	if priv == 0 {
		// Wine leaves PrivateUsage at 0; on Windows it is the same figure as PagefileUsage (the commit charge).
		priv, privFrom = uint64(m.PagefileUsage), "PagefileUsage (Wine leaves PrivateUsage 0)"
	}
	fmt.Printf("shim footprint serving one container: private_bytes=%d (%.1f MiB, from %s) working_set=%d (%.1f MiB) "+
		"peak_working_set=%d threads=%d\n", priv, float64(priv)/(1<<20), privFrom, m.WorkingSetSize,
		float64(m.WorkingSetSize)/(1<<20), m.PeakWorkingSetSize, th)
	fmt.Printf("State  n=%d p50_us=%.1f p99_us=%.1f\n", n, stP50, stP99)
	fmt.Printf("Stats  n=%d p50_us=%.1f p99_us=%.1f\n", n, ssP50, ssP99)
	fmt.Printf("floor  n=%d p50_us=%.1f p99_us=%.1f (the same Go client, State against an empty Go ttrpc server on a pipe)\n",
		n, flP50, flP99)

	c.noErr(c.kill(s, "", 9), "Kill")
	c.wait(s, "", 30*time.Second)
	c.del(s, "")
	c.shutdown(s)
}
