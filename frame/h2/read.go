package h2

// ReadFrame decodes the frame at the start of b and validates it against
// RFC 9113 §4 and §6. It keeps no state; Decoder adds the one rule that
// needs some (header blocks are contiguous, §6.10).
//
// Results:
//   - b holds no complete frame: ErrIncomplete, n == 0. Wait for more bytes.
//     A frame whose Length exceeds maxFrameSize is refused as soon as its
//     header is in, so the caller never buffers an oversized frame.
//   - valid frame: err == nil, n is its size (header included).
//   - ConnectionError: n == 0; the connection must end with GOAWAY.
//     f.FrameHeader says which frame was at fault; the rest of f is not
//     meaningful.
//   - StreamError: n is the frame's size, so the caller sends RST_STREAM and
//     carries on after the frame; f.FrameHeader is valid. For a HEADERS
//     frame f is complete too, and its header block must still be decoded:
//     it changes the HPACK state the whole connection shares (§4.3).
//
// maxFrameSize is the SETTINGS_MAX_FRAME_SIZE this endpoint advertised;
// values below the RFC minimum of 16384 are raised to it. Every oversize
// frame is a connection error: §4.2 allows a stream error only for frames
// that cannot alter connection state, and skipping one would mean reading
// up to 16 MiB we refused to accept.
//
// Views in f alias b (see the package documentation).
func ReadFrame(b []byte, maxFrameSize uint32) (f Frame, n int, err error) {
	h, ok := DecodeFrameHeader(b)
	if !ok {
		return f, 0, ErrIncomplete
	}
	if maxFrameSize < MinMaxFrameSize {
		maxFrameSize = MinMaxFrameSize
	}
	if h.Length > maxFrameSize {
		return Frame{FrameHeader: h}, 0, errFrameTooLarge
	}
	n = FrameHeaderLen + int(h.Length)
	if len(b) < n {
		return f, 0, ErrIncomplete
	}
	f.FrameHeader = h
	// The capacity limit keeps a view from being resliced into the next
	// frame.
	p := b[FrameHeaderLen:n:n]
	switch h.Type {
	case FrameData:
		err = parseData(&f, p)
	case FrameHeaders:
		err = parseHeaders(&f, p)
	case FramePriority:
		err = parsePriority(&f, p)
	case FrameRSTStream:
		err = parseRSTStream(&f, p)
	case FrameSettings:
		err = parseSettings(&f, p)
	case FramePushPromise:
		err = parsePushPromise(&f, p)
	case FramePing:
		err = parsePing(&f, p)
	case FrameGoAway:
		err = parseGoAway(&f, p)
	case FrameWindowUpdate:
		err = parseWindowUpdate(&f, p)
	case FrameContinuation:
		if h.StreamID == 0 {
			err = errContinuationStream0 // §6.10
		}
		f.payload = p
	default:
		// §4.1, §5.5: unknown types are ignored; the caller discards them
		// (outside a header block: see Decoder).
		f.payload = p
	}
	if _, isConn := err.(ConnectionError); isConn {
		n = 0
	}
	return f, n, err
}

func be32(p []byte) uint32 {
	_ = p[3]
	return uint32(p[0])<<24 | uint32(p[1])<<16 | uint32(p[2])<<8 | uint32(p[3])
}

// stripPadding removes the Pad Length octet and the padding of a PADDED
// frame (§6.1, §6.2, §6.6). The body it returns still starts with the fixed
// fields (fixed octets) that sit between the Pad Length and the data.
func stripPadding(flags Flags, p []byte, fixed int) (body []byte, err error) {
	if !flags.Has(FlagPadded) {
		if len(p) < fixed {
			return nil, errHeadersShort
		}
		return p, nil
	}
	if len(p) < 1 {
		return nil, errPadShort
	}
	pad := int(p[0])
	p = p[1:]
	if len(p) < fixed {
		return nil, errHeadersShort
	}
	// "If the length of the padding is the length of the frame payload or
	// greater, the recipient MUST treat this as a connection error of type
	// PROTOCOL_ERROR" (§6.1, likewise §6.2, §6.6). The payload counts the
	// Pad Length octet, so pad may equal what follows the fixed fields.
	if pad > len(p)-fixed {
		return nil, errPadTooLong
	}
	return p[:len(p)-pad], nil
}

// §6.1.
func parseData(f *Frame, p []byte) error {
	if f.StreamID == 0 {
		return errDataStream0
	}
	body, err := stripPadding(f.Flags, p, 0)
	if err != nil {
		return err
	}
	f.payload = body
	return nil
}

// §6.2.
func parseHeaders(f *Frame, p []byte) error {
	if f.StreamID == 0 {
		return errHeadersStream0
	}
	fixed := 0
	if f.Flags.Has(FlagPriority) {
		fixed = 5
	}
	body, err := stripPadding(f.Flags, p, fixed)
	if err != nil {
		return err
	}
	if fixed != 0 {
		f.Priority = decodePriority(body)
		body = body[5:]
	}
	f.payload = body
	if fixed != 0 && f.Priority.StreamDep == f.StreamID {
		// RFC 7540 §5.3.1: a stream cannot depend on itself. The frame is
		// returned whole: its header block must still reach HPACK.
		return StreamError{f.StreamID, ErrCodeProtocol, reasonSelfDependency}
	}
	return nil
}

func decodePriority(p []byte) PriorityParam {
	v := be32(p)
	return PriorityParam{StreamDep: v & streamIDMask, Exclusive: v>>31 == 1, Weight: p[4]}
}

// §6.3.
func parsePriority(f *Frame, p []byte) error {
	if f.StreamID == 0 {
		return errPriorityStream0
	}
	if len(p) != 5 {
		// §6.3: a stream error, since PRIORITY cannot alter connection state.
		return StreamError{f.StreamID, ErrCodeFrameSize, reasonPriorityLength}
	}
	f.Priority = decodePriority(p)
	if f.Priority.StreamDep == f.StreamID {
		return StreamError{f.StreamID, ErrCodeProtocol, reasonSelfDependency}
	}
	return nil
}

// §6.4.
func parseRSTStream(f *Frame, p []byte) error {
	if f.StreamID == 0 {
		return errRSTStream0
	}
	if len(p) != 4 {
		return errRSTLength
	}
	f.u32 = be32(p)
	return nil
}

// §6.5. Parameter values are validated here too (§6.5.2), so a frame the
// decoder accepts can be applied without further checks.
func parseSettings(f *Frame, p []byte) error {
	if f.StreamID != 0 {
		return errSettingsStream
	}
	if f.Flags.Has(FlagAck) {
		if len(p) != 0 {
			return errSettingsAckLength
		}
		return nil
	}
	if len(p)%6 != 0 {
		return errSettingsLength
	}
	f.payload = p
	for i, n := 0, len(p)/6; i < n; i++ {
		if err := f.Setting(i).Valid(); err != nil {
			return err
		}
	}
	return nil
}

// §6.6. A server must refuse PUSH_PROMISE (§8.4) but that is the server's
// call; the codec decodes it like the other types.
func parsePushPromise(f *Frame, p []byte) error {
	if f.StreamID == 0 {
		return errPushPromiseStream0
	}
	body, err := stripPadding(f.Flags, p, 4)
	if err == errHeadersShort {
		err = errPushPromiseShort
	}
	if err != nil {
		return err
	}
	f.u32 = be32(body) & streamIDMask
	f.payload = body[4:]
	return nil
}

// §6.7.
func parsePing(f *Frame, p []byte) error {
	if f.StreamID != 0 {
		return errPingStream
	}
	if len(p) != 8 {
		return errPingLength
	}
	f.payload = p
	return nil
}

// §6.8.
func parseGoAway(f *Frame, p []byte) error {
	if f.StreamID != 0 {
		return errGoAwayStream
	}
	if len(p) < 8 {
		return errGoAwayLength
	}
	f.u32b = be32(p) & streamIDMask
	f.u32 = be32(p[4:])
	f.payload = p[8:]
	return nil
}

// §6.9.
func parseWindowUpdate(f *Frame, p []byte) error {
	if len(p) != 4 {
		return errWindowUpdateLength
	}
	f.u32 = be32(p) & streamIDMask // reserved bit ignored
	if f.u32 == 0 {
		// "A receiver MUST treat the receipt of a WINDOW_UPDATE frame with a
		// flow-control window increment of 0 as a stream error ...; errors on
		// the connection flow-control window MUST be treated as a connection
		// error" (§6.9).
		if f.StreamID == 0 {
			return errWindowUpdateZero
		}
		return StreamError{f.StreamID, ErrCodeProtocol, reasonWindowUpdateZero}
	}
	return nil
}

// Decoder is ReadFrame plus the framing rule that spans frames: once a
// HEADERS or PUSH_PROMISE without END_HEADERS arrives, only CONTINUATION
// frames of the same stream may follow until one carries END_HEADERS; any
// other frame, unknown types included, is a connection error of type
// PROTOCOL_ERROR (RFC 9113 §4.3, §6.10). The zero value is ready to use
// with the default maximum frame size.
type Decoder struct {
	// MaxFrameSize is the SETTINGS_MAX_FRAME_SIZE this endpoint advertised
	// (see ReadFrame).
	MaxFrameSize uint32

	blockStream uint32 // stream of the open header block, 0 if none
}

// ReadFrame is the package-level ReadFrame with the header-block rule
// applied; results are as documented there.
func (d *Decoder) ReadFrame(b []byte) (Frame, int, error) {
	f, n, err := ReadFrame(b, d.MaxFrameSize)
	if n == 0 { // incomplete, or a connection error already
		return f, n, err
	}
	if d.blockStream != 0 {
		if f.Type != FrameContinuation || f.StreamID != d.blockStream {
			return f, 0, errExpectContinuation
		}
	} else if f.Type == FrameContinuation {
		return f, 0, errUnexpectedCont
	}
	switch f.Type {
	case FrameHeaders, FramePushPromise, FrameContinuation:
		if f.Flags.Has(FlagEndHeaders) {
			d.blockStream = 0
		} else {
			d.blockStream = f.StreamID
		}
	}
	return f, n, err
}

// InHeaderBlock reports whether a header block is open, and on which stream.
func (d *Decoder) InHeaderBlock() (streamID uint32, open bool) {
	return d.blockStream, d.blockStream != 0
}
