package bench

import (
	"testing"
	"time"
)

// TestPacedSmoke drives short paced runs (WebSocket and HTTP/1.1) against an in-process
// switchyard: answers must come back for what the schedule sent, without errors. Like
// TestEchoSmoke it ends when enough answers came, not after a set time.
func TestPacedSmoke(t *testing.T) {
	addr := startSwitchyard(t)
	for _, kind := range []string{KindWSPaced, KindH1Paced} {
		const want = 100
		live := &Live{}
		p := PacedParams{Conns: 20, Rate: 2000, Size: 64, Duration: hangGuard, Warmup: 10 * time.Millisecond}
		ctx := runUntil(t, func() bool { return live.load() >= want })
		var (
			m   Metrics
			err error
		)
		if kind == KindWSPaced {
			m, err = RunWSPaced(ctx, addr, 0, p, nil, live)
		} else {
			m, err = RunH1Paced(ctx, addr, 0, p, nil, live)
		}
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if m.Conns != p.Conns || m.Ops < want || m.Errors != 0 {
			t.Fatalf("%s: conns %d, %d answers, %d errors (%s)", kind, m.Conns, m.Ops, m.Errors, m.ErrorSample)
		}
		if m.Latency.N < m.Ops || m.Latency.P50 <= 0 || m.Latency.P99 < m.Latency.P50 {
			t.Fatalf("%s: %d answers, latency summary %+v", kind, m.Ops, m.Latency)
		}
		t.Logf("%s: %d answers, p50 %.0fµs p99 %.0fµs; %s", kind, m.Ops, m.Latency.P50, m.Latency.P99, m.Note)
	}
}
