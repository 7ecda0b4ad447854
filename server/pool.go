package server

import (
	"context"
	"sync"

	"github.com/switchyard-dev/switchyard/parser"
	"github.com/valyala/bytebufferpool"
)

// poolJob carries one request to a worker-pool handler and its response back. The request
// is copied (head and body) because the loop's views die when the read is discarded; the
// connection parses no further request until the response is back, so responses stay in
// order. It returns to the loop as a Task of its own.
type poolJob struct {
	requestCopy
	h       *http1
	handler Handler
	out     *bytebufferpool.ByteBuffer
	close   bool
	resp    ResponseWriter
	abandon abandonHook // offloop_abandon.go
	// A response sent in parts (Flush): how its body is framed, the part on its way to the
	// loop, and the body octets the parts carried, for the access log.
	framing partFraming
	part    h1Part
	sent    int
	// at is when the response was serialised, for the request metrics (CountResponse).
	at int64
}

var jobPool = sync.Pool{New: func() any { return new(poolJob) }}

// submit hands the request to the worker pool; a full pool answers 503 at once.
func (h *http1) submit(handler Handler, match *pathMatch, req *parser.Request, head, body []byte) {
	c := h.c
	job := jobPool.Get().(*poolJob)
	job.h, job.handler = h, handler
	job.fill(c, *match, h.startedAt(), head, body)
	if err := c.srv.pool.Submit(job.work); err != nil {
		job.release()
		h.respond(req, h.startedAt(), 503, "", "", "the server's worker pool is full; try again")
		return
	}
	// The job comes back as a loop task, so it cannot finish before this turn does.
	c.loop.trackOffLoop(c, 0, &job.abandon)
	h.busy = true
	c.Hold() // the next request waits in the kernel, not in the server, until this one is answered
	c.SetDeadline(c.srv.cfg.HandlerTimeout)
}

// work runs on a worker goroutine: the handler, then the response serialised there.
func (job *poolJob) work() {
	h := job.h
	if !job.parse(h.c) {
		job.close = true
	} else {
		job.resp.Reset()
		job.resp.part = job
		job.hreq.abandon = &job.abandon
		h.c.srv.callHandler(job.handler, &job.resp, &job.hreq)
		job.buffer()
		if job.resp.Streamed() {
			job.out.B = job.appendEnd(job.out.B[:0])
		} else {
			job.out.B, job.at = h.appendResponse(job.out.B[:0], job.req.KeepAlive, job.req.ProtoMinor, isHead(job.req.Method), "", &job.resp)
			job.sent = sentBytes(&job.resp, isHead(job.req.Method))
		}
		job.close = !h.keepAlive(&job.req) || job.framing == framingClose || job.resp.Broken()
	}
	if h.c.loop.Run(job) != nil {
		job.release() // the loop has stopped: the connection is gone
	}
}

// Run is the job's return to the loop: the response is written and the input that waited
// is served.
func (job *poolJob) Run(context.Context) error {
	h, c := job.h, job.h.c
	c.loop.untrackOffLoop(c, 0)
	if c.closed || h.gaveUp {
		job.release()
		return nil
	}
	h.busy, h.streamed = false, false
	if job.out != nil {
		c.Write(job.out.B)
		c.CountResponse(1, job.resp.Status(), job.from, job.at)
		if c.srv.cfg.AccessLog != nil {
			h.logAccess(&job.req, job.from, job.resp.Status(), job.sent, "")
		}
	}
	if job.close {
		c.Close()
	} else {
		c.SetDeadline(c.srv.cfg.IdleTimeout)
	}
	job.release()
	c.Resume()
	return nil
}

func (job *poolJob) release() {
	if job.out != nil {
		bytebufferpool.Put(job.out)
	}
	job.reset()
	job.resp.part = nil
	*job = poolJob{requestCopy: job.requestCopy, resp: job.resp}
	jobPool.Put(job)
}
