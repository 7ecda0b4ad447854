package h2

import (
	"errors"
	"strconv"
)

// ErrCode is an HTTP/2 error code (RFC 9113 §7), carried by RST_STREAM and
// GOAWAY.
type ErrCode uint32

// Error codes, RFC 9113 §7.
const (
	ErrCodeNo                 ErrCode = 0x0
	ErrCodeProtocol           ErrCode = 0x1
	ErrCodeInternal           ErrCode = 0x2
	ErrCodeFlowControl        ErrCode = 0x3
	ErrCodeSettingsTimeout    ErrCode = 0x4
	ErrCodeStreamClosed       ErrCode = 0x5
	ErrCodeFrameSize          ErrCode = 0x6
	ErrCodeRefusedStream      ErrCode = 0x7
	ErrCodeCancel             ErrCode = 0x8
	ErrCodeCompression        ErrCode = 0x9
	ErrCodeConnect            ErrCode = 0xa
	ErrCodeEnhanceYourCalm    ErrCode = 0xb
	ErrCodeInadequateSecurity ErrCode = 0xc
	ErrCodeHTTP11Required     ErrCode = 0xd
)

var errCodeNames = [...]string{
	ErrCodeNo:                 "NO_ERROR",
	ErrCodeProtocol:           "PROTOCOL_ERROR",
	ErrCodeInternal:           "INTERNAL_ERROR",
	ErrCodeFlowControl:        "FLOW_CONTROL_ERROR",
	ErrCodeSettingsTimeout:    "SETTINGS_TIMEOUT",
	ErrCodeStreamClosed:       "STREAM_CLOSED",
	ErrCodeFrameSize:          "FRAME_SIZE_ERROR",
	ErrCodeRefusedStream:      "REFUSED_STREAM",
	ErrCodeCancel:             "CANCEL",
	ErrCodeCompression:        "COMPRESSION_ERROR",
	ErrCodeConnect:            "CONNECT_ERROR",
	ErrCodeEnhanceYourCalm:    "ENHANCE_YOUR_CALM",
	ErrCodeInadequateSecurity: "INADEQUATE_SECURITY",
	ErrCodeHTTP11Required:     "HTTP_1_1_REQUIRED",
}

// String returns the RFC 9113 §7 name of the code. Unknown codes, which
// RFC 9113 §7 says must not trigger special behaviour, print in hex.
func (c ErrCode) String() string {
	if int(c) < len(errCodeNames) {
		return errCodeNames[c]
	}
	return "UNKNOWN_ERROR_0x" + strconv.FormatUint(uint64(c), 16)
}

// ConnectionError is a connection error (RFC 9113 §5.4.1): the endpoint
// sends GOAWAY with Code and closes the connection. Reason is for logs and
// GOAWAY debug data.
type ConnectionError struct {
	Code   ErrCode
	Reason string
}

func (e ConnectionError) Error() string {
	return "h2: connection error " + e.Code.String() + ": " + e.Reason
}

// StreamError is a stream error (RFC 9113 §5.4.2): the endpoint sends
// RST_STREAM with Code on StreamID and the connection carries on.
type StreamError struct {
	StreamID uint32
	Code     ErrCode
	Reason   string
}

func (e StreamError) Error() string {
	return "h2: stream error on stream " + strconv.FormatUint(uint64(e.StreamID), 10) +
		" " + e.Code.String() + ": " + e.Reason
}

// ErrIncomplete means the buffer ends before the unit being decoded does;
// the caller waits for more bytes and retries from the same offset.
var ErrIncomplete = errors.New("h2: incomplete")

// connErr boxes a ConnectionError once, at init, so returning it later costs
// no allocation.
func connErr(code ErrCode, reason string) error { return ConnectionError{code, reason} }

// Connection errors of the frame layer, pre-boxed (see connErr).
var (
	errFrameTooLarge       = connErr(ErrCodeFrameSize, "frame larger than SETTINGS_MAX_FRAME_SIZE")
	errDataStream0         = connErr(ErrCodeProtocol, "DATA on stream 0")
	errHeadersStream0      = connErr(ErrCodeProtocol, "HEADERS on stream 0")
	errPriorityStream0     = connErr(ErrCodeProtocol, "PRIORITY on stream 0")
	errRSTStream0          = connErr(ErrCodeProtocol, "RST_STREAM on stream 0")
	errPushPromiseStream0  = connErr(ErrCodeProtocol, "PUSH_PROMISE on stream 0")
	errContinuationStream0 = connErr(ErrCodeProtocol, "CONTINUATION on stream 0")
	errSettingsStream      = connErr(ErrCodeProtocol, "SETTINGS on a stream")
	errPingStream          = connErr(ErrCodeProtocol, "PING on a stream")
	errGoAwayStream        = connErr(ErrCodeProtocol, "GOAWAY on a stream")
	errPadShort            = connErr(ErrCodeFrameSize, "PADDED frame too short for Pad Length")
	errPadTooLong          = connErr(ErrCodeProtocol, "padding as long as the payload or longer")
	errHeadersShort        = connErr(ErrCodeFrameSize, "HEADERS too short for its priority fields")
	errPushPromiseShort    = connErr(ErrCodeFrameSize, "PUSH_PROMISE too short for Promised Stream ID")
	errRSTLength           = connErr(ErrCodeFrameSize, "RST_STREAM length not 4")
	errSettingsAckLength   = connErr(ErrCodeFrameSize, "SETTINGS ACK with payload")
	errSettingsLength      = connErr(ErrCodeFrameSize, "SETTINGS length not a multiple of 6")
	errPingLength          = connErr(ErrCodeFrameSize, "PING length not 8")
	errGoAwayLength        = connErr(ErrCodeFrameSize, "GOAWAY shorter than 8")
	errWindowUpdateLength  = connErr(ErrCodeFrameSize, "WINDOW_UPDATE length not 4")
	errWindowUpdateZero    = connErr(ErrCodeProtocol, "WINDOW_UPDATE increment 0 on the connection")
	errExpectContinuation  = connErr(ErrCodeProtocol, "header block interrupted: expected CONTINUATION on the same stream")
	errUnexpectedCont      = connErr(ErrCodeProtocol, "CONTINUATION without an open header block")
	errBadPreface          = connErr(ErrCodeProtocol, "invalid connection preface")
)

// Reasons of the frame layer's stream errors (the stream ID varies, so they
// are boxed when returned).
const (
	reasonPriorityLength   = "PRIORITY length not 5"
	reasonSelfDependency   = "stream depends on itself"
	reasonWindowUpdateZero = "WINDOW_UPDATE increment 0"
)
