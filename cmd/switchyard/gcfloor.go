package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// gcFloor keeps the collector from running before the heap has grown to floor bytes, as
// GOGC keeps it from running before the heap has doubled: below the floor the heap is too
// small for its size to matter, and a server with few connections would otherwise
// collect every few MiB allocated. A TLS handshake flood is the case: crypto/tls allocates
// about 36 KB per handshake, and with Go's 4 MiB minimum the collector ran every ~60
// handshakes (47 times a second on two cores), a third of the server's CPU per handshake
// beside the cryptography (docs/architecture.md §4). Above floor/2 of live heap it
// leaves GOGC at 100, so memory per connection at scale is unchanged.
//
// After each collection (a finalizer on an object made garbage for the purpose, the
// usual hook: no ticker) it sets GOGC from the live heap that collection found. An
// operator's GOGC in the environment turns it off.
type gcFloor struct {
	floor   uint64
	percent int
	live    []metrics.Sample
	stopped atomic.Bool
}

// defaultGCFloor is serve's floor: under it, the ws-hold-19000 bench's heap goal (twice
// a live heap of ~6 MiB) is unchanged, so memory per idle connection is too.
const defaultGCFloor = 8 << 20

// gcFloor returns the floor -gc-floor-mib asks for, in bytes (0: none).
func (c *serveConfig) gcFloor() uint64 {
	switch {
	case c.GCFloorMiB < 0:
		return 0
	case c.GCFloorMiB == 0:
		return defaultGCFloor
	}
	return uint64(c.GCFloorMiB) << 20
}

// maxGCPercent bounds what gcFloor sets, for a heap near empty.
const maxGCPercent = 2000

// startGCFloor starts keeping the floor; stop restores GOGC's default. A floor of 0, or
// GOGC in the environment, starts nothing.
func startGCFloor(floor uint64) (stop func()) {
	if floor == 0 || os.Getenv("GOGC") != "" {
		return func() {}
	}
	f := &gcFloor{floor: floor, percent: 100, live: []metrics.Sample{
		{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/stack:bytes"}, {Name: "/gc/scan/globals:bytes"}}}
	f.adjust()
	f.arm()
	return func() {
		f.stopped.Store(true)
		debug.SetGCPercent(100)
	}
}

type gcSentinel struct{ f *gcFloor }

// arm makes the garbage whose finalizer runs after the next collection.
func (f *gcFloor) arm() {
	runtime.SetFinalizer(&gcSentinel{f}, func(s *gcSentinel) {
		if !s.f.stopped.Load() {
			s.f.adjust()
			s.f.arm()
		}
	})
}

func (f *gcFloor) adjust() {
	metrics.Read(f.live)
	var roots uint64 // the stacks and globals GOGC also scales
	for _, m := range f.live[1:] {
		if m.Value.Kind() == metrics.KindUint64 {
			roots += m.Value.Uint64()
		}
	}
	p := gcPercentFor(f.live[0].Value.Uint64(), roots, f.floor)
	if p != f.percent && !f.stopped.Load() {
		debug.SetGCPercent(p)
		f.percent = p
	}
}

// gcPercentFor is the GOGC that lets a heap with live bytes grow to floor before the next
// collection, and never less than the default 100. Go's heap goal is live + (live +
// roots) × GOGC/100, roots being the stacks and globals it scans.
func gcPercentFor(live, roots, floor uint64) int {
	base := live + roots
	if base == 0 {
		return maxGCPercent
	}
	if live+base >= floor {
		return 100
	}
	return int(min((floor-live)*100/base, maxGCPercent))
}
