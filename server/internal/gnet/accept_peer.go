// Switchyard patch (not in upstream gnet v2.10.0): accepting allocates no addresses.
//
// Upstream keeps two heap objects per TCP connection for the peer's address (a
// unix.Sockaddr and a *net.TCPAddr, 80 bytes) and x/sys's Accept4 allocates a
// 112-byte sockaddr buffer on every call, which becomes garbage at once and leaves
// holes among the long-lived connection objects. A server holding hundreds of
// thousands of idle connections pays for all of it in resident memory. Here the
// peer's IP and port live inline in the conn (the struct keeps its 256-byte size
// class) and RemoteAddr builds a *net.TCPAddr when asked.

//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package gnet

import (
	"net"
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/panjf2000/gnet/v2/pkg/socket"
)

// peer is an accepted connection's remote IP address and port; ok is false for
// addresses that do not fit (Unix sockets, IPv6 with a zone), which take the
// general path.
type peer struct {
	ip   [16]byte
	port uint16
	ok   bool
}

func peerOfSockaddr(sa unix.Sockaddr) peer {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return peer{ip: netip.AddrFrom4(sa.Addr).As16(), port: uint16(sa.Port), ok: true}
	case *unix.SockaddrInet6:
		if sa.ZoneId == 0 {
			return peer{ip: sa.Addr, port: uint16(sa.Port), ok: true}
		}
	}
	return peer{}
}

func (p peer) tcpAddr() *net.TCPAddr {
	return &net.TCPAddr{IP: netip.AddrFrom16(p.ip).Unmap().AsSlice(), Port: int(p.port)}
}

func (c *conn) peerAddr() net.Addr {
	return peer{ip: c.peerIP, port: c.peerPort, ok: true}.tcpAddr()
}

// newAcceptedConn makes the conn for socket nfd accepted from ln, to be served by el.
func (el *eventloop) newAcceptedConn(ln *listener, nfd int, p peer) *conn {
	if !p.ok {
		sa, _ := unix.Getpeername(nfd)
		return newStreamConn(ln.network, nfd, el, sa, ln.addr, socket.SockaddrToTCPOrUnixAddr(sa))
	}
	c := newStreamConn(ln.network, nfd, el, nil, ln.addr, nil)
	c.peerIP, c.peerPort, c.hasPeer = p.ip, p.port, true
	return c
}
