package h2

import "github.com/switchyard-dev/switchyard/parser"

// ClientPreface is the connection preface a client sends first (RFC 9113
// §3.4), before its SETTINGS frame.
const ClientPreface = parser.Preface

// ReadPreface checks that b starts with ClientPreface. It returns the
// preface's length when it is all there, ErrIncomplete while b is a proper
// prefix of it, and a ConnectionError of type PROTOCOL_ERROR as soon as a
// byte differs (RFC 9113 §3.4), so a wrong preface is refused without
// waiting for 24 bytes. The match is parser.MatchPreface's, which spots the
// same preface where an HTTP/1.1 request was expected.
func ReadPreface(b []byte) (n int, err error) {
	prefix, complete := parser.MatchPreface(b)
	switch {
	case !prefix:
		return 0, errBadPreface
	case !complete:
		return 0, ErrIncomplete
	}
	return len(ClientPreface), nil
}
