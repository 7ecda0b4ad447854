package bench

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
)

// wsDialer opens upgraded WebSocket connections, spreading them over several loopback
// source addresses: each source address has only ~28k ephemeral ports.
type wsDialer struct {
	addr    string // host:port of the server
	url     *url.URL
	srcs    []net.IP
	next    atomic.Uint32
	deflate bool
	timeout time.Duration
	tls     *tls.Config // wss: a TLS handshake before the upgrade (tls.go)
}

func newDialer(addr, path string, srcs []net.IP, deflate bool) *wsDialer {
	return &wsDialer{
		addr: addr, url: &url.URL{Scheme: "ws", Host: addr, Path: path},
		srcs: srcs, deflate: deflate, timeout: 5 * time.Second,
	}
}

// sourceAddrs returns n loopback addresses starting at 127.0.0.first.
func sourceAddrs(first, n int) []net.IP {
	ips := make([]net.IP, n)
	for i := range ips {
		ips[i] = net.IPv4(127, 0, 0, byte(first+i))
	}
	return ips
}

// dial connects and upgrades. The returned reader holds bytes the server sent after the
// 101 (nil when there were none).
func (d *wsDialer) dial(ctx context.Context) (net.Conn, *bufio.Reader, error) {
	var c net.Conn
	if d.tls != nil {
		tc, _, err := d.tlsDial(ctx)
		if err != nil {
			return nil, nil, err
		}
		c = tc
	} else {
		nd := net.Dialer{Timeout: d.timeout}
		if len(d.srcs) > 0 {
			nd.LocalAddr = &net.TCPAddr{IP: d.srcs[int(d.next.Add(1))%len(d.srcs)]}
		}
		var err error
		if c, err = nd.DialContext(ctx, "tcp", d.addr); err != nil {
			return nil, nil, err
		}
	}
	_ = c.SetDeadline(time.Now().Add(d.timeout))
	wd := ws.Dialer{}
	if d.deflate {
		p := wsflate.Parameters{ServerNoContextTakeover: true, ClientNoContextTakeover: true}
		wd.Extensions = []httphead.Option{p.Option()}
	}
	br, hs, err := wd.Upgrade(c, d.url)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	if d.deflate && !negotiated(hs.Extensions) {
		c.Close()
		return nil, nil, errNoDeflate
	}
	_ = c.SetDeadline(time.Time{})
	return c, br, nil
}

var errNoDeflate = errors.New("server did not accept permessage-deflate")

func negotiated(exts []httphead.Option) bool {
	for _, e := range exts {
		if strings.EqualFold(string(e.Name), wsflate.ExtensionName) {
			return true
		}
	}
	return false
}

// clientFrame builds a masked frame (RFC 6455 §5.3: clients mask every frame), compressed
// with permessage-deflate when deflate is set. Without context takeover each compressed
// message stands alone, so one frame can be sent again and again.
func clientFrame(op ws.OpCode, payload []byte, deflate bool) ([]byte, error) {
	f := ws.NewFrame(op, true, append([]byte(nil), payload...))
	if deflate {
		var err error
		if f, err = wsflate.CompressFrame(f); err != nil {
			return nil, err
		}
	}
	f = ws.MaskFrameInPlace(f)
	return ws.CompileFrame(f)
}

// closeFrame is a masked close frame with status 1000 (normal closure).
var closeFrame = func() []byte {
	b, _ := clientFrame(ws.OpClose, ws.NewCloseFrameBody(ws.StatusNormalClosure, ""), false)
	return b
}()

// serverFrame is the head of one unmasked frame read from a server.
type serverFrame struct {
	fin  bool
	rsv1 bool
	op   ws.OpCode
	hlen int // header length
	plen int // payload length
}

// parseServerFrame reads a frame head from b (RFC 6455 §5.2). ok is false when b does not
// hold the whole head yet; err is set when the head is invalid for a server's frame.
func parseServerFrame(b []byte) (f serverFrame, ok bool, err error) {
	if len(b) < 2 {
		return f, false, nil
	}
	f.fin = b[0]&0x80 != 0
	f.rsv1 = b[0]&0x40 != 0
	f.op = ws.OpCode(b[0] & 0x0f)
	if b[1]&0x80 != 0 {
		return f, false, errors.New("server frame is masked (RFC 6455 §5.1)")
	}
	n := int(b[1] & 0x7f)
	f.hlen = 2
	switch n {
	case 126:
		if len(b) < 4 {
			return f, false, nil
		}
		n = int(binary.BigEndian.Uint16(b[2:]))
		f.hlen = 4
	case 127:
		if len(b) < 10 {
			return f, false, nil
		}
		u := binary.BigEndian.Uint64(b[2:])
		if u > 1<<30 {
			return f, false, fmt.Errorf("server frame of %d bytes", u)
		}
		n = int(u)
		f.hlen = 10
	}
	f.plen = n
	return f, true, nil
}

// payloadFor makes a message of size n whose bytes are text that compresses as
// application messages do (JSON-like, repetitive), so the compression scenario
// measures something real. Bytes 0..15 may be overwritten with sequence and time stamps.
func payloadFor(n int) []byte {
	const text = `{"id":12345,"type":"tick","symbol":"SWYD","price":101.25,"qty":300,"side":"buy"},`
	p := make([]byte, n)
	for i := range p {
		p[i] = text[i%len(text)]
	}
	return p
}
