package ws

import "encoding/binary"

// MaskRule says what the peer must do with the MASK bit (RFC 6455 §5.1).
type MaskRule uint8

const (
	// MaskRequired: a server decoding client frames; an unmasked frame
	// fails the connection with 1002.
	MaskRequired MaskRule = iota
	// MaskForbidden: a client decoding server frames; a masked frame fails
	// the connection with 1002.
	MaskForbidden
	// MaskAny accepts either (tools and tests only).
	MaskAny
)

// Rules are the per-connection parameters of header validation. The zero
// value is a server without extensions.
type Rules struct {
	// AllowedRSV holds the RSV bits (RSV1|RSV2|RSV3 as in Header.Rsv) that a
	// negotiated extension gives meaning to; any other set bit is 1002
	// (§5.2). permessage-deflate allows RSV1. Whether RSV1 is legal on this
	// particular frame (first frame of a data message only, RFC 7692 §6) is a
	// message-level rule checked by the Assembler.
	AllowedRSV byte
	// Mask is the masking requirement; the zero value requires it (server).
	Mask MaskRule
	// RejectNonMinimalLength fails frames whose length uses more bytes than
	// needed (126 for a length < 126, or 127 for one < 65536) with 1002.
	//
	// RFC 6455 §5.2 says the minimal number of bytes MUST be used, which is a
	// requirement on the sender; it names no receiver action, the length is
	// unambiguous either way, and Autobahn does not test it. The default is
	// to accept such frames (as gobwas/ws, gorilla and most browsers' peers
	// do) so that sloppy but harmless clients interoperate; strict deployments
	// can opt in.
	RejectNonMinimalLength bool
}

// ServerRules returns the rules for decoding client frames on a server;
// compression reports whether permessage-deflate was negotiated.
func ServerRules(compression bool) Rules {
	r := Rules{Mask: MaskRequired}
	if compression {
		r.AllowedRSV = RSV1
	}
	return r
}

// ClientRules returns the rules for decoding server frames on a client.
func ClientRules(compression bool) Rules {
	r := ServerRules(compression)
	r.Mask = MaskForbidden
	return r
}

// DecodeHeader decodes the frame header at the start of b and returns it with
// its encoded size n. The payload is b[n:n+h.Length] once that many bytes
// have arrived; it is still masked (see Unmask).
//
// If b ends before the header does, err is ErrIncomplete and the caller waits
// for more bytes; otherwise a non-nil err is an *Error carrying close code
// 1002 (RFC 6455 §5.2, §5.5, §7.4.1). Rules that can be checked on the
// bytes already present are checked before ErrIncomplete is returned, so a
// garbage frame fails as soon as its first byte arrives.
//
// gobwas/ws has ReadHeader, but it reads from an io.Reader, allocates its
// scratch buffer and validates nothing; a stateless decode over the loop's
// buffer that reports "incomplete" without consuming anything is what an
// event loop needs (see BenchmarkDecodeHeaderVsGobwas).
func DecodeHeader(b []byte, r Rules) (h Header, n int, err error) {
	if len(b) == 0 {
		return h, 0, ErrIncomplete
	}
	b0 := b[0]
	h.Fin = b0&0x80 != 0
	h.Rsv = (b0 >> 4) & 0x7
	h.OpCode = OpCode(b0 & 0x0f)
	if h.OpCode.IsReserved() {
		return h, 0, ErrReservedOpcode
	}
	if h.Rsv&^r.AllowedRSV != 0 {
		return h, 0, ErrReservedBits
	}
	control := h.OpCode.IsControl()
	if control && !h.Fin {
		return h, 0, ErrControlFragment
	}
	if len(b) < 2 {
		return h, 0, ErrIncomplete
	}

	b1 := b[1]
	h.Masked = b1&0x80 != 0
	switch r.Mask {
	case MaskRequired:
		if !h.Masked {
			return h, 0, ErrUnmasked
		}
	case MaskForbidden:
		if h.Masked {
			return h, 0, ErrMasked
		}
	}
	n = 2
	switch l7 := b1 & 0x7f; {
	case l7 < 126:
		h.Length = int64(l7)
	case control:
		// §5.5: control payloads are at most 125 bytes, which always fit
		// the 7-bit form.
		return h, 0, ErrControlTooLong
	case l7 == 126:
		if len(b) < 4 {
			return h, 0, ErrIncomplete
		}
		h.Length = int64(binary.BigEndian.Uint16(b[2:4]))
		if h.Length < 126 && r.RejectNonMinimalLength {
			return h, 0, ErrNonMinimalLength
		}
		n = 4
	default:
		if len(b) < 10 {
			// The MSB is in b[2]; report it as soon as it is visible.
			if len(b) > 2 && b[2]&0x80 != 0 {
				return h, 0, ErrLengthMSB
			}
			return h, 0, ErrIncomplete
		}
		l := binary.BigEndian.Uint64(b[2:10])
		if l>>63 != 0 {
			return h, 0, ErrLengthMSB
		}
		h.Length = int64(l)
		if h.Length <= 0xffff && r.RejectNonMinimalLength {
			return h, 0, ErrNonMinimalLength
		}
		n = 10
	}
	if h.Masked {
		if len(b) < n+4 {
			return h, 0, ErrIncomplete
		}
		copy(h.Mask[:], b[n:n+4])
		n += 4
	}
	return h, n, nil
}
