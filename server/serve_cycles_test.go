package server_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server"
)

// A server that has shut down leaves nothing behind: an embedder (or a test package)
// may start and stop many. The gnet fork's engine registry once kept every stopped
// engine, and through its handler the whole Server: ~170 KiB of heap per cycle without
// a single connection, 5 MiB over these 30.
func TestServeShutdownCyclesLeaveNoHeap(t *testing.T) {
	cycle := func() {
		s := server.New(server.Config{Addr: "127.0.0.1:0", Loops: 2})
		s.Route("/", server.Route{HTTP: text("x")})
		if err := s.Listen(); err != nil {
			t.Fatal(err)
		}
		served := make(chan error, 1)
		go func() { served <- s.Serve(context.Background()) }()
		<-s.Ready()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		if err := <-served; err != nil {
			t.Fatal(err)
		}
	}
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	cycle() // first use: package-level state, pools
	before := heap()
	const cycles = 30
	for range cycles {
		cycle()
	}
	if grew := int64(heap()) - int64(before); grew > 1<<20 {
		t.Fatalf("heap grew by %d KiB over %d Serve/Shutdown cycles", grew>>10, cycles)
	}
}
