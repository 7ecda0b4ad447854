//go:build linux

package netpoll

import (
	"sync/atomic"
	"testing"
	"time"

	errorx "github.com/panjf2000/gnet/v2/pkg/errors"
	"github.com/panjf2000/gnet/v2/pkg/queue"
)

// A fresh poller spins SetIdleSpins times after its first burst, then sleeps until the
// next event; bursts that come after long idle gaps find a loop that sleeps at once
// (the spin pacer): the spins are bounded, and an idle poller does not spin.
func TestIdleSpinsAreBoundedPerBurst(t *testing.T) {
	for _, spins := range []int{0, 1, 7} {
		p, err := OpenPoller()
		if err != nil {
			t.Fatal(err)
		}
		p.SetIdleSpins(spins)
		var count atomic.Int64
		spinHook = func() { count.Add(1) }
		done := make(chan error, 1)
		go func() { done <- p.Polling(func(int, IOEvent, IOFlags) error { return nil }) }()

		nop := func(any) error { return nil }
		for burst := 1; burst <= 3; burst++ {
			if err := p.Trigger(queue.HighPriority, nop, nil); err != nil {
				t.Fatal(err)
			}
			want := int64(spins) // the first burst only: the gaps between bursts are long
			deadline := time.Now().Add(2 * time.Second)
			for count.Load() < want && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			time.Sleep(20 * time.Millisecond) // time enough to spin past the bound, if it did; a long gap
			if got := count.Load(); got != want {
				t.Fatalf("IdleSpins %d, after burst %d: %d spins, want %d", spins, burst, got, want)
			}
		}
		_ = p.Trigger(queue.HighPriority, func(any) error { return errorx.ErrEngineShutdown }, nil)
		if err := <-done; err != errorx.ErrEngineShutdown {
			t.Fatalf("Polling ended with %v", err)
		}
		spinHook = nil
		_ = p.Close()
	}
}
