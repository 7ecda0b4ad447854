package bench

import (
	"context"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server"
)

// startSwitchyard serves the bench routes in this process and returns the address.
func startSwitchyard(t *testing.T) string {
	t.Helper()
	srv := server.New(server.Config{Addr: "127.0.0.1:0", Logger: quietSlog()})
	BenchRoutes(srv)
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.Serve(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
	})
	return srv.Addr().String()
}

// TestEchoSmoke drives a short echo run against an in-process switchyard: the harness
// must see messages flow and no errors. It keeps `make test` honest about the harness
// without running the suite.
func TestEchoSmoke(t *testing.T) {
	addr := startSwitchyard(t)
	for _, deflate := range []bool{false, true} {
		const want = 200
		live := &Live{}
		p := EchoParams{Conns: 10, InFlight: 2, Size: 300, Duration: hangGuard, Warmup: 10 * time.Millisecond, Deflate: deflate}
		m, err := RunEcho(runUntil(t, func() bool { return live.load() >= want }), addr, 0, p, nil, live)
		if err != nil {
			t.Fatalf("deflate=%v: %v", deflate, err)
		}
		if m.Conns != 10 || m.Ops < want || m.Errors != 0 {
			t.Fatalf("deflate=%v: conns %d, %d echoes, %d errors (%s)", deflate, m.Conns, m.Ops, m.Errors, m.ErrorSample)
		}
		if m.Latency.N < m.Ops || m.Latency.P50 <= 0 || m.Latency.P99 < m.Latency.P50 {
			t.Fatalf("deflate=%v: %d echoes, latency summary %+v", deflate, m.Ops, m.Latency)
		}
		t.Logf("deflate=%v: %d echoes, p50 %.0fµs p99 %.0fµs", deflate, m.Ops, m.Latency.P50, m.Latency.P99)
	}
}
