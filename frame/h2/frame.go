package h2

// Frame is one decoded frame. A single struct for every type, rather than
// x/net's one struct per type behind an interface, means decoding never
// boxes or allocates: the type-specific fields live side by side and the
// methods below read the ones their type uses. Calling a method meant for
// another type returns a zero value.
//
// The byte slices returned by methods are views into the buffer passed to
// ReadFrame and are valid only until that buffer is reused.
type Frame struct {
	FrameHeader

	// Priority holds the PRIORITY frame's fields, or HEADERS' when it has
	// FlagPriority (RFC 9113 §6.2, §6.3; deprecated but still parsed and
	// checked).
	Priority PriorityParam

	// payload: DATA data without padding; HEADERS, PUSH_PROMISE and
	// CONTINUATION header block fragment without padding or priority;
	// SETTINGS parameters; PING opaque data; GOAWAY debug data; unknown
	// types the whole payload.
	payload []byte
	// u32: RST_STREAM/GOAWAY error code, WINDOW_UPDATE increment,
	// PUSH_PROMISE promised stream ID, GOAWAY last stream ID (in u32b).
	u32  uint32
	u32b uint32
}

// PriorityParam is the stream dependency and weight of RFC 7540 §5.3
// (deprecated by RFC 9113 §5.3.2, still on the wire).
type PriorityParam struct {
	StreamDep uint32
	Exclusive bool
	// Weight is the wire value: the weight minus one (0..255).
	Weight uint8
}

// EndStream reports END_STREAM on a DATA or HEADERS frame.
func (f *Frame) EndStream() bool {
	return (f.Type == FrameData || f.Type == FrameHeaders) && f.Flags.Has(FlagEndStream)
}

// EndHeaders reports END_HEADERS on a HEADERS, PUSH_PROMISE or CONTINUATION
// frame.
func (f *Frame) EndHeaders() bool {
	switch f.Type {
	case FrameHeaders, FramePushPromise, FrameContinuation:
		return f.Flags.Has(FlagEndHeaders)
	}
	return false
}

// IsAck reports ACK on a SETTINGS or PING frame.
func (f *Frame) IsAck() bool {
	return (f.Type == FrameSettings || f.Type == FramePing) && f.Flags.Has(FlagAck)
}

// HasPriority reports whether a HEADERS frame carries priority fields.
func (f *Frame) HasPriority() bool {
	return f.Type == FrameHeaders && f.Flags.Has(FlagPriority)
}

// Data returns a DATA frame's data, padding removed. Flow control counts
// the whole frame (Length), padding included (RFC 9113 §6.9.1).
func (f *Frame) Data() []byte {
	if f.Type != FrameData {
		return nil
	}
	return f.payload
}

// HeaderBlockFragment returns the field block fragment of a HEADERS,
// PUSH_PROMISE or CONTINUATION frame, padding and priority removed.
func (f *Frame) HeaderBlockFragment() []byte {
	switch f.Type {
	case FrameHeaders, FramePushPromise, FrameContinuation:
		return f.payload
	}
	return nil
}

// NumSettings returns the number of parameters in a SETTINGS frame.
func (f *Frame) NumSettings() int {
	if f.Type != FrameSettings {
		return 0
	}
	return len(f.payload) / 6
}

// Setting returns parameter i (0 <= i < NumSettings) of a SETTINGS frame.
func (f *Frame) Setting(i int) Setting {
	p := f.payload[i*6 : i*6+6]
	return Setting{
		ID:  SettingID(uint16(p[0])<<8 | uint16(p[1])),
		Val: uint32(p[2])<<24 | uint32(p[3])<<16 | uint32(p[4])<<8 | uint32(p[5]),
	}
}

// PingData returns a PING frame's 8 octets of opaque data.
func (f *Frame) PingData() (d [8]byte) {
	if f.Type == FramePing {
		copy(d[:], f.payload)
	}
	return d
}

// ErrCode returns the error code of a RST_STREAM or GOAWAY frame.
func (f *Frame) ErrCode() ErrCode {
	if f.Type != FrameRSTStream && f.Type != FrameGoAway {
		return 0
	}
	return ErrCode(f.u32)
}

// LastStreamID returns a GOAWAY frame's Last-Stream-ID.
func (f *Frame) LastStreamID() uint32 {
	if f.Type != FrameGoAway {
		return 0
	}
	return f.u32b
}

// DebugData returns a GOAWAY frame's additional debug data.
func (f *Frame) DebugData() []byte {
	if f.Type != FrameGoAway {
		return nil
	}
	return f.payload
}

// Increment returns a WINDOW_UPDATE frame's window size increment.
func (f *Frame) Increment() uint32 {
	if f.Type != FrameWindowUpdate {
		return 0
	}
	return f.u32
}

// PromisedStreamID returns a PUSH_PROMISE frame's promised stream ID.
func (f *Frame) PromisedStreamID() uint32 {
	if f.Type != FramePushPromise {
		return 0
	}
	return f.u32
}

// Payload returns the payload of a frame of unknown type, to be discarded
// (RFC 9113 §5.5) or handed to an extension.
func (f *Frame) Payload() []byte {
	if f.Type.Known() {
		return nil
	}
	return f.payload
}
