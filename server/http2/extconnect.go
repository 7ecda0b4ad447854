package http2

import (
	"github.com/switchyard-dev/switchyard/frame/h2"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/internal/headerlines"
	"github.com/valyala/bytebufferpool"
)

// Extended CONNECT (RFC 8441): a stream whose request is CONNECT with :protocol (say
// "websocket") becomes the transport of a child server.Conn on which that protocol runs,
// as after an HTTP/1.1 101. The stream's DATA is the child's input and the child's output
// is framed as DATA under the stream's flow control; streamCarrier is the stream's side
// of that (server.Carrier).

// errConnectEnded answers an extended CONNECT whose HEADERS ended the stream: there is no
// stream left to carry the protocol.
const errConnectEnded = "extended CONNECT (RFC 8441 §4) with END_STREAM on its HEADERS: the stream must stay open to carry the protocol"

// extendedConnect opens the protocol a CONNECT with :protocol asks for on stream s: 200
// and the child started on the stream, or the refusal the upgrader gave, with the same
// explaining body as over HTTP/1.1.
func (h *h2Conn) extendedConnect(s *h2Stream, head *h2.RequestHead, endStream bool) {
	h.c.Counters().Requests.Add(1)
	if endStream {
		s.recvDone = true
		h.answerText(s, 400, errConnectEnded)
		return
	}
	scratch := h.u.scratch.Get(h.c)
	r := &scratch.req
	// Its views may outlive this call (a decision deferred to the worker pool keeps them),
	// so a joined cookie gets memory of its own.
	h.fillRequest(r, s.id, head, nil, nil)
	car := &streamCarrier{h: h, s: s}
	ch, hdr, rej := h.c.OpenChild(r, head.Protocol, car, scratch.hdr[:0])
	scratch.hdr = hdr[:0]
	if rej != nil && rej != server.ConnectDeferred {
		h.answerRejection(s, rej)
		return
	}
	car.ch = ch
	s.car = car
	h.wsStreams++
	h.c.SetMultiplexing(true)
	if rej == server.ConnectDeferred {
		h.handedOut(s) // decided on the worker pool: Decided answers, the stream waits meanwhile
		return
	}
	h.acceptChild(s, ch, r, hdr)
}

// acceptChild answers an extended CONNECT with 200 and the upgrader's fields, then starts
// the child on the stream.
func (h *h2Conn) acceptChild(s *h2Stream, ch *server.Child, r *server.Request, hdr []byte) {
	// RFC 8441 §5: the 2xx answers the CONNECT, and the stream stays open.
	enc := h.henc
	enc.Reset()
	enc.WriteStatus(200)
	headerlines.Each(hdr, func(name, value []byte) {
		// RFC 9110 §8.6 forbids Content-Length on a 2xx to CONNECT
		if !connectionSpecific(name) && !headerlines.Framing(name) {
			enc.WriteFieldBytes(name, value)
		}
	})
	at := h.writeServerFields(enc, false, false)
	h.c.Commit(enc.AppendHeaders(h.c.AppendBuffer(), s.id, false, h.peer.MaxFrameSize))
	s.responded = true
	h.c.CountResponse(2, 200, s.logged.from, at)
	if h.c.AccessLogging() {
		h.logAccess(s, 200, 0, s.logged.protocol)
	}
	ch.Start(r)
}

// answerRejection answers a refused extended CONNECT with the upgrader's status, header
// lines and reason, as HTTP/1.1 answers a refused upgrade.
func (h *h2Conn) answerRejection(s *h2Stream, rej *server.Rejection) {
	w := &h.u.scratch.Get(h.c).resp
	w.Reset()
	w.WriteHeader(rej.Status)
	headerlines.Each(rej.Header, w.Header)
	if rej.ContentType == "" {
		w.Header("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.WriteString(rej.Reason)
		_, _ = w.WriteString("\n")
	} else {
		w.Header("Content-Type", rej.ContentType)
		_, _ = w.WriteString(rej.Reason)
	}
	h.writeResponse(s, w)
}

// childData hands a DATA frame's payload on an extended CONNECT stream to its child;
// END_STREAM ends the child's input. The stream window was charged already. s may be
// closed and released by the time this returns.
func (h *h2Conn) childData(s *h2Stream, f *h2.Frame) {
	data := f.Data()
	ch := s.car.ch
	end := f.EndStream()
	if pad := int64(f.Length) - int64(len(data)); pad > 0 {
		s.recvUnacked += pad // padding is never the child's: returned with the next update
	}
	if end {
		s.recvDone = true
	}
	if len(data) > 0 {
		h.bufferedBody += len(data)
		s.childUnread += len(data)
		ch.Deliver(data)
	}
	if end {
		ch.EndInput()
	}
}

// streamCarrier is an extended CONNECT stream as its child's transport sees it
// (server.Carrier). s is nil once the stream has closed.
type streamCarrier struct {
	h  *h2Conn
	s  *h2Stream
	ch *server.Child
}

// Frame frames the child's output as DATA within MAX_FRAME_SIZE and both send windows
// (RFC 9113 §6.9), a frame spanning the output's pieces, and keeps what the windows do not
// admit in the stream's queue (in order: once something waits there, everything after
// it waits too).
func (sc *streamCarrier) Frame(p [][]byte) [][]byte {
	s, h := sc.s, sc.h
	if s == nil {
		return nil
	}
	scratch := h.u.scratch.Get(h.c)
	iov, hdrs := scratch.iov[:0], scratch.hdrs[:0]
	total := 0
	for _, b := range p {
		total += len(b)
	}
	// The frame headers go into hdrs first, and into the vector once hdrs stops growing.
	i, off, sent := 0, 0, 0
	if s.out == nil && !h.holdData {
		for sent < total {
			n := min(int64(total-sent), int64(h.peer.MaxFrameSize), h.sendWindow, s.sendWindow)
			if n <= 0 {
				break
			}
			hdrs = h2.AppendDataHeader(hdrs, s.id, uint32(n), false)
			h.sendWindow -= n
			s.sendWindow -= n
			sent += int(n)
		}
	}
	frame, left := 0, 0
	for sent > 0 && i < len(p) {
		if left == 0 {
			if frame*h2.FrameHeaderLen >= len(hdrs) {
				break
			}
			hd := hdrs[frame*h2.FrameHeaderLen : (frame+1)*h2.FrameHeaderLen]
			left = int(hd[0])<<16 | int(hd[1])<<8 | int(hd[2])
			iov = append(iov, hd)
			frame++
		}
		n := min(left, len(p[i])-off)
		if n > 0 {
			iov = append(iov, p[i][off:off+n])
		}
		left -= n
		off += n
		if off == len(p[i]) {
			i, off = i+1, 0
		}
	}
	// What the windows did not admit waits, copied: the pieces are views that die with
	// the turn.
	for ; i < len(p); i, off = i+1, 0 {
		if off == len(p[i]) {
			continue
		}
		if s.out == nil {
			s.out, s.outOff = bytebufferpool.Get(), 0
			s.out.B = s.out.B[:0]
		}
		s.out.B = append(s.out.B, p[i][off:]...)
	}
	scratch.iov, scratch.hdrs = iov, hdrs
	return iov
}

// Held is the child's output the windows hold back.
func (sc *streamCarrier) Held() int {
	if s := sc.s; s != nil && s.out != nil {
		return len(s.out.B) - s.outOff
	}
	return 0
}

// Consumed returns input the child has taken to the stream window, with WINDOW_UPDATE
// once half of it is used, and lets the connection window follow.
func (sc *streamCarrier) Consumed(n int) {
	s, h := sc.s, sc.h
	if s == nil {
		return
	}
	h.bufferedBody -= n
	s.childUnread -= n
	s.recvUnacked += int64(n)
	if !s.recvDone && s.recvUnacked >= int64(h.cfg.StreamWindow)/2 {
		h.c.Commit(h2.AppendWindowUpdate(h.c.AppendBuffer(), s.id, uint32(s.recvUnacked)))
		s.recvWindow += s.recvUnacked
		s.recvUnacked = 0
	}
	if !h.busy {
		h.replenish()
		h.c.Flush()
	}
}

// Ended ends the stream for a child that closed (RFC 8441 §6, RFC 9220 §4): an orderly
// close (the WebSocket close handshake done, every byte framed) with END_STREAM, an
// abnormal one with RST_STREAM CANCEL.
func (sc *streamCarrier) Ended(abort bool) {
	s, h := sc.s, sc.h
	if s == nil {
		return
	}
	if abort {
		h.resetStream(s.id, h2.ErrCodeCancel)
	} else {
		h.c.Commit(h2.AppendDataHeader(h.c.AppendBuffer(), s.id, 0, true))
		h.closeStream(s, true) // frames the client still sends on it are ignored (§5.1)
	}
	h.armDeadline() // the last WebSocket gone, the idle timeout applies again
	if !h.busy {
		h.replenish() // for the input it held
		h.c.Flush()
	}
}

// Decided answers a stream whose extended CONNECT was decided on the worker pool.
func (sc *streamCarrier) Decided(r *server.Request, out []byte, rej *server.Rejection) {
	s, h := sc.s, sc.h
	if s == nil {
		return
	}
	h.stopWaiting(s)
	if rej != nil {
		ch := h.detachChild(s) // an HTTP answer from here: the stream is no child's
		ch.Reset(server.ErrStreamReset)
		h.answerRejection(s, rej)
	} else {
		h.acceptChild(s, sc.ch, r, out)
	}
	h.replenish() // windows held back while it waited (data.go), and the input it held
	h.armDeadline()
}

// detachChild detaches a closing stream from its child; the child is reset unless it
// ended the stream itself (then it is closed already and Reset does nothing).
func (h *h2Conn) detachChild(s *h2Stream) *server.Child {
	car := s.car
	s.car = nil
	car.s = nil
	h.wsStreams--
	h.c.SetMultiplexing(h.wsStreams > 0)
	h.bufferedBody -= s.childUnread
	return car.ch
}

// sendChildPending sends what a child's stream held once a window opened, and wakes a
// child paused on it.
func (h *h2Conn) sendChildPending(s *h2Stream) {
	rest := s.out.B[s.outOff:]
	n := h.writeData(s, rest)
	s.outOff += n
	if n < len(rest) {
		return
	}
	bytebufferpool.Put(s.out)
	s.out, s.outOff = nil, 0
	s.car.ch.Wake()
}

// childStreams lists the streams' children, for acting on them while they may close.
func (h *h2Conn) childStreams() []*server.Child { return h.appendChildStreams(nil) }

// appendChildStreams appends the streams' children to out.
func (h *h2Conn) appendChildStreams(out []*server.Child) []*server.Child {
	for _, s := range h.streams {
		if s.car != nil {
			out = append(out, s.car.ch)
		}
	}
	return out
}

// BacklogEased wakes the children that the connection's backlog paused, now that the
// socket has taken some of it. The list is kept for the next writable event: a child
// that wakes may close, which changes h.streams.
func (h *h2Conn) BacklogEased(*server.Conn) {
	h.woken = h.appendChildStreams(h.woken[:0])
	for _, ch := range h.woken {
		ch.Wake()
	}
	clear(h.woken)
}
