package bench

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/gobwas/ws"
)

// TLS on the load client's epoll loops (tls-ws-echo). The handshake and the upgrade run
// on a goroutine over the socket, as for any dialer; then the socket moves onto a loop
// like a cleartext one, and crypto/tls is left talking to a tlsLoopConn: its Read takes
// the ciphertext the loop just read and says "would block" (a temporary net.Error, after
// which crypto/tls keeps its partial record and carries on) when there is no more; its
// Write appends ciphertext to the connection's output, which the loop sends. So a TLS
// echo costs the client what a cleartext one does plus the record's open and seal, not a
// goroutine wake-up per message: the goroutine-per-connection client first used here
// cost ~20 µs of client CPU per echo, more than the servers it measured.

// tlsLoopConn is the transport under a client tls.Conn: the socket until onLoop, then
// the loop's buffers.
type tlsLoopConn struct {
	net.Conn         // the socket, for the handshake and the upgrade
	onLoop   bool    // from now on only the loop's goroutine calls Read and Write
	in       []byte  // ciphertext read by the loop, not yet taken by crypto/tls
	out      *[]byte // the clientConn's output: ciphertext for the loop to send
}

// errWouldBlock is the loop connection's "no more bytes for now". It is temporary, so
// crypto/tls does not remember it as the connection's error.
var errWouldBlock error = wouldBlock{}

type wouldBlock struct{}

func (wouldBlock) Error() string   { return "tls loop conn: would block" }
func (wouldBlock) Timeout() bool   { return true }
func (wouldBlock) Temporary() bool { return true }

func (c *tlsLoopConn) Read(p []byte) (int, error) {
	if !c.onLoop {
		return c.Conn.Read(p)
	}
	if len(c.in) == 0 {
		return 0, errWouldBlock
	}
	n := copy(p, c.in)
	c.in = c.in[n:]
	return n, nil
}

func (c *tlsLoopConn) Write(p []byte) (int, error) {
	if !c.onLoop {
		return c.Conn.Write(p)
	}
	*c.out = append(*c.out, p...)
	return len(p), nil
}

// Close is the loop's business once the socket is on it.
func (c *tlsLoopConn) Close() error {
	if c.onLoop {
		return nil
	}
	return c.Conn.Close()
}

// tlsOnLoop is a clientConn's TLS session on a loop.
type tlsOnLoop struct {
	tc    *tls.Conn
	conn  *tlsLoopConn
	plain []byte // decrypted bytes the WebSocket parser has not consumed
	seal  []byte // plaintext frames to encrypt, copied out of cc.out
	rbuf  [4096]byte
}

// onData decrypts what the loop read, hands the plaintext to the WebSocket parser, and
// encrypts what the parser's callbacks queued (cc.out holds plaintext until then).
func (lc *loadClient) tlsOnData(cc *clientConn, _ int64, data []byte) (int, bool) {
	st := cc.tls
	st.conn.in = data
	for {
		n, err := st.tc.Read(st.rbuf[:])
		st.plain = append(st.plain, st.rbuf[:n]...)
		if err != nil {
			if errors.Is(err, errWouldBlock) {
				break
			}
			if !lc.closing.Load() {
				lc.fail(fmt.Errorf("tls: %w", err))
			}
			return len(data), true
		}
	}
	used := len(data) - len(st.conn.in) // crypto/tls normally takes it all
	st.conn.in = nil
	n, closeNow := lc.onData(cc, st.plain)
	st.plain = st.plain[:copy(st.plain, st.plain[n:])]
	st.sealOut(cc)
	return used, closeNow
}

// sealOut encrypts the plaintext in cc.out; the ciphertext takes its place.
func (st *tlsOnLoop) sealOut(cc *clientConn) {
	if len(cc.out) == 0 {
		return
	}
	st.seal = append(st.seal[:0], cc.out...)
	cc.out = cc.out[:0]
	_, _ = st.tc.Write(st.seal) // appends to cc.out; a write error is the loop's to see
}

// asyncSend sends the plaintext b on c from any goroutine, encrypted first when c is TLS.
func (c *loadConn) asyncSend(b []byte) {
	if c.cc.tls == nil {
		c.asyncWrite(b)
		return
	}
	c.loop.exec(func() {
		c.cc.out = append(c.cc.out, b...)
		c.cc.tls.sealOut(c.cc)
		c.write(c.cc.out)
		c.cc.out = c.cc.out[:0]
	})
}

// connectTLS is connect for wss: d.tls must be set. Each connection's handshake and
// upgrade run on one of par goroutines; then its socket goes onto a loop.
func (lc *loadClient) connectTLS(ctx context.Context, d *wsDialer, n, par int, mk func(i int) *clientConn) int {
	return lc.openAll(ctx, n, par, func(i int) (*loadConn, error) {
		lconn, err := lc.dialTLSOnLoop(ctx, d, mk(i))
		if err != nil {
			return nil, fmt.Errorf("connect: %w", err)
		}
		return lconn, nil
	})
}

func (lc *loadClient) dialTLSOnLoop(ctx context.Context, d *wsDialer, cc *clientConn) (*loadConn, error) {
	nd := net.Dialer{Timeout: d.timeout}
	if len(d.srcs) > 0 {
		nd.LocalAddr = &net.TCPAddr{IP: d.srcs[int(d.next.Add(1))%len(d.srcs)]}
	}
	raw, err := nd.DialContext(ctx, "tcp", d.addr)
	if err != nil {
		return nil, err
	}
	conn := &tlsLoopConn{Conn: raw}
	tc := tls.Client(conn, d.tls)
	_ = raw.SetDeadline(time.Now().Add(d.timeout))
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, fmt.Errorf("tls: %w", err)
	}
	br, _, err := ws.Dialer{}.Upgrade(tc, d.url)
	if err == nil && br != nil && br.Buffered() > 0 {
		err = errors.New("server sent data before the client spoke")
	}
	if err != nil {
		raw.Close()
		return nil, err
	}
	_ = raw.SetDeadline(time.Time{})
	cc.tls = &tlsOnLoop{tc: tc, conn: conn}
	cc.onData = lc.tlsOnData
	conn.onLoop, conn.out = true, &cc.out
	return lc.enroll(raw, cc) // closes raw: the loop has its duplicate
}
