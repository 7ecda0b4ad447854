package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"sync/atomic"
	"time"
)

// TwoNodeParams shape a ws-broadcast-2nodes run: Subs subscribers split over two server
// nodes joined by NATS, one publisher on node 1 keeping at most Window broadcasts not yet
// received by every subscriber, Size-byte messages, Duration measured after Warmup.
// Without Rate the publisher is a closed loop: it publishes as fast as the slower of the
// two nodes lets it. With Rate it publishes Rate broadcasts a second on a fixed schedule
// (the window still bounds it: a send that finds the window full waits, counted in the
// note), so that every server's latency and CPU are taken at the same load.
type TwoNodeParams struct {
	Subs     int           `json:"subs"`
	Size     int           `json:"size"`
	Window   int           `json:"window"`
	Rate     int           `json:"rate,omitempty"` // broadcasts/s (0: as fast as the window allows)
	Duration time.Duration `json:"duration"`
	Warmup   time.Duration `json:"warmup"`
	Loops    int           `json:"client_loops"`
	// Stall is how long a broadcast may take to reach every subscriber before the
	// publisher stops waiting for it (default 2s); what never arrives counts as lost.
	Stall time.Duration `json:"stall,omitempty"`
	// Messages, when set, ends the measured phase after that many broadcasts rather than
	// after Duration (the smoke test counts exactly).
	Messages int `json:"messages,omitempty"`
}

// roomNode is one server node of a two-node run.
type roomNode struct {
	addr string
	pid  int // for /proc (0: not measured)
}

// twoNodeRun is what a run's connections share; each member touches its own state on
// its client loop and the shared counters atomically.
type twoNodeRun struct {
	subs      int64
	hist      Histogram
	measuring atomic.Bool
	delivered atomic.Uint64
	perNode   [2]atomic.Uint64
	unique    atomic.Uint64 // first deliveries of sequence numbers ≥ countFrom
	dups      atomic.Uint64
	stale     atomic.Uint64
	countFrom atomic.Uint64 // where loss accounting starts (MaxUint64: not yet)
	acks      atomic.Int64  // replies to join (centrifuge's subscribe)
	counts    [slots]atomic.Int64
	done      chan uint64 // the sequence numbers that reached every subscriber
	live      *Live
}

// roomMember is one connection's state: a subscriber on node 0 or 1, or the publisher
// (node -1, whose copies of its own broadcasts are read and not counted).
type roomMember struct {
	r     *twoNodeRun
	proto *roomProto
	node  int
	win   seqWindow
	acked int
	now   int64
	err   error
	onPub func([]byte)
}

func (r *twoNodeRun) member(proto *roomProto, node int) *clientConn {
	m := &roomMember{r: r, proto: proto, node: node}
	m.onPub = m.publication
	return &clientConn{onMessage: m.message}
}

func (m *roomMember) message(cc *clientConn, now int64, _ bool, msg []byte) error {
	m.now = now
	before := m.acked
	if err := m.proto.receive(msg, &cc.out, &m.acked, m.onPub); err != nil {
		return err
	}
	if m.acked != before {
		m.r.acks.Add(int64(m.acked - before))
	}
	err := m.err
	m.err = nil
	return err
}

func (m *roomMember) publication(payload []byte) {
	seq, sent, err := parseStamp(payload)
	if err != nil {
		m.err = err
		return
	}
	if m.node < 0 {
		return
	}
	r := m.r
	switch m.win.add(seq) {
	case seqDup:
		r.dups.Add(1)
		return
	case seqStale:
		r.stale.Add(1)
		return
	}
	if seq >= r.countFrom.Load() {
		r.unique.Add(1)
	}
	if r.measuring.Load() {
		r.hist.Record(time.Duration(m.now - sent))
		r.delivered.Add(1)
		r.perNode[m.node].Add(1)
		r.live.add(1)
	}
	if r.counts[seq%slots].Add(1) == r.subs {
		select {
		case r.done <- seq:
		default:
		}
	}
}

// RunTwoNodes measures a broadcast that spans two nodes: deliveries per second (a
// message received by one subscriber is one delivery), fan-out latency from the
// publisher's clock stamped into each message to each subscriber's read (one process,
// one clock), lost and duplicated messages (each is numbered; every subscriber must get
// every one published after all had joined), and each node's CPU per delivery it made.
// Subscribers 0..⌈Subs/2⌉-1 are on node 1 with the publisher, the rest on node 2.
func RunTwoNodes(ctx context.Context, proto roomProto, nodes [2]roomNode, natsPid int, p TwoNodeParams, srcs []net.IP, live *Live) (Metrics, RoomCounts, error) {
	var rc RoomCounts
	m, err := runTwoNodes(ctx, proto, nodes, natsPid, p, srcs, live, &rc)
	return m, rc, err
}

// RoomCounts are a two-node run's message accounting, over every broadcast published
// after all members had joined (warm-up included).
type RoomCounts struct {
	Published  uint64 // broadcasts
	Delivered  uint64 // first deliveries to subscribers
	Lost       int64  // Published × subscribers − Delivered
	Duplicated uint64
	Stale      uint64 // arrived more than 64 behind the newest: neither counted nor judged
}

func runTwoNodes(ctx context.Context, proto roomProto, nodes [2]roomNode, natsPid int, p TwoNodeParams, srcs []net.IP, live *Live, rc *RoomCounts) (Metrics, error) {
	p.Size = max(p.Size, minStampSize)
	if p.Window <= 0 {
		p.Window = 8
	}
	p.Window = min(p.Window, slots/4)
	if p.Loops <= 0 {
		p.Loops = 2
	}
	if p.Stall <= 0 {
		p.Stall = 2 * time.Second
	}
	if p.Subs < 2 {
		return Metrics{}, errors.New("ws-broadcast-2nodes: at least one subscriber per node")
	}
	r := &twoNodeRun{subs: int64(p.Subs), done: make(chan uint64, slots), live: live}
	r.countFrom.Store(math.MaxUint64)

	lc, err := newLoadClient(p.Loops)
	if err != nil {
		return Metrics{}, err
	}
	defer lc.stop()
	n1 := p.Subs - p.Subs/2
	lc.connect(ctx, newDialer(nodes[0].addr, proto.path, srcs, false), n1, 64, func(int) *clientConn { return r.member(&proto, 0) })
	got := lc.connect(ctx, newDialer(nodes[1].addr, proto.path, srcs, false), p.Subs-n1, 64, func(int) *clientConn { return r.member(&proto, 1) })
	m := Metrics{Conns: got}
	if got < p.Subs {
		m.Errors, m.ErrorSample = lc.errs.Load(), lc.exampleErr()
		return m, fmt.Errorf("%d of %d subscribers connected: %s", got, p.Subs, m.ErrorSample)
	}
	// The publisher has a client of its own: its loop reads its copies of the broadcasts
	// (a member of the room gets them too) while the subscribers' loops are busy.
	plc, err := newLoadClient(1)
	if err != nil {
		return m, err
	}
	defer plc.stop()
	if plc.connect(ctx, newDialer(nodes[0].addr, proto.path, srcs, false), 1, 1, func(int) *clientConn { return r.member(&proto, -1) }) != 1 {
		return m, fmt.Errorf("publisher: %s", plc.exampleErr())
	}
	pub := plc.conns[0]
	if proto.join != nil {
		pub.asyncWrite(proto.join)
		for _, c := range lc.conns {
			c.asyncWrite(proto.join)
		}
	}
	if want := int64(proto.joinAcks) * int64(p.Subs+1); want > 0 {
		for giveUp := time.Now().Add(30 * time.Second); r.acks.Load() < want; {
			if ctx.Err() != nil || time.Now().After(giveUp) || lc.errs.Load()+plc.errs.Load() > 0 {
				return m, fmt.Errorf("%d of %d members joined the channel: %s%s", r.acks.Load(), want, lc.exampleErr(), plc.exampleErr())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	payload := newStampPayload(p.Size)
	var seq, completed, stalls, heldBack uint64
	publish := func() error {
		r.counts[seq%slots].Store(0)
		stamp(payload, seq, lc.now())
		f, err := proto.publish(payload, seq)
		if err != nil {
			return err
		}
		seq++
		pub.asyncWrite(f)
		return nil
	}
	// counted reports whether a broadcast that reached everyone was one of the window's:
	// a probe (below) that completes late must not make room for another broadcast.
	counted := func(s uint64) bool { return s >= r.countFrom.Load() }
	// wait takes one broadcast off the window: it reached every subscriber, or Stall
	// passed and the publisher stops waiting for it.
	wait := func() {
		stall := time.NewTimer(p.Stall)
		defer stall.Stop()
		for {
			select {
			case s := <-r.done:
				if !counted(s) {
					continue
				}
				completed++
			case <-stall.C:
				completed++
				stalls++
			case <-ctx.Done():
			}
			return
		}
	}
	// paced sleeps until the k-th broadcast of a paced phase begun at t0 is due, and
	// takes the broadcasts that completed meanwhile off the window. A send that finds the
	// window full waits for room, and the ones due meanwhile follow at once.
	paced := func(t0 time.Time, k uint64) {
		due := t0.Add(time.Duration(k) * time.Second / time.Duration(p.Rate))
		if d := time.Until(due); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
			}
		}
		for drained := false; !drained; {
			select {
			case s := <-r.done:
				if counted(s) {
					completed++
				}
			default:
				drained = true
			}
		}
		if seq-completed >= uint64(p.Window) {
			heldBack++
		}
	}
	run := func(d time.Duration, limit int) error {
		t0 := time.Now()
		end, start := t0.Add(d), seq
		for ctx.Err() == nil && (limit > 0 || time.Now().Before(end)) {
			if limit > 0 && seq-start >= uint64(limit) {
				break
			}
			if p.Rate > 0 {
				paced(t0, seq-start)
			}
			for seq-completed >= uint64(p.Window) && ctx.Err() == nil {
				wait()
			}
			if err := publish(); err != nil {
				return err
			}
		}
		return nil
	}
	// Subscriptions may reach a node's broker (NATS) after the upgrade or the join
	// reply: publish, one at a time, until a broadcast reaches every subscriber rather
	// than guess how long that takes.
	for ready, giveUp := false, time.Now().Add(15*time.Second); !ready; {
		if ctx.Err() != nil || time.Now().After(giveUp) {
			return m, fmt.Errorf("no broadcast reached all %d subscribers within 15s (%s%s)", p.Subs, lc.exampleErr(), plc.exampleErr())
		}
		if err := publish(); err != nil {
			return m, fmt.Errorf("publisher: %w", err)
		}
		select {
		case <-r.done:
			ready = true
		case <-time.After(100 * time.Millisecond):
		}
	}
	// From here on every subscriber must get every broadcast exactly once.
	r.countFrom.Store(seq)
	from := seq
	completed = seq
	if err := run(p.Warmup, 0); err != nil {
		return m, fmt.Errorf("publisher: %w", err)
	}
	errs0, seq0, held0 := lc.errs.Load(), seq, heldBack
	r.measuring.Store(true)
	w1, w2, wn := openFineWindow(nodes[0].pid), openFineWindow(nodes[1].pid), openFineWindow(natsPid)
	if err := run(p.Duration, p.Messages); err != nil {
		return m, fmt.Errorf("publisher: %w", err)
	}
	m.Ops = r.delivered.Load()
	m1, m2 := r.perNode[0].Load(), r.perNode[1].Load()
	w1.close(&m)
	var node2, nats Metrics
	w2.close(&node2)
	wn.close(&nats)
	r.measuring.Store(false)
	// What is still on its way counts as lost only if it does not arrive: wait while
	// deliveries keep coming, up to Stall without one.
	want := uint64(p.Subs) * (seq - from)
	for last, quiet := r.unique.Load(), time.Now(); r.unique.Load() < want && ctx.Err() == nil && time.Since(quiet) < p.Stall; {
		time.Sleep(5 * time.Millisecond)
		if n := r.unique.Load(); n != last {
			last, quiet = n, time.Now()
		}
	}
	m.ServerCPU += node2.ServerCPU
	m.OtherCPU = max(0, m.OtherCPU-node2.ServerCPU-nats.ServerCPU)
	if m.Ops > 0 {
		m.ServerUsPer = m.ServerCPU * 1e6 / float64(m.Ops)
	}
	m.Latency = r.hist.Summary()
	m.MBps = float64(m.Ops) * float64(p.Size) / m.Seconds / 1e6

	published := seq - from
	lost := int64(uint64(p.Subs)*published) - int64(r.unique.Load())
	dups, stale := r.dups.Load(), r.stale.Load()
	*rc = RoomCounts{Published: published, Delivered: r.unique.Load(), Lost: lost, Duplicated: dups, Stale: stale}
	clientErrs := lc.errs.Load() - errs0 + plc.errs.Load()
	m.Errors = uint64(max(lost, 0)) + dups + clientErrs
	m.ErrorSample = lc.exampleErr()
	if m.ErrorSample == "" {
		m.ErrorSample = plc.exampleErr()
	}
	if m.ErrorSample == "" && (lost != 0 || dups > 0) {
		m.ErrorSample = fmt.Sprintf("%d lost, %d duplicated of %d×%d", lost, dups, published, p.Subs)
	}
	m.Note = fmt.Sprintf("%.0f broadcasts/s to %d+%d subscribers; node 1 %.2f µs/delivery, node 2 %.2f µs/delivery, nats-server %.3f cores; "+
		"lost %d, duplicated %d, stale %d of %d×%d; %d stalls",
		float64(seq-seq0)/m.Seconds, n1, p.Subs-n1, usPer(m.ServerCPU-node2.ServerCPU, m1), usPer(node2.ServerCPU, m2),
		pct(nats.ServerCPU, nats.Seconds)/100, lost, dups, stale, published, p.Subs, stalls)
	if p.Rate > 0 {
		m.Note = fmt.Sprintf("paced at %d broadcasts/s (%d sends found the window of %d full); ", p.Rate, heldBack-held0, p.Window) + m.Note
	}
	return m, nil
}

// usPer is cpu seconds in µs per op.
func usPer(cpu float64, ops uint64) float64 {
	if ops == 0 {
		return 0
	}
	return cpu * 1e6 / float64(ops)
}
