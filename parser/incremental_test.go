package parser

import (
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/parser/parsertest"
)

// splitInputs is every unit-test request, valid and invalid.
func splitInputs() (ins [][]byte, limits []Limits) {
	for _, tc := range validCases {
		ins, limits = append(ins, tc.in), append(limits, tc.limit)
	}
	for _, tc := range strictCases {
		ins, limits = append(ins, strictBytes(tc.in, tc.raw)), append(limits, tc.limits)
	}
	return ins, limits
}

// Feeding buf[:1], buf[:2], ... to one Parser yields ErrIncomplete until the
// head is there, then exactly what parsing the whole buffer yields.
func TestParseSplitAtEveryByte(t *testing.T) {
	ins, limits := splitInputs()
	for i, in := range ins {
		whole := Parser{Limits: limits[i]}
		var wantReq Request
		wantN, wantErr := whole.Parse(in, &wantReq)
		want := ""
		if wantErr == nil {
			want = summary(&wantReq)
		}

		p := Parser{Limits: limits[i]}
		var req Request
		for k := 1; k <= len(in); k++ {
			n, err := p.Parse(in[:k], &req)
			if err == ErrIncomplete {
				if k == len(in) {
					t.Errorf("%q: ErrIncomplete for the whole input", in)
				}
				continue
			}
			if err != wantErr || n != wantN {
				t.Errorf("%q split at %d: (%d, %v), whole buffer gives (%d, %v)", in, k, n, err, wantN, wantErr)
			} else if err == nil && summary(&req) != want {
				t.Errorf("%q split at %d:\n%s\nwhole buffer:\n%s", in, k, summary(&req), want)
			} else if err == nil && k != n {
				t.Errorf("%q: head of %d bytes reported complete only at %d", in, n, k)
			}
			break
		}
	}
}

// A head arriving one byte at a time costs linear work: every byte is looked
// at a bounded number of times (at most four: the searches for LF and for bare
// CR, the validation of its completed field line, and the final parse). Without the remembered scan position the
// same feed is quadratic, which the second half shows the counter detects.
func TestParseByteAtATimeIsLinear(t *testing.T) {
	long := crlf("GET / HTTP/1.1\nHost: a\nCookie: " + strings.Repeat("c", 6000) + "\n\n")
	for _, in := range [][]byte{parsertest.Pico703, parsertest.ChromeWebSocket, long} {
		var p Parser
		var req Request
		for k := 1; k <= len(in); k++ {
			_, err := p.Parse(in[:k], &req)
			if k < len(in) && err != ErrIncomplete || k == len(in) && err != nil {
				t.Fatalf("at %d: %v", k, err)
			}
		}
		if p.examined > 4*len(in) {
			t.Errorf("byte-at-a-time parse of %d bytes examined %d bytes, want <= %d", len(in), p.examined, 4*len(in))
		}

		var forgetful Parser
		for k := 1; k <= len(in); k++ {
			forgetful.Reset() // drop the scan state: every call starts over
			_, _ = forgetful.Parse(in[:k], &req)
		}
		if forgetful.examined < len(in)*len(in)/4 {
			t.Errorf("without scan state examined only %d bytes for %d; the counter does not measure rescans", forgetful.examined, len(in))
		}
	}
}

// A Parser whose caller forgot Reset and passed a different, shorter buffer
// must not trust its stale scan state.
func TestParseStaleStateIgnored(t *testing.T) {
	var p Parser
	var req Request
	if _, err := p.Parse(parsertest.Pico703[:500], &req); err != ErrIncomplete {
		t.Fatal(err)
	}
	in := crlf("GET /x HTTP/1.1\nHost: a\n\n")
	if n, err := p.Parse(in, &req); err != nil || n != len(in) || string(req.Path) != "/x" {
		t.Fatalf("after stale state: n=%d err=%v path=%q", n, err, req.Path)
	}
}

// A broken field line is answered as soon as it ends, while the head is
// still arriving, not only once the empty line comes.
func TestParseIncrementalErrorAtLineEnd(t *testing.T) {
	cases := []struct {
		name string
		in   string
	}{
		{"CTL in value (RFC 9110 §5.5)", "GET / HTTP/1.1\r\nHost: a\r\nX: \x01\r\n"},
		{"whitespace before colon (RFC 9112 §5.1)", "GET / HTTP/1.1\r\nHost: a\r\nX : y\r\n"},
		{"bare CR (RFC 9112 §2.2)", "GET / HTTP/1.1\r\nHost: a\r\nX: y\rz"},
		{"bad request-line (RFC 9112 §3)", "GET  / HTTP/1.1\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			var p Parser
			var req Request
			var err error
			for k := 1; k <= len(in); k++ {
				if _, err = p.Parse(in[:k], &req); err != ErrIncomplete {
					break
				}
			}
			if statusOf(err) != 400 {
				t.Fatalf("byte by byte: err = %v, want 400 before the head ends", err)
			}
		})
	}
}
