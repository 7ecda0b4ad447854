//go:build linux

package netpoll

import (
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// runtimePark lets a loop with nothing to do sleep in Go's netpoller instead of in its
// own blocking epoll_wait (Switchyard patch; with HoldPWhileActive, for the sleeps that do
// not hold the P: hold_linux.go).
//
// A loop goroutine that sleeps in epoll_wait is, to the runtime, a goroutine stuck in a
// system call: sysmon takes its P away (with both loops asleep there is nobody idle to
// spare it), stays awake to watch, polling every few hundred microseconds, and the
// loop's return from the call has to find a P again, waking threads through futexes.
// Under paced load (thousands of connections, each sending now and then) sysmon's
// sleeps and the futex calls outnumbered the loops' reads. An epoll descriptor is itself
// pollable, so the loop instead parks like a net.Conn reader until its set is ready; the
// runtime's own poller, which sleeps only when every P is idle, wakes it. What it costs
// is one more epoll_wait (the runtime's) per wakeup, and a goroutine switch, which with
// gaps of a few hundred microseconds costs more than it saves, so a loop that sleeps that
// often holds its P instead. The measurements are in the fork's README.
type runtimePark struct {
	f  *os.File // a duplicate of the loop's epoll descriptor, registered with the runtime
	rc syscall.RawConn
	// poll is the function RawConn.Read calls, made once: a closure made per wait would
	// be an allocation per wakeup. It polls epfd into events and leaves n and err.
	poll   func(uintptr) bool
	epfd   int
	group  *LoopGroup
	events []unix.EpollEvent
	n      int
	err    error
}

// newRuntimePark returns nil if the runtime will not poll the descriptor; the loop then
// sleeps in epoll_wait as upstream does.
func newRuntimePark(epfd int, group *LoopGroup) *runtimePark {
	fd, err := unix.FcntlInt(uintptr(epfd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		_ = unix.Close(fd)
		return nil
	}
	f := os.NewFile(uintptr(fd), "gnet-epoll")
	rc, err := f.SyscallConn()
	if err != nil {
		_ = f.Close()
		return nil
	}
	r := &runtimePark{f: f, rc: rc, epfd: epfd, group: group}
	r.poll = func(uintptr) bool {
		r.n, r.err = pollNow(r.epfd, r.events)
		return r.n > 0 || (r.err != nil && r.err != unix.EINTR)
	}
	return r
}

// wait returns the ready events of epfd, parking the goroutine until there are some.
func (r *runtimePark) wait(events []unix.EpollEvent) (n int, err error) {
	r.events = events
	r.group.parked.Add(1) // no loop of the group holds meanwhile (hold_linux.go)
	rerr := r.rc.Read(r.poll)
	r.group.parked.Add(-1)
	n, err, r.events = r.n, r.err, nil
	if err == nil && rerr != nil { // the duplicate was closed: the poller is closing
		return unix.EpollWait(r.epfd, events, -1)
	}
	return n, err
}

func (r *runtimePark) close() { _ = r.f.Close() }

// pollNow is epoll_wait with a zero timeout as a raw system call: it cannot block, so
// the runtime's bookkeeping around a system call would only cost time.
func pollNow(epfd int, events []unix.EpollEvent) (int, error) {
	n, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd),
		uintptr(unsafe.Pointer(unsafe.SliceData(events))), uintptr(len(events)), 0, 0, 0)
	if e != 0 {
		return -1, e // as unix.EpollWait reports errors
	}
	return int(n), nil
}
