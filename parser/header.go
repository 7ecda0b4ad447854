package parser

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

// headerID identifies a known field name: a switch on the length picks at most
// two candidates, the first byte separates those, and one comparison decides.
func headerID(name []byte) HeaderID {
	if len(name) < 4 {
		return HeaderOther
	}
	c := name[0] | 0x20
	switch len(name) {
	case 4:
		if foldEq(name, "host") {
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
		if c == 'c' && foldEq(name, "connection") {
			return HeaderConnection
		}
	case 14:
		switch c {
		case 'c':
			if foldEq(name, "content-length") {
				return HeaderContentLength
			}
		case 'h':
			if foldEq(name, "http2-settings") {
				return HeaderHTTP2Settings
			}
		}
	case 17:
		switch c {
		case 't':
			if foldEq(name, "transfer-encoding") {
				return HeaderTransferEncoding
			}
		case 's':
			if foldEq(name, "sec-websocket-key") {
				return HeaderSecWebSocketKey
			}
		}
	case 21:
		if c == 's' && foldEq(name, "sec-websocket-version") {
			return HeaderSecWebSocketVersion
		}
	case 22:
		if c == 's' && foldEq(name, "sec-websocket-protocol") {
			return HeaderSecWebSocketProtocol
		}
	case 24:
		if c == 's' && foldEq(name, "sec-websocket-extensions") {
			return HeaderSecWebSocketExtensions
		}
	}
	return HeaderOther
}
