package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
)

// BroadcastParams shape a ws-broadcast run: one publisher on /pub, Subs subscribers on
// /sub, messages of Size bytes (at least 16), at most Window broadcasts not yet received
// by every subscriber.
type BroadcastParams struct {
	Subs     int           `json:"subs"`
	Size     int           `json:"size"`
	Window   int           `json:"window"`
	Duration time.Duration `json:"duration"`
	Warmup   time.Duration `json:"warmup"`
	Loops    int           `json:"client_loops"`
	// Stall is how long a broadcast may take to reach every subscriber before it counts
	// as an error (default 1s).
	Stall time.Duration `json:"stall,omitempty"`
}

const slots = 256 // broadcasts tracked at once; Window must stay well below

// RunBroadcast measures delivered messages per second (Subs per broadcast) and fan-out
// latency, from the publisher's write to each subscriber's read. The publisher stamps a
// sequence number and its clock into each message; a broadcast counts as done when every
// subscriber has it, or after Stall (a server may drop for slow readers: the report
// shows it as errors).
func RunBroadcast(ctx context.Context, addr string, pid int, p BroadcastParams, srcs []net.IP, live *Live) (Metrics, error) {
	if p.Size < 16 {
		p.Size = 16
	}
	if p.Window <= 0 {
		p.Window = 4
	}
	p.Window = min(p.Window, slots/4)
	if p.Loops <= 0 {
		p.Loops = 2
	}
	if p.Stall <= 0 {
		p.Stall = time.Second
	}
	var (
		hist      Histogram
		measuring atomic.Bool
		delivered atomic.Uint64
		counts    [slots]atomic.Int64
		done      = make(chan struct{}, slots)
	)
	subs := int64(p.Subs)
	onMessage := func(cc *clientConn, now int64, _ bool, msg []byte) error {
		if len(msg) < 16 {
			return fmt.Errorf("broadcast: %d-byte message", len(msg))
		}
		seq := binary.LittleEndian.Uint64(msg)
		sent := int64(binary.LittleEndian.Uint64(msg[8:]))
		if measuring.Load() {
			hist.Record(time.Duration(now - sent))
			delivered.Add(1)
			live.add(1)
		}
		if counts[seq%slots].Add(1) == subs {
			select {
			case done <- struct{}{}:
			default:
			}
		}
		return nil
	}
	lc, err := newLoadClient(p.Loops)
	if err != nil {
		return Metrics{}, err
	}
	defer lc.stop()
	got := lc.connect(ctx, newDialer(addr, "/sub", srcs, false), p.Subs, 64, func(int) *clientConn {
		return &clientConn{onMessage: onMessage}
	})
	m := Metrics{Conns: got}
	if got < p.Subs {
		m.Errors, m.ErrorSample = lc.errs.Load(), lc.exampleErr()
		return m, fmt.Errorf("%d of %d subscribers connected: %s", got, p.Subs, m.ErrorSample)
	}
	pub, _, err := newDialer(addr, "/pub", srcs, false).dial(ctx)
	if err != nil {
		return m, fmt.Errorf("publisher: %w", err)
	}
	defer pub.Close()

	payload := payloadFor(p.Size)
	var seq, completed, stalls uint64
	publish := func() error {
		counts[seq%slots].Store(0)
		binary.LittleEndian.PutUint64(payload, seq)
		binary.LittleEndian.PutUint64(payload[8:], uint64(lc.now()))
		f, err := clientFrame(ws.OpBinary, payload, false)
		if err != nil {
			return err
		}
		seq++
		_, err = pub.Write(f)
		return err
	}
	run := func(d time.Duration) error {
		end := time.Now().Add(d)
		for time.Now().Before(end) && ctx.Err() == nil {
			if seq-completed < uint64(p.Window) {
				if err := publish(); err != nil {
					return err
				}
				continue
			}
			select {
			case <-done:
				completed++
			case <-time.After(p.Stall):
				completed++ // give up on the oldest broadcast
				stalls++
			case <-ctx.Done():
			}
		}
		return nil
	}
	// A server may register a subscriber only after its upgrade completed: publish, one
	// at a time, until a broadcast reaches every subscriber, rather than guess how long
	// registering takes. A server that never gets there shows it as stalls below.
	for ready, giveUp := false, time.Now().Add(10*time.Second); !ready && ctx.Err() == nil && time.Now().Before(giveUp); {
		if err := publish(); err != nil {
			return m, fmt.Errorf("publisher: %w", err)
		}
		select {
		case <-done:
			ready = true
		case <-time.After(100 * time.Millisecond):
		}
	}
	completed = seq // a straggling probe only widens the window by one for a moment
	if err := run(p.Warmup); err != nil {
		return m, fmt.Errorf("publisher: %w", err)
	}
	errs0, stalls0, seq0 := lc.errs.Load(), stalls, seq
	measuring.Store(true)
	w := openWindow(pid)
	if err := run(p.Duration); err != nil {
		return m, fmt.Errorf("publisher: %w", err)
	}
	m.Ops = delivered.Load()
	w.close(&m)
	measuring.Store(false)
	m.Latency = hist.Summary()
	m.MBps = float64(m.Ops) * float64(p.Size) / m.Seconds / 1e6
	m.Errors = lc.errs.Load() - errs0 + (stalls - stalls0)
	m.ErrorSample = lc.exampleErr()
	if stalls > stalls0 && m.ErrorSample == "" {
		m.ErrorSample = fmt.Sprintf("broadcasts not delivered to every subscriber within %v", p.Stall)
	}
	m.Note = fmt.Sprintf("%.0f broadcasts/s to %d subscribers", float64(seq-seq0)/m.Seconds, got)
	return m, nil
}
