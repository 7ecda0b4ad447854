package server

import "context"

// ConnectDeferred is the Rejection OpenChild returns when the Upgrader decides on the
// worker pool (Conn.ConnectOffLoop): the carrier keeps the stream open, unanswered, and
// hears of the decision through Carrier.Decided.
var ConnectDeferred = &Rejection{Kind: "deferred"}

// connectLater is what ConnectOffLoop returns to OpenChild through UpgradeConnect.
var connectLater = &Rejection{}

// ConnectOffLoop lets a ConnectUpgrader finish deciding on the worker pool, as
// UpgradeOffLoop does over HTTP/1.1: UpgradeConnect validates on the loop what needs no
// wait and returns what ConnectOffLoop returns; decide then runs on the worker pool with
// a copy of the request (Conn is nil there) and hdr's lines. Meanwhile the stream stays
// unanswered and what the client sends on it waits, bounded by the stream's window. c is
// the child UpgradeConnect was given. Loop only.
func (c *Conn) ConnectOffLoop(hdr []byte, decide UpgradeDecision) (Protocol, []byte, *Rejection) {
	t, ok := c.tr.(*childTransport)
	if !ok || decide == nil || t.ch == nil || c.proto != nil {
		return nil, hdr, &Rejection{Status: 500, Reason: "internal error: ConnectOffLoop outside UpgradeConnect"}
	}
	t.ch.later = &connectJob{ch: t.ch, decide: decide, hdr: append([]byte(nil), hdr...)}
	return nil, hdr, connectLater
}

// connectJob is an extended CONNECT decided on the worker pool.
type connectJob struct {
	ch     *Child
	decide UpgradeDecision
	req    Request
	hdr    []byte
	p      Protocol
	rej    *Rejection
}

// submit copies r for the worker and hands the decision to the pool. The views of an
// HTTP/2 request are of HPACK's strings, which no later block reuses; only the header
// slice is the loop's scratch.
func (j *connectJob) submit(r *Request) error {
	j.req = *r
	j.req.Header = append([]Header(nil), r.Header...)
	j.req.conn = nil
	return j.ch.c.srv.pool.Submit(j.work)
}

func (j *connectJob) work() {
	j.p, j.hdr, j.rej = j.ch.c.srv.callDecision(j.decide, &j.req, j.hdr)
	_ = j.ch.c.loop.Run(j) // fails only once the loop has stopped: the child is gone
}

// Run applies the decision on the loop, unless the stream went meanwhile.
func (j *connectJob) Run(context.Context) error {
	ch := j.ch
	c := &ch.c
	ch.later = nil
	if c.closed {
		return nil
	}
	t := &ch.t
	j.req.conn = c
	rej := j.rej
	if rej == Decline || rej == connectLater || rej == nil && j.p == nil {
		rej = errConnectDeclined
	}
	if rej != nil {
		t.parent.refuseChild(rej)
		t.car.Decided(&j.req, j.hdr, rej)
	} else {
		ch.p = j.p
		t.parent.loop.stats.outcome(200, ch.token)
		t.car.Decided(&j.req, j.hdr, nil)
	}
	t.parent.Flush()
	return nil
}
