package parser

import "math"

// applySemantics enforces the rules that need the whole head: Host, message
// framing (the request-smuggling surface), and the connection options.
func applySemantics(req *Request, lim *Limits) error {
	switch req.count[HeaderHost] {
	case 0:
		if req.ProtoMinor == 1 {
			return errHostMissing
		}
	case 1:
		host := req.Get(HeaderHost)
		if !validHostFrom(host, req.hostRegName) {
			return errHostInvalid
		}
		if req.Form == FormOrigin || req.Form == FormAsterisk {
			req.Authority = host
		}
	default:
		return errHostRepeated
	}

	if req.count[HeaderTransferEncoding] > 0 {
		if req.ProtoMinor == 0 {
			return errTEHTTP10
		}
		if req.count[HeaderContentLength] > 0 {
			return errCLAndTE
		}
		if err := checkTransferEncoding(req); err != nil {
			return err
		}
		req.Chunked = true
	} else if req.count[HeaderContentLength] > 0 {
		n, err := parseContentLength(req)
		if err != nil {
			return err
		}
		if n > lim.maxBodyBytes() {
			return errBodyTooLarge
		}
		req.ContentLength = n
	}

	req.KeepAlive = req.ProtoMinor == 1
	if req.count[HeaderConnection] > 0 {
		connectionOptions(req)
	}
	// An HTTP/1.0 client may not know 1xx: its expectation is ignored (RFC 9110 §10.1.1).
	if req.count[HeaderExpect] > 0 && req.ProtoMinor == 1 {
		req.Expect100 = req.HasToken(HeaderExpect, "100-continue")
	}
	return nil
}

// connectionOptions applies the close, keep-alive and upgrade options of
// Connection (RFC 9112 §9.3, RFC 9110 §7.8). foldEq is exact here: values
// hold no CTL, the only bytes that OR 0x20 could alias onto the letters,
// digits and '-' compared.
func connectionOptions(req *Request) {
	// One line whose whole value is one of the three options is by far the
	// most common case; its list is that one element, so the iterator (a
	// good part of a Parse, BenchmarkParse/pico703) can be skipped.
	if req.count[HeaderConnection] == 1 {
		switch v := req.Get(HeaderConnection); len(v) {
		case 5:
			if foldEq(v, "close") {
				req.KeepAlive = false
				return
			}
		case 7:
			if foldEq(v, "upgrade") {
				req.ConnUpgrade = true
				return
			}
		case 10:
			if foldEqLong(v, "keep-alive") {
				req.KeepAlive = true
				return
			}
		}
	}
	closeSeen, keepAlive := false, false
	it := req.Tokens(HeaderConnection)
	for it.Next() {
		t := it.Token()
		switch len(t) {
		case 5:
			closeSeen = closeSeen || foldEq(t, "close")
		case 7:
			req.ConnUpgrade = req.ConnUpgrade || foldEq(t, "upgrade")
		case 10:
			keepAlive = keepAlive || foldEq(t, "keep-alive")
		}
	}
	if closeSeen {
		req.KeepAlive = false
	} else if keepAlive {
		req.KeepAlive = true
	}
}

// parseContentLength reads Content-Length (RFC 9110 §8.6). A value repeated
// over lines or as a list ("5, 5") is accepted when every element is the
// same number, as §8.6 permits; anything else, an empty element included, is
// refused since two readings of a body length are how requests get smuggled.
func parseContentLength(req *Request) (int64, error) {
	n := int64(-1)
	left := req.count[HeaderContentLength]
	for i := req.first[HeaderContentLength] - 1; left > 0; i++ {
		h := &req.Headers[i]
		if h.ID != HeaderContentLength {
			continue
		}
		left--
		v := h.Value
		for {
			end := 0
			for end < len(v) && v[end] != ',' {
				end++
			}
			m, ok := parseDecimal(TrimOWS(v[:end]))
			if !ok {
				return 0, errCLInvalid
			}
			if n >= 0 && m != n {
				return 0, errCLDiffering
			}
			n = m
			if end == len(v) {
				break
			}
			v = v[end+1:]
		}
	}
	return n, nil
}

// parseDecimal parses 1*DIGIT into an int64, refusing overflow.
func parseDecimal(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		d := int64(c - '0')
		if n > (math.MaxInt64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// checkTransferEncoding requires the coding list to end in chunked, with
// chunked only there (RFC 9112 §6.1, §6.3: otherwise the body length is
// unknowable -> 400). Any other coding is one this server does not implement
// -> 501 (§6.1). The structural 400 wins over the 501.
func checkTransferEncoding(req *Request) error {
	sawChunked, chunkedNotLast, unknown, seen := false, false, false, false
	it := req.Tokens(HeaderTransferEncoding)
	for it.Next() {
		seen = true
		if sawChunked {
			chunkedNotLast = true
		}
		tok := it.Token()
		name, params := tok, false
		for i, c := range tok {
			if c == ';' {
				name, params = TrimOWS(tok[:i]), true
				break
			}
		}
		if len(name) == 0 {
			return errTEToken
		}
		for _, c := range name {
			if !tcharTable[c] {
				return errTEToken
			}
		}
		if EqualFold(name, "chunked") {
			if params {
				return errTEChunkedParams
			}
			sawChunked = true
		} else {
			unknown = true
		}
	}
	switch {
	case !seen:
		return errTEEmpty
	case chunkedNotLast:
		return errTEChunkedNotEnd
	case unknown:
		return errTEUnknown
	}
	return nil
}
