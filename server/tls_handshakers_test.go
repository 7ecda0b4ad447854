package server

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server/internal/servertest"
)

// The handshake goroutines: a burst starts as many as it needs, at most maxIdle stay for
// the next handshakes (which start none), and those leave once idle for idleFor.
func TestHandshakersKeepAFewGoroutinesForAWhile(t *testing.T) {
	tests := []struct {
		name      string
		idleFor   time.Duration
		wantAfter int32 // idle goroutines once the burst is over and idleFor has passed
	}{
		{"kept", time.Hour, 2},
		{"expired", 5 * time.Millisecond, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newHandshakers(2, tt.idleFor)
			release := make(chan struct{})
			var wg sync.WaitGroup
			for range 8 {
				wg.Add(1)
				p.run(func() { <-release; wg.Done() })
			}
			close(release)
			wg.Wait()
			servertest.Eventually(t, "settled", func() bool { return p.idle.Load() == tt.wantAfter })
			if tt.wantAfter == 0 {
				return
			}
			before := runtime.NumGoroutine()
			for range 16 {
				done := make(chan struct{})
				p.run(func() { close(done) })
				<-done
			}
			servertest.Eventually(t, "idle again", func() bool { return p.idle.Load() == tt.wantAfter })
			if after := runtime.NumGoroutine(); after > before {
				t.Fatalf("goroutines %d after 16 sequential handshakes, %d before: the idle ones were not reused", after, before)
			}
		})
	}
}
