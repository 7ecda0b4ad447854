package h2

// ClientPreface is the connection preface a client sends first (RFC 9113
// §3.4), before its SETTINGS frame.
const ClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// ReadPreface checks that b starts with ClientPreface. It returns the
// preface's length when it is all there, ErrIncomplete while b is a proper
// prefix of it, and a ConnectionError of type PROTOCOL_ERROR as soon as a
// byte differs (RFC 9113 §3.4), so a wrong preface is refused without
// waiting for 24 bytes.
func ReadPreface(b []byte) (n int, err error) {
	m := min(len(b), len(ClientPreface))
	if string(b[:m]) != ClientPreface[:m] {
		return 0, errBadPreface
	}
	if m < len(ClientPreface) {
		return 0, ErrIncomplete
	}
	return len(ClientPreface), nil
}
