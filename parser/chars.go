package parser

// Byte classes as 256-entry tables: one indexed load per byte beats a chain of
// comparisons in the hot loops, and indexing with a byte needs no bounds check.

// tchar (RFC 9110 §5.6.2): the characters of methods, field names and tokens.
var tcharTable = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// fieldValueTable: field-vchar / SP / HTAB (RFC 9110 §5.5): VCHAR, obs-text
// (0x80-0xFF), SP and HTAB; every other CTL, DEL included, is refused.
var fieldValueTable = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = true
	}
	for c := 0x80; c <= 0xff; c++ {
		t[c] = true
	}
	t['\t'] = true
	return t
}()

// targetTable: bytes a request-target may carry. RFC 3986 is stricter, but
// real clients send unescaped `"<>\^{|}` and routers cope; what matters for
// framing and safety is no whitespace, no CTL, no non-ASCII, and no fragment
// ('#' is never part of a request-target, RFC 9112 §3.2).
var targetTable = func() (t [256]bool) {
	for c := 0x21; c < 0x7f; c++ {
		t[c] = true
	}
	t['#'] = false
	return t
}()

// hostTable: uri-host [":" port] per RFC 3986 §3.2.2 (reg-name, IP-literal,
// IPv4) — unreserved, pct-encoded, sub-delims, ':' and the brackets.
var hostTable = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "-._~!$&'()*+,;=:[]%" {
		t[c] = true
	}
	return t
}()

// regNameTable: the characters of a reg-name or IPv4address (RFC 3986
// §3.2.2), that is hostTable without ':' and the brackets.
var regNameTable = func() (t [256]bool) {
	t = hostTable
	t[':'], t['['], t[']'] = false, false, false
	return t
}()

// hexValue maps hex digits to their value and everything else to 0xff.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c-'a') + 10
		t[c-'a'+'A'] = byte(c-'a') + 10
	}
	return t
}()

// IsOWS reports whether c is optional whitespace, a space or a tab (RFC 9110 §5.6.3).
func IsOWS(c byte) bool { return c == ' ' || c == '\t' }

func isDigit(c byte) bool { return c-'0' <= 9 }

func isAlpha(c byte) bool { return (c|0x20)-'a' <= 'z'-'a' }

// TrimOWS removes optional whitespace (RFC 9110 §5.6.3) from both ends of s.
func TrimOWS[T string | []byte](s T) T {
	for len(s) > 0 && IsOWS(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && IsOWS(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// lowerTable folds ASCII upper case to lower case and leaves other bytes alone.
var lowerTable = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = byte(c - 'A' + 'a')
	}
	return t
}()

// EqualFold reports whether b equals s under ASCII case folding (the folding
// HTTP tokens use, RFC 9110 §5.6.2). It does not allocate.
func EqualFold[T string | []byte](b T, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if lowerTable[b[i]] != lowerTable[s[i]] {
			return false
		}
	}
	return true
}

// IsTchar reports whether c may appear in a token: a method, a field name, an
// Upgrade protocol (RFC 9110 §5.6.2).
func IsTchar(c byte) bool { return tcharTable[c] }

// AppendLower appends b to dst with ASCII upper case folded to lower case, as
// HTTP/2 field names must be sent (RFC 9113 §8.2.1).
func AppendLower(dst, b []byte) []byte {
	for _, c := range b {
		dst = append(dst, lowerTable[c])
	}
	return dst
}
