package parser

import "bytes"

// maxLeadingEmptyLines bounds the empty lines skipped before a request-line:
// RFC 9112 §2.2 asks servers to ignore at least one (clients used to send a
// CRLF after a POST body); a stream of them is not a request.
const maxLeadingEmptyLines = 4

// Parser parses request heads. Reuse one per connection.
//
// When a head is incomplete the Parser remembers how far it got, and the next
// call (with a longer buffer holding the same prefix) only looks at the new
// bytes: it searches them for the end of the head, as picohttpparser does with
// last_len, and validates the field lines they complete; the full parse then
// runs once, when the end is there. A head arriving one byte
// at a time therefore costs O(n) in total, not O(n²). Parse forgets this state
// by itself after a success or an error; call Reset when abandoning a partial
// head or handing over a buffer that does not extend the previous one.
type Parser struct {
	Limits Limits

	// Scan state, meaningful while inc is set (after an ErrIncomplete).
	inc        bool
	start      int // first byte of the request-line (after empty lines)
	scan       int // next byte to search for '\n'
	lineStart  int // first byte of the line not yet terminated
	reqLineEnd int // first byte after the request-line, 0 until seen
	lines      int // field lines seen so far

	// examined counts bytes looked at, for the linear-work test.
	examined int

	// found is parseHead's scratch for the fast path's field lines. Kept
	// here rather than on parseHead's stack, which would zero it on every
	// call (about 2% of a Parse of parsertest.Pico703, BenchmarkParse).
	found [16]fieldBounds
}

// Reset forgets the scan state of a partially received head.
func (p *Parser) Reset() {
	p.inc = false
	p.scan, p.lineStart, p.reqLineEnd, p.lines, p.start = 0, 0, 0, 0, 0
}

// Parse parses the request head at the start of buf into req.
//
// On success n is the length of the head (request-line, field lines, the
// empty line, and any empty lines skipped before the request-line); the body,
// or the next request, starts at buf[n]. req's views point into buf. After
// an error or ErrIncomplete, req's contents are unspecified.
//
// ErrIncomplete asks for more bytes: call again with a longer buf that starts
// with the same bytes. ErrPreface reports that buf starts with the complete
// HTTP/2 connection preface (a partial preface is ErrIncomplete); the caller
// decides whether that is acceptable at this point of the connection. Any
// other error is an *Error whose status should be answered before closing.
// A 414 or 431 is reported as soon as a limit is passed, before the head ends.
// When the head arrives in pieces, a rule broken inside a line is reported
// once that line ends (or a limit is passed), which may be later than a parse
// of the same bytes in one piece would report it; the error is the same.
func (p *Parser) Parse(buf []byte, req *Request) (n int, err error) {
	lim := &p.Limits
	if len(buf) == 0 || buf[0] == 'P' {
		if prefix, complete := MatchPreface(buf); prefix {
			if complete {
				p.Reset()
				return 0, ErrPreface
			}
			return 0, ErrIncomplete
		}
	}
	start, err := skipEmptyLines(buf, lim.AllowBareLF)
	if err != nil {
		if err != ErrIncomplete {
			p.Reset()
		}
		return 0, err
	}
	if p.inc && p.start == start && p.scan <= len(buf) && !p.scanMore(buf, lim) {
		return 0, ErrIncomplete
	}
	n, err = p.parseHead(buf, start, req, lim)
	if err != ErrIncomplete {
		p.Reset()
	}
	return n, err
}

// skipEmptyLines returns the index of the request-line after at most
// maxLeadingEmptyLines empty lines.
func skipEmptyLines(buf []byte, bareLF bool) (int, error) {
	i := 0
	for n := 0; i < len(buf); n++ {
		switch buf[i] {
		case '\r':
			if i+1 == len(buf) {
				return 0, ErrIncomplete
			}
			if buf[i+1] != '\n' {
				return 0, errBareCR
			}
			i += 2
		case '\n':
			if !bareLF {
				return 0, errBareLF
			}
			i++
		default:
			return i, nil
		}
		if n == maxLeadingEmptyLines {
			return 0, errLeadingEmptyLines
		}
	}
	return 0, ErrIncomplete
}

// scanMore looks at the bytes that arrived since the last call. It reports
// whether the full parse should run now: because the head is complete, or
// because the new bytes break a rule or a limit, which the full parse will
// then name. Field lines completed by the new bytes are validated here, so a
// bad line is answered when it ends, not only when the head does.
func (p *Parser) scanMore(buf []byte, lim *Limits) bool {
	if bareCR(buf, p.scan) {
		p.examined += len(buf) - p.scan
		return true
	}
	for {
		i := bytes.IndexByte(buf[p.scan:], '\n')
		if i < 0 {
			p.examined += 2 * (len(buf) - p.scan) // this search and bareCR's
			p.scan = len(buf)
			if p.reqLineEnd == 0 {
				return len(buf)-p.start > lim.maxRequestLine()+1
			}
			return len(buf)-p.reqLineEnd >= lim.maxHeaderBytes()
		}
		p.examined += 2 * (i + 1)
		lf := p.scan + i
		p.scan = lf + 1
		line := buf[p.lineStart:lf]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		} else if !lim.AllowBareLF {
			return true
		}
		switch {
		case p.reqLineEnd == 0:
			// The request-line is validated by the full parse, which will
			// then stop at the first field line.
			p.reqLineEnd = lf + 1
			return true
		case len(line) == 0, lf+1-p.reqLineEnd > lim.maxHeaderBytes():
			return true
		}
		p.examined += lf + 1 - p.lineStart
		if _, _, _, err := fieldLine(buf[:lf+1], p.lineStart, p.lines == 0, lim.AllowBareLF); err != nil {
			return true
		}
		if p.lines++; p.lines > lim.maxHeaders() {
			return true
		}
		p.lineStart = lf + 1
	}
}

// bareCR reports whether buf holds a CR at or after from-1 that is followed
// by something other than LF (RFC 9112 §2.2); a CR ending buf is undecided.
func bareCR(buf []byte, from int) bool {
	if from > 0 && buf[from-1] == '\r' {
		from--
	}
	for from < len(buf) {
		i := bytes.IndexByte(buf[from:], '\r')
		if i < 0 {
			return false
		}
		cr := from + i
		if cr+1 == len(buf) {
			return false
		}
		if buf[cr+1] != '\n' {
			return true
		}
		from = cr + 2
	}
	return false
}

// suspend records where an incomplete parse stopped: every byte before
// len(buf) has been looked at, and no line starting at or after lineStart
// has ended.
func (p *Parser) suspend(buf []byte, start, lineStart, reqLineEnd, lines int) error {
	p.examined += len(buf) - start
	p.inc = true
	p.start = start
	p.scan = len(buf)
	p.lineStart = lineStart
	p.reqLineEnd = reqLineEnd
	p.lines = lines
	return ErrIncomplete
}

// parseHead is the full, validating parse of the head starting at buf[start].
func (p *Parser) parseHead(buf []byte, start int, req *Request, lim *Limits) (int, error) {
	req.Reset()

	// Request-line (RFC 9112 §3), scanned inside a window one CRLF longer
	// than the limit: running off a full window means the line is too long.
	w := buf
	lineWindow := start + lim.maxRequestLine() + 2
	if len(w) > lineWindow {
		w = w[:lineWindow]
	}

	i := start
	if len(w)-start >= 4 && string(w[start:start+4]) == "GET " {
		i += 3 // most requests: one compare instead of a loop
	} else {
		for i < len(w) && tcharTable[w[i]] {
			i++
		}
	}
	if i == len(w) {
		return p.moreLine(buf, len(w) >= lineWindow, start)
	}
	if w[i] != ' ' || i == start {
		return 0, errMethod
	}
	req.Method = w[start:i]

	ts := i + 1
	if useAVX2 && len(w) >= 32 {
		i = skipTargetAVX2(w, ts)
	} else {
		i = skipTargetGeneric(w, ts)
	}
	if i == len(w) {
		return p.moreLine(buf, len(w) >= lineWindow, start)
	}
	switch w[i] {
	case ' ':
	case '\r', '\n':
		return 0, errRequestLine
	default:
		return 0, errTargetChar
	}
	if i == ts {
		return 0, errRequestLine
	}
	req.Target = w[ts:i]

	vs := i + 1
	var end int // first byte after the request-line
	if vs+10 <= len(w) && string(w[vs:vs+10]) == "HTTP/1.1\r\n" {
		req.ProtoMinor = 1
		end = vs + 10
	} else {
		lf := bytes.IndexByte(w[vs:], '\n')
		if lf < 0 {
			return p.moreLine(buf, len(w) >= lineWindow, start)
		}
		end = vs + lf + 1
		v := w[vs : vs+lf]
		if len(v) > 0 && v[len(v)-1] == '\r' {
			v = v[:len(v)-1]
		} else if !lim.AllowBareLF {
			return 0, errBareLF
		}
		minor, err := parseVersion(v)
		if err != nil {
			return 0, err
		}
		req.ProtoMinor = minor
	}
	if err := parseTarget(req); err != nil {
		return 0, err
	}

	// Field lines (RFC 9112 §5) inside the MaxHeaderBytes window.
	reqLineEnd := end
	headWindow := end + lim.maxHeaderBytes()
	w = buf
	if len(w) > headWindow {
		w = w[:headWindow]
	}
	pos := end
	maxHeaders := lim.maxHeaders()
	simd := useAVX2 && len(w) >= 32
	lines := &p.found
	for {
		// Fast path for runs of the common well-formed line
		// "Name: value\r\n" (scan.go; AVX2 where available); anything
		// else (the empty line, errors, running out of input, a HTAB in
		// the value, the MaxHeaders limit) goes to emptyLine/fieldLine
		// below, which decide with the same rules.
		if m := min(len(lines), maxHeaders-len(req.Headers)); m > 0 {
			var k, next int
			if simd {
				k, next = fieldLinesAVX2(w, pos, lines[:m])
			} else {
				k, next = fieldLinesGeneric(w, pos, lines[:m])
			}
			pos = req.addLines(w, pos, lines[:k], simd)
			if k == m {
				continue
			}
			pos = next
		}

		var name, value []byte
		var next int
		var err error
		if pos < len(w) && (w[pos] == '\r' || w[pos] == '\n') {
			if next, err = emptyLine(w, pos, lim.AllowBareLF); err == nil {
				return p.finish(req, next, lim)
			}
		} else {
			name, value, next, err = fieldLine(w, pos, len(req.Headers) == 0, lim.AllowBareLF)
		}
		if err == ErrIncomplete {
			if len(w) >= headWindow {
				return 0, errHeaderTooLarge
			}
			return 0, p.suspend(buf, start, pos, reqLineEnd, len(req.Headers))
		}
		if err != nil {
			return 0, err
		}
		if len(req.Headers) == maxHeaders {
			return 0, errTooManyHeaders
		}
		req.addHeader(name, value, headerID(name))
		pos = next
	}
}

// emptyLine checks the CRLF (or, if allowed, bare LF) at w[pos] that ends
// the head and returns the index after it.
func emptyLine(w []byte, pos int, bareLF bool) (int, error) {
	if w[pos] == '\n' {
		if !bareLF {
			return 0, errBareLF
		}
		return pos + 1, nil
	}
	if pos+1 == len(w) {
		return 0, ErrIncomplete
	}
	if w[pos+1] != '\n' {
		return 0, errBareCR
	}
	return pos + 2, nil
}

// fieldLine parses the field line starting at w[pos] (RFC 9112 §5):
//
//	field-line = field-name ":" OWS field-value OWS CRLF
//
// validating as it goes, and returns the name, the OWS-trimmed value, and the
// index after the line. It returns ErrIncomplete when w ends first. first
// tells whether this is the first line after the request-line, where leading
// whitespace has its own rule (RFC 9112 §2.2) rather than obs-fold's (§5.2).
func fieldLine(w []byte, pos int, first, bareLF bool) (name, value []byte, next int, err error) {
	lineStart := pos
	if pos == len(w) {
		return nil, nil, 0, ErrIncomplete
	}
	if IsOWS(w[pos]) {
		if first {
			return nil, nil, 0, errWSBeforeFirst
		}
		return nil, nil, 0, errObsFold
	}
	for pos < len(w) && tcharTable[w[pos]] {
		pos++
	}
	if pos == len(w) {
		return nil, nil, 0, ErrIncomplete
	}
	if c := w[pos]; c != ':' {
		switch {
		case IsOWS(c):
			return nil, nil, 0, errFieldNameWS
		case c == '\r' || c == '\n':
			return nil, nil, 0, errNoColon
		}
		return nil, nil, 0, errFieldNameChar
	}
	if pos == lineStart {
		return nil, nil, 0, errFieldNameEmpty
	}
	name = w[lineStart:pos]
	pos++
	for pos < len(w) && IsOWS(w[pos]) {
		pos++
	}
	valStart := pos
	for {
		pos += skipNonCTL(w[pos:])
		if pos == len(w) || w[pos] != '\t' { // HTAB is the one CTL a value may hold
			break
		}
		pos++
	}
	if pos == len(w) {
		return nil, nil, 0, ErrIncomplete
	}
	valEnd := pos
	switch w[pos] {
	case '\r':
		if pos+1 == len(w) {
			return nil, nil, 0, ErrIncomplete
		}
		if w[pos+1] != '\n' {
			return nil, nil, 0, errBareCR
		}
		next = pos + 2
	case '\n':
		if !bareLF {
			return nil, nil, 0, errBareLF
		}
		next = pos + 1
	default:
		return nil, nil, 0, errFieldValueChar
	}
	for valEnd > valStart && IsOWS(w[valEnd-1]) {
		valEnd--
	}
	return name, w[valStart:valEnd], next, nil
}

// moreLine answers running out of bytes inside the request-line: 414 when
// the window was full, else wait for more.
func (p *Parser) moreLine(buf []byte, full bool, start int) (int, error) {
	if full {
		return 0, errURITooLong
	}
	return 0, p.suspend(buf, start, start, 0, 0)
}

// parseVersion checks HTTP-version (RFC 9112 §2.3) and returns the minor
// version. A later minor version of HTTP/1 is handled as HTTP/1.1, as RFC 9110
// §6.2 asks of a recipient; another major version is 505.
func parseVersion(v []byte) (int, error) {
	if len(v) != 8 || string(v[:5]) != "HTTP/" || !isDigit(v[5]) || v[6] != '.' || !isDigit(v[7]) {
		if bytes.IndexByte(v, ' ') >= 0 {
			return 0, errRequestLine
		}
		return 0, errVersion
	}
	if v[5] != '1' {
		return 0, errVersionNotSupp
	}
	return min(int(v[7]-'0'), 1), nil
}

// finish applies the rules that need the whole head and records its length.
func (p *Parser) finish(req *Request, n int, lim *Limits) (int, error) {
	p.examined += n
	if err := applySemantics(req, lim); err != nil {
		return 0, err
	}
	req.HeadLen = n
	return n, nil
}
