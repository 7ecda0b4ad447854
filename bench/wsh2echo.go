package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"github.com/switchyard-dev/switchyard/frame/h2"
)

// Scenario kinds of RFC 8441 (WebSocket over HTTP/2).
const (
	KindWSH2Echo = "ws-over-h2"
	KindWSH2Open = "ws-h2-open"
)

// WSH2Params shape the RFC 8441 scenarios: Conns HTTP/2 connections (cleartext, prior
// knowledge); ws-over-h2 spreads Streams WebSockets over them, each with one Size-byte
// message in flight; ws-h2-open keeps InFlight extended CONNECTs in flight on each, closing
// every WebSocket as soon as it is open. Measured for Duration after Warmup.
type WSH2Params struct {
	Conns    int           `json:"conns"`
	Streams  int           `json:"streams,omitempty"`
	InFlight int           `json:"in_flight,omitempty"`
	Size     int           `json:"size,omitempty"`
	Duration time.Duration `json:"duration"`
	Warmup   time.Duration `json:"warmup"`
	Loops    int           `json:"client_loops"` // load client event loops (default 2)
	Path     string        `json:"path"`         // default /echo
}

func (p *WSH2Params) defaults() {
	p.Conns = max(p.Conns, 1)
	p.Streams = max(p.Streams, p.Conns)
	p.InFlight = max(p.InFlight, 1)
	if p.Size <= 0 {
		p.Size = 64
	}
	if p.Loops <= 0 {
		p.Loops = 2
	}
	if p.Path == "" {
		p.Path = "/echo"
	}
}

// newEchoState is a connection's state for streams WebSockets echoing payload.
func newEchoState(streams int, payload, expect []byte) (*h2wsConn, error) {
	st := &h2wsConn{streams: make([]h2wsStream, streams), expect: expect, waiting: make([]int32, 0, streams)}
	for i := range st.streams {
		s := &st.streams[i]
		s.id = uint32(2*i + 1)
		s.sendWin = 65535
		msg, err := maskedDataFrame(s.id, ws.OpBinary, payload)
		if err != nil {
			return nil, err
		}
		s.msg, s.rx = msg, make([]byte, len(expect))
	}
	return st, nil
}

// onEchoData reads the server's frames at the head of data (the load client's parser
// hook): echoes complete messages, control frames are answered. It allocates nothing.
func (st *h2wsConn) onEchoData(cc *clientConn, now int64, data []byte) (int, bool) {
	off := 0
	for {
		f, n, err := h2.ReadFrame(data[off:], h2.MinMaxFrameSize)
		if err == h2.ErrIncomplete {
			return off, false
		}
		if err != nil {
			st.fail(err)
			return off, true
		}
		off += n
		if f.Type == h2.FrameData {
			err = st.echoFrame(cc, now, &f)
		} else {
			err = st.control(&f, &cc.out)
			if f.Type == h2.FrameWindowUpdate || f.Type == h2.FrameSettings {
				st.unblock(cc, now)
			}
		}
		if err != nil {
			st.fail(err)
			return off, true
		}
	}
}

var errEchoDiffers = errors.New("ws-over-h2: an echo differs from the message sent")

func (st *h2wsConn) echoFrame(cc *clientConn, now int64, f *h2.Frame) error {
	i := int(f.StreamID-1) / 2
	if f.StreamID == 0 || i >= len(st.streams) || st.streams[i].id != f.StreamID {
		return fmt.Errorf("ws-over-h2: DATA on stream %d, which is not one of ours", f.StreamID)
	}
	s := &st.streams[i]
	cc.out = refill(cc.out, 0, &st.recv, int64(f.Length))
	cc.out = refill(cc.out, s.id, &s.recv, int64(f.Length))
	if f.EndStream() {
		return fmt.Errorf("ws-over-h2: the server ended stream %d", s.id)
	}
	for d := f.Data(); len(d) > 0; {
		if !s.busy {
			return fmt.Errorf("ws-over-h2: data on stream %d with no message in flight", s.id)
		}
		k := copy(s.rx[s.got:], d)
		s.got += k
		d = d[k:]
		if s.got < len(s.rx) {
			break
		}
		if !bytes.Equal(s.rx, st.expect) {
			return errEchoDiffers
		}
		s.got, s.busy = 0, false
		if st.onEcho(now, s.sentAt) {
			st.send(cc, i, now)
		}
	}
	return nil
}

// send queues stream i's message, or parks the stream until the server's windows allow it.
func (st *h2wsConn) send(cc *clientConn, i int, now int64) {
	s := &st.streams[i]
	n := int64(len(s.msg) - h2.FrameHeaderLen)
	if st.sendWin < n || s.sendWin < n {
		if !s.blocked {
			s.blocked = true
			st.waiting = append(st.waiting, int32(i))
		}
		return
	}
	st.sendWin -= n
	s.sendWin -= n
	cc.out = append(cc.out, s.msg...)
	s.sentAt, s.busy = now, true
}

// unblock sends what the windows now allow, in the order the streams were parked.
func (st *h2wsConn) unblock(cc *clientConn, now int64) {
	w := st.waiting
	st.waiting = st.waiting[:0]
	for _, i := range w {
		st.streams[i].blocked = false
		st.send(cc, int(i), now) // parks it again, in order, if still short
	}
}

// h2wsLive is a connection on a loop.
type h2wsLive struct {
	lc *loadConn
	st *h2wsConn
}

// connectH2WS opens n connections, 4 at a time; mk makes connection i's state and says
// how many WebSockets to open on it during set-up. A server without RFC 8441 ends it at
// once with errNoRFC8441.
func connectH2WS(ctx context.Context, lc *loadClient, d *h2wsDialer, n int,
	mk func(i int) (*h2wsConn, int, func(*clientConn, int64, []byte) (int, bool))) ([]h2wsLive, error) {
	var (
		mu    sync.Mutex
		out   []h2wsLive
		next  atomic.Int64
		wg    sync.WaitGroup
		noRFC atomic.Bool
	)
	for w := 0; w < min(4, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && !noRFC.Load() {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				st, streams, onData := mk(i)
				c, err := d.dial(ctx, st, streams)
				if errors.Is(err, errNoRFC8441) {
					noRFC.Store(true)
					return
				}
				if err != nil {
					lc.fail(fmt.Errorf("connect: %w", err))
					continue
				}
				lconn, err := lc.enroll(c, &clientConn{onData: onData, state: st})
				if err != nil {
					lc.fail(fmt.Errorf("enroll: %w", err))
					continue
				}
				mu.Lock()
				out = append(out, h2wsLive{lconn, st})
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if noRFC.Load() {
		return nil, errNoRFC8441
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no connection: %s", lc.exampleErr())
	}
	return out, nil
}

// onLoop runs f on c's loop with c's clientConn, then writes what f queued.
func (l h2wsLive) onLoop(f func(cc *clientConn)) {
	c := l.lc
	c.loop.exec(func() {
		f(c.cc)
		if len(c.cc.out) > 0 {
			c.write(c.cc.out)
			c.cc.out = c.cc.out[:0]
		}
	})
}

// RunWSH2Echo measures WebSocket echo over HTTP/2 streams (RFC 8441) at addr (process pid):
// p.Streams WebSockets over p.Conns connections, one p.Size-byte binary message in flight
// on each, on the load client's loops, which sleep in the netpoller between wake-ups
// rather than spin. Latency is from queuing a message to reading its whole echo.
func RunWSH2Echo(ctx context.Context, addr string, pid int, p WSH2Params, srcs []net.IP, live *Live) (Metrics, error) {
	p.defaults()
	payload := payloadFor(p.Size)
	expect := unmaskedFrame(ws.OpBinary, payload)
	var (
		hist Histogram
		run  h2wsRun
	)
	onEcho := func(now, sentAt int64) bool {
		run.inflight.Add(-1)
		if run.measuring.Load() {
			hist.Record(time.Duration(now - sentAt))
			run.ops.Add(1)
			live.add(1)
		}
		if run.running.Load() {
			run.inflight.Add(1)
			return true
		}
		return false
	}
	lc, err := newLoadClientSpins(p.Loops, 0)
	if err != nil {
		return Metrics{}, err
	}
	defer lc.stop()
	d := newH2WSDialer(addr, p.Path, srcs)
	conns, err := connectH2WS(ctx, lc, d, p.Conns, func(i int) (*h2wsConn, int, func(*clientConn, int64, []byte) (int, bool)) {
		k := p.Streams / p.Conns
		if i < p.Streams%p.Conns {
			k++
		}
		st, err := newEchoState(k, payload, expect)
		if err != nil {
			panic(err) // clientFrame fails only for compression, which is off
		}
		st.onEcho, st.fail = onEcho, lc.fail
		return st, k, st.onEchoData
	})
	if err != nil {
		return Metrics{Errors: lc.errs.Load(), ErrorSample: lc.exampleErr()}, err
	}
	streams := 0
	for _, c := range conns {
		streams += len(c.st.streams)
	}
	m := Metrics{Conns: streams, Note: fmt.Sprintf("%d WebSockets over %d HTTP/2 connections", streams, len(conns))}
	connectErrs := lc.errs.Load()

	run.running.Store(true)
	run.inflight.Add(int64(streams))
	for _, c := range conns {
		st := c.st
		c.onLoop(func(cc *clientConn) {
			now := lc.now()
			for i := range st.streams {
				st.send(cc, i, now)
			}
		})
	}
	errs0 := run.measure(ctx, lc, pid, p.Warmup, p.Duration, &m, "messages unanswered")
	m.MBps = float64(m.Ops) * float64(p.Size) / m.Seconds / 1e6
	m.Latency = hist.Summary()
	m.Errors = lc.errs.Load() - errs0 + connectErrs
	m.ErrorSample = lc.exampleErr()
	return m, nil
}
