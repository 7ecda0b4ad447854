package gnet

import (
	"context"
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server/internal/servertest"
)

// An engine stopped through Engine.Stop leaves the registry that the deprecated global
// Stop reads, so nothing keeps it (its loops, their buffers, its handler) reachable.
// Upstream deleted entries only in the global Stop: every engine stopped otherwise,
// and with it a whole switchyard Server, stayed in memory for the life of the process.
func TestStoppedEngineIsNotKeptByTheRegistry(t *testing.T) {
	var freed atomic.Int64
	const engines = 2
	for range engines {
		h := newSharedHandler(false)
		runtime.SetFinalizer(h, func(*sharedHandler) { freed.Add(1) })
		ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- RunListener(h, ln, WithMulticore(true), WithNumEventLoop(2), WithSharedListener(true)) }()
		eng := <-h.running
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = eng.Stop(ctx)
		cancel()
		<-done
		_ = ln.Close()
	}
	allEngines.Range(func(addr, _ any) bool {
		t.Errorf("a stopped engine is still registered at %v", addr)
		return true
	})
	servertest.Eventually(t, "a stopped engine's handler collected", func() bool {
		runtime.GC() // finalizers run after a collection finds their objects unreachable
		return freed.Load() > 0
	})
}
