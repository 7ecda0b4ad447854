package bench

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// PacedParams shape an open-loop run (ws-paced, h1-paced, h2-paced): Conns connections
// sending Rate messages (requests) a second in all, evenly spread over the connections
// and over time (see pace), measured for Duration after Warmup. Unlike the closed-loop
// scenarios, the load does not depend on how fast the server answers, and the client
// never spins: what it measures is the server's CPU for a given amount of work, wake-ups
// included, the case of most deployments (many connections, each busy now and then).
type PacedParams struct {
	Conns    int           `json:"conns"`
	Rate     int           `json:"rate"`           // per second, over all connections
	Size     int           `json:"size,omitempty"` // ws-paced: message bytes
	Duration time.Duration `json:"duration"`
	Warmup   time.Duration `json:"warmup"`
	Loops    int           `json:"client_loops,omitempty"` // default 2
	// With Rate 0 the suite sets Rate, before the scenario's first run, to RateFrac of
	// the median over servers of scenario RateOf's median rate in the same suite (a
	// saturated closed-loop figure of this machine), rounded to a thousand; Fallback
	// when RateOf has not run. RateNote says which it was.
	RateOf   string  `json:"rate_of,omitempty"`
	RateFrac float64 `json:"rate_frac,omitempty"`
	Fallback int     `json:"fallback_rate,omitempty"`
	RateNote string  `json:"rate_note,omitempty"`
}

// pacedRing bounds a connection's unanswered sends: when it is full the next send is
// skipped (and counted), which only happens when the server falls seconds behind.
const pacedRing = 8

// pacedConn is a paced connection's state: what one send writes and the times of the
// sends not answered yet, oldest first.
type pacedConn struct {
	msg  []byte
	sent [pacedRing]int64
	head int
	n    int
}

// pacedRun is the protocol-independent part of an open-loop run: the schedule on each
// loop, the answers, the counts and the latency histogram. Latency is from a message's
// write (not its due time) to its answer's read.
type pacedRun struct {
	lc                 *loadClient
	live               *Live
	hist               Histogram
	late               Histogram // how long after its due time each send left
	running, measuring atomic.Bool
	sent, skipped, got atomic.Uint64 // in the measured window
	inflight           atomic.Int64
}

// answer pops the oldest send of st; now is when its answer was read.
func (r *pacedRun) answer(st *pacedConn, now int64) error {
	if st.n == 0 {
		return errors.New("paced: an answer to nothing sent")
	}
	t := st.sent[st.head]
	st.head = (st.head + 1) % pacedRing
	st.n--
	r.inflight.Add(-1)
	if r.measuring.Load() {
		r.hist.Record(time.Duration(now - t))
		r.got.Add(1)
		r.live.add(1)
	}
	return nil
}

// loopPacer sends one loop's share of the schedule; it runs on that loop only.
type loopPacer struct {
	r     *pacedRun
	l     *clientLoop
	p     pace
	conns []*loadConn // conns[i] has index p.ids[i]
}

// tick sends everything due and sleeps (arms the loop's timer) until the next send.
// A loop that fell behind catches up at once: the schedule is the server's load, not
// a suggestion.
func (lp *loopPacer) tick() {
	r := lp.r
	for r.running.Load() {
		slot, due := lp.p.next()
		now := r.lc.now()
		if due > now {
			lp.l.armTimer(due - now)
			return
		}
		lp.p.advance()
		c := lp.conns[slot]
		if c.closed {
			continue // its close is an error already
		}
		st := c.cc.state.(*pacedConn)
		if st.n == pacedRing {
			if r.measuring.Load() {
				r.skipped.Add(1)
			}
			continue
		}
		c.write(st.msg)
		st.sent[(st.head+st.n)%pacedRing] = now
		st.n++
		r.inflight.Add(1)
		if r.measuring.Load() {
			r.sent.Add(1)
			r.late.Record(time.Duration(now - due))
		}
	}
}

// start gives every loop its connections' schedule, all starting 10 ms from now.
func (r *pacedRun) start(rate int) {
	loops := r.lc.loops
	index := make(map[*clientLoop]int, len(loops))
	for i, l := range loops {
		index[l] = i
	}
	loopOf := make([]int, len(r.lc.conns))
	for j, c := range r.lc.conns {
		loopOf[j] = index[c.loop]
	}
	ids := splitIDs(loopOf, len(loops))
	t0 := r.lc.now() + int64(10*time.Millisecond)
	r.running.Store(true)
	for i, l := range loops {
		if len(ids[i]) == 0 {
			continue
		}
		lp := &loopPacer{r: r, l: l, p: pace{start: t0, rate: int64(rate), conns: int64(len(r.lc.conns)), ids: ids[i]}}
		for _, j := range ids[i] {
			lp.conns = append(lp.conns, r.lc.conns[j])
		}
		l.exec(func() {
			if err := l.startTimer(lp.tick); err != nil {
				r.lc.fail(err)
				return
			}
			lp.tick()
		})
	}
}

// measure paces the connected client at p.Rate and measures the server (pid) for
// p.Duration after p.Warmup.
func (r *pacedRun) measure(ctx context.Context, pid int, p PacedParams, unit string) (Metrics, error) {
	lc := r.lc
	m := Metrics{Conns: len(lc.conns)}
	if m.Conns == 0 {
		m.Errors, m.ErrorSample = lc.errs.Load(), lc.exampleErr()
		return m, fmt.Errorf("no connection: %s", m.ErrorSample)
	}
	if p.Rate <= 0 {
		return m, errors.New("paced: no rate")
	}
	connectErrs := lc.errs.Load()
	r.start(p.Rate)
	sleepCtx(ctx, p.Warmup)
	errs0 := lc.errs.Load()
	r.measuring.Store(true)
	w := openFineWindow(pid)
	sleepCtx(ctx, p.Duration)
	m.Ops = r.got.Load()
	w.close(&m)
	r.measuring.Store(false)
	r.running.Store(false)
	for deadline := time.Now().Add(time.Second); r.inflight.Load() > 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	m.Latency = r.hist.Summary()
	m.Errors = lc.errs.Load() - errs0 + connectErrs
	m.ErrorSample = lc.exampleErr()
	// How far the client itself kept to its schedule: a late client offers bursts, not
	// an even load (timer slack alone is 50 µs).
	m.Note = fmt.Sprintf("target %d %s/s, sent %.0f/s, sends late by p50 %s p99 %s", p.Rate, unit,
		float64(r.sent.Load())/m.Seconds, r.late.Percentile(50).Round(time.Microsecond), r.late.Percentile(99).Round(time.Microsecond))
	if n := r.skipped.Load(); n > 0 {
		m.Note += fmt.Sprintf(", %d sends skipped (%d unanswered on a connection)", n, pacedRing)
	}
	if n := r.inflight.Load(); n > 0 {
		m.Note += fmt.Sprintf(", %d unanswered at the end", n)
	}
	if m.Conns < p.Conns {
		m.Note += fmt.Sprintf(", %d of %d connections", m.Conns, p.Conns)
	}
	return m, nil
}

func (p *PacedParams) defaults() {
	if p.Loops <= 0 {
		p.Loops = 2
	}
	if p.Size <= 0 {
		p.Size = 64
	}
}
