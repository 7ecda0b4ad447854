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

// workers is the server's bounded worker pool (Config.WorkerPoolSize jobs at once),
// started on first use, with a queue of the jobs that wait for a worker (Queue).
//
// The bound and the queue are the server's, not ants': ants runs the goroutines (kept
// for workerExpiry, so a job rarely starts one) without a limit of its own. A worker
// that finishes a job takes the next waiting one itself, so a waiting job starts the
// moment a worker frees, without a timer or a loop's turn; ants would only have said
// "full" (nonblocking) or parked the submitting loop (blocking). Counting here also
// keeps a worker's own lag out of the bound: ants counts a worker busy until it has put
// itself back in its idle list, after the job has returned.
type workers struct {
	size int
	once sync.Once
	pool atomic.Pointer[ants.PoolWithFunc]
	err  error // why the pool could not start

	mu      sync.Mutex
	busy    int     // jobs running
	waiting jobFIFO // jobs queued for a worker
	stopped bool    // Release was called
}

// Submit runs fn on a worker, or returns ErrPoolFull at once when every worker is busy or
// queued jobs wait (fn would overtake them).
func (w *workers) Submit(fn func()) error {
	return w.hand(fn, false)
}

// Queue runs fn on a worker now or, when every worker is busy, as soon as one frees,
// after the jobs queued before it. It fails only when the pool is not running.
func (w *workers) Queue(fn func()) error {
	return w.hand(fn, true)
}

func (w *workers) hand(fn func(), queue bool) error {
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
	w.mu.Lock()
	switch {
	case w.stopped:
		w.mu.Unlock()
		return ants.ErrPoolClosed
	case w.busy >= w.size || w.waiting.len() > 0:
		if !queue {
			w.mu.Unlock()
			return ErrPoolFull
		}
		w.waiting.push(fn)
		w.mu.Unlock()
		return nil
	}
	w.busy++
	w.mu.Unlock()
	if err := p.Invoke(fn); err != nil { // only once released: the pool has no limit
		w.mu.Lock()
		w.busy--
		w.mu.Unlock()
		return err
	}
	gnet.NoteHandoff() // a loop that sleeps holding its P yields to the job first
	return nil
}

// run is a worker's turn: its job, then every queued job it can take.
func (w *workers) run(arg any) {
	fn := arg.(func())
	defer func() {
		if fn != nil { // fn panicked: hand its worker's place on, and let ants report it
			w.handOn()
		}
	}()
	for fn != nil {
		fn()
		fn = w.next()
	}
}

// next takes the oldest queued job for a worker that has finished one, or gives the
// worker's place back when none waits. It does so after Release too: a queued job was
// promised to run (Queue), and a protocol's may be all that ends its connection (a
// WebSocket's OnClose).
func (w *workers) next() func() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.waiting.len() == 0 {
		w.busy--
		return nil
	}
	return w.waiting.pop()
}

// handOn gives a worker's place, which a panic ends, to the oldest queued job.
func (w *workers) handOn() {
	fn := w.next()
	if fn == nil {
		return
	}
	if p := w.pool.Load(); p == nil || p.Invoke(fn) != nil {
		// The pool was released meanwhile, and the job still runs. A panic of its is
		// dropped, as ants would have reported and survived it.
		go func() {
			defer func() { _ = recover() }()
			w.run(fn)
		}()
	}
}

func (w *workers) start() {
	p, err := ants.NewPoolWithFunc(-1, w.run, ants.WithExpiryDuration(workerExpiry))
	if err != nil {
		w.err = err
		return
	}
	w.pool.Store(p)
}

// started reports whether a job has started the pool.
func (w *workers) started() bool { return w.pool.Load() != nil }

// Release stops the pool, if it started, and keeps it from starting afterwards: Submit
// and Queue fail from then on. Jobs already queued still run, each taken by a busy worker
// as it finishes (there is one whenever a job waits); Release does not wait for them.
func (w *workers) Release() {
	w.once.Do(func() {})
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
	if p := w.pool.Load(); p != nil {
		p.Release()
	}
}

// jobFIFO is a queue of jobs, oldest first: a slice read from head, whose read part is
// reclaimed once it is half the slice, so a long queue pops in O(1) and keeps no job
// it has handed out.
type jobFIFO struct {
	jobs []func()
	head int
}

func (q *jobFIFO) len() int { return len(q.jobs) - q.head }

func (q *jobFIFO) push(fn func()) {
	if q.head > 0 && q.head >= len(q.jobs)/2 {
		n := copy(q.jobs, q.jobs[q.head:])
		clear(q.jobs[n:])
		q.jobs, q.head = q.jobs[:n], 0
	}
	q.jobs = append(q.jobs, fn)
}

func (q *jobFIFO) pop() func() {
	fn := q.jobs[q.head]
	q.jobs[q.head] = nil
	q.head++
	if q.head == len(q.jobs) {
		q.jobs, q.head = q.jobs[:0], 0
	}
	return fn
}
