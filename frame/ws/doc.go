// Package ws is the WebSocket wire codec of switchyard (RFC 6455, RFC 7692).
//
// It decodes and encodes frame headers over byte slices, unmasks payloads in
// place, validates close payloads and UTF-8 text, assembles fragmented
// messages, negotiates permessage-deflate and compresses/decompresses message
// payloads. It performs no I/O and keeps no goroutines: the server calls it
// from its event loop with views into the connection's inbound buffer.
//
// Views: every []byte this package hands out (Message.Payload, close reasons,
// extension names and values) is a view into a buffer it was given or owns
// transiently. It is valid only until that buffer is reused — for the
// caller's input, until the caller discards those bytes; for an Assembler's
// pooled buffers, until the next call to one of its methods. Copy to keep.
//
// Errors: protocol violations are reported as *Error values that carry the
// close code the connection must be failed with (RFC 6455 §7.4.1). They are
// pre-allocated package variables, so returning one never allocates, and
// they can be compared with ==.
//
// Types and constants of github.com/gobwas/ws are reused through aliases
// (Header, OpCode, StatusCode) so values flow between the two packages
// without conversion, and ws.Cipher does the masking.
package ws
