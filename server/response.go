package server

import (
	"strconv"

	"github.com/switchyard-dev/switchyard/parser"
	"github.com/switchyard-dev/switchyard/server/internal/headerlines"
)

// ResponseWriter builds the response to one request. The response is sent when the handler
// returns, with its Content-Length, over HTTP/1.1 or as HTTP/2 frames, unless a handler
// on the worker pool sends it in parts as it goes (Flush, stream.go).
type ResponseWriter struct {
	status int
	fields []field
	hbuf   []byte
	body   []byte
	// raw holds header lines each ending in CRLF (an Upgrade list, a rejection's
	// Sec-WebSocket-Version), written through headerlines.Append.
	raw string
	// headLength is HeadLength's n plus one (0: not set).
	headLength int64
	// sets marks the fields the handler set that the server would otherwise add itself.
	sets ownFields
	// trailer holds the trailer fields (Trailer) as header lines, each ending in CRLF.
	trailer []byte
	// part sends the response in parts for a handler on the worker pool (Flush; nil on
	// the loop); streamed: its head has gone; broken: the handler failed after that.
	part             partSender
	streamed, broken bool
}

// ownFields are the fields a handler may set in the server's stead (Date, Server).
type ownFields uint8

const (
	ownDate ownFields = 1 << iota
	ownServer
)

// field locates one header in hbuf: name is hbuf[start:mid], value hbuf[mid:end].
type field struct{ start, mid, end int }

// Reset empties w for the next response. Protocols that reuse one ResponseWriter call it
// before each handler.
func (w *ResponseWriter) Reset() {
	w.status = 0
	w.fields = w.fields[:0]
	w.hbuf = w.hbuf[:0]
	w.body = w.body[:0]
	w.raw = ""
	w.headLength = 0
	w.sets = 0
	w.trailer = w.trailer[:0]
	w.part = nil
	w.streamed, w.broken = false, false
}

// text makes w a server-generated answer: status and a plain-text body that says why.
func (w *ResponseWriter) text(status int, text string) {
	w.WriteHeader(status)
	w.Header("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.WriteString(text)
	_, _ = w.WriteString("\n")
}

// Header adds a response header field. Fields that would break the framing (a control
// character other than HTAB in the value, or a name the server sets itself:
// Content-Length, Connection, Transfer-Encoding) are dropped, so a handler cannot split
// the response. A Date or Server field replaces the server's own.
func (w *ResponseWriter) Header(name, value string) { addField(w, name, value) }

// HeaderBytes is Header with a byte-slice value (copied).
func (w *ResponseWriter) HeaderBytes(name string, value []byte) { addField(w, name, value) }

// addField is Header and HeaderBytes: the field is copied into w.hbuf.
func addField[T string | []byte](w *ResponseWriter, name string, value T) {
	if !headerlines.ValidName(name) || !headerlines.ValidValue(value) || headerlines.Framing(name) {
		return
	}
	w.note(name)
	start := len(w.hbuf)
	w.hbuf = append(w.hbuf, name...)
	mid := len(w.hbuf)
	w.hbuf = append(w.hbuf, value...)
	w.fields = append(w.fields, field{start, mid, len(w.hbuf)})
}

// Trailer adds a trailer field, sent after the body (RFC 9110 §6.5): metadata known only
// once the body is written, such as a checksum or gRPC's grpc-status. Over HTTP/2 the
// trailers are a HEADERS frame that ends the stream; over HTTP/1.1 they follow the last
// chunk, so a response with trailers is sent chunked, and to an HTTP/1.0 client, which
// cannot take them, they are not sent. A response to HEAD, or one without content (204,
// 304), has none. Fields that are invalid or frame the message (Content-Length,
// Transfer-Encoding, Connection) are dropped, as by Header.
func (w *ResponseWriter) Trailer(name, value string) {
	if !headerlines.ValidName(name) || !headerlines.ValidValue(value) || headerlines.Framing(name) {
		return
	}
	w.trailer = append(append(append(append(w.trailer, name...), ": "...), value...), "\r\n"...)
}

// Trailers are the trailer fields as header lines, each ending in CRLF (a view), for a
// protocol to send.
func (w *ResponseWriter) Trailers() []byte { return w.trailer }

// WriteHeader sets the status code (default 200). Informational statuses (1xx) are
// ignored: the response is the final one, and the server sends its own interim ones. A
// status outside 100-599, which RFC 9110 §15 makes invalid (and a client would read as a
// server error), is sent as 500.
func (w *ResponseWriter) WriteHeader(status int) {
	switch {
	case status >= 200 && status <= 599:
		w.status = status
	case status < 100 || status > 599:
		w.status = 500
	}
}

// Write appends p to the body (copied).
func (w *ResponseWriter) Write(p []byte) (int, error) {
	w.body = append(w.body, p...)
	return len(p), nil
}

// WriteString appends s to the body.
func (w *ResponseWriter) WriteString(s string) (int, error) {
	w.body = append(w.body, s...)
	return len(s), nil
}

// HeadLength sets the Content-Length a response to HEAD announces: the length the body of
// a GET would have (RFC 9110 §9.3.2), since a HEAD response has no body to count. It is
// ignored for other methods, whose Content-Length is the body's.
func (w *ResponseWriter) HeadLength(n int64) {
	if n >= 0 {
		w.headLength = n + 1
	}
}

// note records a field the server leaves out of its own when the handler sets it.
func (w *ResponseWriter) note(name string) {
	switch {
	case len(name) == 4 && parser.EqualFold(name, "date"):
		w.sets |= ownDate
	case len(name) == 6 && parser.EqualFold(name, "server"):
		w.sets |= ownServer
	}
}

// SetsDate and SetsServer report whether the handler set the Date or Server field, which
// a protocol then does not add (RFC 9110 §5.3: neither is a list).
func (w *ResponseWriter) SetsDate() bool   { return w.sets&ownDate != 0 }
func (w *ResponseWriter) SetsServer() bool { return w.sets&ownServer != 0 }

// ContentLength is the Content-Length the response announces: the body's length, or for
// a response to HEAD (head true) the length set with HeadLength, if any. It is -1 for a
// HEAD response that set no length and wrote no body: its GET's length is unknown, and
// no Content-Length is announced (RFC 9110 §8.6), as net/http does.
func (w *ResponseWriter) ContentLength(head bool) int64 {
	switch {
	case w.status == 205:
		return 0 // RFC 9110 §15.3.6: no content, announced as such
	case !head:
	case w.headLength > 0:
		return w.headLength - 1
	case len(w.body) == 0:
		return -1
	}
	return int64(len(w.body))
}

// Status is the status code the response will carry.
func (w *ResponseWriter) Status() int {
	if w.status == 0 {
		return 200
	}
	return w.status
}

// Body is the body written so far (a view); none for 205 Reset Content, which a server
// must not send content with (RFC 9110 §15.3.6).
func (w *ResponseWriter) Body() []byte {
	if w.status == 205 {
		return nil
	}
	return w.body
}

// NumFields and Field let a protocol walk the handler's header fields.
func (w *ResponseWriter) NumFields() int { return len(w.fields) }

// Field returns header field i as views.
func (w *ResponseWriter) Field(i int) (name, value []byte) {
	f := w.fields[i]
	return w.hbuf[f.start:f.mid], w.hbuf[f.mid:f.end]
}

// appendStatusLine appends "HTTP/1.1 <code> <reason>\r\n"; a code without a registered
// reason phrase gets none, which RFC 9112 §4 allows ("HTTP/1.1 599 \r\n").
func appendStatusLine(b []byte, status int) []byte {
	if status >= 0 && status < len(statusLines) && statusLines[status] != "" {
		return append(b, statusLines[status]...)
	}
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(status), 10)
	return append(b, " \r\n"...)
}

// statusLines holds the status line of each status with a reason phrase (the IANA HTTP
// Status Code Registry, RFC 9110 §15 and the RFCs it names), built once.
var statusLines = func() (lines [600]string) {
	for code, reason := range map[int]string{
		100: "Continue", 101: "Switching Protocols", 102: "Processing", 103: "Early Hints",
		200: "OK", 201: "Created", 202: "Accepted", 203: "Non-Authoritative Information",
		204: "No Content", 205: "Reset Content", 206: "Partial Content", 207: "Multi-Status",
		208: "Already Reported", 226: "IM Used",
		300: "Multiple Choices", 301: "Moved Permanently", 302: "Found", 303: "See Other",
		304: "Not Modified", 305: "Use Proxy", 307: "Temporary Redirect", 308: "Permanent Redirect",
		400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
		404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
		407: "Proxy Authentication Required", 408: "Request Timeout", 409: "Conflict", 410: "Gone",
		411: "Length Required", 412: "Precondition Failed", 413: "Content Too Large",
		414: "URI Too Long", 415: "Unsupported Media Type", 416: "Range Not Satisfiable",
		417: "Expectation Failed", 421: "Misdirected Request", 422: "Unprocessable Content",
		423: "Locked", 424: "Failed Dependency", 425: "Too Early", 426: "Upgrade Required",
		428: "Precondition Required", 429: "Too Many Requests",
		431: "Request Header Fields Too Large", 451: "Unavailable For Legal Reasons",
		500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
		503: "Service Unavailable", 504: "Gateway Timeout", 505: "HTTP Version Not Supported",
		506: "Variant Also Negotiates", 507: "Insufficient Storage", 508: "Loop Detected",
		510: "Not Extended", 511: "Network Authentication Required",
	} {
		lines[code] = "HTTP/1.1 " + strconv.Itoa(code) + " " + reason + "\r\n"
	}
	return lines
}()

// bodyless reports whether a response with this status carries no content (RFC 9110 §6.4.1).
func bodyless(status int) bool { return status < 200 || status == 204 || status == 304 }
