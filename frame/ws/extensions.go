package ws

import "github.com/switchyard-dev/switchyard/parser"

// Parsing of the Sec-WebSocket-Extensions header (RFC 6455 §9.1):
//
//	extension-list  = 1#extension
//	extension       = extension-token *( ";" extension-param )
//	extension-param = token [ "=" (token | quoted-string) ]
//
// with optional whitespace around separators and empty list elements
// tolerated (RFC 7230 §7). The scanner works in place, returns views and does
// not allocate. gobwas/httphead's ScanOptions covers similar ground but
// un-escapes quoted strings by rewriting the caller's buffer and drives a
// callback (a closure per call); a handshake header is short and scanned once,
// so a small explicit scanner is the simpler thing to own.

// Extension is one element of an extension list. Name is a view into the
// header value.
type Extension struct {
	Name   []byte
	params []byte // raw text after the name, syntax already checked
}

// Params returns a scanner over the extension's parameters.
func (e Extension) Params() ParamScanner { return ParamScanner{rest: e.params} }

// ExtensionScanner walks the elements of a Sec-WebSocket-Extensions value.
type ExtensionScanner struct {
	rest []byte
	bad  bool
}

// ScanExtensions returns a scanner over header, one header field value.
func ScanExtensions(header []byte) ExtensionScanner { return ExtensionScanner{rest: header} }

// Next returns the next extension. It returns ok=false at the end of the list
// or at the first syntax error (see Malformed); elements before the error have
// been returned and stay valid.
func (s *ExtensionScanner) Next() (ext Extension, ok bool) {
	if s.bad {
		return ext, false
	}
	p := s.rest
	// Skip empty elements.
	for len(p) > 0 && (parser.IsOWS(p[0]) || p[0] == ',') {
		p = p[1:]
	}
	if len(p) == 0 {
		s.rest = nil
		return ext, false
	}
	n := tokenLen(p)
	if n == 0 {
		s.bad = true
		return ext, false
	}
	ext.Name = p[:n]
	p = p[n:]
	start := p
	for {
		p = skipOWS(p)
		if len(p) == 0 || p[0] == ',' {
			break
		}
		if p[0] != ';' {
			s.bad = true
			return Extension{}, false
		}
		p = skipOWS(p[1:])
		n = tokenLen(p)
		if n == 0 {
			s.bad = true
			return Extension{}, false
		}
		p = skipOWS(p[n:])
		if len(p) > 0 && p[0] == '=' {
			p = skipOWS(p[1:])
			if n = valueLen(p); n == 0 {
				s.bad = true
				return Extension{}, false
			}
			p = p[n:]
		}
	}
	ext.params = start[:len(start)-len(p)]
	s.rest = p
	return ext, true
}

// Malformed reports whether scanning stopped at a syntax error.
func (s *ExtensionScanner) Malformed() bool { return s.bad }

// ParamScanner walks the parameters of one Extension.
type ParamScanner struct{ rest []byte }

// Next returns the next parameter: its name, its value (nil when it has none;
// a quoted-string value is returned without its quotes but with any
// backslash escapes, see Unquote) and whether it had a value.
func (s *ParamScanner) Next() (name, value []byte, hasValue, ok bool) {
	p := skipOWS(s.rest)
	if len(p) == 0 || p[0] != ';' {
		return nil, nil, false, false
	}
	p = skipOWS(p[1:])
	n := tokenLen(p)
	name, p = p[:n], skipOWS(p[n:])
	if len(p) > 0 && p[0] == '=' {
		p = skipOWS(p[1:])
		n = valueLen(p)
		value, p, hasValue = p[:n], p[n:], true
		if value[0] == '"' {
			value = value[1 : len(value)-1]
		}
	}
	s.rest = p
	return name, value, hasValue, true
}

func skipOWS(p []byte) []byte {
	for len(p) > 0 && parser.IsOWS(p[0]) {
		p = p[1:]
	}
	return p
}

// tokenLen returns the length of the RFC 7230 §3.2.6 token at the start of p.
func tokenLen(p []byte) int {
	for i, c := range p {
		if !parser.IsTchar(c) {
			return i
		}
	}
	return len(p)
}

// valueLen returns the length of the token or quoted-string at the start of
// p (quotes included), or 0 if there is none or the string is unterminated.
func valueLen(p []byte) int {
	if len(p) == 0 || p[0] != '"' {
		return tokenLen(p)
	}
	for i := 1; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\':
			i++
		case c == '"':
			return i + 1
		case c < 0x20 && c != '\t' || c == 0x7f:
			return 0
		}
	}
	return 0
}

// Unquote removes the backslash escapes of a quoted-string value into dst.
func Unquote(dst, v []byte) []byte {
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		dst = append(dst, v[i])
	}
	return dst
}
