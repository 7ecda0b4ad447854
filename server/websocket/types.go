package websocket

import (
	"errors"

	"github.com/switchyard-dev/switchyard/frame/ws"
)

// OpCode is a data message's type (RFC 6455 §5.6).
type OpCode byte

// The data opcodes.
const (
	OpText   OpCode = OpCode(ws.OpText)
	OpBinary OpCode = OpCode(ws.OpBinary)
)

// StatusCode is a close status code (RFC 6455 §7.4).
type StatusCode uint16

// Close status codes (RFC 6455 §7.4.1 and the IANA registry of §11.7).
const (
	StatusNormalClosure   StatusCode = 1000
	StatusGoingAway       StatusCode = 1001
	StatusProtocolError   StatusCode = 1002
	StatusUnsupportedData StatusCode = 1003
	StatusNoStatusRcvd    StatusCode = 1005 // never on the wire: the peer's close had no code
	StatusAbnormalClosure StatusCode = 1006 // never on the wire: no close handshake
	StatusInvalidPayload  StatusCode = 1007
	StatusPolicyViolation StatusCode = 1008
	StatusMessageTooBig   StatusCode = 1009
	StatusMandatoryExt    StatusCode = 1010
	StatusInternalError   StatusCode = 1011
	StatusTryAgainLater   StatusCode = 1013
)

// Message is a complete WebSocket message. Payload is valid only during the callback
// that receives it: a view of the loop's input, or with Handler.UseWorkerPool a copy in a
// pooled buffer that the next message reuses. Copy what you keep.
type Message struct {
	Op      OpCode // OpText or OpBinary
	Payload []byte
}

// OverflowPolicy says what happens to a data message that would take a connection past
// its send budget. Control frames are never dropped.
type OverflowPolicy uint8

const (
	// DropMessages drops the message; the sender gets ErrDropped and Conn.Dropped counts it.
	DropMessages OverflowPolicy = iota
	// CloseTryAgainLater closes the connection with 1013 (Try Again Later).
	CloseTryAgainLater
	// ClosePolicyViolation closes the connection with 1008 (Policy Violation).
	ClosePolicyViolation
)

// ErrClosed is returned by writes on a connection that is closing or closed.
var ErrClosed = errors.New("switchyard: websocket connection closed")

// ErrDropped is returned when a message was dropped by the send budget's policy.
var ErrDropped = errors.New("switchyard: message dropped: the connection's send budget is full")
