//go:build linux

package netpoll

import (
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	errorx "github.com/panjf2000/gnet/v2/pkg/errors"
	"github.com/panjf2000/gnet/v2/pkg/queue"
	"golang.org/x/sys/unix"
)

// A poller told to hold its P sleeps, while its tasks come a millisecond apart, in waits
// that keep it; once nothing has come for holdTimeout it sleeps in epoll_wait (a system
// call, which gives the P back), and while tasks come further apart than that it does
// not hold at all. A stop-the-world (each stack dump) interrupts a held wait, and tasks
// are served throughout.
func TestActivePollerHoldsItsP(t *testing.T) {
	var held atomic.Int64
	holdHook = func() { held.Add(1) }
	t.Cleanup(func() { holdHook = nil }) // after the poller's
	run := startHolding(t)
	task := func(gap time.Duration) { t.Helper(); run(gap, func() {}) }
	for range 5 {
		task(time.Millisecond)
	}
	if held.Load() == 0 {
		t.Fatal("tasks a millisecond apart: no held wait")
	}
	if got := waitState(t, "[syscall"); !strings.HasPrefix(got, "[syscall") {
		t.Fatalf("after %v without a task the poller's goroutine is %q, want it asleep in epoll_wait", holdTimeout, got)
	}
	held.Store(0)
	long := holdTimeout + 10*time.Millisecond
	for range 3 {
		task(long)
	}
	if got := held.Load(); got != 0 {
		t.Fatalf("tasks %v apart: %d held waits, want none", long, got)
	}
}

// At most GOMAXPROCS loops hold at once, as GOMAXPROCS is now (read again within
// procsRecheck, as testing.AllocsPerRun and the runtime change it): past that a loop
// sleeps in an ordinary epoll_wait.
func TestHoldersAtMostGOMAXPROCS(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(epfd)
	efd, err := unix.Eventfd(1, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK) // always readable
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(efd)
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, efd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(efd)}); err != nil {
		t.Fatal(err)
	}
	events := make([]unix.EpollEvent, 1)
	for _, tc := range []struct {
		procs, others int // GOMAXPROCS, and loops already holding
		held          bool
	}{
		{3, 0, true}, {3, 2, true}, {3, 3, false},
		{1, 0, true}, {1, 1, false}, {2, 1, true},
	} {
		runtime.GOMAXPROCS(tc.procs)
		time.Sleep(procsRecheck)
		holders.Add(int32(tc.others))
		n, held, err := holdOrWait(epfd, events, 1000)
		holders.Add(-int32(tc.others))
		if n != 1 || err != nil || held != tc.held {
			t.Errorf("GOMAXPROCS %d with %d loops holding: %d events, %v, held %v; want 1, held %v", tc.procs, tc.others, n, err, held, tc.held)
		}
	}
}

// A loop that handed work to another goroutine (NoteHandoff) yields once before it next
// sleeps holding its P, so that the goroutine can run there when the spare P is busy;
// one that did not, does not.
func TestHandoffYieldsBeforeHolding(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	var held, yields atomic.Int64
	holdHook, yieldHook = func() { held.Add(1) }, func() { yields.Add(1) }
	t.Cleanup(func() { holdHook, yieldHook = nil, nil }) // after the poller's
	run := startHolding(t)
	task := func(fn func()) { t.Helper(); run(time.Millisecond, fn) }
	for range 5 {
		task(func() {})
	}
	if held.Load() == 0 || yields.Load() != 0 {
		t.Fatalf("tasks that hand nothing off: %d held waits, %d yields; want some and none", held.Load(), yields.Load())
	}
	task(NoteHandoff)
	task(func() {}) // the yield comes before the hold that follows the handoff; this one is after it
	if got := yields.Load(); got != 1 {
		t.Fatalf("after one handoff the loop yielded %d times, want 1", got)
	}
}

// startHolding runs Polling on a new poller told to hold its P; the poller stops, and
// Polling's end is checked, when the test ends. task triggers fn on it after gap and
// waits for it to run.
func startHolding(t *testing.T) (task func(gap time.Duration, fn func())) {
	t.Helper()
	p, err := OpenPoller()
	if err != nil {
		t.Fatal(err)
	}
	p.HoldPWhileActive()
	done := make(chan error, 1)
	go func() { done <- p.Polling(func(int, IOEvent, IOFlags) error { return nil }) }()
	t.Cleanup(func() {
		_ = p.Trigger(queue.HighPriority, func(any) error { return errorx.ErrEngineShutdown }, nil)
		if err := <-done; err != errorx.ErrEngineShutdown {
			t.Errorf("Polling ended with %v", err)
		}
		_ = p.Close()
	})
	return func(gap time.Duration, fn func()) {
		t.Helper()
		time.Sleep(gap)
		ran := make(chan struct{})
		if err := p.Trigger(queue.HighPriority, func(any) error { fn(); close(ran); return nil }, nil); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ran:
		case <-time.After(30 * time.Second):
			t.Fatal("a task did not wake the poller")
		}
	}
}
