package server

import (
	"context"
	"errors"
	"sync"
)

// ErrPoolFull is returned by Conn.Submit when every worker of the pool is busy, or jobs
// wait for one (Conn.Queue).
var ErrPoolFull = errors.New("switchyard: the worker pool is full")

// errNoPool is returned by Conn.Submit when the server has no worker pool: it is not
// serving (or has stopped).
var errNoPool = errors.New("switchyard: the server has no worker pool (not serving)")

// Submit runs fn on the server's bounded worker pool (Config.WorkerPoolSize jobs at
// once), the one routes with UseWorkerPool use, for a protocol whose callbacks may
// block. It never waits: when every worker is busy, or queued jobs wait (Queue), it
// returns ErrPoolFull without running fn, and the protocol decides what waits meanwhile
// (it should Hold the connection rather than buffer its input). fn gets back to the
// connection through its loop (Loop.Run, Execute). Loop only.
func (c *Conn) Submit(fn func()) error {
	p := c.srv.pool
	if p == nil {
		return errNoPool
	}
	return p.Submit(fn)
}

// Queue runs fn on the worker pool as soon as a worker is free, after every job queued
// before it (by any connection): where Submit says the pool is full, Queue waits, and
// the worker that frees takes fn itself, with no timer and no turn of the loop. The
// queue keeps an entry per waiting call, so a protocol queues at most one job per
// connection at a time and holds the connection meanwhile (Hold), which bounds the queue
// by the connections, as the WebSocket protocol's callbacks do. It fails only when the
// server is not serving; jobs queued before it stopped still run. Loop only.
func (c *Conn) Queue(fn func()) error {
	p := c.srv.pool
	if p == nil {
		return errNoPool
	}
	return p.Queue(fn)
}

// offLoopJob carries a request of a multiplexing protocol (an HTTP/2 stream) to a
// worker-pool handler and its response back to the loop. The request's views are copied
// into one buffer, since the loop's die with the turn.
type offLoopJob struct {
	c       *Conn
	handler Handler
	then    Answerer
	buf     []byte
	hdrs    []Header
	req     Request
	resp    ResponseWriter
	abandon abandonHook // offloop_abandon.go
	part    offLoopPart // stream.go
}

var offLoopJobs = sync.Pool{New: func() any { return new(offLoopJob) }}

// Answerer receives, on the loop, the response to a request whose handler ran on the
// worker pool (HandleOffLoop); r is the request as the handler saw it, whose StreamID
// tells a multiplexing protocol which stream it was.
type Answerer interface {
	Answer(r *Request, w *ResponseWriter)
}

// HandleOffLoop is Handle for a protocol that can answer a request later (HTTP/2 serves
// other streams meanwhile): a route with UseWorkerPool runs its handler on the worker
// pool, and then HandleOffLoop returns false and then.Answer runs on the loop once the
// handler has returned (not if the connection has closed by then). Otherwise it answers
// into w at once, as Handle does, and returns true; so does a full pool, with 503. Loop
// only.
func (c *Conn) HandleOffLoop(w *ResponseWriter, r *Request, then Answerer) (answered bool) {
	route := c.srv.routeFor(r)
	if route == nil || !route.UseWorkerPool || route.HTTP == nil {
		c.handle(route, w, r)
		return true
	}
	job := offLoopJobs.Get().(*offLoopJob)
	job.c, job.handler, job.then = c, route.HTTP, then
	job.copyRequest(r)
	if err := c.srv.pool.Submit(job.work); err != nil {
		job.release()
		w.Reset()
		w.text(503, "the server's worker pool is full; try again")
		return true
	}
	c.loop.trackOffLoop(c, r.StreamID, &job.abandon) // its Run comes later, on this loop
	return false
}

// copyRequest makes job.req a copy of r whose views point into job.buf.
func (job *offLoopJob) copyRequest(r *Request) {
	b := job.buf[:0]
	for _, v := range [][]byte{r.Method, r.Target, r.Path, r.Query, r.Host, r.Body} {
		b = append(b, v...)
	}
	for _, h := range r.Header {
		b = append(append(b, h.Name...), h.Value...)
	}
	job.buf = b
	take := func(v []byte) []byte {
		s := b[:len(v):len(v)]
		b = b[len(v):]
		return s
	}
	job.req = Request{Method: take(r.Method), Target: take(r.Target), Path: take(r.Path),
		Query: take(r.Query), Host: take(r.Host), Body: take(r.Body),
		ProtoMajor: r.ProtoMajor, ProtoMinor: r.ProtoMinor, StreamID: r.StreamID,
		match:   r.match, // positions in Path, which is copied whole
		peer:    job.c,   // RemoteAddr only: conn stays nil off the loop
		abandon: &job.abandon}
	job.hdrs = job.hdrs[:0]
	for _, h := range r.Header {
		job.hdrs = append(job.hdrs, Header{Name: take(h.Name), Value: take(h.Value), ID: h.ID})
	}
	job.req.Header = job.hdrs
}

// work runs on a worker goroutine; the job then returns to the loop as a task.
func (job *offLoopJob) work() {
	job.resp.Reset()
	job.resp.part = job
	job.c.srv.callHandler(job.handler, &job.resp, &job.req) // req.conn is nil: the connection is not the handler's off the loop
	if job.c.loop.Run(job) != nil {
		job.release()
	}
}

// Run hands the response to the protocol, on the loop.
func (job *offLoopJob) Run(context.Context) error {
	job.c.loop.untrackOffLoop(job.c, job.req.StreamID)
	if c := job.c; !c.closed {
		job.then.Answer(&job.req, &job.resp)
		c.Flush()
	}
	job.release()
	return nil
}

// maxRetainedJobBuf bounds the copy buffer a pooled job keeps after a large body.
const maxRetainedJobBuf = 64 << 10

func (job *offLoopJob) release() {
	clear(job.hdrs)
	buf := job.buf[:0]
	if cap(buf) > maxRetainedJobBuf {
		buf = nil
	}
	*job = offLoopJob{buf: buf, hdrs: job.hdrs[:0], resp: job.resp}
	offLoopJobs.Put(job)
}
