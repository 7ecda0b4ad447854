package bench

import (
	"context"
	"sync/atomic"
	"time"
)

// opTally counts the operations of a closed-loop run (ws-handshake, tls-handshake), done
// on many goroutines: the latency of each one that ends inside the measured window, and
// the errors, keeping one message as a sample.
type opTally struct {
	hist      Histogram
	measuring atomic.Bool
	ops, errs atomic.Uint64
	sample    atomic.Value
	live      *Live
}

// done records one operation that took lat, or failed with err; one that ends outside
// the window, or after ctx ended, is not counted.
func (t *opTally) done(ctx context.Context, lat time.Duration, err error) {
	if !t.measuring.Load() || ctx.Err() != nil {
		return
	}
	if err != nil {
		t.errs.Add(1)
		t.sample.Store(err.Error())
		return
	}
	t.hist.Record(lat)
	t.ops.Add(1)
	t.live.add(1)
}

// measure lets the run warm up, then measures it for d: operations counted, the server's
// and the harness's CPU.
func (t *opTally) measure(ctx context.Context, pid int, warmup, d time.Duration) Metrics {
	sleepCtx(ctx, warmup)
	t.measuring.Store(true)
	w := openWindow(pid)
	sleepCtx(ctx, d)
	m := Metrics{Ops: t.ops.Load()}
	w.close(&m)
	t.measuring.Store(false)
	return m
}

// report adds the errors and the latencies to m.
func (t *opTally) report(m *Metrics) {
	m.Errors = t.errs.Load()
	if s, ok := t.sample.Load().(string); ok {
		m.ErrorSample = s
	}
	m.Latency = t.hist.Summary()
}
