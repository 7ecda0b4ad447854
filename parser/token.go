package parser

import "math/bits"

// TokenIter walks a comma-separated list (RFC 9110 §5.6.1) that may be spread
// over several field lines, skipping empty elements and the OWS around them.
// Commas inside quoted-strings do not split, so a Sec-WebSocket-Extensions
// element keeps its parameters: "permessage-deflate; client_max_window_bits".
// It does not allocate; the tokens are views into the parsed buffer.
type TokenIter struct {
	hdrs []Header // lines from the current one on
	id   HeaderID
	left int    // lines carrying id not yet started
	rest []byte // unread part of the current line
	tok  []byte
}

// TokensOf iterates the list in a single field value.
func TokensOf(value []byte) TokenIter {
	return TokenIter{rest: value}
}

// Next advances to the next non-empty element and reports whether there is one.
func (it *TokenIter) Next() bool {
	for {
		for len(it.rest) > 0 {
			end := listElementEnd(it.rest)
			tok := TrimOWS(it.rest[:end])
			if end < len(it.rest) {
				it.rest = it.rest[end+1:]
			} else {
				it.rest = nil
			}
			if len(tok) > 0 {
				it.tok = tok
				return true
			}
		}
		if !it.nextLine() {
			it.tok = nil
			return false
		}
	}
}

// nextLine loads the next line carrying it.id into rest.
func (it *TokenIter) nextLine() bool {
	for it.left > 0 && len(it.hdrs) > 0 {
		h := &it.hdrs[0]
		it.hdrs = it.hdrs[1:]
		if h.ID == it.id {
			it.left--
			it.rest = h.Value
			return true
		}
	}
	return false
}

// Token returns the current element, OWS trimmed.
func (it *TokenIter) Token() []byte { return it.tok }

// listElementEnd returns the index of the comma ending the first element of
// b, or len(b), stepping over quoted-strings (RFC 9110 §5.6.4).
func listElementEnd(b []byte) int {
	// Eight bytes per step (swar.go): a Connection or Upgrade list is
	// walked on every request that carries one, and quoted-strings are
	// rare, so only the first ',' or '"' matters.
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := load64(b[i:])
		if m := byteMask(x, ',') | byteMask(x, '"'); m != 0 {
			i += bits.TrailingZeros64(m) >> 3
			if b[i] == '"' {
				return i + quotedListElementEnd(b[i:])
			}
			return i
		}
	}
	if i < len(b) && len(b) >= 8 {
		// The rest as the last word, the lanes already read shifted out
		// (the zero lanes shifted in hold neither byte).
		x := load64(b[len(b)-8:]) >> (8 * (i + 8 - len(b)))
		if m := byteMask(x, ',') | byteMask(x, '"'); m != 0 {
			i += bits.TrailingZeros64(m) >> 3
			if b[i] == '"' {
				return i + quotedListElementEnd(b[i:])
			}
			return i
		}
		return len(b)
	}
	for ; i < len(b); i++ {
		switch b[i] {
		case ',':
			return i
		case '"':
			return i + quotedListElementEnd(b[i:])
		}
	}
	return len(b)
}

// quotedListElementEnd is listElementEnd for b starting at a '"'.
func quotedListElementEnd(b []byte) int {
	quoted := false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			return i
		}
	}
	return len(b)
}

// SplitProtocol splits an Upgrade element "name/version" (RFC 9110 §7.8) at
// its first '/'; version is empty when absent.
func SplitProtocol(tok []byte) (name, version []byte) {
	for i, c := range tok {
		if c == '/' {
			return tok[:i], tok[i+1:]
		}
	}
	return tok, nil
}
