package ws

import "encoding/binary"

// PutHeader writes an unmasked (server) frame header into dst and returns its
// size, at most MaxServerHeaderSize; dst must be at least that long and
// length at least 0. rsv1 marks the first frame of a compressed message
// (RFC 7692 §6). The header and the payload can then go out as two slices of
// one writev, so the payload is never copied to sit behind its header.
func PutHeader(dst []byte, fin bool, op OpCode, rsv1 bool, length int) int {
	_ = dst[MaxServerHeaderSize-1]
	b0 := byte(op) & 0x0f
	if fin {
		b0 |= 0x80
	}
	if rsv1 {
		b0 |= RSV1 << 4
	}
	dst[0] = b0
	switch {
	case length < 126:
		dst[1] = byte(length)
		return 2
	case length <= 0xffff:
		dst[1] = 126
		binary.BigEndian.PutUint16(dst[2:4], uint16(length))
		return 4
	default:
		dst[1] = 127
		binary.BigEndian.PutUint64(dst[2:10], uint64(length))
		return 10
	}
}

// AppendHeader appends an unmasked (server) frame header to dst.
func AppendHeader(dst []byte, fin bool, op OpCode, rsv1 bool, length int) []byte {
	var b [MaxServerHeaderSize]byte
	n := PutHeader(b[:], fin, op, rsv1, length)
	return append(dst, b[:n]...)
}

// AppendFrame appends a whole unmasked frame (header and a copy of payload)
// to dst. Use it for small frames (control frames, tests); large payloads
// should go out with PutHeader and writev instead.
func AppendFrame(dst []byte, fin bool, op OpCode, rsv1 bool, payload []byte) []byte {
	dst = AppendHeader(dst, fin, op, rsv1, len(payload))
	return append(dst, payload...)
}

// AppendRawHeader appends h exactly as given — any RSV bits, any opcode, the
// mask key if h.Masked — using the minimal length encoding. It validates
// nothing, so tests can build invalid frames with it.
func AppendRawHeader(dst []byte, h Header) []byte {
	b0 := byte(h.OpCode)&0x0f | (h.Rsv&0x7)<<4
	if h.Fin {
		b0 |= 0x80
	}
	var b1 byte
	if h.Masked {
		b1 = 0x80
	}
	switch {
	case h.Length < 126:
		dst = append(dst, b0, b1|byte(h.Length))
	case h.Length <= 0xffff:
		dst = append(dst, b0, b1|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(h.Length))
	default:
		dst = append(dst, b0, b1|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(h.Length))
	}
	if h.Masked {
		dst = append(dst, h.Mask[:]...)
	}
	return dst
}

// AppendMaskedFrame appends a masked (client) frame carrying payload to dst;
// payload itself is left untouched. rsv holds the RSV bits as in Header.Rsv.
// Clients and the test suites of the server use it to build client frames.
func AppendMaskedFrame(dst []byte, fin bool, op OpCode, rsv byte, key [4]byte, payload []byte) []byte {
	dst = AppendRawHeader(dst, Header{
		Fin: fin, Rsv: rsv, OpCode: op, Masked: true, Mask: key, Length: int64(len(payload)),
	})
	start := len(dst)
	dst = append(dst, payload...)
	Unmask(dst[start:], key, 0)
	return dst
}
