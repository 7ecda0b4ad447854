package parser

import "testing"

// listElementEnd reads eight bytes at a time; it must stop where a byte loop
// does (the first ',' outside a quoted-string, RFC 9110 §5.6.1, §5.6.4) with
// the comma or quote in every lane, behind bytes that make SWAR borrows.
func TestListElementEndMatchesByteLoop(t *testing.T) {
	ref := func(b []byte) int {
		for i, c := range b {
			switch c {
			case ',':
				return i
			case '"':
				return i + quotedListElementEnd(b[i:])
			}
		}
		return len(b)
	}
	for n := 0; n <= 24; n++ {
		for at := 0; at <= n; at++ {
			for _, fill := range []byte{'a', 0x00, ',' - 1, ',' + 1, '"' + 1, 0x80, 0xff} {
				for _, mark := range []string{",", "\"", "\",\"", "\"\\\",\""} {
					b := make([]byte, n)
					for i := range b {
						b[i] = fill
					}
					copy(b[at:], mark)
					if got, want := listElementEnd(b), ref(b); got != want {
						t.Fatalf("listElementEnd(%q) = %d, want %d", b, got, want)
					}
				}
			}
		}
	}
}

// FuzzListElementEnd holds listElementEnd to the byte loop on any input.
func FuzzListElementEnd(f *testing.F) {
	f.Add([]byte("Upgrade, HTTP2-Settings"))
	f.Add([]byte(`permessage-deflate; a="x,y", b`))
	f.Fuzz(func(t *testing.T, b []byte) {
		want := len(b)
		for i, c := range b {
			if c == ',' {
				want = i
				break
			}
			if c == '"' {
				want = i + quotedListElementEnd(b[i:])
				break
			}
		}
		if got := listElementEnd(b); got != want {
			t.Fatalf("listElementEnd(%q) = %d, want %d", b, got, want)
		}
	})
}
