package server

import (
	"net"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"testing"
	"time"
)

// fakeMemoryReturn is a memoryReturn whose timer the test fires by hand.
type fakeMemoryReturn struct {
	*memoryReturn
	armed    int
	released int
	spare    uint64
}

func newFakeMemoryReturn(burst int64) *fakeMemoryReturn {
	f := &fakeMemoryReturn{spare: 64 << 20}
	f.memoryReturn = &memoryReturn{burst: burst, quiet: time.Hour, reclaimMin: 16 << 20}
	f.arm = func(time.Duration) { f.armed++ }
	f.reclaimable = func() (uint64, int64) { return f.spare, 1 << 20 }
	f.release = func() { f.released++ }
	return f
}

func (f *fakeMemoryReturn) open(n int) {
	for range n {
		f.connOpened()
	}
}

// The spare heap goes back once a burst has settled: not before the burst is reached,
// not while connections still arrive, once when a whole quiet period passed without
// one; not when too little would come back; and a new burst starts the count again.
func TestMemoryReturnWaitsForABurstToSettle(t *testing.T) {
	f := newFakeMemoryReturn(10)
	f.open(9)
	if f.armed != 0 {
		t.Fatalf("armed after 9 connections of a burst of 10")
	}
	f.open(1)
	if f.armed != 1 {
		t.Fatalf("armed %d times at the burst, want 1", f.armed)
	}
	f.open(50)
	if f.armed != 1 {
		t.Fatalf("armed %d times while armed, want 1", f.armed)
	}
	f.check() // connections came since the last look: look again later
	f.open(3)
	f.check()
	if f.released != 0 || f.armed != 3 {
		t.Fatalf("while connections arrive: released %d, armed %d; want 0, 3", f.released, f.armed)
	}
	f.check() // a whole quiet period without one
	if f.released != 1 || f.armed != 3 {
		t.Fatalf("once settled: released %d, armed %d; want 1, 3", f.released, f.armed)
	}

	f.open(10)
	if f.armed != 4 {
		t.Fatalf("a second burst armed %d times in all, want 4", f.armed)
	}
	f.check()
	f.spare = 1 << 20 // too little to be worth a forced collection
	f.check()
	if f.released != 1 || f.armed != 5 {
		t.Fatalf("released %d times with 1 MiB spare, armed %d; want 1 (the first burst's), 5", f.released, f.armed)
	}
	f.open(9)
	if f.armed != 5 {
		t.Fatalf("armed %d times after 9 connections of a new burst, want 5", f.armed)
	}
}

// Connections that open while the check ends a burst count toward the next, and when
// they reach it then (the check's flag still up, so they could not arm it), the check
// arms again.
func TestMemoryReturnKeepsTheConnectionsOfTheNextBurst(t *testing.T) {
	f := newFakeMemoryReturn(10)
	f.open(10)
	f.check()
	f.counted = func() { f.open(10) }
	f.check()
	if f.released != 1 || f.armed != 3 || f.opened.Load() != 10 {
		t.Fatalf("released %d, armed %d, %d opened; want 1, 3, 10", f.released, f.armed, f.opened.Load())
	}
}

// Wired into a serving server (Config.ReturnMemory): a burst of real connections that
// then stops leads to one return, from the timer.
func TestServerReturnsMemoryAfterABurst(t *testing.T) {
	var released atomic.Int32
	s := startServer(t, Config{ReturnMemory: true}, func(s *Server) {
		s.Route("/", Route{HTTP: okHandler("ok")})
		m := newMemoryReturn(nil)
		m.burst, m.quiet = 5, 50*time.Millisecond
		m.reclaimable = func() (uint64, int64) { return 64 << 20, 0 }
		m.release = func() { released.Add(1) }
		s.memory = m
	})
	var conns []net.Conn
	for range 5 {
		conns = append(conns, dial(t, s))
	}
	for deadline := time.Now().Add(10 * time.Second); released.Load() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no return after a burst of 5 connections")
		}
	}
	for _, c := range conns {
		c.Close()
	}
}

// heapReclaimable reads the runtime's metrics: the pages a collection freed are spare,
// and a return (what the server runs) leaves little of them.
func TestHeapReclaimableSeesTheSpareHeap(t *testing.T) {
	var keep [][]byte
	for range 64 {
		keep = append(keep, make([]byte, 1<<20))
	}
	runtime.KeepAlive(keep)
	keep = nil
	runtime.GC()
	before, live := heapReclaimable()
	debug.FreeOSMemory()
	after, _ := heapReclaimable()
	if before < 16<<20 || live <= 0 || after >= before || after >= 16<<20 {
		t.Fatalf("64 MiB collected: spare %d MiB, live %d; after the return: spare %d MiB", before>>20, live, after>>20)
	}
}
