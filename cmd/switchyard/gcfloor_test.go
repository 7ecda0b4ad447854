package main

import (
	"runtime"
	"runtime/metrics"
	"testing"
)

func TestGCPercentFor(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		live, roots, floor uint64
		want               int
	}{
		{live: 1 * mib, floor: 8 * mib, want: 700},
		{live: 1 * mib, roots: 1 * mib, floor: 8 * mib, want: 350},
		{live: 4 * mib, floor: 8 * mib, want: 100},
		{live: 3 * mib, roots: 1 * mib, floor: 8 * mib, want: 125},
		{live: 40 * mib, floor: 8 * mib, want: 100},
		{live: 3 * mib, floor: 8 * mib, want: 166},
		{live: 1024, floor: 8 * mib, want: maxGCPercent},
		{live: 0, floor: 8 * mib, want: maxGCPercent},
	}
	for _, tt := range tests {
		if got := gcPercentFor(tt.live, tt.roots, tt.floor); got != tt.want {
			t.Errorf("gcPercentFor(%d, %d, %d) = %d, want %d", tt.live, tt.roots, tt.floor, got, tt.want)
		}
	}
}

// GOGC follows the live heap each collection finds: high while the heap is far under the
// floor, the default once the live heap is half the floor, high again when it shrinks;
// stop restores the default.
func TestGCFloorFollowsTheCollections(t *testing.T) {
	t.Setenv("GOGC", "")
	const floor = 256 << 20
	stop := startGCFloor(floor)
	defer stop()
	waitForGCPercent(t, func(p int) bool { return p > 100 }, "above 100 with a small heap")
	held := make([]byte, floor/2) // live: the floor's half
	for i := range held {
		held[i] = 1
	}
	waitForGCPercent(t, func(p int) bool { return p == 100 }, "100 with half the floor live")
	runtime.KeepAlive(held)
	held = nil
	waitForGCPercent(t, func(p int) bool { return p > 100 }, "above 100 again once that is garbage")
	stop()
	if got := gcPercent(); got != 100 {
		t.Fatalf("GOGC after stop: %d, want 100", got)
	}
}

func gcPercent() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

// waitForGCPercent runs collections, so that the finalizer gets its turns, until GOGC
// satisfies ok.
func waitForGCPercent(t *testing.T, ok func(int) bool, want string) {
	t.Helper()
	for range 1000 {
		if ok(gcPercent()) {
			return
		}
		runtime.GC()
		runtime.Gosched()
	}
	t.Fatalf("GOGC stayed %d, want %s", gcPercent(), want)
}
