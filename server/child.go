package server

import (
	"errors"

	"github.com/valyala/bytebufferpool"
)

// A child connection is a Conn carried on one stream of another connection, its parent,
// instead of on a socket of its own: a WebSocket on an HTTP/2 stream opened by extended
// CONNECT (RFC 8441). It has the core's whole machinery (input accumulator, send budget
// and backpressure, deadlines in the loop's wheel, linger) and any Protocol runs on it
// unchanged; only its transport differs (child_transport.go). The multiplexing protocol
// that owns the stream implements Carrier and drives the child through a Child.

// Carrier is the side of a multiplexing protocol that carries a child connection on one
// of its streams (HTTP/2 for RFC 8441). Its methods run on the loop.
type Carrier interface {
	// Frame returns p framed as the stream's data (frame headers and views of p), as far
	// as flow control admits now; it keeps a copy of the rest and sends it as the windows
	// open. The result is written to the parent's transport at once, and may live in
	// scratch that the next call reuses.
	Frame(p [][]byte) [][]byte
	// Held is how many bytes Frame kept back for want of window.
	Held() int
	// Consumed returns n bytes of the stream's input to the peer's windows: the child
	// has taken them.
	Consumed(n int)
	// Ended says the child has closed, on its own: the carrier ends the stream in order
	// (HTTP/2: END_STREAM), or, when abort is set (its output could not all be sent, or
	// it gave up on a peer that did not read), cancels it (RST_STREAM CANCEL).
	Ended(abort bool)
	// Decided brings the decision on a child that OpenChild deferred (ConnectDeferred):
	// rej to answer the stream with, or, when rej is nil, out's header lines for the
	// 200, after which the carrier starts the child (Child.Start with r). Only called
	// while the stream is open: the child is reset when it closes.
	Decided(r *Request, out []byte, rej *Rejection)
}

// ConnectUpgrader is implemented by an Upgrader whose protocol can also be opened on a
// stream of a multiplexing protocol: RFC 8441's extended CONNECT, whose :protocol names
// the Upgrader's Token. websocket.New's upgrader is one. A server with such an upgrader
// on a route advertises SETTINGS_ENABLE_CONNECT_PROTOCOL on its HTTP/2 connections.
type ConnectUpgrader interface {
	Upgrader
	// UpgradeConnect decides on an extended CONNECT request, as Upgrade decides on an
	// HTTP/1.1 upgrade: c is the child connection the protocol will run on (its transport
	// is the stream), r the request (ProtoMajor 2, Method "CONNECT", its fields in
	// Header; HTTP1 is nil). To accept it returns the Protocol and may append header
	// lines ("Name: value\r\n") to hdr, which become fields of the 200 response, as
	// Upgrade's do of the 101 (connection-specific fields are dropped too). A
	// Rejection is answered as it is; Decline is answered 404.
	UpgradeConnect(c *Conn, r *Request, hdr []byte) (p Protocol, out []byte, rej *Rejection)
}

// Child is the handle a Carrier drives its child connection with. Loop only.
type Child struct {
	t childTransport
	c Conn
	p Protocol
	// token names the protocol in the connection gauges and outcomes.
	token string
	// later is the decision being made on the worker pool (child_offloop.go).
	later *connectJob
}

// ErrStreamReset is what a child's Protocol.Closed sees when the peer reset the stream
// (HTTP/2 RST_STREAM) or the parent connection went: an abnormal closure, 1006 to a
// WebSocket handler.
var ErrStreamReset = errors.New("switchyard: the stream carrying the connection was reset")

// hasConnectUpgrader reports whether u can be opened by extended CONNECT.
func hasConnectUpgrader(us []Upgrader) bool {
	for _, u := range us {
		if _, ok := u.(ConnectUpgrader); ok {
			return true
		}
	}
	return false
}

// ExtendedConnect reports whether any route (or the server as a whole) has an Upgrader
// that extended CONNECT can open: HTTP/2 then advertises SETTINGS_ENABLE_CONNECT_PROTOCOL
// (RFC 8441 §3). Valid once the routes are set, before Serve.
func (s *Server) ExtendedConnect() bool {
	return s.extConnect || hasConnectUpgrader(s.global)
}

// The refusals of an extended CONNECT that finds nothing to open, worded like their
// HTTP/1.1 counterparts.
var (
	errConnectNoRoute = &Rejection{Status: 404, Kind: "no_route",
		Reason: "no route for this path"}
	errConnectNoProtocol = &Rejection{Status: 404, Kind: "unsupported_protocol",
		Reason: "extended CONNECT (RFC 8441): this path has no endpoint for the requested :protocol"}
	errConnectDeclined = &Rejection{Status: 404, Kind: "declined",
		Reason: "extended CONNECT (RFC 8441): the endpoint declined the request"}
)

// OpenChild negotiates an extended CONNECT (RFC 8441 §4) that arrived as r on a stream of
// c, for the protocol named protocol: it finds r's route and the route's (or the
// server's) ConnectUpgrader for it, and asks it. On success it returns the child to
// start once the carrier has sent its 200 with out's header lines; otherwise the
// Rejection to answer the stream with. ConnectDeferred, with the child, means the
// Upgrader decides on the worker pool (ConnectOffLoop): the carrier attaches the child
// to the stream and waits for Carrier.Decided. Outcomes are counted as for HTTP/1.1
// upgrades ({200, token} on success). car carries the child. Loop only.
func (c *Conn) OpenChild(r *Request, protocol string, car Carrier, hdr []byte) (ch *Child, out []byte, rej *Rejection) {
	// The route is looked up as the GET that RFC 8441 §5 replaces: a "GET /chat" pattern
	// serves WebSockets over HTTP/2 as it does over HTTP/1.1.
	method := r.Method
	r.Method = getMethod
	route := c.srv.routeFor(r)
	r.Method = method
	var u ConnectUpgrader
	if route != nil && route != &wrongMethod {
		u = connectUpgraderFor(route.Upgraders, protocol)
	}
	if u == nil {
		u = connectUpgraderFor(c.srv.global, protocol)
	}
	switch {
	case u == nil && (route == nil || route == &wrongMethod):
		rej = errConnectNoRoute
	case u == nil:
		rej = errConnectNoProtocol
	}
	if rej != nil {
		c.refuseChild(rej)
		return nil, hdr, rej
	}
	ch = &Child{token: u.Token()}
	ch.t = childTransport{c: &ch.c, ch: ch, parent: c, car: car}
	// Held until Start: input that arrives before the protocol does waits, unreturned.
	ch.c = Conn{tr: &ch.t, srv: c.srv, loop: c.loop, index: -1, holding: true}
	r.conn, r.peer = &ch.c, c
	p, out, rej := u.UpgradeConnect(&ch.c, r, hdr)
	if rej == connectLater && ch.later != nil {
		if err := ch.later.submit(r); err != nil {
			ch.later = nil
			rej = &Rejection{Status: 503, Kind: "worker_pool_full", Reason: "the server's worker pool is full; try again"}
		} else {
			return ch, out, ConnectDeferred
		}
	}
	if rej == Decline || rej == connectLater {
		rej = errConnectDeclined
	}
	if rej != nil {
		c.refuseChild(rej)
		return nil, out, rej
	}
	ch.p = p
	c.loop.stats.outcome(200, ch.token)
	return ch, out, nil
}

var getMethod = []byte("GET")

func (c *Conn) refuseChild(rej *Rejection) {
	kind := rej.Kind
	if kind == "" {
		kind = "rejected"
	}
	c.loop.stats.outcome(rej.Status, kind)
	c.LogRefusal(rej.Status, rej.Reason)
}

func connectUpgraderFor(us []Upgrader, protocol string) ConnectUpgrader {
	for _, u := range us {
		if cu, ok := u.(ConnectUpgrader); ok && protocolMatches(u.Token(), []byte(protocol)) {
			return cu
		}
	}
	return nil
}

// Conn is the child connection.
func (ch *Child) Conn() *Conn { return &ch.c }

// Start switches the child to its protocol, with r the request that opened it (valid
// only during the call), and ends its turn. Call it once the carrier has queued its
// answer (HTTP/2: HEADERS :status 200), so that what Start writes follows it.
func (ch *Child) Start(r *Request) {
	c := &ch.c
	if c.closed {
		return
	}
	c.kind = c.srv.kindIndex(ch.token)
	c.loop.stats.childOpen[c.kind].Add(1)
	c.Switch(ch.token, ch.p, r)
	ch.p = nil
	c.Resume() // serves what arrived before the protocol did, and ends the turn
}

// Deliver hands the child input its peer sent on the stream and serves it. p is a view,
// valid only during the call. Input is returned to the peer's windows (Carrier.Consumed)
// once the core has taken it, as a socket's is by the kernel: while the child cannot
// read (its output waits for the peer, or its protocol holds its input) it is kept and
// not returned, so the stream's window bounds it and the peer waits.
func (ch *Child) Deliver(p []byte) {
	c, t := &ch.c, &ch.t
	switch {
	case c.closed || len(p) == 0:
		return
	case c.closing:
		t.car.Consumed(len(p)) // nothing more is read from a connection that is ending
		return
	case c.paused || c.holding:
		if c.acc == nil {
			c.acc, c.accOff = bytebufferpool.Get(), 0
			c.acc.B = c.acc.B[:0]
		}
		c.acc.B = append(c.acc.B, p...)
		t.parked += len(p)
		return
	}
	t.in = p
	t.credit += len(p)
	closeNow := c.process()
	t.in = nil
	if closeNow {
		c.closeNow()
	}
}

// EndInput tells the child that its peer ended the stream (HTTP/2 END_STREAM): as when a
// socket's peer closes, the connection ends once its output has gone.
func (ch *Child) EndInput() {
	c := &ch.c
	if c.closed {
		return
	}
	if c.paused || c.holding {
		ch.t.eof = true // once what was kept is served (returnCredit)
		return
	}
	c.closing = true
	c.Flush()
}

// Reset closes the child at once, without a word to the peer: the stream was reset, or
// the parent connection has gone. Its protocol's Closed sees err (ErrStreamReset).
func (ch *Child) Reset(err error) { ch.c.closeChild(err, true) }

// Drain ends the child gracefully for a shutdown or the parent's GOAWAY: its protocol's
// Drain (WebSocket: close 1001), or at once when it has none.
func (ch *Child) Drain() {
	c := &ch.c
	if c.closed || c.closing {
		return
	}
	if d, ok := c.proto.(Drainer); ok {
		d.Drain(c)
	} else {
		c.closing = true
	}
	c.Flush()
}

// Wake serves what a paused child kept, now that the carrier has sent what it held, rather
// than at the wheel's next look.
func (ch *Child) Wake() {
	c := &ch.c
	if c.closed || !c.paused || c.tr.OutboundBuffered() > c.srv.cfg.SendBudget/2 {
		return
	}
	c.loop.wheel.remove(c)
	if c.resumeTick() {
		c.closeNow()
	}
}

// IsChild reports whether the connection is carried on another connection's stream
// (a WebSocket over HTTP/2). Loop only.
func (c *Conn) IsChild() bool {
	_, ok := c.tr.(*childTransport)
	return ok
}

// closeChild ends a child connection: it leaves the wheel and the gauges, its protocol
// hears of it, and unless the stream is gone already (reset) its carrier ends the
// stream: in order when the child closed by its own choice with all its output framed,
// else cancelled.
func (c *Conn) closeChild(err error, reset bool) {
	if c.closed {
		return
	}
	t := c.tr.(*childTransport)
	abort := reset || !c.closing || t.car.Held() > 0 || c.proto == nil // never answered: cancelled
	c.closed = true
	c.loop.wheel.remove(c)
	if c.proto != nil {
		c.loop.stats.childOpen[c.kind].Add(-1)
		c.proto.Closed(c, err)
	}
	t.credit, t.parked = 0, 0 // the carrier settles the windows of a stream that ends
	c.releaseInput()
	if !reset {
		t.car.Ended(abort)
	}
}
