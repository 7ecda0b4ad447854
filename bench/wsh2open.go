package bench

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/gobwas/ws"
	"github.com/switchyard-dev/switchyard/frame/h2"
)

// openRing is how many extended CONNECTs a connection can track by stream ID; InFlight
// must stay well under it.
const openRing = 1024

// newOpenState is a connection's state for ws-h2-open.
func newOpenState() *h2wsConn {
	closeWS, _ := clientFrame(ws.OpClose, []byte{0x03, 0xe8}, false) // 1000
	return &h2wsConn{opens: make([]h2wsOpen, openRing), nextID: 1, closeWS: closeWS}
}

// openNext sends an extended CONNECT on a new stream.
func (st *h2wsConn) openNext(cc *clientConn, now int64) error {
	id := st.nextID
	if id > 1<<31-1 {
		return fmt.Errorf("ws-h2-open: stream IDs used up")
	}
	slot := &st.opens[(id>>1)%openRing]
	if slot.id != 0 {
		return fmt.Errorf("ws-h2-open: stream %d still unanswered %d streams later", slot.id, openRing)
	}
	st.nextID += 2
	slot.id, slot.sentAt = id, now
	st.inFlight++
	cc.out = h2.AppendHeaders(cc.out, id, st.connectBlock(), false, h2.MinMaxFrameSize)
	return nil
}

// onOpenData reads the server's frames: a 200 completes an open, which is then closed
// cleanly (a close frame with END_STREAM, RFC 8441 §5; a reset instead would be a rapid
// reset to the server, RFC 9113 §10.5); once the server's END_STREAM ends the stream the
// next CONNECT goes out. It allocates nothing while the server encodes :status 200 as its
// static index.
func (st *h2wsConn) onOpenData(cc *clientConn, now int64, data []byte) (int, bool) {
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
		switch f.Type {
		case h2.FrameHeaders:
			err = st.opened(cc, now, &f)
		case h2.FrameData:
			cc.out = refill(cc.out, 0, &st.recv, int64(f.Length))
			if f.EndStream() {
				err = st.closed(cc, now, f.StreamID, nil)
			}
		case h2.FrameRSTStream:
			err = st.closed(cc, now, f.StreamID, &f)
		default:
			err = st.control(&f, &cc.out)
		}
		if err != nil {
			st.fail(err)
			return off, true
		}
	}
}

func (st *h2wsConn) opened(cc *clientConn, now int64, f *h2.Frame) error {
	slot := &st.opens[(f.StreamID>>1)%openRing]
	if slot.id != f.StreamID || slot.closing {
		return fmt.Errorf("ws-h2-open: HEADERS on stream %d, which awaits none", f.StreamID)
	}
	status, err := st.status(f)
	if err != nil {
		return err
	}
	if status != "200" {
		return fmt.Errorf("ws-h2-open: extended CONNECT answered %s", status)
	}
	st.onOpen(now, slot.sentAt)
	slot.closing = true
	if f.EndStream() {
		return fmt.Errorf("ws-h2-open: the server ended stream %d with its 200", f.StreamID)
	}
	n := int64(len(st.closeWS))
	if st.sendWin < n {
		return fmt.Errorf("ws-h2-open: no connection window left for a close frame")
	}
	st.sendWin -= n
	cc.out = h2.AppendDataHeader(cc.out, f.StreamID, uint32(n), true)
	cc.out = append(cc.out, st.closeWS...)
	return nil
}

// closed ends a stream: the server's END_STREAM after its close frame, or a reset (rst),
// which is an error before the 200 and the server's way to end it after. Then the next
// CONNECT goes out, while the run goes on.
func (st *h2wsConn) closed(cc *clientConn, now int64, id uint32, rst *h2.Frame) error {
	slot := &st.opens[(id>>1)%openRing]
	if slot.id != id {
		return fmt.Errorf("ws-h2-open: stream %d ended, which is not open", id)
	}
	wasOpen := slot.closing
	slot.id, slot.closing = 0, false
	st.inFlight--
	if rst != nil && !wasOpen {
		return fmt.Errorf("ws-h2-open: stream %d reset (%s) before its response", id, rst.ErrCode())
	}
	if !wasOpen {
		return fmt.Errorf("ws-h2-open: the server ended stream %d before its response", id)
	}
	if st.again() {
		return st.openNext(cc, now)
	}
	return nil
}

// RunWSH2Open measures how fast WebSockets open as streams of existing HTTP/2 connections
// (RFC 8441): p.Conns connections, p.InFlight WebSockets opening or closing on each at any
// time; each 200 is an open, closed at once, and when its stream has ended the next
// CONNECT goes out. Latency is from queuing the CONNECT to reading its 200. The loops
// sleep in the netpoller, never spin.
func RunWSH2Open(ctx context.Context, addr string, pid int, p WSH2Params, srcs []net.IP, live *Live) (Metrics, error) {
	p.defaults()
	if p.InFlight > openRing/4 {
		return Metrics{}, fmt.Errorf("ws-h2-open: %d in flight per connection, at most %d", p.InFlight, openRing/4)
	}
	var (
		hist Histogram
		run  h2wsRun
	)
	onOpen := func(now, sentAt int64) {
		if run.measuring.Load() {
			hist.Record(time.Duration(now - sentAt))
			run.ops.Add(1)
			live.add(1)
		}
	}
	again := func() bool {
		run.inflight.Add(-1)
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
	conns, err := connectH2WS(ctx, lc, d, p.Conns, func(int) (*h2wsConn, int, func(*clientConn, int64, []byte) (int, bool)) {
		st := newOpenState()
		st.onOpen, st.again, st.fail = onOpen, again, lc.fail
		return st, 0, st.onOpenData
	})
	if err != nil {
		return Metrics{Errors: lc.errs.Load(), ErrorSample: lc.exampleErr()}, err
	}
	for _, c := range conns {
		if uint32(p.InFlight) > c.st.maxStreams {
			return Metrics{}, fmt.Errorf("ws-h2-open: the server allows %d concurrent streams, the scenario keeps %d in flight", c.st.maxStreams, p.InFlight)
		}
	}
	m := Metrics{Conns: len(conns), Note: fmt.Sprintf("%d CONNECTs in flight on each of %d HTTP/2 connections", p.InFlight, len(conns))}
	connectErrs := lc.errs.Load()

	run.running.Store(true)
	run.inflight.Add(int64(p.InFlight * len(conns)))
	for _, c := range conns {
		st := c.st
		c.onLoop(func(cc *clientConn) {
			now := lc.now()
			for range p.InFlight {
				if err := st.openNext(cc, now); err != nil {
					lc.fail(err)
				}
			}
		})
	}
	errs0 := run.measure(ctx, lc, pid, p.Warmup, p.Duration, &m, "streams not ended")
	m.Latency = hist.Summary()
	m.Errors = lc.errs.Load() - errs0 + connectErrs
	m.ErrorSample = lc.exampleErr()
	return m, nil
}
