package server

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/ants/v2"

	"github.com/switchyard-dev/switchyard/server/internal/gnet"
)

// An ants pool keeps two goroutines on tickers for as long as it lives (a clock updated
// every 500 ms, a purge of idle workers every ExpiryDuration), and importing ants starts
// its default pool at init. An idle server must not wake on a fixed tick (CPU in
// proportion to work), so the default pool is released at once and the server's own is
// started by the first job, not by Serve: a server whose routes never use the pool never
// ticks.
func init() { ants.Release() }

// workerExpiry is how long an idle worker goroutine is kept, and so how often a started
// pool's purge wakes (ants' default is 1 s).
const workerExpiry = 10 * time.Second

// workers is the server's bounded worker pool (Config.WorkerPoolSize goroutines),
// started on first use.
type workers struct {
	size int
	once sync.Once
	pool atomic.Pointer[ants.Pool]
	err  error // why the pool could not start
}

// Submit runs fn on a worker; a full pool returns ants.ErrPoolOverload at once.
func (w *workers) Submit(fn func()) error {
	p := w.pool.Load()
	if p == nil {
		w.once.Do(w.start)
		if p = w.pool.Load(); p == nil {
			if w.err != nil {
				return w.err
			}
			return ants.ErrPoolClosed
		}
	}
	err := p.Submit(fn)
	if err == nil {
		gnet.NoteHandoff() // a loop that sleeps holding its P yields to the job first
	}
	return err
}

func (w *workers) start() {
	p, err := ants.NewPool(w.size, ants.WithNonblocking(true), ants.WithExpiryDuration(workerExpiry))
	if err != nil {
		w.err = err
		return
	}
	w.pool.Store(p)
}

// started reports whether a job has started the pool.
func (w *workers) started() bool { return w.pool.Load() != nil }

// Release stops the pool, if it started, and keeps it from starting afterwards.
func (w *workers) Release() {
	w.once.Do(func() {})
	if p := w.pool.Load(); p != nil {
		p.Release()
	}
}
