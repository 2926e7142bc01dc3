package main

// Scenario "stdio": CloseIO and an Exec with a terminal, through containerd's Task client.
//   - CloseIO(stdin): the init reads its stdin to end of file (the harness's own "cat"); the client keeps its
//     end of the stdin pipe open, so only CloseIO can end the input; the process then exits 0 having echoed
//     what it was sent.
//   - Exec with Terminal: the exec's process gets a console (HCS EmulateConsole; stdout only, no stderr
//     pipe, as containerd passes it), its output arrives and its exit code reaches Wait; ResizePty on it
//     answers success.

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/containerd/containerd/runtime/v2/task"
)

// catMain copies stdin to stdout until end of file (the process of the CloseIO check).
func catMain() {
	io.Copy(os.Stdout, os.Stdin)
}

func scenarioStdio(c *t) {
	h := c.h
	id := "stdio"
	self, _ := os.Executable()
	dir, err := h.bundle(id, spec(fmt.Sprintf(`"%s" cat`, self)))
	c.noErr(err, "bundle")
	s, err := h.startShim(id, dir)
	c.noErr(err, "start + dial")
	out, err := newStdio(h, id, "", "", [3]bool{false, true, true})
	c.noErr(err, "stdout/stderr pipes served")
	defer out.close()
	// stdin served here and held open: the process sees end of file only through CloseIO.
	out.names[0] = fmt.Sprintf(`\\.\pipe\containerd-%s-%s--stdin-held`, h.run, id)
	l, err := listenPipe(out.names[0])
	c.noErr(err, "stdin pipe served")
	held := make(chan io.Closer, 1)
	go func() {
		conn, err := l.Accept()
		l.Close()
		if err != nil {
			held <- nil
			return
		}
		io.WriteString(conn, "ping\r\n")
		held <- conn
	}()
	_, err = c.create(s, out)
	c.noErr(err, "Create with stdin", c.logs(s))
	c.start(s, "")
	var conn io.Closer
	select {
	case conn = <-held:
	case <-time.After(20 * time.Second):
	}
	c.must(conn != nil, "the shim dialed the stdin pipe")
	defer conn.Close()
	_, err = c.wait(s, "", 2*time.Second)
	c.ok(err != nil, "the process still runs while stdin is open (Wait times out)", err)
	ctx, cancel := s.call(callTimeout)
	_, err = s.task.CloseIO(ctx, &task.CloseIORequest{ID: id, Stdin: true})
	cancel()
	c.ok(err == nil, "CloseIO stdin", err, c.logs(s))
	w, err := c.wait(s, "", 30*time.Second)
	c.ok(err == nil && w.ExitStatus == 0, "after CloseIO the process reads end of file and exits 0", w, err, c.logs(s))
	c.ok(out.wait(20*time.Second), "stdout and stderr reach end of file")
	c.ok(strings.TrimSpace(out.output(0)) == "ping", `stdout is what stdin was sent ("ping")`,
		fmt.Sprintf("%q", out.output(0)))
	_, err = c.del(s, "")
	c.ok(err == nil, "Delete", err)
	c.shutdown(s)

	// Exec with a terminal in a running container.
	id = "tty"
	dir, err = h.bundle(id, spec("ping -n 600 127.0.0.1"))
	c.noErr(err, "bundle tty")
	s, err = h.startShim(id, dir)
	c.noErr(err, "start + dial tty")
	initIO, err := newStdio(h, id, "", "", [3]bool{false, true, true})
	c.noErr(err, "stdio tty")
	defer initIO.close()
	_, err = c.create(s, initIO)
	c.noErr(err, "Create tty", c.logs(s))
	c.start(s, "")
	eio, err := newStdio(h, id, "e1", "", [3]bool{false, true, false})
	c.noErr(err, "exec stdout pipe served (no stderr: a console has one output)")
	defer eio.close()
	r, err := execSpec("cmd /c echo on-a-console & exit 4")
	c.noErr(err, "exec spec")
	r.ID, r.ExecID, r.Terminal, r.Stdout = id, "e1", true, eio.names[1]
	ctx, cancel = s.call(callTimeout)
	_, err = s.task.Exec(ctx, r)
	cancel()
	c.must(err == nil, "Exec with Terminal", err, c.logs(s))
	c.start(s, "e1")
	ctx, cancel = s.call(callTimeout)
	_, err = s.task.ResizePty(ctx, &task.ResizePtyRequest{ID: id, ExecID: "e1", Width: 100, Height: 30})
	cancel()
	c.ok(err == nil, "ResizePty of the exec's console", err, c.logs(s))
	if logPath := os.Getenv("CSHIM_FAKEHCS_LOG"); logPath != "" {
		b, _ := os.ReadFile(logPath)
		// The documents are logged as JSON strings inside each JSON line: the quotes may be escaped.
		c.ok(regexp.MustCompile(`EmulateConsole\\?"\s*:\s*true`).Match(b),
			"the exec's HCS process document asks for a console (EmulateConsole)")
	}
	w, err = c.wait(s, "e1", 30*time.Second)
	c.ok(err == nil && w.ExitStatus == 4, "the exec on a console exits 4", w, err, c.logs(s))
	c.ok(eio.wait(20*time.Second), "the exec's output reaches end of file")
	c.ok(strings.Contains(eio.output(0), "on-a-console"), "the exec's console output arrives",
		fmt.Sprintf("%q", eio.output(0)))
	_, err = c.del(s, "e1")
	c.ok(err == nil, "Delete e1", err)
	c.ok(c.kill(s, "", 9) == nil, "Kill the init")
	_, err = c.wait(s, "", 30*time.Second)
	c.ok(err == nil, "Wait for the init", err)
	_, err = c.del(s, "")
	c.ok(err == nil, "Delete tty", err)
	c.shutdown(s)
}
