package bench

import (
	"fmt"
	"syscall"
	"unsafe"
)

// A paced client loop sleeps in epoll_wait until its next send is due, woken by a
// timerfd in its epoll set: nanosecond deadlines (epoll_wait's own timeout is in
// milliseconds) and no thread of its own, and the loop neither spins nor polls.

// clockMonotonic is CLOCK_MONOTONIC (time.h), the clock Go's runtime reads too.
const clockMonotonic = 1

type itimerspec struct {
	interval syscall.Timespec
	value    syscall.Timespec
}

// startTimer gives the loop a one-shot timer; f runs on the loop each time it fires.
// Called on the loop's goroutine (through exec).
func (l *clientLoop) startTimer(f func()) error {
	if l.timerfd < 0 {
		fd, _, e := syscall.RawSyscall(syscall.SYS_TIMERFD_CREATE, clockMonotonic,
			syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
		if e != 0 {
			return fmt.Errorf("timerfd_create: %w", e)
		}
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: timerSlot}
		if err := rawEpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, int(fd), &ev); err != nil {
			_ = syscall.Close(int(fd))
			return fmt.Errorf("epoll_ctl timerfd: %w", err)
		}
		l.timerfd = int(fd)
	}
	l.onTimer = f
	return nil
}

// armTimer makes the timer fire once, in ns nanoseconds (at least 1: a zero value
// would disarm it).
func (l *clientLoop) armTimer(ns int64) {
	spec := itimerspec{value: syscall.NsecToTimespec(max(ns, 1))}
	syscall.RawSyscall6(syscall.SYS_TIMERFD_SETTIME, uintptr(l.timerfd), 0,
		uintptr(unsafe.Pointer(&spec)), 0, 0, 0)
}

// timerFired consumes the expiration count and runs the loop's timer function.
func (l *clientLoop) timerFired() {
	var sink [8]byte
	_, _ = rawRead(l.timerfd, sink[:])
	if l.onTimer != nil {
		l.onTimer()
	}
}
