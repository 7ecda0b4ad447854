package ws

import gws "github.com/gobwas/ws"

// Header is a decoded frame header (RFC 6455 §5.2). It is gobwas/ws's
// Header: Rsv holds the three RSV bits as RSV1=0b100, RSV2=0b010, RSV3=0b001.
type Header = gws.Header

// OpCode is the 4-bit frame opcode (RFC 6455 §5.2, §11.8).
type OpCode = gws.OpCode

// StatusCode is a close status code (RFC 6455 §7.4).
type StatusCode = gws.StatusCode

// Opcodes (RFC 6455 §5.2).
const (
	OpContinuation = gws.OpContinuation
	OpText         = gws.OpText
	OpBinary       = gws.OpBinary
	OpClose        = gws.OpClose
	OpPing         = gws.OpPing
	OpPong         = gws.OpPong
)

// Status codes (RFC 6455 §7.4.1 and the IANA registry of §11.7).
const (
	StatusNormalClosure    StatusCode = 1000
	StatusGoingAway        StatusCode = 1001
	StatusProtocolError    StatusCode = 1002
	StatusUnsupportedData  StatusCode = 1003
	StatusNoStatusRcvd     StatusCode = 1005 // never on the wire
	StatusAbnormalClosure  StatusCode = 1006 // never on the wire
	StatusInvalidPayload   StatusCode = 1007
	StatusPolicyViolation  StatusCode = 1008
	StatusMessageTooBig    StatusCode = 1009
	StatusMandatoryExt     StatusCode = 1010
	StatusInternalError    StatusCode = 1011
	StatusServiceRestart   StatusCode = 1012
	StatusTryAgainLater    StatusCode = 1013
	StatusBadGateway       StatusCode = 1014
	StatusTLSHandshakeFail StatusCode = 1015 // never on the wire
)

// RSV bit masks as they appear in Header.Rsv.
const (
	RSV1 byte = 0b100
	RSV2 byte = 0b010
	RSV3 byte = 0b001
)

// Size limits of RFC 6455 §5.2 and §5.5.
const (
	// MaxHeaderSize is the longest frame header: 2 + 8 (64-bit length) + 4 (mask).
	MaxHeaderSize = 14
	// MaxServerHeaderSize is the longest unmasked header, the only kind a
	// server sends.
	MaxServerHeaderSize = 10
	// MaxControlPayload is the largest payload of a control frame (§5.5).
	MaxControlPayload = 125
)
