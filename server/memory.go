package server

import (
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
	"time"
)

// memoryReturn hands the garbage collector's spare heap back to the operating system
// once a burst of new connections has settled (Config.ReturnMemory).
//
// Why: a burst of connections, TLS ones above all, makes garbage (each handshake several
// times what the connection keeps), and the collector sizes the heap it keeps mapped to
// twice what was live at its last cycle (GOGC=100); Go's scavenger returns only what lies
// beyond that. So once the connections idle, nothing allocates, no cycle runs, and the
// headroom stays resident for good: 10,000 idle wss connections held 8.5 KiB of RSS each,
// 4.5 KiB of it live heap. debug.FreeOSMemory (one forced cycle, then every free page
// returned) brought them to 6.2 KiB.
//
// When: a burst is memoryBurst connections opened since the last one settled, which is
// once a whole memoryQuiet has passed with none opened. Only then, and only if at least
// memoryReclaimMin would come back, does the return run: a small heap is not worth a
// forced cycle, and a server that keeps accepting is never interrupted by one. Its timer
// runs only while connections arrive; an idle server never wakes for it.
type memoryReturn struct {
	opened atomic.Int64 // connections opened since the last settled burst
	armed  atomic.Bool

	burst       int64
	quiet       time.Duration
	reclaimMin  uint64
	seen        int64                  // opened at the last check (the timer's goroutine only)
	arm         func(time.Duration)    // runs check after the delay: time.AfterFunc
	reclaimable func() (uint64, int64) // what a return would give back, and the live heap
	release     func()                 // debug.FreeOSMemory
	log         *slog.Logger
	counted     func() // tests: runs once check has taken a settled burst's count
}

const (
	memoryBurst      = 1000
	memoryQuiet      = time.Second
	memoryReclaimMin = 16 << 20
)

func newMemoryReturn(log *slog.Logger) *memoryReturn {
	m := &memoryReturn{
		burst: memoryBurst, quiet: memoryQuiet, reclaimMin: memoryReclaimMin,
		reclaimable: heapReclaimable, release: debug.FreeOSMemory, log: log,
	}
	m.arm = func(d time.Duration) { time.AfterFunc(d, m.check) }
	return m
}

// connOpened counts a new connection and arms the check when a burst is reached. Any
// goroutine (the loops' OnOpen).
func (m *memoryReturn) connOpened() {
	if m.opened.Add(1) >= m.burst && m.armed.CompareAndSwap(false, true) {
		m.arm(m.quiet)
	}
}

// check runs on the timer's goroutine: while connections still arrive it looks again a
// memoryQuiet later; once none came for that long the burst is over, and the spare heap
// goes back if it is worth a forced cycle.
func (m *memoryReturn) check() {
	n := m.opened.Load()
	if n != m.seen {
		m.seen = n
		m.arm(m.quiet)
		return
	}
	if m.counted != nil {
		m.counted()
	}
	m.seen = 0
	m.opened.Add(-n) // what opened since Load counts toward the next burst
	m.armed.Store(false)
	if m.opened.Load() >= m.burst && m.armed.CompareAndSwap(false, true) {
		m.arm(m.quiet) // a new burst reached the mark while the flag was still up
	}
	spare, live := m.reclaimable()
	if spare < m.reclaimMin {
		return
	}
	start := time.Now()
	m.release()
	if m.log != nil {
		m.log.Info("switchyard: returned the spare heap to the OS after a burst of connections",
			"connections", n, "spare_mib", spare>>20, "live_mib", live>>20, "took", time.Since(start))
	}
}

// heapReclaimable reads what a forced cycle and scavenge would return: the heap's free
// pages not yet returned, and its objects beyond what was live at the last cycle
// (garbage since); also the live heap. runtime/metrics reads without stopping the world,
// unlike runtime.ReadMemStats.
func heapReclaimable() (spare uint64, live int64) {
	s := []metrics.Sample{
		{Name: "/memory/classes/heap/free:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/gc/heap/live:bytes"},
	}
	metrics.Read(s)
	for _, x := range s {
		if x.Value.Kind() != metrics.KindUint64 {
			return 0, 0
		}
	}
	free, objects, lastLive := s[0].Value.Uint64(), s[1].Value.Uint64(), s[2].Value.Uint64()
	spare = free
	if objects > lastLive {
		spare += objects - lastLive
	}
	return spare, int64(lastLive)
}
