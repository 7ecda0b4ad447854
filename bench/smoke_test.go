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
		p := EchoParams{Conns: 10, InFlight: 2, Size: 300, Duration: 1 * time.Second, Warmup: 100 * time.Millisecond, Deflate: deflate}
		m, err := RunEcho(context.Background(), addr, 0, p, nil, nil)
		if err != nil {
			t.Fatalf("deflate=%v: %v", deflate, err)
		}
		if m.Conns != 10 || m.Rate <= 0 || m.Errors != 0 {
			t.Fatalf("deflate=%v: conns %d, %.0f msgs/s, %d errors (%s)", deflate, m.Conns, m.Rate, m.Errors, m.ErrorSample)
		}
		if m.Latency.N == 0 || m.Latency.P50 <= 0 || m.Latency.P99 < m.Latency.P50 {
			t.Fatalf("deflate=%v: latency summary %+v", deflate, m.Latency)
		}
		t.Logf("deflate=%v: %.0f msgs/s, p50 %.0fµs p99 %.0fµs", deflate, m.Rate, m.Latency.P50, m.Latency.P99)
	}
}
