package parser

import "bytes"

// slashPath is the Path of an absolute-form target whose path is empty: RFC
// 9112 §3.2.2 (via RFC 9110 §4.2.3) makes it "/". It is the one Path that is
// not a view into the parsed buffer; never write to it.
var slashPath = []byte("/")

// parseTarget classifies req.Target (RFC 9112 §3.2) and fills Form, Path,
// Query and, for absolute- and authority-form, Authority. The bytes were
// already checked against targetTable.
func parseTarget(req *Request) error {
	t := req.Target
	connect := string(req.Method) == "CONNECT"
	switch {
	case connect:
		// authority-form = uri-host ":" port, the only form CONNECT takes.
		colon := bytes.LastIndexByte(t, ':')
		if colon <= 0 || colon == len(t)-1 || t[0] == '/' || !validHost(t) {
			return errAuthorityForm
		}
		req.Form = FormAuthority
		req.Authority = t
		return nil
	case t[0] == '/':
		req.Form = FormOrigin
		splitQuery(req, t)
		return nil
	case len(t) == 1 && t[0] == '*':
		if string(req.Method) != "OPTIONS" {
			return errAsteriskForm
		}
		req.Form = FormAsterisk
		req.Path = t
		return nil
	}
	return parseAbsolute(req, t)
}

// splitQuery sets Path to t up to the first '?' and Query to what follows.
func splitQuery(req *Request, t []byte) {
	if q := bytes.IndexByte(t, '?'); q >= 0 {
		req.Path, req.Query = t[:q], t[q+1:]
		return
	}
	req.Path = t
}

// parseAbsolute handles absolute-form: scheme "://" authority path-abempty
// ["?" query] (RFC 9112 §3.2.2). An http(s) URI needs a non-empty host
// (RFC 9110 §4.2.1) and must not carry userinfo (§4.2.4).
func parseAbsolute(req *Request, t []byte) error {
	if !isAlpha(t[0]) {
		return errTargetForm
	}
	i := 1
	for i < len(t) && (isAlpha(t[i]) || isDigit(t[i]) || t[i] == '+' || t[i] == '-' || t[i] == '.') {
		i++
	}
	if i == len(t) || t[i] != ':' {
		return errTargetForm
	}
	rest := t[i+1:]
	if len(rest) < 2 || rest[0] != '/' || rest[1] != '/' {
		return errAbsoluteForm
	}
	rest = rest[2:]
	a := 0
	for a < len(rest) && rest[a] != '/' && rest[a] != '?' {
		a++
	}
	auth := rest[:a]
	if bytes.IndexByte(auth, '@') >= 0 {
		return errUserinfo
	}
	if len(auth) == 0 || auth[0] == ':' || !validHost(auth) {
		return errAbsoluteForm
	}
	req.Form = FormAbsolute
	req.Authority = auth
	splitQuery(req, rest[a:])
	if len(req.Path) == 0 {
		req.Path = slashPath
	}
	return nil
}

// validHost checks uri-host [":" port] (RFC 3986 §3.2.2-3): an IP-literal in
// brackets or a reg-name/IPv4address, then an optional all-digit port. An
// empty value is valid: a Host header may be empty (RFC 9110 §7.2).
func validHost(h []byte) bool { return validHostFrom(h, 0) }

// validHostFrom is validHost when the first known bytes of h are already
// known to be reg-name characters (parseHead checks a Host value with AVX2
// while it is in a long enough window; BenchmarkParse).
func validHostFrom(h []byte, known int) bool {
	i := 0
	if len(h) > 0 && h[0] == '[' {
		j := bytes.IndexByte(h, ']')
		if j < 2 {
			return false
		}
		for _, c := range h[1:j] {
			if !hostTable[c] || c == '[' {
				return false
			}
		}
		i = j + 1
	} else {
		// Four table lookups per test and branch: a Host value is
		// checked on every request (BenchmarkParse).
		r := h[min(known, len(h)):]
		for len(r) >= 4 && regNameTable[r[0]] && regNameTable[r[1]] && regNameTable[r[2]] && regNameTable[r[3]] {
			r = r[4:]
		}
		for len(r) > 0 && regNameTable[r[0]] {
			r = r[1:]
		}
		i = len(h) - len(r)
	}
	if i == len(h) {
		return true
	}
	if h[i] != ':' {
		return false
	}
	for _, c := range h[i+1:] {
		if !isDigit(c) {
			return false
		}
	}
	return true
}
