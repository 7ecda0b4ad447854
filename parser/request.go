package parser

import "slices"

// TargetForm is the shape of the request-target (RFC 9112 §3.2).
type TargetForm uint8

const (
	FormOrigin    TargetForm = iota // "/path?query"
	FormAbsolute                    // "http://authority/path?query"
	FormAuthority                   // "host:port", CONNECT only
	FormAsterisk                    // "*", OPTIONS only
)

// Request is a parsed request head. Every []byte is a view into the buffer
// given to Parse, valid only until that buffer is reused; the Headers backing
// array is reused by the next Parse into the same Request.
type Request struct {
	Method, Target, Path, Query []byte // Path is Target up to '?', Query what follows it (without '?')
	Form                        TargetForm
	// Authority is where the request is aimed: the authority of an
	// absolute-form or authority-form target, else the Host value (RFC 9112 §3.3).
	Authority     []byte
	ProtoMinor    int      // 0 or 1: HTTP/1.0 or HTTP/1.1
	Headers       []Header // in arrival order
	ContentLength int64    // -1 if absent
	Chunked       bool     // Transfer-Encoding's final coding is chunked
	KeepAlive     bool     // RFC 9112 §9.3: 1.1 unless "Connection: close"; 1.0 only with "keep-alive"
	Expect100     bool     // Expect: 100-continue
	ConnUpgrade   bool     // Connection lists the "upgrade" option
	HeadLen       int      // bytes of the head, leading empty lines and final CRLF included

	// first[id] is 1 + the index of the first line with that ID (0: none);
	// count[id] how many lines carried it. Both are filled while parsing so
	// Get, Count and Tokens need no search.
	first [numHeaderIDs]int32
	count [numHeaderIDs]int32

	// hostRegName counts the bytes at the start of the first Host value
	// already known to be reg-name characters (see validHostFrom).
	hostRegName int
}

// Reset clears r for reuse, keeping the Headers backing array.
func (r *Request) Reset() {
	h := r.Headers[:0]
	*r = Request{Headers: h, ContentLength: -1}
}

// Get returns the value of the first line carrying id, or nil.
func (r *Request) Get(id HeaderID) []byte {
	if id == HeaderOther || id >= numHeaderIDs || r.first[id] == 0 {
		return nil
	}
	return r.Headers[r.first[id]-1].Value
}

// Count reports how many field lines carried id.
func (r *Request) Count(id HeaderID) int {
	if id >= numHeaderIDs {
		return 0
	}
	if id == HeaderOther {
		n := 0
		for i := range r.Headers {
			if r.Headers[i].ID == HeaderOther {
				n++
			}
		}
		return n
	}
	return int(r.count[id])
}

// Lookup returns the value of the first field whose name equals name under
// ASCII case folding, or nil. It works for any field and does not allocate.
func (r *Request) Lookup(name string) []byte {
	for i := range r.Headers {
		if EqualFold(r.Headers[i].Name, name) {
			return r.Headers[i].Value
		}
	}
	return nil
}

// Tokens iterates the comma-separated elements of every line carrying id, in
// order, as one list (RFC 9110 §5.3 allows a list to be split over lines).
func (r *Request) Tokens(id HeaderID) TokenIter {
	if id == HeaderOther || id >= numHeaderIDs || r.first[id] == 0 {
		return TokenIter{}
	}
	return TokenIter{hdrs: r.Headers[r.first[id]-1:], id: id, left: int(r.count[id])}
}

// HasToken reports whether the list in the lines carrying id contains token,
// compared case-insensitively. Elements with parameters ("a; p=1") match on
// their whole text, so look for bare tokens only.
func (r *Request) HasToken(id HeaderID, token string) bool {
	it := r.Tokens(id)
	for it.Next() {
		if EqualFold(it.Token(), token) {
			return true
		}
	}
	return false
}

// addLines appends the field lines the fast scan recorded (scan.go), the
// first starting at w[pos], and returns where the line after them starts.
// It is addHeader for a run of lines: one capacity check for them all, and
// the index updated only for the few known names (BenchmarkParse). simd says
// w may be scanned with AVX2.
func (r *Request) addLines(w []byte, pos int, lines []fieldBounds, simd bool) int {
	n := len(r.Headers)
	if cap(r.Headers)-n < len(lines) {
		r.Headers = slices.Grow(r.Headers, len(lines))
	}
	r.Headers = r.Headers[:n+len(lines)]
	hs := r.Headers[n:]
	for j := range hs {
		l := &lines[j]
		h := &hs[j]
		name := w[pos:l.nameEnd]
		h.Name, h.Value, h.ID = name, w[l.vs:l.ve], HeaderOther
		pos = l.next
		// Most names are no known one; knownFirst sorts them out
		// without a call.
		if k := len(name); k >= len(knownFirst) || knownFirst[k]&(1<<(name[0]&31)) == 0 {
			continue
		}
		id := headerID(name)
		if id == HeaderOther {
			continue
		}
		h.ID = id
		if id == HeaderHost && simd && r.count[HeaderHost] == 0 && l.ve >= 32 {
			// Check the first Host value while it ends a window long
			// enough for AVX2 (see validHostFrom).
			r.hostRegName = skipClassAVX2(w[:l.ve], l.vs, &regNameNibbles) - l.vs
		}
		if r.count[id] == 0 {
			r.first[id] = int32(n + j + 1)
		}
		r.count[id]++
	}
	return pos
}

// addHeader appends a field line and indexes it.
func (r *Request) addHeader(name, value []byte, id HeaderID) {
	n := len(r.Headers)
	if n < cap(r.Headers) {
		r.Headers = r.Headers[:n+1]
		h := &r.Headers[n]
		h.Name, h.Value, h.ID = name, value, id
	} else {
		r.Headers = append(r.Headers, Header{Name: name, Value: value, ID: id})
	}
	if id != HeaderOther {
		if r.count[id] == 0 {
			r.first[id] = int32(len(r.Headers))
		}
		r.count[id]++
	}
}
