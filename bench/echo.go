package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
)

// EchoParams shape a ws-echo run: Conns connections each keeping InFlight messages of
// Size bytes outstanding, measured for Duration after Warmup.
type EchoParams struct {
	Conns    int           `json:"conns"`
	InFlight int           `json:"in_flight"`
	Size     int           `json:"size"`
	Duration time.Duration `json:"duration"`
	Warmup   time.Duration `json:"warmup"`
	Deflate  bool          `json:"deflate"`
	Loops    int           `json:"client_loops"` // load client event loops (default 2)
	Path     string        `json:"path"`         // default /echo
	TLS      bool          `json:"-"`            // wss (tls-ws-echo: set from Scenario.TLS)
}

type echoConn struct {
	batch  []byte // InFlight copies of the frame, to refill the window in one write
	frame  int    // length of one frame
	expect []byte // the payload the server must send back
	sent   []int64
	head   int
	n      int
}

// RunEcho measures a WebSocket echo server at addr whose process is pid (0: unknown).
// Latency is from writing a message to reading its echo, per message.
func RunEcho(ctx context.Context, addr string, pid int, p EchoParams, srcs []net.IP, live *Live) (Metrics, error) {
	if p.InFlight <= 0 {
		p.InFlight = 1
	}
	if p.Loops <= 0 {
		p.Loops = 2
	}
	if p.Path == "" {
		p.Path = "/echo"
	}
	if p.TLS && p.Deflate {
		return Metrics{}, errors.New("echo: no compression over TLS here")
	}
	payload := payloadFor(p.Size)
	frame, err := clientFrame(ws.OpBinary, payload, p.Deflate)
	if err != nil {
		return Metrics{}, err
	}
	batch := bytes.Repeat(frame, p.InFlight)

	var (
		hist               Histogram
		running, measuring atomic.Bool
		msgs, bytesIn      atomic.Uint64
		inflight           atomic.Int64
	)
	onMessage := func(cc *clientConn, now int64, compressed bool, got []byte) error {
		st := cc.state.(*echoConn)
		if st.n == 0 {
			return errors.New("echo: message nobody sent")
		}
		t := st.sent[st.head]
		st.head = (st.head + 1) % len(st.sent)
		st.n--
		inflight.Add(-1)
		if got != nil && !compressed && !bytes.Equal(got, st.expect) {
			return fmt.Errorf("echo: %d bytes came back that differ from the %d sent", len(got), len(st.expect))
		}
		if measuring.Load() {
			hist.Record(time.Duration(now - t))
			msgs.Add(1)
			bytesIn.Add(uint64(len(st.expect)))
			live.add(1)
		}
		if running.Load() {
			cc.out = append(cc.out, st.batch[:st.frame]...)
			st.sent[(st.head+st.n)%len(st.sent)] = now
			st.n++
			inflight.Add(1)
		}
		return nil
	}

	lc, err := newLoadClient(p.Loops)
	if err != nil {
		return Metrics{}, err
	}
	defer lc.stop()
	d := newDialer(addr, p.Path, srcs, p.Deflate)
	mk := func(int) *clientConn {
		return &clientConn{onMessage: onMessage, state: &echoConn{
			batch: batch, frame: len(frame), expect: payload, sent: make([]int64, p.InFlight),
		}}
	}
	var got int
	if p.TLS {
		d.tls = benchTLSConfig()
		got = lc.connectTLS(ctx, d, p.Conns, 64, mk)
	} else {
		got = lc.connect(ctx, d, p.Conns, 64, mk)
	}
	m := Metrics{Conns: got}
	if got == 0 {
		m.Errors, m.ErrorSample = lc.errs.Load(), lc.exampleErr()
		return m, fmt.Errorf("no connection: %s", m.ErrorSample)
	}
	connectErrs := lc.errs.Load()

	running.Store(true)
	now := lc.now()
	for _, c := range lc.conns {
		st := c.cc.state.(*echoConn)
		for i := range st.sent {
			st.sent[i] = now
		}
		st.n = p.InFlight
		inflight.Add(int64(p.InFlight))
		c.asyncSend(st.batch)
	}
	sleepCtx(ctx, p.Warmup)
	// errs0 before measuring: once an echo is counted, every later error is in the window.
	errs0 := lc.errs.Load()
	measuring.Store(true)
	w := openWindow(pid)
	sleepCtx(ctx, p.Duration)
	m.Ops = msgs.Load()
	w.close(&m)
	measuring.Store(false)
	running.Store(false)
	m.Errors = lc.errs.Load() - errs0 + connectErrs
	for deadline := time.Now().Add(2 * time.Second); inflight.Load() > 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if n := inflight.Load(); n > 0 {
		m.Note = fmt.Sprintf("%d messages unanswered at the end", n)
	}
	m.MBps = float64(bytesIn.Load()) / m.Seconds / 1e6
	m.Latency = hist.Summary()
	m.Errors = max(m.Errors, lc.errs.Load()-errs0+connectErrs)
	m.ErrorSample = lc.exampleErr()
	return m, nil
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
