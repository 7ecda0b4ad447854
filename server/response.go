package server

import (
	"strconv"
)

// ResponseWriter builds the response to one request. The response is sent when the handler
// returns, with its Content-Length, over HTTP/1.1 or as HTTP/2 frames.
type ResponseWriter struct {
	status int
	fields []field
	hbuf   []byte
	body   []byte
}

// field locates one header in hbuf: name is hbuf[start:mid], value hbuf[mid:end].
type field struct{ start, mid, end int }

func (w *ResponseWriter) reset() {
	w.status = 0
	w.fields = w.fields[:0]
	w.hbuf = w.hbuf[:0]
	w.body = w.body[:0]
}

// Header adds a response header field. Fields that would break the framing (CR, LF or NUL
// in the value, or a name the server sets itself: Content-Length, Connection,
// Transfer-Encoding) are dropped, so a handler cannot split the response.
func (w *ResponseWriter) Header(name, value string) {
	if !validFieldName(name) || !validFieldValue(value) || reservedField(name) {
		return
	}
	start := len(w.hbuf)
	w.hbuf = append(w.hbuf, name...)
	mid := len(w.hbuf)
	w.hbuf = append(w.hbuf, value...)
	w.fields = append(w.fields, field{start, mid, len(w.hbuf)})
}

// HeaderBytes is Header with a byte-slice value (copied).
func (w *ResponseWriter) HeaderBytes(name string, value []byte) {
	if !validFieldName(name) || !validFieldValue(value) || reservedField(name) {
		return
	}
	start := len(w.hbuf)
	w.hbuf = append(w.hbuf, name...)
	mid := len(w.hbuf)
	w.hbuf = append(w.hbuf, value...)
	w.fields = append(w.fields, field{start, mid, len(w.hbuf)})
}

// WriteHeader sets the status code (default 200).
func (w *ResponseWriter) WriteHeader(status int) {
	if status >= 100 && status <= 999 {
		w.status = status
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

// Status is the status code the response will carry.
func (w *ResponseWriter) Status() int {
	if w.status == 0 {
		return 200
	}
	return w.status
}

// Body is the body written so far (a view).
func (w *ResponseWriter) Body() []byte { return w.body }

// NumFields and Field let a protocol walk the handler's header fields.
func (w *ResponseWriter) NumFields() int { return len(w.fields) }

// Field returns header field i as views.
func (w *ResponseWriter) Field(i int) (name, value []byte) {
	f := w.fields[i]
	return w.hbuf[f.start:f.mid], w.hbuf[f.mid:f.end]
}

func validFieldName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !isTchar(name[i]) {
			return false
		}
	}
	return true
}

func validFieldValue[T string | []byte](v T) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '\r' || c == '\n' || c == 0 {
			return false
		}
	}
	return true
}

func reservedField(name string) bool {
	return equalFoldString(name, "Content-Length") || equalFoldString(name, "Connection") ||
		equalFoldString(name, "Transfer-Encoding")
}

func equalFoldString(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// isTchar reports whether c may appear in a token (RFC 9110 §5.6.2).
func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// appendStatusLine appends "HTTP/1.1 <code> <reason>\r\n".
func appendStatusLine(b []byte, status int) []byte {
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = append(b, StatusText(status)...)
	return append(b, "\r\n"...)
}

// StatusText is the reason phrase for a status code.
func StatusText(status int) string {
	switch status {
	case 100:
		return "Continue"
	case 101:
		return "Switching Protocols"
	case 200:
		return "OK"
	case 201:
		return "Created"
	case 204:
		return "No Content"
	case 301:
		return "Moved Permanently"
	case 302:
		return "Found"
	case 304:
		return "Not Modified"
	case 400:
		return "Bad Request"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 408:
		return "Request Timeout"
	case 413:
		return "Content Too Large"
	case 414:
		return "URI Too Long"
	case 426:
		return "Upgrade Required"
	case 431:
		return "Request Header Fields Too Large"
	case 500:
		return "Internal Server Error"
	case 501:
		return "Not Implemented"
	case 503:
		return "Service Unavailable"
	case 505:
		return "HTTP Version Not Supported"
	}
	return "Status"
}

// bodyless reports whether a response with this status carries no content (RFC 9110 §6.4.1).
func bodyless(status int) bool { return status < 200 || status == 204 || status == 304 }
