package websocket

import (
	"context"
	"fmt"
	"sync"

	"github.com/valyala/bytebufferpool"
)

// Callbacks on the worker pool (Handler.UseWorkerPool).
//
// A connection has at most one callback job at a time: OnOpen, then each OnMessage in the
// order the messages arrived, then OnClose. From the moment a job is handed out until it
// is back on the loop the connection is busy: its session decodes no data frame (control
// frames already received are still answered on the loop), and at the first data frame
// it meets it holds the connection (server.Conn.Hold), so what the peer sends meanwhile
// waits in the kernel, whose TCP window holds the peer back, not in the server's memory.
// (Holding only then spares a request-reply peer, which sends nothing until it has the
// reply, the pause and the resumed read.) The job returns to the loop as a task, which
// resumes a held connection (server.Conn.Resume): the input that waited is served and
// the next message may be handed out.
//
// A message's payload is a view of the loop's input, which the loop reuses once the turn
// ends; the job carries a copy in a pooled buffer, released when the callback returns.
//
// A full pool: the job waits in the pool's queue (server.Conn.Queue), in order, and the
// connection stays held; the first worker to free takes it. No goroutine is started per
// connection or message: at most one job per connection exists.

// offFlags is a connection's state on the loop with respect to its callback jobs.
type offFlags uint8

const (
	offBusy         offFlags = 1 << iota // a job is out: running, or waiting for a worker
	offHeld                              // the session held the connection's input meanwhile
	offClosePending                      // the connection closed meanwhile: OnClose follows
)

type jobKind uint8

const (
	jobOpen jobKind = iota
	jobMessage
	jobClose
)

// offJob is one callback run on the worker pool, and its way back to the loop.
type offJob struct {
	w        *Conn
	kind     jobKind
	op       OpCode
	buf      *bytebufferpool.ByteBuffer // the message's copy (jobMessage)
	code     StatusCode                 // jobClose
	reason   string                     // jobClose
	work     func()                     // j.run, made once per pooled job
	panicked any
}

var offJobs sync.Pool

func init() {
	offJobs.New = func() any {
		j := new(offJob)
		j.work = j.run
		return j
	}
}

func newOffJob(w *Conn, kind jobKind) *offJob {
	j := offJobs.Get().(*offJob)
	j.w, j.kind = w, kind
	return j
}

func (j *offJob) release() {
	if j.buf != nil {
		bytebufferpool.Put(j.buf)
	}
	work := j.work
	*j = offJob{work: work}
	offJobs.Put(j)
}

// offLoopOpen hands OnOpen to the pool. Loop only (Start).
func (w *Conn) offLoopOpen() {
	w.submit(newOffJob(w, jobOpen))
}

// offLoopMessage hands OnMessage to the pool with a copy of the payload, which is a view
// of the loop's input or assembler. Loop only.
func (w *Conn) offLoopMessage(op OpCode, payload []byte) {
	j := newOffJob(w, jobMessage)
	j.op = op
	j.buf = bytebufferpool.Get()
	j.buf.B = append(j.buf.B[:0], payload...)
	w.submit(j)
}

// offLoopClose hands OnClose to the pool, once, after any callback still running or
// waiting for a worker. Loop only (Closed, or a job's return).
func (w *Conn) offLoopClose() {
	if w.off&offBusy != 0 {
		w.off |= offClosePending
		return
	}
	if w.rt.OnClose == nil || !w.onClose.CompareAndSwap(false, true) {
		return
	}
	code, reason := w.closeStatus()
	j := newOffJob(w, jobClose)
	j.code, j.reason = code, reason
	w.submit(j)
}

// submit hands j to the worker pool, where it waits for a worker when all are busy; the
// connection is busy until j is back. Loop only.
func (w *Conn) submit(j *offJob) {
	w.off |= offBusy
	if w.c.Queue(j.work) != nil {
		// The server has stopped serving: the job will not run, and the connection,
		// busy for good, hands out nothing more.
		j.release()
	}
}

// run is the job on a worker goroutine: the callback, then the return to the loop.
func (j *offJob) run() {
	w := j.w
	func() {
		defer func() {
			if p := recover(); p != nil {
				j.panicked = p
			}
		}()
		switch j.kind {
		case jobOpen:
			w.rt.OnOpen(w)
		case jobMessage:
			w.rt.OnMessage(w, Message{Op: j.op, Payload: j.buf.B})
		case jobClose:
			w.rt.OnClose(w, j.code, j.reason)
		}
	}()
	if j.buf != nil {
		// The payload was valid during the call only: it goes back to the pool now.
		bytebufferpool.Put(j.buf)
		j.buf = nil
	}
	if w.c.Loop().Run(j) != nil {
		// The loop has stopped (the server shut down): the connection is gone, and its
		// OnClose, which could not be handed out while this callback ran, runs here.
		kind := j.kind
		j.release()
		if kind != jobClose && w.rt.OnClose != nil && w.onClose.CompareAndSwap(false, true) {
			w.rt.OnClose(w, StatusAbnormalClosure, "server stopped")
		}
	}
}

// Run is the job back on the loop: the connection is no longer busy; the connection's
// input that waited is served (which may hand out its next message), or its OnClose if
// it closed meanwhile.
func (j *offJob) Run(context.Context) error {
	w, kind, panicked := j.w, j.kind, j.panicked
	j.release()
	c := w.c
	held, closePending := w.off&offHeld != 0, w.off&offClosePending != 0
	w.off = 0
	if panicked != nil {
		if log := c.Server().Config().Logger; log != nil {
			log.Error("switchyard: websocket callback on the worker pool panicked; closing with 1011",
				"panic", fmt.Sprint(panicked), "remote", c.RemoteAddr().String())
		}
		c.CountError("callback_panic")
		if !c.Closing() {
			w.close(StatusInternalError, "internal error")
			c.Flush()
		}
	}
	switch {
	case kind == jobClose:
	case closePending:
		w.offLoopClose()
	case held:
		c.Resume()
	}
	return nil
}

// closeStatus is the code and reason OnClose reports. Loop only.
func (w *Conn) closeStatus() (StatusCode, string) {
	code := StatusCode(w.closeCode)
	if code == 0 {
		code = StatusAbnormalClosure
	}
	return code, w.closeReason
}
