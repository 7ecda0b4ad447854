package http2

import "github.com/switchyard-dev/switchyard/frame/h2"

// headerBlock is the header block being received: a HEADERS frame and the CONTINUATION
// frames that follow it (RFC 9113 §4.3). Every block goes through the connection's HPACK
// decoder, even one whose stream is refused or reset, because HPACK state is shared by
// the whole connection; kind says what happens to the stream once the block ends.
type headerBlock struct {
	kind          blockKind
	stream        uint32
	endStream     bool       // the HEADERS frame carried END_STREAM
	code          h2.ErrCode // blockReset's RST_STREAM code
	continuations int
}

type blockKind uint8

const (
	blockNone     blockKind = iota
	blockRequest            // opens a new stream
	blockTrailers           // ends an open stream (§8.1)
	blockRefuse             // past MAX_CONCURRENT_STREAMS: RST_STREAM REFUSED_STREAM (§5.1.2)
	blockReset              // a stream error found before decoding: RST_STREAM code
	blockIgnore             // ignored: a new stream after our GOAWAY (§6.8), or one we reset (§5.1)
)

// moves reports whether the block moves a stream, which re-arms the connection's
// deadline (h2Conn.progress): it opens a request or carries an open stream's trailers. A
// refused, reset or ignored block does not.
func (b *headerBlock) moves() bool { return b.kind == blockRequest || b.kind == blockTrailers }

var errContinuationFlood = h2.ConnectionError{Code: h2.ErrCodeEnhanceYourCalm, Reason: "too many CONTINUATION frames in one header block"}

// onHeaders starts a header block: it works out, from the stream's state (§5.1), what the
// block will do, then decodes its first fragment.
func (h *h2Conn) onHeaders(f *h2.Frame, serr error) error {
	id := f.StreamID
	blk := headerBlock{kind: blockRequest, stream: id, endStream: f.EndStream()}
	if id%2 == 0 {
		return errEvenStream
	}
	if id > h.lastID {
		h.lastID = id
		switch {
		case h.goingAway:
			blk.kind = blockIgnore
		case serr != nil:
			blk.kind, blk.code = blockReset, serr.(h2.StreamError).Code
		case h.concurrent() >= int(h.cfg.MaxConcurrentStreams):
			blk.kind = blockRefuse
		}
	} else {
		s := h.stream(id)
		switch {
		case s == nil:
			found, byUs := h.recent.lookup(id)
			switch {
			case byUs:
				// Closed by our RST_STREAM: the client may have sent these (trailers,
				// typically) before it saw the reset. §5.1 "closed": they are processed
				// only as far as HPACK needs, and discarded.
				blk.kind = blockIgnore
			case found:
				return errClosedHeaders
			default:
				return errStreamIDOrder
			}
		case s.recvDone:
			blk.kind, blk.code = blockReset, h2.ErrCodeStreamClosed // half-closed (remote)
		case serr != nil:
			blk.kind, blk.code = blockReset, serr.(h2.StreamError).Code
		default:
			blk.kind = blockTrailers
		}
	}
	if blk.kind == blockIgnore {
		// It carries nothing, yet costs HPACK decoding: bounded as empty DATA is.
		if err := h.def.control(h); err != nil {
			return err
		}
	}
	h.blk = blk
	h.progress = h.progress || blk.moves()
	h.hdec.Begin(id, blk.kind == blockTrailers, blk.endStream)
	return h.fragment(f.HeaderBlockFragment(), f.EndHeaders())
}

func (h *h2Conn) onContinuation(f *h2.Frame) error {
	// The Decoder guarantees a block is open on this stream (§6.10).
	h.blk.continuations++
	if h.blk.continuations > h.cfg.MaxContinuations {
		return errContinuationFlood
	}
	h.progress = h.progress || h.blk.moves()
	return h.fragment(f.HeaderBlockFragment(), f.EndHeaders())
}

func (h *h2Conn) fragment(p []byte, end bool) error {
	if err := h.hdec.Write(p); err != nil {
		return err
	}
	if !end {
		return nil
	}
	return h.endBlock()
}

// endBlock finishes the block and acts on it.
func (h *h2Conn) endBlock() error {
	blk := h.blk
	h.blk = headerBlock{}
	head, err := h.hdec.End()
	if ce, ok := err.(h2.ConnectionError); ok {
		return ce
	}
	switch blk.kind {
	case blockIgnore:
		return nil
	case blockRefuse:
		// Decoded for HPACK and answered, it serves nothing: in bulk it is a flood.
		if err := h.def.control(h); err != nil {
			return err
		}
		h.resetStream(blk.stream, h2.ErrCodeRefusedStream)
		return nil
	case blockReset:
		h.resetStream(blk.stream, blk.code)
		return nil
	case blockTrailers:
		s := h.stream(blk.stream)
		if err != nil {
			// Malformed trailers, or trailers without END_STREAM (§8.1).
			h.resetStream(blk.stream, h2.ErrCodeProtocol)
			return nil
		}
		if s.car != nil {
			// Trailers on a stream carrying a WebSocket: its input ends (RFC 8441 §6).
			s.recvDone = true
			s.car.ch.EndInput()
			return nil
		}
		if s.discards() {
			// Answered before its body was complete (413, 431), or served before it
			// (CONNECT): the request ends here without reaching a handler again, and its
			// one response stands.
			h.endDiscarded(s)
			return nil
		}
		// Trailer fields are validated and dropped: handlers see the body only.
		return h.endOfRequest(s)
	}

	// A new request.
	if _, tooLarge := err.(h2.HeaderListTooLargeError); tooLarge {
		s := h.openStream(blk.stream)
		s.logged = h.noteRequest(nil) // its fields were not kept: status and timing only
		s.recvDone = blk.endStream
		h.answerText(s, 431, "request header fields too large: the decoded header list exceeds SETTINGS_MAX_HEADER_LIST_SIZE")
		return nil
	}
	if err != nil {
		h.resetStream(blk.stream, h2.ErrCodeProtocol) // malformed (§8.1.1)
		return nil
	}
	s := h.openStream(blk.stream)
	s.logged = h.noteRequest(head)
	if head.Protocol != "" {
		h.extendedConnect(s, head, blk.endStream)
		return nil
	}
	if blk.endStream {
		s.recvDone = true
		s.isHead = head.Method == "HEAD"
		h.serveStream(s, head, nil)
		return nil
	}
	if head.Method == "CONNECT" {
		// A plain CONNECT (§8.5) asks for a tunnel, and its client sends DATA only after
		// a 2xx: waiting for END_STREAM would hang the stream. This server is no proxy,
		// so the request goes to its route now, as HTTP/1.1's does (404 without a
		// default route); the response ends the stream, and RST_STREAM NO_ERROR follows
		// it while the client's side is open (§8.1, finishResponse).
		s.early = true
		h.serveStream(s, head, nil)
		return nil
	}
	s.keepHead(head)
	s.bodyFrom = max(h.c.Now(), 1) // 0 means no body deadline
	return nil
}

// endOfRequest runs once the client has ended the stream: the body is complete.
func (h *h2Conn) endOfRequest(s *h2Stream) error {
	s.recvDone = true
	if cl := s.head.ContentLength; cl >= 0 && cl != s.received {
		h.resetStream(s.id, h2.ErrCodeProtocol) // content-length mismatch (§8.1.1)
		return nil
	}
	var body []byte
	if s.body != nil {
		body = s.body.B
	}
	h.serveStream(s, &s.head, body)
	return nil
}
