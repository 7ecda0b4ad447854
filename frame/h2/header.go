package h2

import "strconv"

// FrameHeaderLen is the size of the fixed frame header (RFC 9113 §4.1).
const FrameHeaderLen = 9

// Frame size limits, RFC 9113 §4.2 and §6.5.2 (SETTINGS_MAX_FRAME_SIZE).
const (
	MinMaxFrameSize = 1 << 14   // initial value and lower bound
	MaxMaxFrameSize = 1<<24 - 1 // upper bound (the 24-bit Length field)
)

// streamIDMask clears the reserved bit, which RFC 9113 §4.1 says MUST be
// ignored on receipt and left unset on sending.
const streamIDMask = 1<<31 - 1

// FrameType is the frame type octet (RFC 9113 §6, §11.2).
type FrameType uint8

// Frame types, RFC 9113 §6. PRIORITY_UPDATE (RFC 9218) is named for logs
// only: this codec treats it like any unknown type.
const (
	FrameData           FrameType = 0x0
	FrameHeaders        FrameType = 0x1
	FramePriority       FrameType = 0x2
	FrameRSTStream      FrameType = 0x3
	FrameSettings       FrameType = 0x4
	FramePushPromise    FrameType = 0x5
	FramePing           FrameType = 0x6
	FrameGoAway         FrameType = 0x7
	FrameWindowUpdate   FrameType = 0x8
	FrameContinuation   FrameType = 0x9
	FramePriorityUpdate FrameType = 0x10
)

var frameTypeNames = [...]string{
	FrameData:           "DATA",
	FrameHeaders:        "HEADERS",
	FramePriority:       "PRIORITY",
	FrameRSTStream:      "RST_STREAM",
	FrameSettings:       "SETTINGS",
	FramePushPromise:    "PUSH_PROMISE",
	FramePing:           "PING",
	FrameGoAway:         "GOAWAY",
	FrameWindowUpdate:   "WINDOW_UPDATE",
	FrameContinuation:   "CONTINUATION",
	FramePriorityUpdate: "PRIORITY_UPDATE",
}

func (t FrameType) String() string {
	if int(t) < len(frameTypeNames) && frameTypeNames[t] != "" {
		return frameTypeNames[t]
	}
	return "UNKNOWN_FRAME_TYPE_" + strconv.Itoa(int(t))
}

// Known reports whether t is a frame type RFC 9113 defines. Frames of
// other types must be ignored and discarded (RFC 9113 §4.1, §5.5).
func (t FrameType) Known() bool { return t <= FrameContinuation }

// Flags is the frame flags octet; the meaning of each bit depends on the
// frame type (RFC 9113 §4.1). Undefined bits must be ignored.
type Flags uint8

// Flag bits, RFC 9113 §6.
const (
	FlagEndStream  Flags = 0x1  // DATA, HEADERS
	FlagAck        Flags = 0x1  // SETTINGS, PING
	FlagEndHeaders Flags = 0x4  // HEADERS, PUSH_PROMISE, CONTINUATION
	FlagPadded     Flags = 0x8  // DATA, HEADERS, PUSH_PROMISE
	FlagPriority   Flags = 0x20 // HEADERS
)

// Has reports whether all bits of v are set in f.
func (f Flags) Has(v Flags) bool { return f&v == v }

// FrameHeader is the 9-octet header every frame starts with (RFC 9113 §4.1).
type FrameHeader struct {
	Length   uint32 // payload length, 24 bits
	Type     FrameType
	Flags    Flags
	StreamID uint32 // reserved bit cleared
}

func (h FrameHeader) String() string {
	return h.Type.String() + " stream=" + strconv.FormatUint(uint64(h.StreamID), 10) +
		" len=" + strconv.FormatUint(uint64(h.Length), 10) +
		" flags=0x" + strconv.FormatUint(uint64(h.Flags), 16)
}

// DecodeFrameHeader decodes the frame header at the start of b. It reports
// false when b is shorter than FrameHeaderLen. It does not validate: see
// ReadFrame.
func DecodeFrameHeader(b []byte) (FrameHeader, bool) {
	if len(b) < FrameHeaderLen {
		return FrameHeader{}, false
	}
	_ = b[8]
	return FrameHeader{
		Length:   uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]),
		Type:     FrameType(b[3]),
		Flags:    Flags(b[4]),
		StreamID: (uint32(b[5])<<24 | uint32(b[6])<<16 | uint32(b[7])<<8 | uint32(b[8])) & streamIDMask,
	}, true
}

// PutFrameHeader writes h into b. Length is truncated to 24 bits and the
// reserved bit of StreamID is cleared.
func PutFrameHeader(b *[FrameHeaderLen]byte, h FrameHeader) {
	id := h.StreamID & streamIDMask
	b[0], b[1], b[2] = byte(h.Length>>16), byte(h.Length>>8), byte(h.Length)
	b[3], b[4] = byte(h.Type), byte(h.Flags)
	b[5], b[6], b[7], b[8] = byte(id>>24), byte(id>>16), byte(id>>8), byte(id)
}

// AppendFrameHeader appends h, encoded as by PutFrameHeader, to dst.
func AppendFrameHeader(dst []byte, h FrameHeader) []byte {
	var b [FrameHeaderLen]byte
	PutFrameHeader(&b, h)
	return append(dst, b[:]...)
}

func appendHeader(dst []byte, length uint32, t FrameType, flags Flags, streamID uint32) []byte {
	return AppendFrameHeader(dst, FrameHeader{Length: length, Type: t, Flags: flags, StreamID: streamID})
}
