package ws

import "errors"

// Error is a protocol violation with the close code the connection must be
// failed with (RFC 6455 §7.1.7, §7.4.1). All values are package variables, so
// returning one does not allocate and callers may compare with ==.
type Error struct {
	Code   StatusCode
	Reason string
}

func (e *Error) Error() string { return "websocket: " + e.Reason }

// ErrIncomplete reports that the buffer ends before the frame header does.
// It is not a protocol error: the caller waits for more bytes.
var ErrIncomplete = errors.New("websocket: incomplete frame header")

// Frame header errors (RFC 6455 §5.2, §5.5).
var (
	ErrReservedOpcode   = &Error{StatusProtocolError, "reserved opcode"}
	ErrReservedBits     = &Error{StatusProtocolError, "RSV bit set without a negotiated extension defining it"}
	ErrControlFragment  = &Error{StatusProtocolError, "fragmented control frame"}
	ErrControlTooLong   = &Error{StatusProtocolError, "control frame payload longer than 125 bytes"}
	ErrLengthMSB        = &Error{StatusProtocolError, "64-bit payload length with the most significant bit set"}
	ErrNonMinimalLength = &Error{StatusProtocolError, "payload length not in its minimal encoding"}
	ErrUnmasked         = &Error{StatusProtocolError, "unmasked frame from client"}
	ErrMasked           = &Error{StatusProtocolError, "masked frame from server"}
)

// Message assembly errors (RFC 6455 §5.4, §5.6, §8.1; RFC 7692 §6).
var (
	ErrUnexpectedContinuation = &Error{StatusProtocolError, "continuation frame without a message in progress"}
	ErrExpectedContinuation   = &Error{StatusProtocolError, "new data frame while a fragmented message is in progress"}
	ErrCompressedBit          = &Error{StatusProtocolError, "RSV1 set on a continuation or control frame, or without permessage-deflate"}
	ErrMessageTooBig          = &Error{StatusMessageTooBig, "message exceeds the size limit"}
	ErrInvalidUTF8            = &Error{StatusInvalidPayload, "text message is not valid UTF-8"}
)

// Close frame payload errors (RFC 6455 §5.5.1, §7.4).
var (
	ErrCloseLength     = &Error{StatusProtocolError, "close payload of 1 byte"}
	ErrCloseCode       = &Error{StatusProtocolError, "invalid close status code"}
	ErrCloseReasonUTF8 = &Error{StatusInvalidPayload, "close reason is not valid UTF-8"}
)

// permessage-deflate errors (RFC 7692 §6.2, §8).
var (
	ErrDeflateData    = &Error{StatusInvalidPayload, "invalid permessage-deflate data"}
	ErrInflatedTooBig = &Error{StatusMessageTooBig, "decompressed message exceeds the size limit"}
)
