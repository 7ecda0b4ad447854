package ws

import "unicode/utf8"

// UTF8State validates UTF-8 (RFC 3629) that arrives in pieces, as the
// fragments of a text message do (RFC 6455 §5.6, §8.1). The zero value is
// ready at the start of a message. It fails fast: Feed reports false for the
// piece in which an invalid sequence becomes certain, even when the sequence
// started in an earlier piece, so the connection is failed with 1007 without
// waiting for the rest of the message (Autobahn 6.4.x).
//
// The state is one byte: either "between sequences", "rejected", or which
// bytes the open sequence still needs (the states of the RFC 3629 §4 syntax).
type UTF8State uint8

const (
	utf8Accept UTF8State = iota
	utf8Reject
	utf8Need1  // one more 80..BF
	utf8Need2  // two more 80..BF
	utf8Need3  // three more 80..BF (after F1..F3)
	utf8NeedE0 // A0..BF, then one more (no overlong 3-byte forms)
	utf8NeedED // 80..9F, then one more (no surrogates D800..DFFF)
	utf8NeedF0 // 90..BF, then two more (no overlong 4-byte forms)
	utf8NeedF4 // 80..8F, then two more (nothing above U+10FFFF)
)

// step advances the state by one byte. It only runs at piece boundaries (at
// most three bytes on each side), so clarity beats a table here.
func (s UTF8State) step(c byte) UTF8State {
	switch s {
	case utf8Accept:
		switch {
		case c < 0x80:
			return utf8Accept
		case c < 0xc2: // continuation bytes, and C0/C1 (overlong)
			return utf8Reject
		case c < 0xe0:
			return utf8Need1
		case c == 0xe0:
			return utf8NeedE0
		case c == 0xed:
			return utf8NeedED
		case c < 0xf0:
			return utf8Need2
		case c == 0xf0:
			return utf8NeedF0
		case c < 0xf4:
			return utf8Need3
		case c == 0xf4:
			return utf8NeedF4
		}
	case utf8Need1:
		if c&0xc0 == 0x80 {
			return utf8Accept
		}
	case utf8Need2:
		if c&0xc0 == 0x80 {
			return utf8Need1
		}
	case utf8Need3:
		if c&0xc0 == 0x80 {
			return utf8Need2
		}
	case utf8NeedE0:
		if c >= 0xa0 && c <= 0xbf {
			return utf8Need1
		}
	case utf8NeedED:
		if c >= 0x80 && c <= 0x9f {
			return utf8Need1
		}
	case utf8NeedF0:
		if c >= 0x90 && c <= 0xbf {
			return utf8Need2
		}
	case utf8NeedF4:
		if c >= 0x80 && c <= 0x8f {
			return utf8Need2
		}
	}
	return utf8Reject
}

// Feed validates the next piece of the text. It returns false once the text
// is certainly invalid; the state then stays rejected.
//
// The bulk of each piece — everything between a sequence left open by the
// previous piece and one left open at the end of this piece — goes to
// unicode/utf8.Valid, which checks 8 ASCII bytes per step and decodes the rest
// with the standard library's tables (see BenchmarkUTF8). Only the few bytes
// at the edges go through the state machine.
func (s *UTF8State) Feed(p []byte) bool {
	st := *s
	if st == utf8Reject {
		return false
	}
	// Finish the sequence the previous piece left open.
	i := 0
	for ; st != utf8Accept && i < len(p); i++ {
		if st = st.step(p[i]); st == utf8Reject {
			*s = st
			return false
		}
	}
	p = p[i:]
	cut := openTail(p)
	if !utf8.Valid(p[:cut]) {
		*s = utf8Reject
		return false
	}
	for _, c := range p[cut:] {
		if st = st.step(c); st == utf8Reject {
			break
		}
	}
	*s = st
	return st != utf8Reject
}

// Complete reports whether the text fed so far is valid and ends on a
// sequence boundary, i.e. is a valid whole message.
func (s UTF8State) Complete() bool { return s == utf8Accept }

// Failed reports whether the text fed so far is already invalid.
func (s UTF8State) Failed() bool { return s == utf8Reject }

// Reset readies s for a new message.
func (s *UTF8State) Reset() { *s = utf8Accept }

// openTail returns the index at which a trailing sequence that p ends too
// early to complete begins, or len(p). Such a sequence starts with a lead byte
// in the last three bytes of p.
func openTail(p []byte) int {
	n := len(p)
	for i := n - 1; i >= 0 && i >= n-3; i-- {
		c := p[i]
		if c < 0x80 {
			return n
		}
		if c >= 0xc0 {
			size := 2
			if c >= 0xf0 {
				size = 4
			} else if c >= 0xe0 {
				size = 3
			}
			if i+size > n {
				return i
			}
			return n
		}
	}
	return n
}
