package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"github.com/panjf2000/gnet/v2"
)

// loadClient holds many upgraded WebSocket connections on gnet's client event loops: a
// connection costs a small struct and a file descriptor, not a goroutine, and the frames
// that one wake-up produces leave in one write. That keeps the client's CPU per message
// low, which matters because client and server share the machine's cores.
type loadClient struct {
	gnet.BuiltinEventEngine
	cli     *gnet.Client
	base    time.Time
	closing atomic.Bool
	errs    atomic.Uint64
	errMu   sync.Mutex
	lastErr error
	conns   []gnet.Conn
}

// clientConn is the per-connection state; onMessage sees each complete data message
// (payload valid only during the call) and may append frames to out.
type clientConn struct {
	onMessage func(cc *clientConn, now int64, compressed bool, payload []byte) error
	out       []byte
	need      int  // bytes the inbound buffer must hold before parsing is worth it
	frag      bool // inside a fragmented message
	fragComp  bool
	state     any
}

func newLoadClient(loops int) (*loadClient, error) {
	lc := &loadClient{base: time.Now()}
	cli, err := gnet.NewClient(lc, gnet.WithNumEventLoop(loops), gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithLogger(quietLogger{}))
	if err != nil {
		return nil, err
	}
	if err := cli.Start(); err != nil {
		return nil, err
	}
	lc.cli = cli
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

// firstErr is an example error for the report.
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
func (lc *loadClient) connect(ctx context.Context, d *wsDialer, n, par int, mk func(i int) *clientConn) int {
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
				c, br, err := d.dial(ctx)
				if err == nil && br != nil && br.Buffered() > 0 {
					c.Close()
					err = errors.New("server sent data before the client spoke")
				}
				if err != nil {
					lc.fail(fmt.Errorf("connect: %w", err))
					continue
				}
				gc, err := lc.cli.EnrollContext(c, mk(i))
				if err != nil {
					lc.fail(fmt.Errorf("enroll: %w", err))
					continue
				}
				mu.Lock()
				lc.conns = append(lc.conns, gc)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return len(lc.conns)
}

func (lc *loadClient) OnClose(c gnet.Conn, err error) gnet.Action {
	if !lc.closing.Load() {
		if err == nil {
			err = errors.New("server closed the connection")
		}
		lc.fail(err)
	}
	return gnet.None
}

func (lc *loadClient) OnTraffic(c gnet.Conn) gnet.Action {
	cc, _ := c.Context().(*clientConn)
	if cc == nil {
		return gnet.None
	}
	// Peek(-1) is everything buffered: what earlier calls left plus what this wake-up
	// read (InboundBuffered counts only the former). gnet calls OnTraffic again only when
	// more bytes arrive, so an incomplete frame simply waits here.
	buf, _ := c.Peek(-1)
	if len(buf) < cc.need {
		return gnet.None
	}
	off, now := 0, lc.now()
	action := gnet.None
	for action == gnet.None {
		f, ok, err := parseServerFrame(buf[off:])
		if err != nil {
			lc.fail(err)
			return gnet.Close
		}
		if !ok {
			cc.need = len(buf) - off + 1
			break
		}
		if len(buf)-off < f.hlen+f.plen {
			cc.need = f.hlen + f.plen
			break
		}
		cc.need = 0
		payload := buf[off+f.hlen : off+f.hlen+f.plen]
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
			action = gnet.Close
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
				action = gnet.Close
			}
		}
	}
	if off > 0 { // gnet's Discard(n) with n <= 0 discards everything
		_, _ = c.Discard(off)
	}
	if len(cc.out) > 0 {
		_, _ = c.Write(cc.out)
		cc.out = cc.out[:0]
	}
	return action
}

// stop closes every connection and the event loops.
func (lc *loadClient) stop() {
	lc.closing.Store(true)
	_ = lc.cli.Stop()
}

type quietLogger struct{}

func (quietLogger) Debugf(string, ...any) {}
func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Warnf(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(string, ...any) {}

// isLoopback4 reports whether ip is usable as a 127.0.0.x source address.
func isLoopback4(ip net.IP) bool { return ip.To4() != nil && ip.IsLoopback() }
