package http2

import (
	"github.com/switchyard-dev/switchyard/frame/h2"
	"github.com/valyala/bytebufferpool"
)

// onData receives request body bytes (RFC 9113 §6.1) into the stream's pooled buffer,
// with receive-side flow control (§6.9): the whole frame, padding included, counts
// against both windows.
func (h *h2Conn) onData(f *h2.Frame) error {
	id := f.StreamID
	if id > h.lastID {
		return errIdleStream
	}
	n := int64(f.Length)
	if n > h.recvWindow {
		return errConnRecvWindow
	}
	h.recvWindow -= n
	h.recvUnacked += n // returned by replenish
	data := f.Data()
	if len(data) == 0 && !f.EndStream() {
		if err := h.def.control(h); err != nil { // empty DATA costs work and carries nothing
			return err
		}
	}

	s := h.stream(id)
	if s == nil {
		if _, byUs := h.recent.lookup(id); !byUs {
			h.resetStream(id, h2.ErrCodeStreamClosed) // closed (§5.1, §6.1)
		}
		return nil // frames already in flight on a stream we reset are ignored (§5.1)
	}
	if s.recvDone {
		h.resetStream(id, h2.ErrCodeStreamClosed) // half-closed (remote) (§5.1)
		return nil
	}
	if n > s.recvWindow {
		h.resetStream(id, h2.ErrCodeFlowControl) // §6.9.1
		return nil
	}
	s.recvWindow -= n
	// DATA that reaches an open stream moves it; an empty frame without END_STREAM, or
	// DATA on a stream the server reset, does not re-arm the deadline (h2Conn.progress).
	h.progress = h.progress || len(data) > 0 || f.EndStream()
	if s.car != nil {
		h.childData(s, f)
		return nil
	}
	if s.discards() {
		// Answered early (413, 431) or served early (CONNECT): the rest is discarded.
		if f.EndStream() {
			h.endDiscarded(s)
		}
		return nil
	}
	s.received += int64(len(data))
	if cl := s.head.ContentLength; cl >= 0 && s.received > cl {
		h.resetStream(id, h2.ErrCodeProtocol) // more DATA than content-length (§8.1.1)
		return nil
	}
	if s.received > h.cfg.maxBody {
		h.answerText(s, 413, "request body exceeds the server's limit")
		return nil
	}
	if len(data) > 0 {
		if s.body == nil {
			s.body = bytebufferpool.Get()
		}
		s.body.B = append(s.body.B, data...)
		h.bufferedBody += len(data)
	}
	s.recvUnacked += n
	if f.EndStream() {
		return h.endOfRequest(s)
	}
	// Let the stream's body keep coming: return what it consumed once that is half the
	// window, so WINDOW_UPDATEs stay few, unless the connection buffers too much
	// (mayGrow). The body limit above bounds one stream.
	if s.recvUnacked >= int64(h.cfg.StreamWindow)/2 {
		h.growStream(s)
	}
	return nil
}

// endDiscarded ends the request of a stream answered before its body was complete (413,
// 431), or served before it (CONNECT): the client's END_STREAM makes it half-closed
// (remote), so it closes once its response is out, without the RST_STREAM NO_ERROR that
// would otherwise follow (§8.1). A worker-pool handler's response is still to come.
func (h *h2Conn) endDiscarded(s *h2Stream) {
	s.recvDone = true
	if s.responded && s.out == nil && !s.streaming {
		h.closeStream(s, false)
	}
}

// Request bodies are buffered whole (handlers get Request.Body), so flow control is what
// bounds the memory a connection's uploads hold (RFC 9113 §5.2.2): bufferedBody, the bytes
// held, should stay near MaxBufferedBody. Holding back the connection window alone once
// past it (as this did) deadlocks concurrent uploads that together exceed it: none can
// complete, so none frees its buffer, and a client that multiplexes can send nothing
// (§5.2.2 warns of exactly this). Two rules keep the bound without that deadlock:
//
//   - Past MaxBufferedBody, only one stream's window is replenished: the first stream that
//     needs more window then, which is the one the client is sending (whatever its order:
//     oldest first, newest first or all at once). It is "exempt" until its body is
//     complete (at most MaxBodyBytes, or it gets 413), so it can always finish and free
//     its buffer. Every other stream keeps only what is left of its window. Once complete,
//     the exempt body may go to a worker-pool handler: no other stream becomes exempt
//     until that handler answers (or times out), so one exempt body is held at a time.
//   - Past MaxBufferedBody, the connection window is re-opened only by what the streams'
//     own windows still let the client send: no more than can arrive anyway, and enough
//     that the exempt stream, and the others' remaining windows, are never starved.
//
// So past MaxBufferedBody what can still arrive is the exempt stream's body plus what is
// left of the other streams' windows, each at most StreamWindow: the connection holds at
// most MaxBufferedBody + ConnWindow + MaxBodyBytes + (MaxConcurrentStreams-1) x
// StreamWindow, and about MaxBufferedBody + ConnWindow while its streams send evenly.
// bufferedBody counts a body handed to a worker-pool handler until the handler returns
// (handlertimeout.go), since the handler's copy lives that long, and a stream reset
// meanwhile keeps its slot until then.
// When bodies are freed (a handler answered, a stream closed) the withheld windows are
// returned: replenish runs after every read and wherever a body is freed outside one.

// buffering reports whether s is receiving a request body to buffer for its handler.
func (s *h2Stream) buffering() bool { return !s.recvDone && !s.discards() && s.car == nil }

// growStream returns the window s consumed with WINDOW_UPDATE if mayGrow allows it now;
// otherwise the update is owed (withheld) and replenish tries again.
func (h *h2Conn) growStream(s *h2Stream) {
	if !h.mayGrow(s) {
		h.withheld = true
		if s.heldSince == 0 {
			s.heldSince = max(h.c.Now(), 1)
		}
		return
	}
	if s.heldSince != 0 {
		// The server held the body up: that time is not the client's (bodytimeout.go).
		s.bodyFrom += h.c.Now() - s.heldSince
		s.heldSince = 0
	}
	h.c.Commit(h2.AppendWindowUpdate(h.c.AppendBuffer(), s.id, uint32(s.recvUnacked)))
	s.recvWindow += s.recvUnacked
	s.recvUnacked = 0
}

// mayGrow reports whether the buffering stream s may have its window replenished: always
// while the connection buffers at most MaxBufferedBody, and past it only for the exempt
// stream, which s becomes if there is none.
func (h *h2Conn) mayGrow(s *h2Stream) bool {
	if h.bufferedBody <= h.cfg.MaxBufferedBody || h.exempt == s.id {
		return true
	}
	if e := h.stream(h.exempt); e != nil && e.buffering() || h.poolHolds(h.exempt) {
		// One exempt body at a time: the exempt stream's body is still arriving, or a
		// worker-pool handler holds it (even if the stream was reset since), whose answer
		// frees it and replenishes (Answer). Other pool handlers do not hold back a new
		// exemption: one without a body (a long poll, an extended CONNECT being decided)
		// frees nothing when it answers.
		return false
	}
	h.exempt = s.id
	return true
}

// replenish returns window after a read, or after request bodies were freed: the stream
// updates mayGrow held back if it allows them now, then the connection's. Within
// MaxBufferedBody the connection window is returned whole once half of it is used, so
// WINDOW_UPDATEs stay few; past it, only up to what the open streams may still send (see
// above), once that is worth an update.
func (h *h2Conn) replenish() {
	if h.c.Closing() {
		return
	}
	over := h.bufferedBody > h.cfg.MaxBufferedBody
	var usable int64
	if h.withheld || over {
		h.withheld = false
		half := int64(h.cfg.StreamWindow) / 2
		for _, s := range h.streams {
			if s.recvDone {
				continue
			}
			if s.buffering() && s.recvUnacked >= half {
				h.growStream(s)
			}
			usable += max(s.recvWindow, 0)
		}
	}
	if !over {
		if h.recvUnacked >= int64(h.cfg.ConnWindow)/2 {
			h.returnConn(h.recvUnacked)
		}
		return
	}
	want := min(usable, int64(h.cfg.ConnWindow))
	if g := min(h.recvUnacked, want-h.recvWindow); g > 0 && 2*g >= want {
		h.returnConn(g)
	}
}

// returnConn returns n received bytes to the connection window.
func (h *h2Conn) returnConn(n int64) {
	h.c.Commit(h2.AppendWindowUpdate(h.c.AppendBuffer(), 0, uint32(n)))
	h.recvWindow += n
	h.recvUnacked -= n
}

// onWindowUpdate grows a send window (§6.9) and sends DATA that was waiting for it.
// WINDOW_UPDATE is not counted as a control frame: it needs no reply, and a fast download
// legitimately sends many.
func (h *h2Conn) onWindowUpdate(f *h2.Frame, serr error) error {
	id := f.StreamID
	if id > h.lastID {
		return errIdleStream
	}
	if se, ok := serr.(h2.StreamError); ok { // increment 0 on a stream (§6.9)
		h.resetStream(se.StreamID, se.Code)
		return nil
	}
	inc := int64(f.Increment())
	if id == 0 {
		h.sendWindow += inc
		if h.sendWindow > h2.MaxWindowSize {
			return errConnWindow
		}
		h.flushBlocked()
		return nil
	}
	s := h.stream(id)
	if s == nil {
		return nil // WINDOW_UPDATE may trail a stream's end (§6.9)
	}
	s.sendWindow += inc
	if s.sendWindow > h2.MaxWindowSize {
		h.resetStream(id, h2.ErrCodeFlowControl) // §6.9.1
		return nil
	}
	if s.out != nil {
		h.sendPending(s)
	}
	return nil
}

// onRSTStream closes a stream the client cancelled (§6.4).
func (h *h2Conn) onRSTStream(f *h2.Frame) error {
	id := f.StreamID
	if id > h.lastID {
		return errIdleStream
	}
	if err := h.def.reset(h); err != nil {
		return err
	}
	if s := h.stream(id); s != nil {
		h.closeStream(s, false)
		h.progress = true // it closed an open stream; one on a closed stream is no progress
	}
	return nil
}

// onSettings applies the client's SETTINGS in order (§6.5.3) and acknowledges them.
func (h *h2Conn) onSettings(f *h2.Frame) error {
	if f.IsAck() {
		if !h.settingsAcked {
			h.settingsAck()
			// The deadline may be the ACK's own (armDeadline): re-armed after this read,
			// this once.
			h.progress = true
		}
		return nil
	}
	if err := h.def.ack(h); err != nil {
		return err
	}
	grew := false
	for i, n := 0, f.NumSettings(); i < n; i++ {
		st := f.Setting(i)
		old := h.peer.InitialWindowSize
		if err := h.peer.ApplySetting(st); err != nil {
			return err
		}
		switch st.ID {
		case h2.SettingInitialWindowSize:
			// §6.9.2: every stream window moves by the difference, and may go negative.
			delta := int64(h.peer.InitialWindowSize) - int64(old)
			for _, s := range h.streams {
				s.sendWindow += delta
				if s.sendWindow > h2.MaxWindowSize {
					return errInitialWindow
				}
			}
			grew = grew || delta > 0
		case h2.SettingHeaderTableSize:
			h.henc.SetPeerMaxTableSize(st.Val)
		}
	}
	h.c.Commit(h2.AppendSettingsAck(h.c.AppendBuffer()))
	if grew {
		h.flushBlocked()
	}
	return nil
}

// initialWindow is the initial stream window before SETTINGS change it (RFC 9113 §6.9.2).
const initialWindow = 65535

// settingsAck records that the client has applied our SETTINGS (the one frame Start sent).
// A StreamWindow below the default now holds: the streams opened before, which could take
// 65,535 octets, lose the difference (§6.9.2), as the client's own view of them did when
// it applied the setting; the DATA it sent before could not exceed the old window.
func (h *h2Conn) settingsAck() {
	h.settingsAcked = true
	if d := initialWindow - int64(h.cfg.StreamWindow); d > 0 {
		for _, s := range h.streams {
			s.recvWindow -= d
		}
	}
}

// onPing answers a PING with its ACK (§6.7).
func (h *h2Conn) onPing(f *h2.Frame) error {
	if f.IsAck() {
		return nil
	}
	if err := h.def.ack(h); err != nil {
		return err
	}
	h.c.Commit(h2.AppendPing(h.c.AppendBuffer(), true, f.PingData()))
	return nil
}
