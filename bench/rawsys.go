package bench

import (
	"net"
	"syscall"
	"unsafe"
)

// The load clients' system calls (handshake.go, clientloop.go) are raw (RawSyscall):
// their sockets are non-blocking, so none of these calls sleeps. Through
// syscall.Syscall each one tells the scheduler the P is in a system call; a connect,
// write or close on loopback runs the server's side of TCP inline and outlasts
// sysmon's 20 µs tick, so sysmon kept taking the P and waking every 20 µs: 10 % of the
// handshake client's CPU when profiled. Every server shares the client's cost, which
// hides the servers' differences: the cheaper the client, the truer the ratios.

// epollET is EPOLLET as the uint32 epoll_event wants it: package syscall spells it as
// a negative constant on amd64 and a positive one on arm64.
const epollET uint32 = 1 << 31

// rawSockaddr4 is a connect address in the kernel's layout, built once.
type rawSockaddr4 syscall.RawSockaddrInet4

func newRawSockaddr4(ip net.IP, port int) rawSockaddr4 {
	r := rawSockaddr4{Family: syscall.AF_INET}
	copy(r.Addr[:], ip.To4())
	p := (*[2]byte)(unsafe.Pointer(&r.Port))
	p[0], p[1] = byte(port>>8), byte(port) // network byte order
	return r
}

func errnoOf(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

func rawSocketTCP4() (int, error) {
	fd, _, e := syscall.RawSyscall(syscall.SYS_SOCKET, syscall.AF_INET,
		syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	return int(fd), errnoOf(e)
}

func rawConnect(fd int, sa *rawSockaddr4) error {
	_, _, e := syscall.RawSyscall(syscall.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(sa)), syscall.SizeofSockaddrInet4)
	return errnoOf(e)
}

// rawRead and rawWrite retry a call a signal interrupted, so callers see EAGAIN, a
// real error or a count.
func rawRead(fd int, p []byte) (int, error) {
	for {
		n, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
		if e != syscall.EINTR {
			return int(n), errnoOf(e)
		}
	}
}

func rawWrite(fd int, p []byte) (int, error) {
	for {
		n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
		if e != syscall.EINTR {
			return int(n), errnoOf(e)
		}
	}
}

var lingerReset = syscall.Linger{Onoff: 1} // linger 0: close resets

// rawCloseReset closes fd with an RST (SO_LINGER 0, which makes close return at once).
func rawCloseReset(fd int) {
	syscall.RawSyscall6(syscall.SYS_SETSOCKOPT, uintptr(fd), syscall.SOL_SOCKET, syscall.SO_LINGER,
		uintptr(unsafe.Pointer(&lingerReset)), unsafe.Sizeof(lingerReset), 0)
	syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(fd), 0, 0)
}

func rawEpollCtl(epfd, op, fd int, ev *syscall.EpollEvent) error {
	_, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_CTL, uintptr(epfd), uintptr(op), uintptr(fd), uintptr(unsafe.Pointer(ev)), 0, 0)
	return errnoOf(e)
}

// rawEpollPoll is epoll_wait with a zero timeout, which cannot sleep either
// (epoll_pwait without a signal mask: arm64 has no epoll_wait).
func rawEpollPoll(epfd int, events []syscall.EpollEvent) (int, error) {
	n, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(unsafe.SliceData(events))), uintptr(len(events)), 0, 0, 0)
	return int(n), errnoOf(e)
}

// dupCloexec duplicates fd, close-on-exec.
func dupCloexec(fd int) (int, error) {
	nfd, _, e := syscall.RawSyscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, 0)
	return int(nfd), errnoOf(e)
}

// clientSpins is how often an idle client loop yields and polls again before it sleeps,
// as switchyard's loops do by default. Measured in one pair of runs: ws-handshake client
// CPU 19.96 → 16.98 µs per upgrade against switchyard (gnet toy 22.11 → 18.92), echo at
// 1,000 connections 4.24 → 3.73 µs per message (gws 5.22 → 4.16).
const clientSpins = 50

// epollWait returns ready events, polling without sleeping first and, while nothing is
// ready, yielding the CPU and polling again up to spins times before it sleeps (at most
// timeoutMs). A loop that sleeps after every burst makes the server's next write pay for
// waking it (an interrupt to another CPU, a VM exit here); yielding leaves the CPU to any
// thread that can run, the server's included.
func epollWait(epfd int, events []syscall.EpollEvent, spins, timeoutMs int) (int, error) {
	for i := 0; ; i++ {
		n, err := rawEpollPoll(epfd, events)
		if n > 0 || err != nil || i >= spins {
			if n <= 0 && err == nil {
				return syscall.EpollWait(epfd, events, timeoutMs)
			}
			return n, err
		}
		syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0)
	}
}
