package server

import (
	"context"
	"errors"
)

// A handler on the worker pool may send its response in parts (ResponseWriter.Flush):
// server-sent events, a long download, a report written as it is computed. Each part
// goes to the loop as a task and the handler waits there until the connection can take
// more: the part has been written and the connection's unsent output is under its send
// budget (and, over HTTP/2, the stream's window admitted it). So a client that reads
// slowly, or not at all, holds the handler back instead of growing the server's memory,
// and HandlerTimeout, counted again from each part, ends a stream that stays stuck.

// ErrFlushOnLoop is what Flush returns in a handler that runs on the loop, which must not
// wait for the client: its response leaves when it returns. Routes that stream set
// Route.UseWorkerPool.
var ErrFlushOnLoop = errors.New("switchyard: Flush needs a handler on the worker pool (Route.UseWorkerPool)")

// ErrAbandoned is what Flush returns once the response is no longer wanted: the
// connection closed, the client reset the HTTP/2 stream, or the handler sent no part for
// Config.HandlerTimeout. The handler should return; what it writes is dropped.
var ErrAbandoned = errors.New("switchyard: the response is no longer wanted (connection closed, stream reset or HandlerTimeout)")

// partSender sends a worker-pool handler's response written so far and waits until the
// connection can take more; each job kind that carries a handler implements it.
type partSender interface {
	sendPart(w *ResponseWriter) error
}

// PartAnswerer is an Answerer (HandleOffLoop) that can send a response in parts, as its
// handler flushes them. AnswerPart runs on the loop with the response so far: the head,
// on the first call, and the body written since the last part, which it must send or
// copy before returning (the core empties it). It reports whether the part has gone as
// far as the protocol is concerned; when it says no (the stream's window is closed, say),
// it calls Conn.ResumeFlush once the part has gone. The core holds the handler back
// besides while the connection's output is over its send budget. The final part comes to Answer, as a response
// that was never flushed does. A protocol without it buffers the response whole.
type PartAnswerer interface {
	Answerer
	AnswerPart(r *Request, w *ResponseWriter) (goOn bool)
}

// Flush sends the response written so far and waits until the connection can take more:
// the status and header fields on the first call (later changes to them are not sent),
// then the body, framed as a stream (chunked over HTTP/1.1, close-delimited for an
// HTTP/1.0 client, DATA frames over HTTP/2). It returns ErrFlushOnLoop in a handler that
// runs on the loop, and ErrAbandoned once nobody wants the response. Not for a response
// to HEAD or one without content (204, 304): their head goes, and their body is dropped.
func (w *ResponseWriter) Flush() error {
	if w.part == nil {
		return ErrFlushOnLoop
	}
	return w.part.sendPart(w)
}

// Streamed reports whether the response's head has been sent by a Flush: the rest is
// sent as the end of a stream, without a Content-Length.
func (w *ResponseWriter) Streamed() bool { return w.streamed }

// Broken reports whether the handler failed after its head was sent (it panicked): the
// client must learn that the response is cut short, by a close or a stream reset,
// instead of a clean end.
func (w *ResponseWriter) Broken() bool { return w.broken }

// tookPart marks w's head as sent and empties its body, which the part carried.
func (w *ResponseWriter) tookPart() {
	w.streamed = true
	w.body = w.body[:0]
}

// fail turns a handler's failure into its answer: a 500 saying why (text) if nothing was
// sent yet, or else a broken stream, cut short.
func (w *ResponseWriter) fail(text string) {
	if w.streamed {
		w.broken = true
		return
	}
	w.Reset()
	w.text(500, text)
}

// await hands a part to loop l as task part and waits for the loop's word (resume), or
// for the server to have stopped: a loop that stops drops the tasks still queued, so a
// part on its way then never gets its word, and nothing reads its buffers any more.
func (a *abandonHook) await(l *Loop, part Task) error {
	a.mu.Lock()
	if a.abandoned {
		a.mu.Unlock()
		return ErrAbandoned
	}
	if a.resumed == nil {
		a.resumed = make(chan error, 1) // only for a response that streams
	}
	ch := a.resumed
	a.inFlight = true
	a.mu.Unlock()
	if l.Run(part) != nil {
		a.mu.Lock()
		a.inFlight = false
		a.mu.Unlock()
		return ErrAbandoned // the loop has stopped
	}
	select {
	case err := <-ch:
		return err
	case <-l.srv.done:
		return ErrAbandoned
	}
}

// took is the loop taking the part await sent: until then the handler must not go on,
// since the part is read from its buffers. It reports whether the response is still
// wanted, and otherwise lets the handler go on with ErrAbandoned. Loop only.
func (a *abandonHook) took() bool {
	a.mu.Lock()
	a.inFlight = false
	wanted := !a.abandoned
	a.mu.Unlock()
	if !wanted {
		a.resume(ErrAbandoned)
	}
	return wanted
}

// resume lets the handler waiting in Flush go on (err nil) or stop. A second word for
// the same wait is dropped: the first one decides, and abandoned is checked before the
// next wait.
func (a *abandonHook) resume(err error) {
	a.mu.Lock()
	ch := a.resumed
	a.mu.Unlock()
	if ch != nil {
		select {
		case ch <- err:
		default:
		}
	}
}

// ResumeFlush lets the worker-pool handler of the request on stream, waiting in Flush
// since its protocol's AnswerPart said no, go on. Loop only.
func (c *Conn) ResumeFlush(stream uint32) {
	for _, e := range c.loop.offLoop[c] {
		if e.stream == stream {
			e.hook.resume(nil)
		}
	}
}

// partSent decides, once a part has been flushed, when the handler of the request on
// stream goes on: now if the connection's unsent output is under its send budget, else
// once the socket has taken it down to half (backlogEased). Checked after the flush, so
// that a part the socket took whole does not wait for a writable event that never comes.
func (c *Conn) partSent(stream uint32, hook *abandonHook) {
	switch {
	case c.closed: // the close abandoned the handler
	case c.Unsent() < c.srv.cfg.SendBudget:
		hook.resume(nil)
	default:
		c.loop.stats.paused.Add(1)
		list := c.loop.offLoop[c]
		for i := range list {
			if list[i].stream == stream {
				list[i].backlog = true
			}
		}
	}
}

// backlogEased lets c's handlers that wait for its backlog (partSent) go on.
func (l *Loop) backlogEased(c *Conn) {
	list := l.offLoop[c]
	for i := range list {
		if list[i].backlog {
			list[i].backlog = false
			list[i].hook.resume(nil)
		}
	}
}

// offLoopPart is an offLoopJob's part on its way to the loop.
type offLoopPart struct{ job *offLoopJob }

func (job *offLoopJob) sendPart(w *ResponseWriter) error {
	job.part.job = job
	return job.abandon.await(job.c.loop, &job.part)
}

// Run gives the part to the protocol, on the loop.
func (p *offLoopPart) Run(context.Context) error {
	job := p.job
	c := job.c
	if !job.abandon.took() {
		return nil
	}
	pa, ok := job.then.(PartAnswerer)
	if !ok { // the protocol sends the response whole when the handler returns
		job.abandon.resume(nil)
		return nil
	}
	goOn := pa.AnswerPart(&job.req, &job.resp)
	job.resp.tookPart()
	c.Flush()
	if goOn {
		c.partSent(job.req.StreamID, &job.abandon)
	} else {
		c.loop.stats.paused.Add(1) // the protocol's window: it calls ResumeFlush
	}
	return nil
}
