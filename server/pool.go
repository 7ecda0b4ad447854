package server

import (
	"sync"

	"github.com/switchyard-dev/switchyard/parser"
	"github.com/valyala/bytebufferpool"
)

// poolJob carries one request to a worker-pool handler and its response back. The request
// is copied (head and body) because the loop's views die when the read is discarded; the
// connection parses no further request until the response is back, so responses stay in
// order.
type poolJob struct {
	c       *Conn
	h       Handler
	in      *bytebufferpool.ByteBuffer
	headLen int
	out     *bytebufferpool.ByteBuffer
	close   bool
	parser  parser.Parser
	req     parser.Request
	hreq    Request
	resp    ResponseWriter
}

var jobPool = sync.Pool{New: func() any { return new(poolJob) }}

// submit hands the request to the worker pool; a full pool answers 503 at once.
func (c *Conn) submit(h Handler, req *parser.Request, head, body []byte) {
	job := jobPool.Get().(*poolJob)
	job.c, job.h = c, h
	job.in = bytebufferpool.Get()
	job.in.B = append(append(job.in.B, head...), body...)
	job.headLen = len(head)
	job.parser.Limits = c.srv.cfg.Limits
	c.busy = true
	if err := c.srv.pool.Submit(job.run); err != nil {
		c.busy = false
		job.release()
		c.respond(req, 503, "", "", "the server's worker pool is full; try again")
	}
}

func (job *poolJob) run() {
	c := job.c
	job.parser.Reset()
	if _, err := job.parser.Parse(job.in.B[:job.headLen], &job.req); err != nil {
		job.close = true
	} else {
		job.hreq.fromHTTP1(c, &job.req, job.in.B[job.headLen:])
		job.hreq.conn = nil // the connection is not the handler's to touch off the loop
		job.resp.reset()
		job.h(&job.resp, &job.hreq)
		job.out = bytebufferpool.Get()
		job.out.B = job.serialize(job.out.B[:0])
		job.close = !c.keepAlive(&job.req)
	}
	c.pending.Store(job)
	if err := c.gc.Wake(nil); err != nil {
		if c.pending.CompareAndSwap(job, nil) {
			job.release()
		}
	}
}

// serialize writes the response like Conn.writeResponse, off the loop.
func (job *poolJob) serialize(b []byte) []byte {
	c, w, req := job.c, &job.resp, &job.req
	status := w.Status()
	b = appendStatusLine(b, status)
	b = c.appendCommonHeaders(b, req.KeepAlive, req.ProtoMinor, "")
	b = appendFields(b, w)
	b = appendContentLength(b, status, len(w.body))
	b = append(b, "\r\n"...)
	if !bodyless(status) && !isHead(req.Method) {
		b = append(b, w.body...)
	}
	return b
}

// finishPoolJob writes a worker-pool response on the loop and lets the connection go on.
func (c *Conn) finishPoolJob(job *poolJob) {
	c.busy = false
	if job.out != nil {
		c.Write(job.out.B)
	}
	if job.close {
		c.closing = true
	} else {
		c.SetDeadline(c.srv.cfg.IdleTimeout)
	}
	job.release()
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
