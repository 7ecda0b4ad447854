package ws

import (
	"encoding/binary"
	"unicode/utf8"
)

// ValidCloseCode reports whether code may appear in a Close frame
// (RFC 6455 §7.4.1, §7.4.2, IANA "WebSocket Close Code Number Registry"):
// 1000-1003 and 1007-1014 are defined, 3000-4999 belong to libraries and
// applications. 0-999 are unused, 1004 is reserved, 1005, 1006 and 1015 are
// reserved for reporting and MUST NOT be sent, 1016-2999 are reserved for
// future protocol revisions, and 5000+ is not a valid range at all.
func ValidCloseCode(code StatusCode) bool {
	switch {
	case code >= 1000 && code <= 1003:
		return true
	case code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// ParseClose validates a Close frame payload (RFC 6455 §5.5.1) and returns
// its status code and reason. An empty payload is valid and yields
// StatusNoStatusRcvd (1005, §7.1.5). reason is a view into payload.
//
// Errors: a 1-byte payload (ErrCloseLength) or a code that may not be sent
// (ErrCloseCode) are 1002; a reason that is not UTF-8 (ErrCloseReasonUTF8) is
// 1007 (§8.1).
func ParseClose(payload []byte) (code StatusCode, reason []byte, err *Error) {
	switch len(payload) {
	case 0:
		return StatusNoStatusRcvd, nil, nil
	case 1:
		return 0, nil, ErrCloseLength
	}
	code = StatusCode(binary.BigEndian.Uint16(payload))
	if !ValidCloseCode(code) {
		return code, nil, ErrCloseCode
	}
	reason = payload[2:]
	if !utf8.Valid(reason) {
		return code, nil, ErrCloseReasonUTF8
	}
	return code, reason, nil
}

// MaxCloseReason is the longest reason that fits a close payload (§5.5).
const MaxCloseReason = MaxControlPayload - 2

// AppendClose appends a Close payload (code and reason) to dst, one a peer
// accepts whatever the caller passes. A code that may not be sent
// (!ValidCloseCode: StatusNoStatusRcvd, StatusAbnormalClosure, 0-999, ...)
// produces an empty payload, which is how "no status" is said on the wire
// (RFC 6455 §7.4.1, §5.5.1: a reason needs a code). The reason is cut before
// its first byte that is not UTF-8 (a peer fails the connection with 1007
// otherwise, §8.1), and to at most MaxCloseReason bytes at the last whole
// UTF-8 sequence that fits, so the result stays a valid control payload.
func AppendClose(dst []byte, code StatusCode, reason string) []byte {
	if !ValidCloseCode(code) {
		return dst
	}
	if len(reason) > MaxCloseReason {
		reason = reason[:MaxCloseReason] // a sequence cut in two ends the valid prefix below
	}
	valid := 0
	for valid < len(reason) {
		r, size := utf8.DecodeRuneInString(reason[valid:])
		if r == utf8.RuneError && size <= 1 {
			break
		}
		valid += size
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	return append(dst, reason[:valid]...)
}

// AppendCloseFrame appends a whole unmasked Close frame to dst.
func AppendCloseFrame(dst []byte, code StatusCode, reason string) []byte {
	var p [MaxControlPayload]byte
	return AppendFrame(dst, true, OpClose, false, AppendClose(p[:0], code, reason))
}

// AppendCloseError appends the Close frame that fails the connection for e.
func AppendCloseError(dst []byte, e *Error) []byte {
	return AppendCloseFrame(dst, e.Code, e.Reason)
}
