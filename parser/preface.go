package parser

// PrefaceLen is the length of the HTTP/2 client connection preface.
const PrefaceLen = 24

// Preface is what a client that knows the server speaks HTTP/2 sends first
// instead of an HTTP/1.1 request (RFC 9113 §3.4). It is shaped like a request
// line so HTTP/1 servers reject it; we catch it before the HTTP/1 parser does.
const Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// MatchPreface reports whether buf agrees with the HTTP/2 preface over their
// common length (prefix) and whether buf holds all of it (complete). An empty
// buf is a prefix. Bytes after the preface are not examined.
func MatchPreface(buf []byte) (prefix, complete bool) {
	n := min(len(buf), PrefaceLen)
	if string(buf[:n]) != Preface[:n] {
		return false, false
	}
	return true, n == PrefaceLen
}
