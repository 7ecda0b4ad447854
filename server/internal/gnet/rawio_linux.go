// Switchyard patch (not in upstream gnet v2.10.0): a loop's reads and writes are raw
// system calls.
//
// The loops' sockets are non-blocking, so accept4, read, write, writev and (without
// SO_LINGER) close never sleep. Through syscall.Syscall each one still tells the
// scheduler its P is in a system call. A write on loopback runs the receiver's TCP
// stack inline and can outlast sysmon's shortest tick; sysmon then takes the P from the
// loop, drops its own back-off to that tick and keeps waking, and the loop has to win a
// P back when the write returns. RawSyscall keeps the P, as gnet already does for
// epoll_ctl and the non-blocking epoll_wait; the cost is that a raw call cannot be
// preempted, which for a call that cannot block is a few microseconds at most. The
// figures are in the README's table.

//go:build linux

package gnet

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawIOScratch is the iovec array a loop's writev fills; it lives in the loop
// (one goroutine uses it) so writing never allocates.
type rawIOScratch struct {
	iovecs [iovMax]unix.Iovec
}

var zeroByte byte

func bufPointer(p []byte) unsafe.Pointer {
	if len(p) == 0 {
		return unsafe.Pointer(&zeroByte)
	}
	return unsafe.Pointer(&p[0])
}

// sysRead is unix.Read without the scheduler's bookkeeping; fd must be non-blocking.
func sysRead(fd int, p []byte) (int, error) {
	n, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(bufPointer(p)), uintptr(len(p)))
	return int(n), errnoErr(e)
}

// sysWrite is unix.Write without the scheduler's bookkeeping; fd must be non-blocking.
func sysWrite(fd int, p []byte) (int, error) {
	n, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(bufPointer(p)), uintptr(len(p)))
	return int(n), errnoErr(e)
}

// sysWritev writes at most iovMax of bs (the rest is the caller's partial write) on
// the loop's non-blocking fd; empty buffers are skipped.
func (el *eventloop) sysWritev(fd int, bs [][]byte) (int, error) {
	iov := &el.rawIO.iovecs
	cnt := 0
	for _, b := range bs {
		if len(b) == 0 {
			continue
		}
		if cnt == len(iov) {
			break
		}
		iov[cnt].Base = &b[0]
		iov[cnt].SetLen(len(b))
		cnt++
	}
	if cnt == 0 {
		return 0, nil
	}
	n, _, e := unix.RawSyscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(cnt))
	// The iovecs point into the caller's buffers: drop them so the loop does not keep
	// those buffers alive.
	clear(iov[:cnt])
	return int(n), errnoErr(e)
}

// sysClose closes a loop's socket without the scheduler's bookkeeping. Only for a
// socket without SO_LINGER (conn.lingers): with it, close waits for the peer's
// acknowledgement, up to the linger time.
func sysClose(fd int) error {
	_, _, e := unix.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0)
	return errnoErr(e)
}

// errnoErr boxes the common errors once, as x/sys does.
func errnoErr(e unix.Errno) error {
	switch e {
	case 0:
		return nil
	case unix.EAGAIN:
		return errEAGAIN
	}
	return e
}

var errEAGAIN error = unix.EAGAIN
