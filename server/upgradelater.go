package server

import (
	"context"
	"sync"
	"time"

	"github.com/switchyard-dev/switchyard/parser"
	"github.com/switchyard-dev/switchyard/server/internal/headerlines"
)

// UpgradeDecision decides an upgrade off the loop (see Conn.UpgradeOffLoop). r is a copy
// of the request, whole (HTTP1, Get, PathValue and RemoteAddr work; Conn is nil), valid
// only during the call; hdr holds the 101's header lines Upgrade had appended. It returns
// what Upgrade would have: the protocol and hdr with any more lines, or a Rejection.
type UpgradeDecision func(r *Request, hdr []byte) (p Protocol, out []byte, rej *Rejection)

// upgradeLater is the Rejection Upgrade returns, through UpgradeOffLoop, to decide later.
var upgradeLater = &Rejection{}

// UpgradeOffLoop lets an Upgrader finish deciding on the worker pool, for a check that
// waits (a session store, an authentication service): Upgrade validates on the loop what
// needs no wait and returns what UpgradeOffLoop returns. decide then runs on the worker
// pool. Meanwhile the connection reads nothing (what the client sent after the request,
// such as its first frames, waits for the new protocol) and its other requests wait. Back
// on the loop the 101 is sent and the protocol's Start runs with the copy of the request,
// or the Rejection is answered (Decline, too late to serve the request as plain HTTP
// there, is answered 403). A full pool answers 503. Loop only, from Upgrade over HTTP/1.1.
func (c *Conn) UpgradeOffLoop(hdr []byte, decide UpgradeDecision) (Protocol, []byte, *Rejection) {
	h, ok := c.proto.(*http1)
	if !ok || decide == nil {
		return nil, hdr, &Rejection{Status: 500, Reason: "internal error: UpgradeOffLoop outside an HTTP/1.1 upgrade"}
	}
	job := laterJobs.Get().(*laterJob)
	job.decide = decide
	job.hdr = append(job.hdr[:0], hdr...)
	h.later = job
	return nil, hdr, upgradeLater
}

// laterJob is an upgrade decided on the worker pool: the request is copied (head and
// body) and parsed again there, since the loop's views die with the turn.
type laterJob struct {
	requestCopy
	h      *http1
	u      Upgrader
	decide UpgradeDecision
	start  time.Time
	hdr    []byte
	// sent100 says 100 Continue went out for the request; the 101 needs one before it.
	sent100 bool
	p       Protocol
	rej     *Rejection
}

var laterJobs = sync.Pool{New: func() any { return new(laterJob) }}

// upgradeOffLoop hands the upgrade that Upgrade deferred to the worker pool, and holds the
// connection until its answer is back.
func (h *http1) upgradeOffLoop(req *parser.Request, head, body []byte) error {
	c := h.c
	job := h.later
	h.later = nil
	job.h = h
	if st := h.st; st != nil {
		job.start, job.sent100 = st.start, st.sent100
	}
	job.fill(c, c.loop.hreq.match, h.startedAt(), head, body)
	if err := c.srv.pool.Submit(job.work); err != nil {
		job.release()
		h.respond(req, h.startedAt(), 503, "", "", "the server's worker pool is full; try again")
		return h.endRequest(req)
	}
	h.busy = true
	c.Hold()
	c.SetDeadline(c.srv.cfg.HandlerTimeout)
	h.release()
	return nil
}

// work runs on a worker goroutine: the request parsed again, then the decision.
func (job *laterJob) work() {
	if !job.parse(job.h.c) {
		job.rej = &Rejection{Status: 500, Reason: "internal error: the request changed while its upgrade was decided"}
	} else {
		job.p, job.hdr, job.rej = job.h.c.srv.callDecision(job.decide, &job.hreq, job.hdr)
	}
	if job.h.c.loop.Run(job) != nil {
		job.release() // the loop has stopped: the connection is gone
	}
}

// Run applies the decision on the loop: the 101 and the switch, or the rejection; then
// the input that waited is served.
func (job *laterJob) Run(context.Context) error {
	h, c := job.h, job.h.c
	if c.closed || h.gaveUp {
		job.release()
		return nil
	}
	h.busy = false
	job.hreq.conn = c
	rej := job.rej
	switch {
	case rej == nil && job.p != nil:
		h.switching(&job.req, job.from, job.req.Expect100 && !job.sent100, job.u.Token(), job.hdr)
		c.loop.stats.outcome(101, job.u.Token())
		if !job.start.IsZero() {
			c.loop.stats.handshakes.observe(time.Since(job.start))
		}
		c.Switch(job.u.Token(), job.p, &job.hreq)
	default:
		if rej == nil || rej.Status == 0 || rej == upgradeLater {
			rej = &Rejection{Status: 403, Reason: "the upgrade was declined", Kind: "declined"}
		}
		if job.req.Method == nil { // the request could not be parsed again
			job.req.ProtoMinor = 1
		}
		h.answerRejection(&job.req, job.from, job.u, rej)
		if !h.keepAlive(&job.req) {
			c.Close()
		} else {
			c.SetDeadline(c.srv.cfg.IdleTimeout)
		}
	}
	job.release()
	c.Resume()
	return nil
}

// maxRetainedHdr bounds the header buffer a pooled job keeps.
const maxRetainedHdr = 4 << 10

func (job *laterJob) release() {
	job.reset()
	hdr := job.hdr[:0]
	if cap(hdr) > maxRetainedHdr {
		hdr = nil
	}
	*job = laterJob{requestCopy: job.requestCopy, hdr: hdr}
	laterJobs.Put(job)
}

// switching queues the 101 that answers req, switching to the protocol named token, and
// counts and logs it (from is when req began: http1.startedAt).
func (h *http1) switching(req *parser.Request, from int64, owes100 bool, token string, hdr []byte) {
	c := h.c
	c.Commit(appendSwitching(c.AppendBuffer(), owes100, token, hdr))
	c.CountResponse(1, 101, from, 0)
	if c.srv.cfg.AccessLog != nil {
		h.logAccess(req, from, 101, 0, token)
	}
}

// appendSwitching appends the 101 that switches to the protocol named token, with the
// upgrader's extra header lines that headerlines lets through, after the 100 Continue a request that expected one and
// has not had it is owed first (RFC 9110 §7.8).
func appendSwitching(b []byte, owes100 bool, token string, hdr []byte) []byte {
	if owes100 {
		b = append(b, continue100...)
	}
	b = append(b, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: "...)
	b = append(b, token...)
	b = append(b, "\r\nConnection: Upgrade\r\n"...)
	b = headerlines.Append(b, hdr)
	return append(b, "\r\n"...)
}
