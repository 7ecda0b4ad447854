//go:build linux

package gnet

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// reserveHandler echoes, and answers "?" with the number of sheds so far.
type reserveHandler struct {
	BuiltinEventEngine
	running chan Engine
	sheds   *atomic.Int64
}

func (h *reserveHandler) OnRun(e Engine) { h.running <- e }

func (h *reserveHandler) OnTraffic(c Conn) Action {
	b, _ := c.Next(-1)
	if string(b) == "?" {
		_, _ = c.Write([]byte(strconv.FormatInt(h.sheds.Load(), 10) + "\n"))
		return None
	}
	_, _ = c.Write(b)
	return None
}

// When something else in the process takes the descriptor held in reserve, the loops
// must neither spin on EMFILE nor stop serving, and accepting must come back once a
// connection closes. The engine runs in a child process with a low descriptor limit
// whose reserve is taken from the start.
func TestLostReservePausesAcceptingUntilAConnectionCloses(t *testing.T) {
	if os.Getenv("GNET_RESERVE_CHILD") == "1" {
		runLostReserveChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestLostReservePausesAcceptingUntilAConnectionCloses$")
	cmd.Env = append(os.Environ(), "GNET_RESERVE_CHILD=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr, lines := "", bufio.NewScanner(out)
	for addr == "" && lines.Scan() { // the engine may log first
		if a, ok := strings.CutPrefix(lines.Text(), "addr "); ok {
			addr = a
		}
	}
	if addr == "" {
		t.Fatalf("child did not report its address: %v", lines.Err())
	}

	var served []net.Conn
	defer func() {
		for _, c := range served {
			_ = c.Close()
		}
	}()
	var pending net.Conn
	for i := 0; i < 100 && pending == nil; i++ { // well past the child's 64 descriptors
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		buf := make([]byte, 1)
		if _, err := c.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err == nil {
			served = append(served, c)
			continue
		} else if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("connection %d: %v (refused at once: the reserve was not lost?)", i, err)
		}
		pending = c // not accepted: accepting is paused
	}
	if pending == nil || len(served) < 2 {
		t.Fatalf("served %d, pending %v: the descriptor limit was not reached", len(served), pending != nil)
	}
	defer pending.Close()

	sheds := func() int {
		c := served[0]
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write([]byte("?")); err != nil {
			t.Fatal(err)
		}
		var n int
		if _, err := fmt.Fscanln(c, &n); err != nil {
			t.Fatalf("an open connection stopped being served: %v", err)
		}
		return n
	}
	before := sheds()
	time.Sleep(200 * time.Millisecond) // a loop spinning on EMFILE would shed thousands of times here
	if after := sheds(); before == 0 || after != before {
		t.Fatalf("sheds: %d, then %d: want some, then none while accepting is paused", before, after)
	}

	// A closed connection refills the reserve: the pending connection is now refused at once.
	_ = served[1].Close()
	served = append(served[:1], served[2:]...)
	_ = pending.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := pending.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the pending connection was not refused after a descriptor was freed: %v", err)
	}
	if n := sheds(); n <= 0 {
		t.Fatalf("sheds %d", n)
	}
}

func runLostReserveChild(t *testing.T) {
	var sheds atomic.Int64
	shedHook = func() { sheds.Add(1) }
	h := &reserveHandler{running: make(chan Engine, 1), sheds: &sheds}
	eng, addr := startEngine(t, h, h.running, WithMulticore(true), WithNumEventLoop(2), WithSharedListener(true))
	r := eng.eng.reserve
	r.mu.Lock()
	if r.fd < 0 {
		t.Fatal("no reserve to lose")
	}
	_ = unix.Close(r.fd)
	stolen, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(stolen)
	r.fd = -1
	r.mu.Unlock()
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: 64, Max: 64}); err != nil {
		t.Fatal(err)
	}
	fmt.Println("addr " + addr)
	time.Sleep(time.Minute) // killed by the parent when it is done
	t.Fatal("the parent did not stop the child")
}
