package server

import (
	"context"
	"strconv"

	"github.com/valyala/bytebufferpool"
)

// An HTTP/1.1 worker-pool handler's response sent in parts (ResponseWriter.Flush): the
// parts are serialised on the worker, as a whole response is, and the loop writes each
// one, re-arms HandlerTimeout and lets the handler go on once the connection's unsent
// output is under its send budget (Conn.partSent).

// partFraming is how a streamed response's body is delimited (RFC 9112 §6.3).
type partFraming uint8

const (
	framingNone     partFraming = iota // not streamed: Content-Length
	framingChunked                     // Transfer-Encoding: chunked
	framingClose                       // an HTTP/1.0 client: the body ends with the connection
	framingHeadOnly                    // HEAD, 204 or 304: the head is all there is
)

// h1Part is a poolJob's part on its way to the loop.
type h1Part struct{ job *poolJob }

// buffer gives the job its output buffer, once.
func (job *poolJob) buffer() {
	if job.out == nil {
		job.out = bytebufferpool.Get()
	}
}

// sendPart serialises the response so far, on the worker, and waits for the loop.
func (job *poolJob) sendPart(w *ResponseWriter) error {
	job.buffer()
	b := job.out.B[:0]
	if !w.Streamed() {
		req := &job.req
		switch {
		case isHead(req.Method) || bodyless(w.Status()):
			job.framing = framingHeadOnly
		case req.ProtoMinor == 0:
			job.framing = framingClose
		default:
			job.framing = framingChunked
		}
		length := int64(-1)
		if job.framing == framingChunked {
			length = chunkedLength
		}
		b, _ = job.h.appendHead(b, req.KeepAlive && job.framing != framingClose, req.ProtoMinor, "", w, length)
	}
	job.out.B = job.appendPiece(b, w.Body())
	w.tookPart()
	job.part.job = job
	return job.abandon.await(job.h.c.loop, &job.part)
}

// appendPiece appends p as the next piece of the body, framed.
func (job *poolJob) appendPiece(b, p []byte) []byte {
	switch job.framing {
	case framingChunked:
		b = appendChunk(b, p)
	case framingClose:
		b = append(b, p...)
	default:
		return b
	}
	job.sent += len(p)
	return b
}

// appendEnd appends the rest of a streamed response: the last of its body and, when
// chunked, the last chunk with the trailers. A broken response gets no last chunk, so
// that the client sees it cut short when the connection closes (RFC 9112 §8).
func (job *poolJob) appendEnd(b []byte) []byte {
	b = job.appendPiece(b, job.resp.Body())
	if job.framing == framingChunked && !job.resp.Broken() {
		b = appendLastChunk(b, job.resp.Trailers())
	}
	return b
}

// appendChunk appends p as one chunk (RFC 9112 §7.1); none when p is empty, which would
// read as the last chunk.
func appendChunk(b, p []byte) []byte {
	if len(p) == 0 {
		return b
	}
	b = strconv.AppendUint(b, uint64(len(p)), 16)
	b = append(b, "\r\n"...)
	return append(append(b, p...), "\r\n"...)
}

// appendLastChunk appends the last chunk and the trailer section: trailer's header lines
// (valid fields, each ending in CRLF), then CRLF.
func appendLastChunk(b, trailer []byte) []byte {
	b = append(b, "0\r\n"...)
	return append(append(b, trailer...), "\r\n"...)
}

// Run writes the part, on the loop.
func (p *h1Part) Run(context.Context) error {
	job := p.job
	h, c := job.h, job.h.c
	if !job.abandon.took() { // the connection closed, or HandlerTimeout gave up on it
		return nil
	}
	c.Write(job.out.B)
	h.streamed = true
	c.SetDeadline(c.srv.cfg.HandlerTimeout) // a part is progress
	c.Flush()
	c.partSent(0, &job.abandon)
	return nil
}
