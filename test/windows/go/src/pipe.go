//go:build windows

// A named-pipe net.Conn and net.Listener on overlapped I/O, standing in for go-winio (not packaged in
// Debian). Every read and write is its own OVERLAPPED operation with its own event, so ttrpc's reader
// goroutine never blocks its writers: an os.File on a pipe would (Go 1.19 takes one lock for both).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/windows"
)

var errPipeClosed = errors.New("pipe closed")

type pipeAddr string

func (a pipeAddr) Network() string { return "pipe" }
func (a pipeAddr) String() string  { return string(a) }

// pipeConn: mu is read-held for the length of each I/O and write-held by Close, so the handle is closed only
// once no operation can still be using it.
type pipeConn struct {
	h      windows.Handle
	name   string
	mu     sync.RWMutex
	closed int32
	rdl    atomic.Value // time.Time read deadline
	wdl    atomic.Value // time.Time write deadline
}

func newPipeConn(h windows.Handle, name string) *pipeConn {
	c := &pipeConn{h: h, name: name}
	c.rdl.Store(time.Time{})
	c.wdl.Store(time.Time{})
	return c
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// overlapped runs one ReadFile/WriteFile (or ConnectNamedPipe through start) to completion.
func overlapped(h windows.Handle, deadline time.Time, closed *int32,
	start func(ov *windows.Overlapped, n *uint32) error) (uint32, error) {
	ev, err := windows.CreateEvent(nil, 1, 0, nil)
	if err != nil {
		return 0, fmt.Errorf("CreateEvent: %w", err)
	}
	defer windows.CloseHandle(ev)
	ov := &windows.Overlapped{HEvent: ev}
	var n uint32
	err = start(ov, &n)
	if err != windows.ERROR_IO_PENDING {
		return n, err
	}
	// Issue first, then look at the flag: Close sets it before CancelIoEx, so either Close's cancel sees
	// this operation or this check sees Close.
	if atomic.LoadInt32(closed) != 0 {
		windows.CancelIoEx(h, ov)
	}
	timedOut := false
	if !deadline.IsZero() {
		ms := time.Until(deadline).Milliseconds()
		if ms < 0 {
			ms = 0
		}
		if r, _ := windows.WaitForSingleObject(ev, uint32(ms)); r == uint32(windows.WAIT_TIMEOUT) {
			timedOut = true
			windows.CancelIoEx(h, ov)
		}
	}
	err = windows.GetOverlappedResult(h, ov, &n, true)
	if err == windows.ERROR_OPERATION_ABORTED {
		if timedOut {
			return n, timeoutErr{}
		}
		return n, errPipeClosed
	}
	return n, err
}

func (c *pipeConn) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if atomic.LoadInt32(&c.closed) != 0 {
		return 0, errPipeClosed
	}
	n, err := overlapped(c.h, c.rdl.Load().(time.Time), &c.closed, func(ov *windows.Overlapped, n *uint32) error {
		return windows.ReadFile(c.h, b, n, ov)
	})
	switch err {
	case nil:
		if n == 0 {
			return 0, io.EOF
		}
		return int(n), nil
	case windows.ERROR_BROKEN_PIPE, windows.ERROR_PIPE_NOT_CONNECTED, windows.ERROR_NO_DATA:
		return int(n), io.EOF
	case windows.ERROR_MORE_DATA: // a message-mode pipe: the rest comes with the next read
		return int(n), nil
	}
	return int(n), &net.OpError{Op: "read", Net: "pipe", Addr: pipeAddr(c.name), Err: err}
}

func (c *pipeConn) Write(b []byte) (int, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if atomic.LoadInt32(&c.closed) != 0 {
		return 0, errPipeClosed
	}
	total := 0
	for total < len(b) {
		n, err := overlapped(c.h, c.wdl.Load().(time.Time), &c.closed, func(ov *windows.Overlapped, n *uint32) error {
			return windows.WriteFile(c.h, b[total:], n, ov)
		})
		total += int(n)
		if err != nil {
			return total, &net.OpError{Op: "write", Net: "pipe", Addr: pipeAddr(c.name), Err: err}
		}
	}
	return total, nil
}

// Close cancels this handle's pending I/O, waits for it to return, then closes the handle. (A byte pipe has no
// CloseWrite: a stdin's end of file is the close of the whole pipe.)
func (c *pipeConn) Close() error {
	if !atomic.CompareAndSwapInt32(&c.closed, 0, 1) {
		return nil
	}
	windows.CancelIoEx(c.h, nil)
	c.mu.Lock()
	defer c.mu.Unlock()
	return windows.CloseHandle(c.h)
}

func (c *pipeConn) LocalAddr() net.Addr  { return pipeAddr(c.name) }
func (c *pipeConn) RemoteAddr() net.Addr { return pipeAddr(c.name) }
func (c *pipeConn) SetDeadline(t time.Time) error {
	c.rdl.Store(t)
	c.wdl.Store(t)
	return nil
}
func (c *pipeConn) SetReadDeadline(t time.Time) error  { c.rdl.Store(t); return nil }
func (c *pipeConn) SetWriteDeadline(t time.Time) error { c.wdl.Store(t); return nil }

// dialPipe opens an existing pipe, waiting while every instance is busy (as go-winio's DialPipe does).
// A pipe that does not exist fails at once with an error wrapping os.ErrNotExist.
func dialPipe(ctx context.Context, name string) (*pipeConn, error) {
	u16, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil, err
	}
	for {
		h, err := windows.CreateFile(u16, windows.GENERIC_READ|windows.GENERIC_WRITE, 0, nil, windows.OPEN_EXISTING,
			windows.FILE_FLAG_OVERLAPPED|windows.SECURITY_SQOS_PRESENT|windows.SECURITY_ANONYMOUS, 0)
		if err == nil {
			return newPipeConn(h, name), nil
		}
		if err == windows.ERROR_FILE_NOT_FOUND || err == windows.ERROR_PATH_NOT_FOUND {
			return nil, &os.PathError{Op: "open", Path: name, Err: os.ErrNotExist}
		}
		if err != windows.ERROR_PIPE_BUSY {
			return nil, &os.PathError{Op: "open", Path: name, Err: err}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// dialPipeServed is containerd's AnonDialer (runtime/v2/shim/util_windows.go): while the pipe does not
// exist, retry every 10 ms for up to 5 s, since a shim that will serve it does so within that time.
func dialPipeServed(name string, timeout time.Duration) (*pipeConn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	serve := time.NewTimer(5 * time.Second)
	defer serve.Stop()
	for {
		c, err := dialPipe(ctx, name)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		select {
		case <-serve.C:
			return nil, fmt.Errorf("pipe %s not found before timeout: %w", name, os.ErrNotExist)
		case <-ctx.Done():
			return nil, fmt.Errorf("timed out waiting for pipe %s: %w", name, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// pipeListener keeps one unconnected instance waiting at all times, so a client never finds the name
// missing between two Accepts.
type pipeListener struct {
	name    string
	mu      sync.Mutex
	pending windows.Handle
	closed  int32
}

func createPipeInstance(name string, first bool) (windows.Handle, error) {
	u16, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return 0, err
	}
	flags := uint32(windows.PIPE_ACCESS_DUPLEX | windows.FILE_FLAG_OVERLAPPED)
	if first {
		flags |= windows.FILE_FLAG_FIRST_PIPE_INSTANCE
	}
	h, err := windows.CreateNamedPipe(u16, flags, windows.PIPE_TYPE_BYTE|windows.PIPE_READMODE_BYTE|windows.PIPE_WAIT,
		windows.PIPE_UNLIMITED_INSTANCES, 65536, 65536, 0, nil)
	if err != nil {
		return 0, fmt.Errorf("CreateNamedPipe %s: %w", name, err)
	}
	return h, nil
}

func listenPipe(name string) (*pipeListener, error) {
	h, err := createPipeInstance(name, true)
	if err != nil {
		return nil, err
	}
	return &pipeListener{name: name, pending: h}, nil
}

func (l *pipeListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	h := l.pending
	l.mu.Unlock()
	if atomic.LoadInt32(&l.closed) != 0 || h == 0 {
		return nil, net.ErrClosed
	}
	_, err := overlapped(h, time.Time{}, &l.closed, func(ov *windows.Overlapped, _ *uint32) error {
		return windows.ConnectNamedPipe(h, ov)
	})
	if err == windows.ERROR_PIPE_CONNECTED || err == windows.ERROR_NO_DATA {
		// Connected before ConnectNamedPipe (or connected and already gone: the reader sees EOF).
		err = nil
	}
	if err != nil {
		if atomic.LoadInt32(&l.closed) != 0 {
			return nil, net.ErrClosed
		}
		return nil, fmt.Errorf("ConnectNamedPipe %s: %w", l.name, err)
	}
	next, nerr := createPipeInstance(l.name, false)
	l.mu.Lock()
	if atomic.LoadInt32(&l.closed) != 0 {
		l.mu.Unlock()
		if nerr == nil {
			windows.CloseHandle(next)
		}
		windows.CloseHandle(h)
		return nil, net.ErrClosed
	}
	if nerr != nil {
		next = 0
	}
	l.pending = next
	l.mu.Unlock()
	return newPipeConn(h, l.name), nerr
}

func (l *pipeListener) Close() error {
	if !atomic.CompareAndSwapInt32(&l.closed, 0, 1) {
		return nil
	}
	l.mu.Lock()
	h := l.pending
	l.pending = 0
	l.mu.Unlock()
	if h != 0 {
		// Cancels a ConnectNamedPipe in Accept; that Accept then reports the listener closed. Closing the
		// handle under a still-running wait is safe: the wait is on the operation's own event.
		windows.CancelIoEx(h, nil)
		windows.CloseHandle(h)
	}
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr(l.name) }
