package ws

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// utf8Cases are Autobahn section 6 style inputs (RFC 3629 §3, §4).
var utf8Cases = []struct {
	name string
	in   string
}{
	{"RFC 3629 empty", ""},
	{"RFC 3629 ASCII", "Hello, world! 0123456789 long enough for words"},
	{"RFC 3629 two-byte", "κόσμε"},
	{"RFC 3629 three-byte", "日本語のテキスト"},
	{"RFC 3629 four-byte", "𝄞 music 😀"},
	{"RFC 3629 boundaries U+0080 U+07FF U+0800 U+FFFF U+10000 U+10FFFF", "\u0080\u07ff\u0800\uffff\U00010000\U0010ffff"},
	{"RFC 3629 §3 lone continuation", "abc\x80def"},
	{"RFC 3629 §3 truncated 2-byte at end", "abc\xc3"},
	{"RFC 3629 §3 truncated 3-byte at end", "abc\xe2\x82"},
	{"RFC 3629 §3 truncated 4-byte at end", "abc\xf0\x9f\x98"},
	{"RFC 3629 §3 truncated sequence mid-text", "a\xe2\x82b"},
	{"RFC 3629 §10 overlong 2-byte C0 80", "\xc0\x80"},
	{"RFC 3629 §10 overlong 2-byte C1 BF", "\xc1\xbf"},
	{"RFC 3629 §10 overlong 3-byte E0 80 AF", "\xe0\x80\xaf"},
	{"RFC 3629 §10 overlong 4-byte F0 8F BF BF", "\xf0\x8f\xbf\xbf"},
	{"RFC 3629 §3 surrogate ED A0 80", "\xed\xa0\x80"},
	{"RFC 3629 §3 surrogate ED BF BF", "\xed\xbf\xbf"},
	{"RFC 3629 §3 surrogate pair", "\xed\xa0\x80\xed\xb0\x80"},
	{"RFC 3629 §3 above U+10FFFF F4 90 80 80", "\xf4\x90\x80\x80"},
	{"RFC 3629 §3 F5 lead", "\xf5\x80\x80\x80"},
	{"RFC 3629 §3 FE and FF", "\xfe\xff"},
	{"RFC 3629 §3 5-byte form", "\xf8\x88\x80\x80\x80"},
	{"RFC 3629 noncharacter U+FFFE is valid", "\xef\xbf\xbe"},
	{"Autobahn 6.4.1 invalid after valid prefix", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80\x65\x64\x69\x74\x65\x64"},
	{"Autobahn 6.4.2 invalid in the middle", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80"},
	{"RFC 3629 long ASCII then invalid", strings.Repeat("x", 100) + "\xff" + strings.Repeat("y", 20)},
	{"RFC 3629 long mixed valid", strings.Repeat("aé日😀", 40)},
}

func TestUTF8StateWholeAgreesWithStdlib(t *testing.T) {
	for _, c := range utf8Cases {
		t.Run(c.name, func(t *testing.T) {
			var s UTF8State
			got := s.Feed([]byte(c.in)) && s.Complete()
			if want := utf8.ValidString(c.in); got != want {
				t.Fatalf("got %v, want %v", got, want)
			}
		})
	}
}

// validPrefixLen is the length of the longest prefix of p that can still
// become valid UTF-8 with more bytes: the point where a fail-fast validator
// must reject.
func validPrefixLen(p []byte) int {
	var s UTF8State
	for i := range p {
		s = s.step(p[i])
		if s == utf8Reject {
			return i
		}
	}
	return len(p)
}

func TestUTF8StateSplitAtEveryPosition(t *testing.T) {
	// RFC 6455 §8.1 with fragments: the verdict must not depend on where the
	// message is split, and an invalid sequence must be reported by the
	// piece that makes it certain (fail fast, Autobahn 6.4.x).
	for _, c := range utf8Cases {
		in := []byte(c.in)
		want := utf8.Valid(in)
		bad := validPrefixLen(in)
		for i := 0; i <= len(in); i++ {
			for j := i; j <= len(in); j++ {
				var s UTF8State
				pieces := [][]byte{in[:i], in[i:j], in[j:]}
				off, failedAt := 0, -1
				for k, p := range pieces {
					if !s.Feed(p) && failedAt < 0 {
						failedAt = k
					}
					if failedAt < 0 && off+len(p) > bad {
						t.Fatalf("%s split %d,%d: piece %d contains invalid byte %d but Feed accepted", c.name, i, j, k, bad)
					}
					off += len(p)
				}
				if got := failedAt < 0 && s.Complete(); got != want {
					t.Fatalf("%s split %d,%d: got %v, want %v", c.name, i, j, got, want)
				}
			}
		}
	}
}

func TestUTF8StateStaysRejected(t *testing.T) {
	// RFC 3629: once invalid, later valid bytes cannot repair the text.
	var s UTF8State
	if s.Feed([]byte{0xff}) {
		t.Fatal("0xff accepted")
	}
	if s.Feed([]byte("abc")) || s.Complete() || !s.Failed() {
		t.Fatal("state recovered after rejection")
	}
	s.Reset()
	if !s.Feed([]byte("abc")) || !s.Complete() {
		t.Fatal("Reset did not restore the initial state")
	}
}

func TestUTF8StateStepAgreesWithStdlibOnAllShortSequences(t *testing.T) {
	// Exhaustive over every 1-, 2- and 3-byte input and every 4-byte input
	// starting with a 4-byte lead: the byte-level state machine must
	// agree with unicode/utf8 (RFC 3629 §4).
	check := func(b []byte) {
		var s UTF8State
		for _, c := range b {
			s = s.step(c)
		}
		if got, want := s == utf8Accept, utf8.Valid(b); got != want {
			t.Fatalf("%x: got %v, want %v", b, got, want)
		}
	}
	for a := 0; a < 256; a++ {
		check([]byte{byte(a)})
		for b := 0; b < 256; b++ {
			check([]byte{byte(a), byte(b)})
			for c := 0; c < 256; c++ {
				check([]byte{byte(a), byte(b), byte(c)})
			}
		}
	}
	for a := 0xf0; a <= 0xf4; a++ {
		for b := 0x80; b < 0xc0; b++ {
			for _, c := range []int{0x7f, 0x80, 0xbf, 0xc0} {
				for d := 0; d < 256; d++ {
					check([]byte{byte(a), byte(b), byte(c), byte(d)})
				}
			}
		}
	}
}
