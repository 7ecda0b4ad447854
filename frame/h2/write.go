package h2

// Encoders append whole frames to dst and return the extended slice, so a
// connection gathers everything one loop iteration produces in one buffer
// and writes it once. They trust their arguments (these are our own frames):
// stream IDs have the reserved bit cleared, and lengths are the caller's to
// keep within the peer's SETTINGS_MAX_FRAME_SIZE, except for AppendHeaders,
// which splits.

// AppendSettings appends a SETTINGS frame carrying params (RFC 9113 §6.5).
func AppendSettings(dst []byte, params ...Setting) []byte {
	dst = appendHeader(dst, uint32(6*len(params)), FrameSettings, 0, 0)
	for _, s := range params {
		dst = append(dst, byte(s.ID>>8), byte(s.ID),
			byte(s.Val>>24), byte(s.Val>>16), byte(s.Val>>8), byte(s.Val))
	}
	return dst
}

// AppendSettingsAck appends the empty SETTINGS frame with ACK that
// acknowledges the peer's settings (RFC 9113 §6.5.3).
func AppendSettingsAck(dst []byte) []byte {
	return appendHeader(dst, 0, FrameSettings, FlagAck, 0)
}

// AppendPing appends a PING frame (RFC 9113 §6.7); a reply sets ack and
// echoes the data.
func AppendPing(dst []byte, ack bool, data [8]byte) []byte {
	var flags Flags
	if ack {
		flags = FlagAck
	}
	dst = appendHeader(dst, 8, FramePing, flags, 0)
	return append(dst, data[:]...)
}

// AppendGoAway appends a GOAWAY frame (RFC 9113 §6.8). debug may be nil.
func AppendGoAway(dst []byte, lastStreamID uint32, code ErrCode, debug []byte) []byte {
	dst = appendHeader(dst, uint32(8+len(debug)), FrameGoAway, 0, 0)
	dst = appendU32(dst, lastStreamID&streamIDMask)
	dst = appendU32(dst, uint32(code))
	return append(dst, debug...)
}

// AppendRSTStream appends a RST_STREAM frame (RFC 9113 §6.4).
func AppendRSTStream(dst []byte, streamID uint32, code ErrCode) []byte {
	dst = appendHeader(dst, 4, FrameRSTStream, 0, streamID)
	return appendU32(dst, uint32(code))
}

// AppendWindowUpdate appends a WINDOW_UPDATE frame (RFC 9113 §6.9);
// streamID 0 updates the connection window. incr must be 1..2^31-1.
func AppendWindowUpdate(dst []byte, streamID, incr uint32) []byte {
	dst = appendHeader(dst, 4, FrameWindowUpdate, 0, streamID)
	return appendU32(dst, incr&streamIDMask)
}

// AppendPriority appends a PRIORITY frame (RFC 9113 §6.3).
func AppendPriority(dst []byte, streamID uint32, p PriorityParam) []byte {
	dst = appendHeader(dst, 5, FramePriority, 0, streamID)
	return appendPriority(dst, p)
}

func appendPriority(dst []byte, p PriorityParam) []byte {
	v := p.StreamDep & streamIDMask
	if p.Exclusive {
		v |= 1 << 31
	}
	return append(appendU32(dst, v), p.Weight)
}

// AppendHeaders appends a header block as one HEADERS frame, followed by
// CONTINUATION frames when the block is longer than maxFrameSize, the
// peer's SETTINGS_MAX_FRAME_SIZE (RFC 9113 §4.3, §6.2, §6.10). END_STREAM
// goes on the HEADERS frame, END_HEADERS on the last frame. The frames are
// contiguous in dst, as §4.3 requires on the wire.
func AppendHeaders(dst []byte, streamID uint32, block []byte, endStream bool, maxFrameSize uint32) []byte {
	if maxFrameSize < MinMaxFrameSize {
		maxFrameSize = MinMaxFrameSize
	}
	max := int(maxFrameSize)
	var flags Flags
	if endStream {
		flags = FlagEndStream
	}
	t := FrameHeaders
	for {
		chunk := block
		if len(chunk) > max {
			chunk = chunk[:max]
		}
		block = block[len(chunk):]
		if len(block) == 0 {
			flags |= FlagEndHeaders
		}
		dst = appendHeader(dst, uint32(len(chunk)), t, flags, streamID)
		dst = append(dst, chunk...)
		if len(block) == 0 {
			return dst
		}
		t, flags = FrameContinuation, 0
	}
}

// AppendDataHeader appends only the header of a DATA frame whose payload
// of length octets the caller writes next from its own buffer (RFC 9113
// §6.1), so a response body is never copied just to be framed. length
// must not exceed the peer's SETTINGS_MAX_FRAME_SIZE or the flow-control
// windows.
func AppendDataHeader(dst []byte, streamID, length uint32, endStream bool) []byte {
	var flags Flags
	if endStream {
		flags = FlagEndStream
	}
	return appendHeader(dst, length, FrameData, flags, streamID)
}

// AppendData appends a DATA frame with data copied in.
func AppendData(dst []byte, streamID uint32, data []byte, endStream bool) []byte {
	dst = AppendDataHeader(dst, streamID, uint32(len(data)), endStream)
	return append(dst, data...)
}

func appendU32(dst []byte, v uint32) []byte {
	return append(dst, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}
