// Package headerlines reads the header blocks upgraders hand the server
// (server.Rejection.Header, the fields an Upgrader accepts with): "Name: value" lines, each
// ending in CRLF. HTTP/2 and net/http take their fields one by one, HTTP/1.1 writes them
// out again; this is the one reader they share, and the one place that decides which lines
// may reach the wire: a user's Upgrader is code the server does not trust to frame its
// responses.
package headerlines

import "github.com/switchyard-dev/switchyard/parser"

// Each calls fn with the name and value of every line of block that is a valid field,
// both without surrounding spaces and tabs (RFC 9110 §5.6.3): a name of tchars and a value
// with no control character but HTAB (RFC 9110 §5.5), so a stray CR, LF or NUL can neither
// split a response nor reach an HTTP/2 field. Other lines are skipped. name and value are
// views into block.
func Each[T string | []byte](block T, fn func(name, value T)) {
	for len(block) > 0 {
		end := len(block)
		for i := 0; i+1 < len(block); i++ {
			if block[i] == '\r' && block[i+1] == '\n' {
				end = i
				break
			}
		}
		line := block[:end]
		for i := 0; i < len(line); i++ {
			if line[i] == ':' {
				name, value := parser.TrimOWS(line[:i]), parser.TrimOWS(line[i+1:])
				if ValidName(name) && ValidValue(value) {
					fn(name, value)
				}
				break
			}
		}
		block = block[min(end+2, len(block)):]
	}
}

// Append appends to dst, as "Name: value" lines ending in CRLF, the fields of block that
// Each yields, except those that frame an HTTP/1.1 message, which the server writes itself
// (Framing).
func Append[T string | []byte](dst []byte, block T) []byte {
	if len(block) == 0 { // every plain HTTP/1.1 response: no call, no closure
		return dst
	}
	Each(block, func(name, value T) {
		if !Framing(name) {
			dst = append(dst, name...)
			dst = append(dst, ": "...)
			dst = append(dst, value...)
			dst = append(dst, "\r\n"...)
		}
	})
	return dst
}

// ValidName reports whether name is a field name: one or more tchars (RFC 9110 §5.1).
func ValidName[T string | []byte](name T) bool {
	if len(name) == 0 {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !parser.IsTchar(name[i]) {
			return false
		}
	}
	return true
}

// ValidValue reports whether v holds no control character but HTAB (RFC 9110 §5.5).
func ValidValue[T string | []byte](v T) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// Framing reports the fields the server sets on an HTTP/1.1 response from the message
// itself (Content-Length, Transfer-Encoding, Connection): one more from a handler or an
// upgrader would contradict them, or let it end the response early.
func Framing[T string | []byte](name T) bool {
	return parser.EqualFold(name, "content-length") || parser.EqualFold(name, "connection") ||
		parser.EqualFold(name, "transfer-encoding")
}
