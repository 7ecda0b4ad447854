package server

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"strings"

	"github.com/pires/go-proxyproto"

	"github.com/switchyard-dev/switchyard/server/internal/gnet"
)

// The PROXY protocol (HAProxy's proxy-protocol.txt, versions 1 and 2): an L4 load
// balancer prepends to each connection a header naming the client it accepted and the
// address the client connected to. With Config.ProxyProtocol a connection begins in
// proxyHeader, which frames the header itself, so that the wait is bounded and no byte
// behind it is read, hands exactly the header's bytes to go-proxyproto to parse and
// validate, records both addresses and installs what the connection would have started
// with (Server.start). The bytes behind the header go to that protocol in the same turn
// (Conn.serve goes on with them).

const (
	// proxyV1Max is the longest version 1 line, CRLF included (§2.1).
	proxyV1Max = 107
	// proxyV2Fixed is version 2's fixed part: signature, version and command, family and
	// transport, and the length of what follows (§2.2).
	proxyV2Fixed = 16
	// proxyV2MaxPayload bounds what follows it: addresses take at most 216 bytes
	// (AF_UNIX), and balancers add a few TLVs (AWS's VPC endpoint ID, a CRC32c, SSL
	// details); the spec's 16-bit length would let a client make the server wait for 64 KiB.
	proxyV2MaxPayload = 2048
)

var (
	proxyV1Sig = []byte("PROXY ")
	proxyV2Sig = []byte("\r\n\r\n\x00\r\nQUIT\n")
)

var (
	errProxyMissing = errors.New("the connection does not begin with a PROXY protocol header (Config.ProxyProtocol)")
	errProxyV1Long  = errors.New("version 1 line longer than 107 bytes")
	errProxyV1CRLF  = errors.New("version 1 line does not end in CRLF")
	errProxyV2Long  = errors.New("version 2 addresses and TLVs longer than 2048 bytes")
)

// proxyHeaderLen frames the PROXY header at the start of in: it returns the header's
// length, 0 while in is a prefix of one that is not complete yet, or why in cannot begin
// with one. It never claims more than len(in) bytes, and decides within
// proxyV2Fixed+proxyV2MaxPayload bytes.
func proxyHeaderLen(in []byte) (int, error) {
	switch {
	case startsLike(in, proxyV1Sig):
		line := in[:min(len(in), proxyV1Max)]
		switch i := bytes.IndexByte(line, '\n'); {
		case i > 0 && line[i-1] == '\r':
			return i + 1, nil
		case i >= 0:
			return 0, errProxyV1CRLF
		case len(line) == proxyV1Max:
			return 0, errProxyV1Long
		}
		return 0, nil
	case startsLike(in, proxyV2Sig):
		if len(in) < proxyV2Fixed {
			return 0, nil
		}
		n := int(binary.BigEndian.Uint16(in[14:16]))
		if n > proxyV2MaxPayload {
			return 0, errProxyV2Long
		}
		if len(in) < proxyV2Fixed+n {
			return 0, nil
		}
		return proxyV2Fixed + n, nil
	}
	return 0, errProxyMissing
}

// startsLike reports whether in and sig agree on their common length: in may still turn
// out to begin with sig.
func startsLike(in, sig []byte) bool {
	n := min(len(in), len(sig))
	return bytes.Equal(in[:n], sig[:n])
}

// parseProxyHeader parses and validates hdr, exactly one header as proxyHeaderLen framed
// it, and returns the addresses it names: the client's (src), and the one the client
// connected to at the balancer (dst). Both are nil for a version 2 LOCAL header (the
// balancer's own health check) and a version 1 UNKNOWN one, which keep the socket's; dst
// is nil unless the header names TCP over IPv4 or IPv6 (version 1 TCP4 and TCP6, version
// 2 STREAM over AF_INET and AF_INET6): a Unix socket's path or a datagram's address is no
// address the server listens on, and the socket's own stays.
func parseProxyHeader(hdr []byte) (src, dst net.Addr, err error) {
	// go-proxyproto reads from a bufio.Reader, and needs the whole header buffered at
	// once (a version 2 payload is Peeked; a version 1 line must come in one read).
	h, err := proxyproto.Read(bufio.NewReaderSize(bytes.NewReader(hdr), len(hdr)))
	if err != nil {
		return nil, nil, err
	}
	if _, err := h.TLVs(); err != nil { // TLVs that overrun the header's length
		return nil, nil, err
	}
	if h.Command.IsLocal() {
		return nil, nil, nil
	}
	if tcp, ok := h.DestinationAddr.(*net.TCPAddr); ok {
		dst = tcp
	}
	return h.SourceAddr, dst, nil
}

// proxiedTransport is the socket with the addresses a PROXY header named: the client's,
// and the one it connected to at the balancer (the socket's own when the header names
// none). They travel with the transport, as TLS's session does, so that every protocol,
// the TLS handshake's callbacks and the connections on HTTP/2 streams see them through
// RemoteAddr and LocalAddr, and a connection without a header pays nothing for the
// feature.
type proxiedTransport struct {
	gnet.Conn
	remote, local net.Addr
}

// RemoteAddr is the client's, fixed before the connection is served: safe from any
// goroutine, like the socket's.
func (t *proxiedTransport) RemoteAddr() net.Addr { return t.remote }

// LocalAddr is the address the client connected to at the balancer, or the socket's own,
// fixed as RemoteAddr is.
func (t *proxiedTransport) LocalAddr() net.Addr { return t.local }

// proxyHeader is the protocol of a connection waiting for its PROXY header. It holds no
// state: the core keeps a partial header in the connection's input, which
// proxyHeaderLen bounds.
type proxyHeader struct{}

// openProxyHeader starts a fresh connection in proxyHeader, under the timeout the
// protocol that follows would have had from the connection's accept.
func openProxyHeader(c *Conn) {
	d := c.srv.cfg.HeaderTimeout
	if ts := c.srv.tls; ts != nil {
		c.kind, d = ts.kind, ts.timeout // counted as what it becomes, like a handshake
	}
	c.proto = proxyHeader{}
	c.SetDeadline(d)
}

func (proxyHeader) Start(*Conn, *Request) {}

func (proxyHeader) Serve(c *Conn, in []byte) (int, error) {
	n, err := proxyHeaderLen(in)
	if err == nil && n == 0 {
		return 0, nil // the rest of the header is still on its way
	}
	var src, dst net.Addr
	if err == nil {
		src, dst, err = parseProxyHeader(in[:n])
	}
	if err != nil {
		c.refuseProxyHeader(strings.TrimPrefix(err.Error(), "proxyproto: "))
		return len(in), ErrClose
	}
	if src != nil {
		// Before anything can hand the connection to another goroutine, and before TLS
		// wraps the transport: RemoteAddr is the client's, and LocalAddr what it
		// connected to, for every protocol after.
		if dst == nil {
			dst = c.tr.LocalAddr()
		}
		c.tr = &proxiedTransport{Conn: c.tr, remote: src, local: dst}
	}
	if limit := c.srv.cfg.MaxConnsPerIP; limit > 0 && !c.srv.perIP.admit(c, limit) {
		c.Commit(append(c.AppendBuffer(), c.srv.refusalPerIP()...))
		return len(in), ErrClose // still in proxyHeader: not counted, so not released
	}
	due := c.deadline
	c.srv.start(c)
	if due != 0 && c.deadline > due {
		// The header's wait counted against the fresh connection's timeout: the
		// protocol that follows does not get a whole one more.
		c.loop.wheel.set(c, due)
	}
	return n, nil
}

func (proxyHeader) Timeout(c *Conn) {
	c.refuseProxyHeader("no complete header within the fresh connection's timeout")
	c.Close()
}

func (proxyHeader) Closed(*Conn, error) {}

// refuseProxyHeader counts and logs a connection closed for its PROXY header. It is
// closed without an answer: the peer is a balancer, or something that should not reach
// the server at all.
func (c *Conn) refuseProxyHeader(reason string) {
	c.CountError("proxy_header")
	c.LogRefusal(0, "PROXY protocol header: "+reason)
}
