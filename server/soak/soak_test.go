package soak

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server"
)

var (
	soakDuration = flag.Duration("soak.duration", 5*time.Second,
		"how long the clients run (`make test` runs the default, `make soak` 2m)")
	soakClients = flag.Int("soak.clients", 4, "well-behaved clients per protocol")
)

// loops is fixed rather than one per CPU so that the memory tolerance below, which
// depends on it, is the same on every machine.
const loops = 4

// Tolerances for "back to the baseline" once every client has gone.
//
// Goroutines: the server starts none per connection (event loops, the ticker, the
// acceptors and the worker pool's purger all exist at the baseline) and the routes do not
// use the worker pool, so the count must come back exactly; the slack of 2 is for
// goroutines outside the server that come and go on their own (the runtime's cleanup and
// finalizer goroutines, a net poller wake-up). A leak of one goroutine per connection
// would miss it by thousands.
//
// Heap (HeapInuse after two GCs, so that sync.Pool's victim cache is empty too): each loop
// may keep its write batch (up to 256 KiB, maxRetainedBatch in server/batch.go) and its
// compression scratch buffer (as large as the largest message compressed on it, 128 KiB
// here), and gnet sizes its per-connection buffer pools by use: 4 loops × 384 KiB plus
// 2 MiB for the allocator's partly used spans is 3.5 MiB; 4 MiB is the bound. The run
// opens thousands of connections, so a leak of a few hundred bytes per connection exceeds
// it (the summary prints the bytes per connection the tolerance allows).
const (
	goroutineSlack = 2
	heapSlack      = 4 << 20
)

func TestSoak(t *testing.T) {
	duration, clients, bucket := *soakDuration, *soakClients, time.Second
	if raceEnabled {
		// `make test` runs everything under -race, which slows clients and server alike
		// by an order of magnitude: keep the default soak light, and allow a slower beat.
		if !flagSet("soak.duration") {
			duration = 3 * time.Second
		}
		if !flagSet("soak.clients") {
			clients = 2
		}
		bucket = 2 * time.Second
	}
	srv, addr := startSoakServer(t)

	// Warm up every loop on every protocol, so that what is created once per loop or per
	// process (loop state, pools, compressors) is in the baseline.
	warm := &env{addr: addr, t: newTally(time.Second)}
	for i := range 2 * loops {
		rng := rand.New(rand.NewPCG(uint64(i), 9))
		var seq int64
		h1Session(context.Background(), warm, rng, &seq)
		wsSession(context.Background(), warm, rng, &seq)
		for _, up := range []bool{false, true} {
			c, err := warm.dial()
			if err != nil {
				t.Fatal(err)
			}
			if err := h2Session(context.Background(), warm, rng, &seq, c, up); err != nil {
				t.Fatalf("warm-up HTTP/2: %v", err)
			}
			_ = c.Close()
		}
	}
	if warm.t.lost.Load() > 0 {
		t.Fatalf("warm-up failed: %s", strings.Join(warm.t.errs, "\n"))
	}
	if !waitIdle(srv, 10*time.Second) {
		t.Fatalf("connections still open after the warm-up: %v", srv.Stats().Open)
	}
	baseG, baseHeap := settle()
	before := srv.Stats()

	tl := newTally(bucket)
	e := &env{addr: addr, t: tl}
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var peakHeap, peakG, peakOpen atomic.Int64
	samplerDone := make(chan struct{})
	go func() {
		defer close(samplerDone)
		var ms runtime.MemStats
		for ctx.Err() == nil {
			runtime.ReadMemStats(&ms)
			maxInto(&peakHeap, int64(ms.HeapInuse))
			maxInto(&peakG, int64(runtime.NumGoroutine()))
			maxInto(&peakOpen, int64(srv.Open()))
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	go func() { // the heartbeat: how well the machine schedules this process
		const every = 10 * time.Millisecond
		for next := time.Now().Add(every); ctx.Err() == nil; next = next.Add(every) {
			time.Sleep(time.Until(next))
			tl.beat(time.Since(next))
		}
	}()
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() { runH1Client(ctx, e, 100+i) })
		wg.Go(func() { runWSClient(ctx, e, 200+i) })
		wg.Go(func() { runH2Client(ctx, e, 300+i, i%2 == 1) })
	}
	id := 1000
	for _, f := range faults {
		for range f.workers {
			id++
			fid := id
			wg.Go(func() { runFault(ctx, e, f.run, fid) })
		}
	}
	wg.Wait()
	<-samplerDone
	ran := time.Since(tl.start)

	// Everyone has gone: the server must come back to where it started.
	idle := waitIdle(srv, 10*time.Second)
	g, heap := baseG, int64(0)
	for deadline := time.Now().Add(5 * time.Second); ; {
		g, heap = settle()
		if g <= baseG+goroutineSlack || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	after := srv.Stats()

	conns := tl.faultConn.Load()
	for p := range numProtos {
		conns += tl.conns[p].Load()
	}
	faultTotal, faultList := tl.faultSummary()
	gaps, starved, worst := tl.gaps(duration)
	summary := fmt.Sprintf("soak %v: connections %d (http1 %d, websocket %d, http2 %d, fault %d); "+
		"requests %d (http1 %d, http2 streams %d); websocket messages %d sent, %d echoed (%d compressed, %d fragmented), "+
		"%d dropped by slow readers' send budget; faults injected %d: %s; lost %d; "+
		"goroutines %d -> %d (peak %d, slack %d); heap in use %.1f -> %.1f MiB (peak %.1f, slack %d MiB = %d B/connection); "+
		"open connections peak %d, after %v; machine: test process starved in %d of %d %v intervals (heartbeat up to %v late)",
		ran.Round(100*time.Millisecond), conns, tl.conns[protoH1].Load(), tl.conns[protoWS].Load(), tl.conns[protoH2].Load(),
		tl.faultConn.Load(), after.Requests-before.Requests, tl.h1Requests.Load(), tl.h2Requests.Load(),
		tl.wsSent.Load(), tl.exchanges[protoWS].Load(), tl.wsCompressed.Load(), tl.wsFragmented.Load(),
		tl.wsDropped.max.Load(), faultTotal, groupFaults(faultList), tl.lost.Load(),
		baseG, g, peakG.Load(), goroutineSlack, mib(baseHeap), mib(heap), mib(peakHeap.Load()), heapSlack>>20,
		heapSlack/max(conns, 1), peakOpen.Load(), after.Open, starved, int(duration/bucket), bucket, worst.Round(time.Millisecond))
	t.Log(summary)
	t.Logf("faults by variant: %s", faultList)
	t.Logf("longest fault by kind: %v", tl.faultTime)
	t.Logf("slowest well-behaved exchange: http1 %v, websocket %v, http2 %v",
		time.Duration(tl.maxLat[protoH1].Load()), time.Duration(tl.maxLat[protoWS].Load()), time.Duration(tl.maxLat[protoH2].Load()))
	t.Logf("server counters (delta): %s", statsDelta(before, after))
	if testing.Verbose() {
		fmt.Println("SOAK SUMMARY: " + summary)
	}

	// Every well-behaved exchange came back intact and in order, and nothing else failed.
	if n := tl.lost.Load(); n > 0 {
		t.Errorf("%d well-behaved exchanges lost, corrupted, out of order or failed", n)
	}
	for _, msg := range tl.lostErrs {
		t.Errorf("lost: %s", msg)
	}
	for _, msg := range tl.errs {
		t.Errorf("%s", msg)
	}
	if tl.nerrs > len(tl.errs) {
		t.Errorf("… and %d more failures; all %d by kind: %v", tl.nerrs-len(tl.errs), tl.nerrs, tl.errKinds)
	}
	// The server kept serving the well-behaved clients throughout.
	for p := range numProtos {
		if tl.exchanges[p].Load() == 0 {
			t.Errorf("%s: no well-behaved exchange completed", protoNames[p])
		}
	}
	for _, gap := range gaps {
		t.Errorf("the server stopped serving: %s", gap)
	}
	// Back to the baseline.
	if !idle {
		t.Errorf("connections still open 10 s after the clients left: %v", after.Open)
	}
	for proto, n := range after.Open {
		if n != 0 {
			t.Errorf("Stats().Open[%q] = %d after every client left", proto, n)
		}
	}
	if g > baseG+goroutineSlack {
		t.Errorf("goroutines: %d at the baseline, %d after the soak (slack %d)\n%s", baseG, g, goroutineSlack, goroutineDump())
	}
	if heap > baseHeap+heapSlack {
		t.Errorf("heap in use: %.1f MiB at the baseline, %.1f MiB after the soak (slack %d MiB)", mib(baseHeap), mib(heap), heapSlack>>20)
	}
	// The server's counters agree with what the clients counted.
	d := func(a, b uint64) uint64 { return b - a }
	outcome := func(st server.Stats, status int, reason string) uint64 {
		return st.Outcomes[server.Outcome{Status: status, Reason: reason}]
	}
	for _, msg := range []string{
		tl.requests.check("requests", d(before.Requests, after.Requests)),
		tl.ws101.check("101 websocket", d(outcome(before, 101, "websocket"), outcome(after, 101, "websocket"))),
		tl.h2c101.check("101 h2c", d(outcome(before, 101, "h2c"), outcome(after, 101, "h2c"))),
		tl.h2Streams.check("HTTP/2 streams", d(before.Streams, after.Streams)),
		tl.wsIn.check("WebSocket messages in", d(before.MessagesIn, after.MessagesIn)),
	} {
		if msg != "" {
			t.Error(msg)
		}
	}
	in, out, dropped := d(before.MessagesIn, after.MessagesIn), d(before.MessagesOut, after.MessagesOut), d(before.Dropped, after.Dropped)
	if out < uint64(tl.wsEchoed.Load()) {
		t.Errorf("WebSocket messages out: server counted %d, clients received %d echoes", out, tl.wsEchoed.Load())
	}
	if msg := tl.wsDropped.check("WebSocket messages dropped (slow readers' missing echoes)", dropped); msg != "" {
		t.Error(msg)
	}
	if in != out+dropped {
		t.Errorf("an echo route answers every message it gets or drops it: in %d != out %d + dropped %d", in, out, dropped)
	}
	// The send budget shows either way: echoes dropped by the route's policy, or the
	// connection's reading paused by the core until the reader caught up.
	if tl.faults["slow-reader-ws"] > 0 && tl.wsDropped.max.Load() == 0 && after.Paused == before.Paused {
		t.Errorf("slow WebSocket readers sent 16 MiB each without reading, yet no echo was dropped and no reading paused: is the send budget applied?")
	}
	if tl.wsSent.Load() > 0 && (after.BytesIn == before.BytesIn || after.BytesOut == before.BytesOut) {
		t.Errorf("WebSocket bytes in/out did not move (%d, %d) while %d messages were echoed",
			d(before.BytesIn, after.BytesIn), d(before.BytesOut, after.BytesOut), tl.wsEchoed.Load())
	}
	for _, c := range []struct {
		seen    string
		outcome server.Outcome
	}{
		{"408", server.Outcome{Status: 408, Reason: "timeout"}},
		{"400", server.Outcome{Status: 400, Reason: "malformed_request"}},
	} {
		if got := after.Outcomes[c.outcome] - before.Outcomes[c.outcome]; got < uint64(tl.seenCount(c.seen)) {
			t.Errorf("outcome %v: server counted %d, fault clients received %d", c.outcome, got, tl.seenCount(c.seen))
		}
	}
	for code, n := range tl.seenBy {
		name, ok := strings.CutPrefix(code, "h2-goaway-")
		if !ok || name == "NO_ERROR" {
			continue
		}
		if got := after.Errors[name] - before.Errors[name]; got < uint64(n) {
			t.Errorf("HTTP/2 errors %s: server counted %d, fault clients received %d GOAWAYs with it", name, got, n)
		}
	}
}

// startSoakServer runs the soak server on a loopback port until the test ends, and checks
// that it then shuts down cleanly.
func startSoakServer(t *testing.T) (*server.Server, string) {
	t.Helper()
	srv := server.New(server.Config{
		Addr: "127.0.0.1:0", Loops: loops,
		HeaderTimeout: DefaultTimeouts.Header, BodyTimeout: DefaultTimeouts.Header, IdleTimeout: DefaultTimeouts.Idle,
		ShutdownTimeout: 5 * time.Second,
		Logger:          slog.New(slog.DiscardHandler),
	})
	InstallRoutes(srv, DefaultTimeouts)
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Serve did not return after cancel")
		}
	})
	addr := srv.Addr().String()
	// Serve starts the loops asynchronously; wait until it answers.
	for deadline := time.Now().Add(5 * time.Second); ; {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			_ = c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return srv, addr
}

// waitIdle waits until the server reports no open connection of any protocol.
func waitIdle(srv *server.Server, within time.Duration) bool {
	for deadline := time.Now().Add(within); ; {
		open := int64(0)
		for _, n := range srv.Stats().Open {
			open += n
		}
		if open == 0 && srv.Open() == 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// settle collects garbage twice (sync.Pool keeps a victim cache across one GC) and
// returns the goroutine count and the heap in use.
func settle() (goroutines int, heapInUse int64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return runtime.NumGoroutine(), int64(ms.HeapInuse)
}

func maxInto(v *atomic.Int64, x int64) {
	for {
		old := v.Load()
		if x <= old || v.CompareAndSwap(old, x) {
			return
		}
	}
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func goroutineDump() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// groupFaults sums "kind/variant=n" entries by kind.
func groupFaults(list string) string {
	sums := map[string]int64{}
	var order []string
	for _, f := range strings.Fields(list) {
		kv := strings.SplitN(f, "=", 2)
		kind, _, _ := strings.Cut(kv[0], "/")
		var n int64
		_, _ = fmt.Sscan(kv[1], &n)
		if _, ok := sums[kind]; !ok {
			order = append(order, kind)
		}
		sums[kind] += n
	}
	var b strings.Builder
	for i, k := range order {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s=%d", k, sums[k])
	}
	return b.String()
}

// statsDelta renders the counters that moved between two snapshots.
func statsDelta(a, b server.Stats) string {
	var parts []string
	add := func(name string, x, y uint64) {
		if y != x {
			parts = append(parts, fmt.Sprintf("%s=%d", name, y-x))
		}
	}
	add("requests", a.Requests, b.Requests)
	add("messages_in", a.MessagesIn, b.MessagesIn)
	add("messages_out", a.MessagesOut, b.MessagesOut)
	add("bytes_in", a.BytesIn, b.BytesIn)
	add("bytes_out", a.BytesOut, b.BytesOut)
	add("dropped", a.Dropped, b.Dropped)
	add("h2_streams", a.Streams, b.Streams)
	var keys []string
	for o, n := range b.Outcomes {
		if n != a.Outcomes[o] {
			keys = append(keys, fmt.Sprintf("%d/%s=%d", o.Status, o.Reason, n-a.Outcomes[o]))
		}
	}
	for code, n := range b.Errors {
		if n != a.Errors[code] {
			keys = append(keys, fmt.Sprintf("h2err/%s=%d", code, n-a.Errors[code]))
		}
	}
	slices.Sort(keys)
	return strings.Join(append(parts, keys...), " ")
}

func flagSet(name string) (set bool) {
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
