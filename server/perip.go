package server

import (
	"net"
	"net/netip"
	"sync"
)

// perIP counts open connections by client address, for Config.MaxConnsPerIP: one client
// cannot take the whole of MaxConns or the process's descriptors. The count is taken when
// the client's address is known (at accept, or once a PROXY header named it) and dropped
// when the connection closes; a connection still waiting for its PROXY header is not
// counted. One lock for the server: it is taken twice per connection, only with a cap.
type perIP struct {
	mu   sync.Mutex
	open map[netip.Addr]int32
}

// clientIP is the address a connection counts under; ok is false for one without an IP
// (a PROXY header may name a Unix socket), which is not counted.
func clientIP(a net.Addr) (ip netip.Addr, ok bool) {
	tcp, isTCP := a.(*net.TCPAddr)
	if !isTCP {
		return netip.Addr{}, false
	}
	ip = tcp.AddrPort().Addr().Unmap()
	return ip, ip.IsValid()
}

// admit counts c under its client's address, unless that address already has max open.
func (p *perIP) admit(c *Conn, max int) bool {
	ip, ok := clientIP(c.RemoteAddr())
	if !ok {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.open == nil {
		p.open = make(map[netip.Addr]int32)
	}
	if p.open[ip] >= int32(max) {
		return false
	}
	p.open[ip]++
	return true
}

// release drops c's count.
func (p *perIP) release(c *Conn) {
	ip, ok := clientIP(c.RemoteAddr())
	if !ok {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.open[ip] <= 1 {
		delete(p.open, ip) // the map keeps only addresses with connections open
		return
	}
	p.open[ip]--
}
