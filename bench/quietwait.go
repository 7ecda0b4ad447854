package bench

import (
	"os"
	"syscall"
)

// quietWaiter puts a paced client loop to sleep in Go's netpoller instead of in its own
// blocking epoll_wait. A goroutine that only ever enters and leaves system calls never
// passes through the scheduler, so sysmon, after 10 ms, takes its P away as if it were
// stuck, and then polls every 20 µs again: with the loops asleep in epoll_wait, sysmon's
// naps were 60 % of the paced client's context switches (perf record -e
// context-switches, ws-paced at 1,000 msgs/s). Parked in the netpoller, the loop is an
// ordinary waiting goroutine; it wakes on the thread that saw its epoll set become
// readable (an epoll descriptor is itself pollable), as a net.Conn reader does.
type quietWaiter struct {
	f  *os.File // a duplicate of the loop's epoll descriptor, registered with the runtime
	rc syscall.RawConn
}

// newQuietWaiter returns nil when the runtime will not poll the descriptor.
func newQuietWaiter(epfd int) *quietWaiter {
	fd, err := dupCloexec(epfd)
	if err != nil {
		return nil
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		_ = syscall.Close(fd)
		return nil
	}
	f := os.NewFile(uintptr(fd), "load-client-epoll")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil
	}
	return &quietWaiter{f: f, rc: rc}
}

// wait returns the ready events of epfd, parking the goroutine until there are some.
func (q *quietWaiter) wait(epfd int, events []syscall.EpollEvent) (n int, err error) {
	rerr := q.rc.Read(func(uintptr) bool {
		n, err = rawEpollPoll(epfd, events)
		return n > 0 || (err != nil && err != syscall.EINTR)
	})
	if err == nil && rerr != nil {
		// Not pollable after all (or closed): wait in the kernel for a while.
		return syscall.EpollWait(epfd, events, 100)
	}
	return n, err
}

func (q *quietWaiter) close() { q.f.Close() }
