package http2

import (
	"time"

	"github.com/switchyard-dev/switchyard/frame/h2"
	"github.com/switchyard-dev/switchyard/server"
)

// h2Conn is one HTTP/2 connection (RFC 9113): the Protocol a connection runs after an h2c
// upgrade or the prior-knowledge preface. It lives on its connection's event loop; nothing
// in it is shared, so nothing is locked.
type h2Conn struct {
	c   *server.Conn
	u   *upgrader
	cfg *resolved

	dec  h2.Decoder
	hdec *h2.HeaderDecoder
	henc *h2.HeaderEncoder
	peer h2.Settings // the client's settings as last received

	prefaceDone  bool // the client preface has arrived
	settingsSeen bool // and its first frame, SETTINGS (§3.4)
	// settingsAcked: the client acknowledged our SETTINGS. Until then it may still assume
	// the initial stream window of 65,535 octets (§6.9.3; see openStream), so the ACK is
	// due by settingsDue (Conn.Now's clock), HeaderTimeout after the server's preface, or
	// the connection ends with SETTINGS_TIMEOUT (§6.5.3; armDeadline, Timeout).
	settingsAcked bool
	settingsDue   int64
	// progress: a frame of this read moved a stream (a header block that opens a request
	// or carries an open stream's trailers, DATA with payload or END_STREAM on an open
	// stream, a WINDOW_UPDATE or SETTINGS that let queued DATA go, an RST_STREAM that
	// closed an open stream). Only progress re-arms the deadline, so PINGs, SETTINGS,
	// empty frames, window grants with nothing waiting and frames the server ignores (on
	// a stream it reset, new streams after its GOAWAY) cannot keep an idle or stalled
	// connection open.
	progress  bool
	goingAway bool // GOAWAY sent: no new streams
	upgraded  bool // h2c: stream 1 was the upgrade request
	// holdData keeps stream 1's DATA back until the client's preface and SETTINGS are in:
	// the 101 and what follows it in the same write must stay small, since some clients
	// (curl 7.88) buffer at most 32 KiB behind the 101.
	holdData bool

	// busy: one of the protocol's methods runs, after which the core flushes the
	// connection; a child's carrier flushes it itself otherwise (extconnect.go).
	busy bool
	// wsStreams counts the streams carrying a child connection (RFC 8441).
	wsStreams int
	// awaiting counts the streams whose handlers run on the worker pool (handlertimeout.go).
	awaiting int
	// outliving lists the streams that closed while their handlers ran on the worker
	// pool, until their answers are back: they still count as concurrent streams.
	outliving []uint32
	// poolBodies lists the request bodies worker-pool handlers hold, counted in
	// bufferedBody until their answers are back (handlertimeout.go).
	poolBodies []poolBody
	// woken is BacklogEased's list of children, kept between writable events.
	woken []*server.Child
	// readAt is the clock's reading when the read being served began: the control-frame
	// budget's second, and when the requests it completes began, for the access log and
	// the request metrics (one clock read per read, however many requests it carries).
	readAt int64

	lastID  uint32      // highest client stream ID seen (§5.1.1)
	streams []*h2Stream // active streams, in the order they opened
	recent  closedRing  // recently closed streams, to tell closed from never-opened

	// Flow control (§5.2, §6.9). Send windows may go negative after a SETTINGS change
	// (§6.9.2), hence int64.
	sendWindow   int64 // the connection window the client granted us
	recvWindow   int64 // what the client may still send on the connection
	recvUnacked  int64 // bytes received on the connection not yet returned to the client
	bufferedBody int   // request body bytes held in stream buffers and by pool handlers
	// Past MaxBufferedBody (data.go): exempt is the one stream whose window is still
	// replenished, withheld says some stream's WINDOW_UPDATE is owed.
	exempt   uint32
	withheld bool

	blk headerBlock // the header block being received, if any
	def defence

	hdrs    []server.Header // the request's header views, reused per request
	scratch [20]byte        // content-length digits
}

func newH2Conn(c *server.Conn, u *upgrader) *h2Conn {
	h := &h2Conn{c: c, u: u, cfg: u.resolved(c.Server())}
	h.peer = h2.DefaultSettings()
	h.hdec = h2.NewHeaderDecoder(4096, h.cfg.MaxHeaderListSize)
	h.hdec.AllowExtendedConnect = h.cfg.extConnect // only once advertised (RFC 8441 §3)
	h.henc = h2.NewHeaderEncoder()
	h.sendWindow = 65535
	h.recvWindow = 65535
	return h
}

// applyInitialPeerSettings applies the HTTP2-Settings of an h2c upgrade, which count as
// the client's first SETTINGS (RFC 7540 §3.2.1) but are not acknowledged with a frame.
func (h *h2Conn) applyInitialPeerSettings(s *h2.Settings) {
	h.peer = *s
	h.henc.SetPeerMaxTableSize(s.HeaderTableSize)
}

// Start sends the server preface: SETTINGS first (§3.4), then the connection window raise.
// After an h2c upgrade it answers the upgrading request on stream 1, which is half-closed
// (remote) from the start (RFC 7540 §3.2).
func (h *h2Conn) Start(c *server.Conn, r *server.Request) {
	h.settingsDue = c.Now() + int64(h.cfg.headerTimeout)
	ours := h.cfg.ourSettings()
	b := h2.AppendSettingsDiff(c.AppendBuffer(), &ours)
	if inc := int64(h.cfg.ConnWindow) - h.recvWindow; inc > 0 {
		b = h2.AppendWindowUpdate(b, 0, uint32(inc))
		h.recvWindow += inc
	}
	c.Commit(b)
	if r != nil {
		h.upgraded, h.holdData = true, true
		h.lastID = 1
		s := h.openStream(1)
		s.recvDone = true
		s.logged = accessNote{from: c.Now()}
		if c.AccessLogging() {
			s.logged.method, s.logged.target = string(r.Method), string(r.Target) // copies: r's views die with the turn
		}
		r.AsHTTP2(1)
		h.serveUpgradeRequest(s, r)
	}
	h.armDeadline()
}

// Serve consumes the client preface and then every whole frame in `in`.
func (h *h2Conn) Serve(c *server.Conn, in []byte) (int, error) {
	h.busy = true
	defer func() { h.busy = false }()
	pos := 0
	if !h.prefaceDone {
		n, err := h2.ReadPreface(in)
		if err == h2.ErrIncomplete {
			return 0, nil
		}
		if err != nil {
			// After an h2c 101 the client owes the preface (RFC 7540 §3.2); anything else
			// is a connection error (RFC 9113 §3.4).
			return len(in), h.connError(err)
		}
		h.prefaceDone = true
		pos = n
	}
	h.readAt = c.Now()
	h.def.newRead(h)
	for pos < len(in) && !c.Closing() && !c.Saturated() {
		f, n, err := h.dec.ReadFrame(in[pos:])
		if err == h2.ErrIncomplete {
			break
		}
		if n == 0 {
			return len(in), h.connError(err)
		}
		pos += n
		first := !h.settingsSeen
		if first {
			if f.Type != h2.FrameSettings || f.IsAck() {
				return len(in), h.connError(errNoSettingsFirst)
			}
			h.settingsSeen = true
		}
		cerr := h.frame(&f, err)
		if cerr == nil {
			cerr = h.def.resetBudget(h) // the resets the frame made the server send
		}
		if cerr != nil {
			return len(in), h.connError(cerr)
		}
		if first {
			h.progress = true // the handshake is done: the idle timeout starts
			if h.holdData {
				h.holdData = false
				h.flushBlocked()
			}
		}
	}
	h.replenish()
	if h.goingAway && len(h.streams) == 0 {
		c.Close()
	}
	if h.progress {
		h.progress = false
		h.armDeadline()
	}
	return pos, nil
}

var (
	errNoSettingsFirst = h2.ConnectionError{Code: h2.ErrCodeProtocol, Reason: "the client preface must be followed by SETTINGS (RFC 9113 §3.4)"}
	errPushPromise     = h2.ConnectionError{Code: h2.ErrCodeProtocol, Reason: "PUSH_PROMISE from a client (RFC 9113 §8.4)"}
	errEvenStream      = h2.ConnectionError{Code: h2.ErrCodeProtocol, Reason: "client stream ID must be odd (RFC 9113 §5.1.1)"}
	errIdleStream      = h2.ConnectionError{Code: h2.ErrCodeProtocol, Reason: "frame on an idle stream (RFC 9113 §5.1)"}
	errStreamIDOrder   = h2.ConnectionError{Code: h2.ErrCodeProtocol, Reason: "new stream ID not above the last one (RFC 9113 §5.1.1)"}
	errClosedHeaders   = h2.ConnectionError{Code: h2.ErrCodeStreamClosed, Reason: "HEADERS on a closed stream (RFC 9113 §5.1)"}
	errConnWindow      = h2.ConnectionError{Code: h2.ErrCodeFlowControl, Reason: "WINDOW_UPDATE took the connection window past 2^31-1 (RFC 9113 §6.9.1)"}
	errConnRecvWindow  = h2.ConnectionError{Code: h2.ErrCodeFlowControl, Reason: "DATA beyond the connection's flow-control window (RFC 9113 §6.9.1)"}
	errInitialWindow   = h2.ConnectionError{Code: h2.ErrCodeFlowControl, Reason: "SETTINGS_INITIAL_WINDOW_SIZE took a stream window past 2^31-1 (RFC 9113 §6.9.2)"}
	errSettingsTimeout = h2.ConnectionError{Code: h2.ErrCodeSettingsTimeout, Reason: "the server's SETTINGS were not acknowledged within the header timeout (RFC 9113 §6.5.3)"}
)

// frame dispatches one decoded frame. serr is the StreamError ReadFrame reported for
// it, if any. A non-nil result is a connection error.
// Each handler sets progress itself, for what moved a stream: onHeaders and
// onContinuation, onData, sendPending (WINDOW_UPDATE, SETTINGS), onRSTStream.
func (h *h2Conn) frame(f *h2.Frame, serr error) error {
	switch f.Type {
	case h2.FrameHeaders:
		return h.onHeaders(f, serr)
	case h2.FrameContinuation:
		return h.onContinuation(f)
	case h2.FrameData:
		return h.onData(f)
	case h2.FrameSettings:
		return h.onSettings(f)
	case h2.FramePing:
		return h.onPing(f)
	case h2.FrameWindowUpdate:
		return h.onWindowUpdate(f, serr)
	case h2.FrameRSTStream:
		return h.onRSTStream(f)
	case h2.FramePriority:
		// Parsed and ignored (RFC 9113 §5.3.2), except that a malformed one is a stream
		// error (§6.3) and it never opens a stream.
		if err := h.def.control(h); err != nil {
			return err
		}
		if se, ok := serr.(h2.StreamError); ok {
			h.resetStream(se.StreamID, se.Code)
		}
		return nil
	case h2.FrameGoAway:
		return nil // the client stops opening streams; ours finish as usual
	case h2.FramePushPromise:
		return errPushPromise
	default:
		return h.def.control(h) // unknown types are ignored (§5.5)
	}
}

// connError ends the connection (§5.4.1): GOAWAY with the last stream ID the server
// processed and the error's code, then close once the batch is written.
func (h *h2Conn) connError(err error) error {
	ce, ok := err.(h2.ConnectionError)
	if !ok {
		ce = h2.ConnectionError{Code: h2.ErrCodeInternal, Reason: err.Error()}
	}
	b := h2.AppendGoAway(h.c.AppendBuffer(), h.lastID, ce.Code, []byte(ce.Reason))
	h.c.Commit(b)
	h.goingAway = true
	h.c.CountError(ce.Code.String())
	h.c.LogRefusal(0, "HTTP/2 connection error "+ce.Code.String()+": "+ce.Reason)
	return server.ErrClose
}

// Drain starts a graceful shutdown of the connection (RFC 9113 §6.8): it sends GOAWAY
// with NO_ERROR and the last stream ID the client opened, lets the open streams finish,
// refuses new ones, and closes the connection when none is left.
func (h *h2Conn) Drain(*server.Conn) {
	if h.goingAway || h.c.Closing() {
		return
	}
	h.goingAway = true
	b := h2.AppendGoAway(h.c.AppendBuffer(), h.lastID, h2.ErrCodeNo, nil)
	h.c.Commit(b)
	if h.wsStreams > 0 {
		// A WebSocket never finishes by itself: each closes with 1001 first, and its
		// stream ends with its close handshake.
		h.busy = true
		for _, ch := range h.childStreams() {
			ch.Drain()
		}
		h.busy = false
		h.replenish() // for what the streams that closed held
	}
	if len(h.streams) == 0 {
		h.c.Close()
	}
}

// Timeout ends a connection whose client went quiet: before its preface (the handshake
// timeout), with no open stream (idle), or with streams that stopped making progress; or
// one whose client has not acknowledged the server's SETTINGS in time (§6.5.3). A stream
// whose handler outlived HandlerTimeout is answered 503 instead (handlertimeout.go), and
// one whose request body is overdue 408 (bodytimeout.go).
func (h *h2Conn) Timeout(c *server.Conn) {
	if h.settingsSeen && !h.settingsAcked && c.Now() >= h.settingsDue {
		_ = h.connError(errSettingsTimeout)
		c.Close()
		return
	}
	if h.settingsSeen {
		if h.timeOutStreams() || len(h.streams) > 0 && h.timed() {
			// The deadline was a stream's own; with every stream timed so, there is no
			// progress timeout to have passed.
			h.armDeadline()
			return
		}
	}
	if h.wsStreams > 0 && h.settingsSeen && h.blk.kind == blockNone {
		// WebSockets keep the connection: each watches its own peer (pings). Only the
		// other streams that stopped making progress, and have no deadline of their own,
		// are cancelled; a header block left unfinished still ends the connection.
		h.busy = true
		for i := 0; i < len(h.streams); {
			if s := h.streams[i]; s.car == nil && s.waitSince == 0 && h.bodyDue(s) == 0 {
				h.resetStream(s.id, h2.ErrCodeCancel)
				continue
			}
			i++
		}
		h.busy = false
		h.replenish() // their bodies are freed
		h.armDeadline()
		return
	}
	if !h.goingAway {
		b := h2.AppendGoAway(c.AppendBuffer(), h.lastID, h2.ErrCodeNo, []byte("timeout"))
		c.Commit(b)
		h.goingAway = true
	}
	c.Close()
}

// Closed releases every stream's buffers.
func (h *h2Conn) Closed(*server.Conn, error) {
	var children []*server.Child
	if h.wsStreams > 0 {
		children = h.childStreams()
	}
	for _, s := range h.streams {
		if s.car != nil {
			h.detachChild(s)
		}
		h.releaseStream(s)
	}
	for _, ch := range children {
		ch.Reset(server.ErrStreamReset) // the connection carrying them has gone: 1006
	}
	clear(h.streams)
	h.streams = h.streams[:0]
	h.blk = headerBlock{}
}

// armDeadline picks the timeout for the connection's state: the handshake timeout until
// the client's preface and SETTINGS are in (armed once, at Start), the idle timeout while
// no stream is open, the earliest of the streams' own deadlines (HandlerTimeout, a
// body's, none for a WebSocket) while every stream has one, and otherwise the body
// timeout as a progress timeout (on open streams), or one of those deadlines if sooner;
// and, until the client acknowledges the server's SETTINGS, no later than the ACK is due.
// Serve re-arms it only after a read that made progress.
func (h *h2Conn) armDeadline() {
	var d time.Duration
	switch {
	case !h.settingsSeen:
		d = h.cfg.headerTimeout
	case len(h.streams) == 0 && h.blk.kind == blockNone:
		d = h.cfg.IdleTimeout
	case h.timed():
		d = 0 // the streams' own deadlines below; a WebSocket watches its peer with pings
	default:
		d = h.cfg.bodyTimout
	}
	if len(h.streams) > 0 && h.settingsSeen {
		if left, ok := h.handlerDeadline(); ok && (d <= 0 || left < d) {
			d = left
		}
		if left, ok := h.bodyDeadline(); ok && (d <= 0 || left < d) {
			d = left
		}
	}
	if !h.settingsAcked {
		if left := max(time.Duration(h.settingsDue-h.c.Now()), time.Millisecond); d <= 0 || left < d {
			d = left
		}
	}
	h.c.SetDeadline(d)
}
