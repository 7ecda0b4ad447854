package parser

import "encoding/binary"

// HeaderID names the header fields the server acts on. The parser recognises
// them while it reads the head so later lookups are an array index, not a
// search.
type HeaderID uint8

const (
	HeaderOther HeaderID = iota
	HeaderHost
	HeaderConnection
	HeaderUpgrade
	HeaderContentLength
	HeaderTransferEncoding
	HeaderExpect
	HeaderOrigin
	HeaderSecWebSocketKey
	HeaderSecWebSocketVersion
	HeaderSecWebSocketProtocol
	HeaderSecWebSocketExtensions
	HeaderHTTP2Settings
	numHeaderIDs
)

var headerNames = [numHeaderIDs]string{
	HeaderOther:                  "",
	HeaderHost:                   "Host",
	HeaderConnection:             "Connection",
	HeaderUpgrade:                "Upgrade",
	HeaderContentLength:          "Content-Length",
	HeaderTransferEncoding:       "Transfer-Encoding",
	HeaderExpect:                 "Expect",
	HeaderOrigin:                 "Origin",
	HeaderSecWebSocketKey:        "Sec-WebSocket-Key",
	HeaderSecWebSocketVersion:    "Sec-WebSocket-Version",
	HeaderSecWebSocketProtocol:   "Sec-WebSocket-Protocol",
	HeaderSecWebSocketExtensions: "Sec-WebSocket-Extensions",
	HeaderHTTP2Settings:          "HTTP2-Settings",
}

// String returns the canonical field name, or "" for HeaderOther.
func (id HeaderID) String() string {
	if id < numHeaderIDs {
		return headerNames[id]
	}
	return ""
}

// Header is one field line. Name and Value are views into the parsed buffer;
// Value has its surrounding whitespace (OWS) removed.
type Header struct {
	Name, Value []byte
	ID          HeaderID
}

// foldEq compares a field name (or a token of a field value) with a
// lower-case constant made of letters, digits and '-'. OR-ing 0x20 folds case
// without a table; the only other bytes it maps onto those are CTLs (0x0D ->
// '-', 0x10-0x19 -> digits), which names and values never hold once
// validated.
func foldEq(name []byte, lower string) bool {
	if len(name) != len(lower) {
		return false
	}
	for i := 0; i < len(lower); i++ {
		if name[i]|0x20 != lower[i] {
			return false
		}
	}
	return true
}

// foldEqLong is foldEq for lengths of 8 and more, eight bytes at a time:
// the first and the last word (overlapping when the length is not a multiple
// of eight: folding is per byte, so bytes compared twice do no harm), then
// any words between, the differences OR-ed so there is one branch for names
// of up to 16 bytes. headerID and connectionOptions run it on most requests
// (BenchmarkParse).
func foldEqLong(name []byte, lower string) bool {
	n := len(lower)
	if len(name) != n || n < 8 {
		return false
	}
	d := ((load64(name) | ones*0x20) ^ strLoad64(lower)) |
		((load64(name[n-8:]) | ones*0x20) ^ strLoad64(lower[n-8:]))
	for i := 8; i < n-8; i += 8 {
		d |= (load64(name[i:]) | ones*0x20) ^ strLoad64(lower[i:])
	}
	return d == 0
}

// strLoad64 is load64 for a string of at least 8 bytes.
func strLoad64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// hostWord is "host" as headerID loads a 4-byte name.
var hostWord = binary.LittleEndian.Uint32([]byte("host"))

// knownFirst[len(name)] has bit c&31 set for the first letter c of each known
// name of that length, so the field loop can skip the call to headerID for
// most lines: of the nine in parsertest.Pico703 only Host and Connection
// pass (BenchmarkParse).
var knownFirst = func() (t [32]uint32) {
	for _, n := range headerNames[1:] {
		t[len(n)] |= 1 << (n[0] & 31) // &31 drops the case bit
	}
	return t
}()

// headerID identifies a known field name: a switch on the length picks at most
// two candidates, the first byte separates those, and one comparison decides.
func headerID(name []byte) HeaderID {
	if len(name) < 4 {
		return HeaderOther
	}
	c := name[0] | 0x20
	switch len(name) {
	case 4:
		// Every request has a Host line: one word compare, not a loop.
		if binary.LittleEndian.Uint32(name)|0x20202020 == hostWord {
			return HeaderHost
		}
	case 6:
		switch c {
		case 'e':
			if foldEq(name, "expect") {
				return HeaderExpect
			}
		case 'o':
			if foldEq(name, "origin") {
				return HeaderOrigin
			}
		}
	case 7:
		if c == 'u' && foldEq(name, "upgrade") {
			return HeaderUpgrade
		}
	case 10:
		if c == 'c' && foldEqLong(name, "connection") {
			return HeaderConnection
		}
	case 14:
		switch c {
		case 'c':
			if foldEqLong(name, "content-length") {
				return HeaderContentLength
			}
		case 'h':
			if foldEqLong(name, "http2-settings") {
				return HeaderHTTP2Settings
			}
		}
	case 17:
		switch c {
		case 't':
			if foldEqLong(name, "transfer-encoding") {
				return HeaderTransferEncoding
			}
		case 's':
			if foldEqLong(name, "sec-websocket-key") {
				return HeaderSecWebSocketKey
			}
		}
	case 21:
		if c == 's' && foldEqLong(name, "sec-websocket-version") {
			return HeaderSecWebSocketVersion
		}
	case 22:
		if c == 's' && foldEqLong(name, "sec-websocket-protocol") {
			return HeaderSecWebSocketProtocol
		}
	case 24:
		if c == 's' && foldEqLong(name, "sec-websocket-extensions") {
			return HeaderSecWebSocketExtensions
		}
	}
	return HeaderOther
}
