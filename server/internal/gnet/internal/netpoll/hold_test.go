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
// that keep it; once nothing has come for holdTimeout it parks in Go's netpoller (which
// gives the P back), and while tasks come further apart than that it does not hold at
// all. A stop-the-world (each stack dump) interrupts a held wait, and tasks
// are served throughout.
func TestActivePollerHoldsItsP(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0)))) // one P: no hold
	var held atomic.Int64
	holdHook = func() { held.Add(1) }
	t.Cleanup(func() { holdHook = nil }) // after the poller's
	run := startHolding(t)
	task := func(gap time.Duration) { t.Helper(); run(gap, func() {}) }
	untilHeld(t, func(fn func()) { t.Helper(); run(time.Millisecond, fn) }, &held)
	if got := waitState(t, "[IO wait"); !strings.HasPrefix(got, "[IO wait") {
		t.Fatalf("after %v without a task the poller's goroutine is %q, want it parked in the netpoller", holdTimeout, got)
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
// procsRecheck, as testing.AllocsPerRun and the runtime change it), none with one P, and
// none while another loop of the engine is parked: otherwise a loop sleeps without
// holding (here in an ordinary epoll_wait).
func TestHoldersAtMostGOMAXPROCSAndNoneWhileParked(t *testing.T) {
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
	sleep := func(ev []unix.EpollEvent) (int, error) { return unix.EpollWait(epfd, ev, -1) }
	for _, tc := range []struct {
		procs, others, parkedOthers int // GOMAXPROCS, loops already holding, loops parked
		held                        bool
	}{
		{3, 0, 0, true}, {3, 2, 0, true}, {3, 3, 0, false},
		{1, 0, 0, false}, {2, 1, 0, true}, {2, 2, 0, false},
		{3, 0, 1, false}, {2, 1, 1, false},
	} {
		runtime.GOMAXPROCS(tc.procs)
		time.Sleep(procsRecheck)
		holders.Add(int32(tc.others))
		var group, otherEngine LoopGroup
		group.parked.Add(int32(tc.parkedOthers))
		otherEngine.parked.Add(1) // another engine's parked loops do not count
		n, held, err := holdOrWait(epfd, events, 1000, time.Since(epoch), &group, sleep)
		holders.Add(-int32(tc.others))
		if n != 1 || err != nil || held != tc.held {
			t.Errorf("GOMAXPROCS %d with %d loops holding and %d parked: %d events, %v, held %v; want 1, held %v",
				tc.procs, tc.others, tc.parkedOthers, n, err, held, tc.held)
		}
	}
}

// A loop that handed work to another goroutine (NoteHandoff) yields once before it next
// sleeps holding its P, so that the goroutine can run there when the spare P is busy;
// one that did not, does not.
func TestHandoffYieldsBeforeHolding(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	var held, yields, heldBeforeYield atomic.Int64
	var handedOff atomic.Bool
	holdHook = func() {
		held.Add(1)
		if handedOff.Load() && yields.Load() == 0 {
			heldBeforeYield.Add(1)
		}
	}
	yieldHook = func() { yields.Add(1) }
	t.Cleanup(func() { holdHook, yieldHook = nil, nil }) // after the poller's
	run := startHolding(t)
	task := func(fn func()) { t.Helper(); run(time.Millisecond, fn) }
	untilHeld(t, task, &held)
	if got := yields.Load(); got != 0 {
		t.Fatalf("tasks that hand nothing off: %d yields, want none", got)
	}
	task(func() { NoteHandoff(); handedOff.Store(true) })
	// The yield comes before the next held wait, whenever that is (a loop on a busy
	// machine may not hold at once).
	held.Store(0)
	untilHeld(t, task, &held)
	if got, early := yields.Load(), heldBeforeYield.Load(); got != 1 || early != 0 {
		t.Fatalf("after one handoff the loop yielded %d times (want 1), and held %d times before it (want 0)", got, early)
	}
}

// untilHeld triggers tasks a millisecond apart until the poller has begun a held wait
// (held counts them; a loaded machine may stretch a gap past holdTimeout now and then).
func untilHeld(t *testing.T, task func(func()), held *atomic.Int64) {
	t.Helper()
	for i, start := 0, held.Load(); held.Load() == start; i++ {
		if i == 10000 {
			t.Fatal("10,000 tasks a millisecond apart and no held wait")
		}
		task(func() {})
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
	p.HoldPWhileActive(new(LoopGroup))
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
