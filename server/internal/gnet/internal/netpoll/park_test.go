//go:build linux

package netpoll

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"

	errorx "github.com/panjf2000/gnet/v2/pkg/errors"
	"github.com/panjf2000/gnet/v2/pkg/queue"
)

// A poller told to hold its P while active parks in Go's netpoller ("IO wait", like a
// net.Conn reader), not in a system call, whenever it is idle: fresh, and once its tasks
// stop for longer than holdTimeout. Upstream's sleeps in epoll_wait. Either way a task
// wakes it.
func TestIdlePollerParksInTheRuntime(t *testing.T) {
	for _, tc := range []struct {
		name  string
		hold  bool
		state string
	}{
		{"holding while active: parked in the netpoller", true, "[IO wait"},
		{"upstream: asleep in epoll_wait", false, "[syscall"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := OpenPoller()
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if tc.hold {
				p.HoldPWhileActive(new(LoopGroup))
			}
			done := make(chan error, 1)
			go func() { done <- p.Polling(func(int, IOEvent, IOFlags) error { return nil }) }()
			if got := waitState(t, tc.state); !strings.HasPrefix(got, tc.state) {
				t.Fatalf("a fresh poller's goroutine is %q, want %q", got, tc.state)
			}
			wake := func() {
				t.Helper()
				ran := make(chan struct{})
				if err := p.Trigger(queue.HighPriority, func(any) error { close(ran); return nil }, nil); err != nil {
					t.Fatal(err)
				}
				select {
				case <-ran:
				case <-time.After(5 * time.Second):
					t.Fatal("a task did not wake the idle poller")
				}
			}
			for range 12 { // tasks a millisecond apart, which a holding poller holds between
				time.Sleep(time.Millisecond)
				wake()
			}
			if got := waitState(t, tc.state); !strings.HasPrefix(got, tc.state) {
				t.Fatalf("the poller's goroutine is %q once its tasks stopped, want %q", got, tc.state)
			}
			wake()
			_ = p.Trigger(queue.HighPriority, func(any) error { return errorx.ErrEngineShutdown }, nil)
			if err := <-done; err != errorx.ErrEngineShutdown {
				t.Fatalf("Polling ended with %v", err)
			}
		})
	}
}

// waitState waits (a while) for the Polling goroutine to show state, and returns what it
// showed last.
func waitState(t *testing.T, want string) string {
	t.Helper()
	var state string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if state = pollingState(); strings.HasPrefix(state, want) {
			break
		}
	}
	return state
}

// pollingState is the state the goroutine running Polling shows in a stack dump.
func pollingState() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		if bytes.Contains(g, []byte("netpoll.(*Poller).Polling")) {
			head, _, _ := bytes.Cut(g, []byte("\n"))
			if i := bytes.IndexByte(head, '['); i >= 0 {
				return string(head[i:])
			}
		}
	}
	return ""
}
