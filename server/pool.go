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
	h       *http1
	handler Handler
	in      *bytebufferpool.ByteBuffer
	headLen int
	match   pathMatch // the route's pattern and path values, for the copy of the request
	out     *bytebufferpool.ByteBuffer
	close   bool
	parser  parser.Parser
	req     parser.Request
	hreq    Request
	resp    ResponseWriter
}

var jobPool = sync.Pool{New: func() any { return new(poolJob) }}

// submit hands the request to the worker pool; a full pool answers 503 at once.
func (h *http1) submit(handler Handler, match *pathMatch, req *parser.Request, head, body []byte) {
	c := h.c
	job := jobPool.Get().(*poolJob)
	job.h, job.handler, job.match = h, handler, *match
	job.in = bytebufferpool.Get()
	job.in.B = append(append(job.in.B, head...), body...)
	job.headLen = len(head)
	job.parser.Limits = c.srv.cfg.Limits
	if err := c.srv.pool.Submit(job.work); err != nil {
		job.release()
		h.respond(req, 503, "", "", "the server's worker pool is full; try again")
		return
	}
	// The job comes back as a loop task, so it cannot finish before this turn does.
	h.busy = true
	c.Hold() // the next request waits in the kernel, not in the server, until this one is answered
}

// work runs on a worker goroutine: the handler, then the response serialised there.
func (job *poolJob) work() {
	h := job.h
	job.parser.Reset()
	if _, err := job.parser.Parse(job.in.B[:job.headLen], &job.req); err != nil {
		job.close = true
	} else {
		job.hreq.fromHTTP1(h.c, &job.req, job.in.B[job.headLen:])
		job.hreq.conn = nil        // the connection is not the handler's to touch off the loop
		job.hreq.match = job.match // the positions hold: the copy's Path is the same bytes
		job.resp.Reset()
		job.handler(&job.resp, &job.hreq)
		job.out = bytebufferpool.Get()
		job.out.B = h.appendResponse(job.out.B[:0], job.req.KeepAlive, job.req.ProtoMinor, isHead(job.req.Method), "", &job.resp)
		job.close = !h.keepAlive(&job.req)
	}
	if h.c.loop.Run(job) != nil {
		job.release() // the loop has stopped: the connection is gone
	}
}

// Run is the job's return to the loop: the response is written and the input that waited
// is served.
func (job *poolJob) Run(context.Context) error {
	h, c := job.h, job.h.c
	if c.closed {
		job.release()
		return nil
	}
	h.busy = false
	if job.out != nil {
		c.Write(job.out.B)
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
	if job.in != nil {
		bytebufferpool.Put(job.in)
	}
	if job.out != nil {
		bytebufferpool.Put(job.out)
	}
	*job = poolJob{parser: job.parser, req: job.req, resp: job.resp}
	jobPool.Put(job)
}
