// Switchyard patch: see accept_peer.go.

//go:build linux

package gnet

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// acceptScratch is the loop's buffer for accept4's peer address: one per loop, since
// only the loop's goroutine accepts on it.
type acceptScratch struct {
	rsa unix.RawSockaddrAny
	n   uint32
}

// acceptPeer accepts a connection on listener fd (non-blocking), non-blocking and
// close-on-exec.
func (el *eventloop) acceptPeer(fd int) (int, peer, error) {
	s := &el.acceptBuf
	s.n = unix.SizeofSockaddrAny
	// Raw, like the loops' reads and writes: see rawio_linux.go.
	nfd, _, errno := unix.RawSyscall6(unix.SYS_ACCEPT4, uintptr(fd),
		uintptr(unsafe.Pointer(&s.rsa)), uintptr(unsafe.Pointer(&s.n)),
		unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
	if errno != 0 {
		return -1, peer{}, errno
	}
	return int(nfd), peerOfRaw(&s.rsa), nil
}

func peerOfRaw(rsa *unix.RawSockaddrAny) peer {
	switch rsa.Addr.Family {
	case unix.AF_INET:
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		p := peer{port: bigEndianPort(&sa.Port), ok: true}
		p.ip[10], p.ip[11] = 0xff, 0xff // IPv4-mapped, as netip.AddrFrom4(...).As16()
		copy(p.ip[12:], sa.Addr[:])
		return p
	case unix.AF_INET6:
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		if sa.Scope_id == 0 {
			return peer{ip: sa.Addr, port: bigEndianPort(&sa.Port), ok: true}
		}
	}
	return peer{}
}

// bigEndianPort reads a sockaddr's port, which is in network byte order.
func bigEndianPort(p *uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(p))
	return uint16(b[0])<<8 | uint16(b[1])
}

// isNoNetwork reports Linux's ENONET, one of the pending network errors accept passes on.
func isNoNetwork(err error) bool { return err == unix.ENONET }
