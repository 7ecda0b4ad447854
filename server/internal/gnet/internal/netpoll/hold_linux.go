//go:build linux

package netpoll

import (
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A loop that keeps getting events every few milliseconds sleeps between them keeping its
// P (Switchyard patch; on with HoldPWhileActive, which the server calls when
// server.Config.HoldP asks). The fork's README has the measurements behind each rule.
//
// Asleep in an ordinary epoll_wait the loop is, to the runtime, a goroutine in a system
// call. With every P held by a sleeping loop, sysmon takes one away within its shortest
// tick, drops its own back-off and keeps polling; the loop's return then finds its P
// gone, takes an idle one and wakes sysmon through a futex. Upstream's yield after every
// batch (so that what the batch readied runs before the loop blocks) wakes another
// thread whenever a P is idle. Under paced load that was most of the server's context
// switches, futex calls and nanosleeps, for the lean gnet + gobwas echo as well.
//
// A raw epoll_pwait is invisible to the scheduler: the P stays with the loop, sysmon
// backs off to its 10 ms tick, and the loop's return costs nothing. The price is that
// the P runs nothing else while the loop sleeps, hence the rules:
//
//   - a loop that handed work to another goroutine (a worker-pool job, a TLS handshake:
//     NoteHandoff) yields before it next holds, as upstream does after every batch, so
//     that the goroutine runs at once;
//   - whatever else becomes runnable meanwhile (a timer's function, a goroutine of the
//     program's own) runs when sysmon preempts the sleeping loop, which it does to any
//     goroutine that has run 10 ms without passing through the scheduler: the signal
//     interrupts the wait, and the loop yields before it waits again (the raw call's
//     assembly is no preemption point, and no other call on the way back to it need
//     be). So while the loops are busy such goroutines may wait up to 10 ms, as they
//     would behind any goroutine that runs for that long;
//   - held waits last at most holdTimeout from when the loop ran out of events (a
//     signal does not restart the count); a loop that got nothing for that long is
//     idle and parks in Go's netpoller (park_linux.go), which gives its P back without
//     leaving a goroutine in a system call for sysmon to watch, and it holds again only
//     once its idle gaps are shorter than holdTimeout: a loop woken now and then pays
//     no timeout per event, and an idle server's sysmon sleeps deeply. In an ordinary
//     epoll_wait instead, traffic in bursts further apart than holdTimeout (h2load
//     --rps) kept sysmon polling, at a higher CPU cost per request;
//   - the loops of every engine in the process that hold at once are at most
//     GOMAXPROCS, and none with one P (holdersFor; a loop over the count parks), so a
//     loop never waits for a P that another loop holds asleep;
//   - no loop holds while another loop of its engine (LoopGroup) is parked: where one
//     loop parked between h2load's bunches while the other held, the parked loop's
//     requests waited about as long as a hold. That the runtime's netpoller queues what
//     it wakes behind the held P is our reading, not measured. Loops woken from
//     idleness thus start out parking each other, and hold from the first time one
//     sleeps while the other is awake, which under steady load is soon.
//
// Keeping a P to spare for everything else instead (GOMAXPROCS one above the loops, and
// at most GOMAXPROCS-1 holders) cost upgrades per second on two cores, with or without
// holding; with GOMAXPROCS equal to the loops and one loop left to sleep ordinarily,
// sysmon kept taking that loop's P and polling at its shortest tick.
const holdTimeout = 20 * time.Millisecond

var (
	holders    atomic.Int32  // loops asleep holding their P, in every engine
	maxHolders atomic.Int32  // holdersFor(GOMAXPROCS), as last read (allowedHolders)
	procsRead  atomic.Int64  // when (spinPacer.now)
	handoffs   atomic.Uint64 // NoteHandoff's count
	// holdHook and yieldHook, when set (by tests, before Polling), are called as a held
	// wait begins and when a loop yields for a handoff.
	holdHook, yieldHook func()
)

// NoteHandoff says that a loop has readied a goroutine to take work off it; every loop
// that sees the count change yields before it next sleeps holding its P.
func NoteHandoff() { handoffs.Add(1) }

// holdState is a Polling loop's side of holding its P.
type holdState struct {
	on       bool   // HoldPWhileActive was called
	holding  bool   // the next sleep keeps the P
	handoffs uint64 // NoteHandoff's count when the loop last yielded for it
	group    *LoopGroup
	// sleep waits without keeping the P (Poller.sleep).
	sleep func([]unix.EpollEvent) (int, error)
}

// arrived says that events came after the loop had gone gap without any: it holds its P
// in the sleeps that follow if gap was shorter than holdTimeout.
func (h *holdState) arrived(gap time.Duration) { h.holding = h.on && gap < holdTimeout }

// wait sleeps until there are events, keeping the P (unless GOMAXPROCS loops already hold theirs)
// until holdTimeout has passed since the loop ran out of events at idleAt; it returns 0
// events, and stops holding, when it has.
func (h *holdState) wait(epfd int, events []unix.EpollEvent, idleAt, now time.Duration) (int, error) {
	if c := handoffs.Load(); c != h.handoffs {
		h.handoffs = c
		if yieldHook != nil {
			yieldHook()
		}
		runtime.Gosched()
	}
	left := holdMillis(idleAt, now)
	if left == 0 {
		h.holding = false // idle: the next sleep gives the P back
		return 0, nil
	}
	n, held, err := holdOrWait(epfd, events, left, now, h.group, h.sleep)
	if n == 0 && held {
		h.holding = false
	}
	return n, err
}

// holdMillis is what is left of a hold that began at idleAt, in whole milliseconds
// rounded up (0: none).
func holdMillis(idleAt, now time.Duration) int {
	left := idleAt + holdTimeout - now
	if left <= 0 {
		return 0
	}
	return int((left + time.Millisecond - 1) / time.Millisecond)
}

// procsRecheck is how often GOMAXPROCS is read again: runtime.GOMAXPROCS takes the
// scheduler's lock, too dear for every wait, and the count changes under running programs
// (testing.AllocsPerRun sets 1; since Go 1.25 the runtime follows the container's CPU
// limit). A loop holding a P beyond the new count keeps it for one wait at most.
const procsRecheck = 10 * time.Millisecond

// allowedHolders is holdersFor(GOMAXPROCS), read again when the last reading is
// procsRecheck older than now.
func allowedHolders(now time.Duration) int32 {
	if last := procsRead.Load(); int64(now)-last >= int64(procsRecheck) && procsRead.CompareAndSwap(last, int64(now)) {
		maxHolders.Store(holdersFor(runtime.GOMAXPROCS(0)))
	}
	return maxHolders.Load()
}

// holdersFor is how many loops may hold at once with procs Ps: all of them, but none when
// there is only one (a container limited to one CPU, testing.AllocsPerRun). A loop holding
// the only P leaves every other goroutine of the program (a timer's, one a callback
// readied, one waiting on the loop) to sysmon's preemption, up to 10 ms a turn.
func holdersFor(procs int) int32 {
	if procs <= 1 {
		return 0
	}
	return int32(procs)
}

// holdOrWait sleeps in a wait held for up to msec if fewer than maxHolders loops hold
// and none of group is parked, else in sleep; held says which it was. now is
// spinPacer.now.
func holdOrWait(epfd int, events []unix.EpollEvent, msec int, now time.Duration, group *LoopGroup,
	sleep func([]unix.EpollEvent) (int, error)) (n int, held bool, err error) {
	if group.parked.Load() == 0 {
		if holders.Add(1) <= allowedHolders(now) {
			if holdHook != nil {
				holdHook()
			}
			n, err = rawEpollWait(epfd, events, msec)
			holders.Add(-1)
			return n, true, err
		}
		holders.Add(-1)
	}
	n, err = sleep(events)
	return n, false, err
}

// rawEpollWait is epoll_pwait as a raw system call: one that does not block (msec 0), or
// a held wait.
func rawEpollWait(epfd int, events []unix.EpollEvent, msec int) (int, error) {
	r, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])),
		uintptr(len(events)), uintptr(msec), 0, 0)
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}
