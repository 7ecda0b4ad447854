package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gobwas/ws"
)

// loadClient holds many upgraded WebSocket connections on its own epoll loops, one
// goroutine each: a connection costs a small struct and a file descriptor, not a
// goroutine, and the frames one wake-up produces leave in one write. Client and server
// share the machine's cores, so every microsecond the client spends is one the server
// under test does not get, and it is the same for every server: it hides their
// differences. Hence raw system calls (see rawsys.go) and edge-triggered epoll with no
// read to EAGAIN after a short read. gnet's client loops, used before, cost 9.7-10.0 µs
// of client CPU per echo at 10,000 connections, more than the fastest server; these 8.5.
type loadClient struct {
	base    time.Time
	closing atomic.Bool
	errs    atomic.Uint64
	errMu   sync.Mutex
	lastErr error
	loops   []*clientLoop
	next    atomic.Uint32
	conns   []*loadConn // every enrolled connection, for a scenario's first writes
	wg      sync.WaitGroup
}

// clientConn is the per-connection state; onMessage sees each complete data message
// (payload valid only during the call) and may append frames to out.
type clientConn struct {
	onMessage func(cc *clientConn, now int64, compressed bool, payload []byte) error
	// onData, when set, replaces the WebSocket parser for a connection that speaks
	// something else (h1-paced): it consumes what it can of data as lc.onData does.
	onData   func(cc *clientConn, now int64, data []byte) (used int, closeNow bool)
	out      []byte
	need     int  // bytes the inbound buffer must hold before parsing is worth it
	frag     bool // inside a fragmented message
	fragComp bool
	state    any
	tls      *tlsOnLoop // wss: onData is lc.tlsOnData and out is sealed there (tlsloop.go)
}

func newLoadClient(loops int) (*loadClient, error) { return newLoadClientSpins(loops, clientSpins) }

// newLoadClientSpins makes a client whose loops poll spins times before they sleep. The
// closed-loop scenarios spin (clientSpins); paced ones pass 0 (and then sleep in the
// netpoller: quietwait.go): a client that spins hides the server's wake-up cost, which
// is what a paced run is there to show, and takes the CPU a server's wake-ups need.
func newLoadClientSpins(loops, spins int) (*loadClient, error) {
	lc := &loadClient{base: time.Now()}
	for i := 0; i < loops; i++ {
		l, err := newClientLoop(lc, spins)
		if err != nil {
			lc.stop()
			return nil, err
		}
		lc.loops = append(lc.loops, l)
		lc.wg.Add(1)
		go func() {
			defer lc.wg.Done()
			if err := l.run(); err != nil {
				lc.fail(err)
			}
		}()
	}
	return lc, nil
}

// now is the client's clock in nanoseconds (monotonic).
func (lc *loadClient) now() int64 { return int64(time.Since(lc.base)) }

func (lc *loadClient) fail(err error) {
	lc.errs.Add(1)
	lc.errMu.Lock()
	lc.lastErr = err
	lc.errMu.Unlock()
}

// exampleErr is an example error for the report.
func (lc *loadClient) exampleErr() string {
	lc.errMu.Lock()
	defer lc.errMu.Unlock()
	if lc.lastErr == nil {
		return ""
	}
	return lc.lastErr.Error()
}

// connect opens n connections with the dialer, par at a time, and enrolls them with
// states made by mk. It stops early on ctx; errors are counted.
func (lc *loadClient) connect(ctx context.Context, d dialer, n, par int, mk func(i int) *clientConn) int {
	return lc.openAll(ctx, n, par, func(i int) (*loadConn, error) {
		c, br, err := d.dial(ctx)
		if err == nil && br != nil && br.Buffered() > 0 {
			c.Close()
			err = errors.New("server sent data before the client spoke")
		}
		if err != nil {
			return nil, fmt.Errorf("connect: %w", err)
		}
		lconn, err := lc.enroll(c, mk(i))
		if err != nil {
			return nil, fmt.Errorf("enroll: %w", err)
		}
		return lconn, nil
	})
}

// openAll runs open for connections 0..n-1 on par goroutines and keeps what they open;
// it stops early on ctx, and counts open's errors. It returns how many are open.
func (lc *loadClient) openAll(ctx context.Context, n, par int, open func(i int) (*loadConn, error)) int {
	var (
		wg   sync.WaitGroup
		next atomic.Int64
		mu   sync.Mutex
	)
	for w := 0; w < par; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				lconn, err := open(i)
				if err != nil {
					lc.fail(err)
					continue
				}
				mu.Lock()
				lc.conns = append(lc.conns, lconn)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return len(lc.conns)
}

// enroll moves an upgraded connection's socket onto a loop (round robin): the loop
// gets a non-blocking duplicate and c is closed.
func (lc *loadClient) enroll(c net.Conn, cc *clientConn) (*loadConn, error) {
	defer c.Close()
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil, errors.New("not a socket")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, err
	}
	fd := -1
	if cerr := rc.Control(func(s uintptr) {
		fd, err = dupCloexec(int(s))
	}); cerr != nil {
		return nil, cerr
	}
	if err != nil {
		return nil, err
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		_ = syscall.Close(fd)
		return nil, err
	}
	l := lc.loops[int(lc.next.Add(1))%len(lc.loops)]
	lconn := &loadConn{fd: fd, loop: l, cc: cc}
	l.exec(func() { l.add(lconn) })
	return lconn, nil
}

// dialer opens a connection ready for the load client: upgraded (wsDialer) or plain
// TCP (tcpDialer). The reader holds bytes the server sent early (nil: none).
type dialer interface {
	dial(ctx context.Context) (net.Conn, *bufio.Reader, error)
}

// parse hands data to the connection's own parser, or to the WebSocket one.
func (lc *loadClient) parse(cc *clientConn, data []byte) (int, bool) {
	if cc.onData != nil {
		return cc.onData(cc, lc.now(), data)
	}
	return lc.onData(cc, data)
}

// onData parses the server frames at the head of data for c, hands each complete data
// message to onMessage, and answers pings. It returns how many bytes it consumed and
// whether the connection should close.
func (lc *loadClient) onData(cc *clientConn, data []byte) (int, bool) {
	if len(data) < cc.need {
		return 0, false
	}
	off, now := 0, lc.now()
	for {
		f, ok, err := parseServerFrame(data[off:])
		if err != nil {
			lc.fail(err)
			return off, true
		}
		if !ok {
			cc.need = len(data) - off + 1
			return off, false
		}
		if len(data)-off < f.hlen+f.plen {
			cc.need = f.hlen + f.plen
			return off, false
		}
		cc.need = 0
		payload := data[off+f.hlen : off+f.hlen+f.plen]
		off += f.hlen + f.plen
		switch f.op {
		case ws.OpPing:
			pong, _ := clientFrame(ws.OpPong, payload, false)
			cc.out = append(cc.out, pong...)
		case ws.OpPong:
		case ws.OpClose:
			if !lc.closing.Load() {
				lc.fail(fmt.Errorf("server sent close %x", payload))
			}
			return off, true
		default:
			if f.op != ws.OpContinuation {
				cc.fragComp = f.rsv1
			}
			if !f.fin {
				cc.frag = true
				continue
			}
			whole := !cc.frag && f.op != ws.OpContinuation
			cc.frag = false
			if !whole {
				payload = nil // a fragmented message is counted, not checked
			}
			if err := cc.onMessage(cc, now, cc.fragComp, payload); err != nil {
				lc.fail(err)
				return off, true
			}
		}
	}
}

// stop closes every connection and the event loops.
func (lc *loadClient) stop() {
	lc.closing.Store(true)
	for _, l := range lc.loops {
		l.stop()
	}
	lc.wg.Wait()
	for _, l := range lc.loops {
		l.release()
	}
}
