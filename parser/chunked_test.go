package parser

import (
	"bytes"
	"strings"
	"testing"
)

// decodeAll runs d over in, handing it at most step bytes per call (0: all
// at once), and returns the body data, the bytes consumed, and the outcome.
func decodeAll(d *ChunkedDecoder, in []byte, step int) (body []byte, used int, done bool, err error) {
	for used < len(in) && !done {
		end := len(in)
		if step > 0 {
			end = min(used+step, len(in))
		}
		chunk := in[used:end]
		for len(chunk) > 0 && !done {
			var n int
			var data []byte
			n, data, done, err = d.Decode(chunk)
			if err != nil {
				return body, used, done, err
			}
			if n > len(chunk) {
				panic("consumed more than given")
			}
			if n == 0 && data == nil && !done {
				panic("no progress on non-empty input")
			}
			body = append(body, data...)
			chunk = chunk[n:]
			used += n
		}
	}
	return body, used, done, err
}

var chunkedValid = []struct {
	name string
	in   string
	body string
}{
	{"single chunk (RFC 9112 §7.1)", "5\r\nhello\r\n0\r\n\r\n", "hello"},
	{"several chunks, hex sizes in both cases (RFC 9112 §7.1)", "3\r\nabc\r\nA\r\n0123456789\r\nb\r\nhello world\r\n0\r\n\r\n", "abc0123456789hello world"},
	{"leading zeros in chunk-size (RFC 9112 §7.1)", "0005\r\nhello\r\n000\r\n\r\n", "hello"},
	{"empty body (RFC 9112 §7.1)", "0\r\n\r\n", ""},
	{"chunk extensions ignored (RFC 9112 §7.1.1)", "5;name\r\nhello\r\n6 ; a = b ;c=\"q;\\\"x\"\r\n world\r\n0;last\r\n\r\n", "hello world"},
	{"trailer fields consumed (RFC 9112 §7.1.2)", "2\r\nhi\r\n0\r\nExpires: never\r\nX-Sum:  abc \r\n\r\n", "hi"},
	{"data holding CR LF bytes (RFC 9112 §7.1)", "4\r\n\r\n\r\n\r\n0\r\n\r\n", "\r\n\r\n"},
}

func TestChunkedValidSplitAtEveryByte(t *testing.T) {
	for _, tc := range chunkedValid {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in + "NEXT") // bytes after the body belong to the next request
			for step := 0; step <= len(in); step++ {
				var d ChunkedDecoder
				body, used, done, err := decodeAll(&d, in, step)
				if err != nil || !done || string(body) != tc.body || used != len(tc.in) {
					t.Fatalf("step %d: body=%q used=%d done=%v err=%v; want body=%q used=%d done", step, body, used, done, err, tc.body, len(tc.in))
				}
				if n, data, done, err := d.Decode(in[used:]); n != 0 || data != nil || !done || err != nil {
					t.Fatalf("after done: Decode = (%d, %q, %v, %v)", n, data, done, err)
				}
			}
		})
	}
}

// Data is handed out as views of the input, never copied.
func TestChunkedZeroCopy(t *testing.T) {
	in := []byte("5\r\nhello\r\n0\r\n\r\n")
	var d ChunkedDecoder
	n, data, done, err := d.Decode(in)
	if err != nil || done || string(data) != "hello" || n != 8 || &data[0] != &in[3] {
		t.Fatalf("Decode = (%d, %q, %v, %v); data must alias in[3:8]", n, data, done, err)
	}
	if allocs := testing.AllocsPerRun(100, func() {
		d.Reset()
		for buf := in; ; {
			n, _, done, err := d.Decode(buf)
			if err != nil {
				t.Fatal(err)
			}
			if done {
				break
			}
			buf = buf[n:]
		}
	}); allocs != 0 {
		t.Errorf("decoding allocates %.1f times", allocs)
	}
}

func TestChunkedStrict(t *testing.T) {
	cases := []struct {
		name   string
		in     string
		limits Limits
		status int
	}{
		{name: "empty chunk-size (RFC 9112 §7.1)", in: "\r\nhello\r\n0\r\n\r\n", status: 400},
		{name: "chunk-size starting with extension (RFC 9112 §7.1)", in: ";x\r\n", status: 400},
		{name: "invalid hex in chunk-size (RFC 9112 §7.1)", in: "5g\r\nhello\r\n", status: 400},
		{name: "chunk-size with sign (RFC 9112 §7.1)", in: "+5\r\nhello\r\n", status: 400},
		{name: "chunk-size 0x prefix (RFC 9112 §7.1)", in: "0x5\r\nhello\r\n", status: 400},
		{name: "chunk-size of 17 hex digits (RFC 9112 §7.1)", in: "00000000000000005\r\nhello\r\n", status: 400},
		{name: "chunk-size overflowing int64 (RFC 9112 §7.1)", in: "8000000000000000\r\n", status: 400},
		{name: "chunk-size above MaxBodyBytes (RFC 9110 §15.5.14)", in: "7fffffffffffffff\r\n", status: 413},
		{name: "chunks adding up above MaxBodyBytes (RFC 9110 §15.5.14)", in: "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", limits: Limits{MaxBodyBytes: 10}, status: 413},
		{name: "a chunk-size that would wrap the running total (RFC 9110 §15.5.14)", in: "1\r\nx\r\n7fffffffffffffff\r\n", status: 413},
		{name: "data not followed by CRLF (RFC 9112 §7.1)", in: "5\r\nhelloX\r\n0\r\n\r\n", status: 400},
		{name: "data followed by CR only (RFC 9112 §7.1)", in: "5\r\nhello\rX0\r\n\r\n", status: 400},
		{name: "data followed by bare LF (RFC 9112 §7.1)", in: "5\r\nhello\n0\r\n\r\n", status: 400},
		{name: "bare LF after chunk-size (RFC 9112 §2.2)", in: "5\nhello\r\n", status: 400},
		{name: "bare CR after chunk-size (RFC 9112 §2.2)", in: "5\rhello\r\n", status: 400},
		{name: "whitespace after chunk-size without extension (RFC 9112 §7.1.1)", in: "5 \r\nhello\r\n", status: 400},
		{name: "extension without name (RFC 9112 §7.1.1)", in: "5;\r\nhello\r\n", status: 400},
		{name: "extension with empty value (RFC 9112 §7.1.1)", in: "5;a=\r\nhello\r\n", status: 400},
		{name: "extension name not a token (RFC 9112 §7.1.1)", in: "5;a@b\r\nhello\r\n", status: 400},
		{name: "extension unterminated quoted-string (RFC 9112 §7.1.1)", in: "5;a=\"x\r\nhello\r\n", status: 400},
		{name: "extension with CTL (RFC 9112 §7.1.1)", in: "5;a=\"\x01\"\r\nhello\r\n", status: 400},
		{name: "extensions beyond MaxChunkExtBytes (RFC 9112 §7.1.1)", in: "5;a=" + strings.Repeat("b", 5000) + "\r\nhello\r\n", status: 400},
		{name: "extensions beyond configured MaxChunkExtBytes (RFC 9112 §7.1.1)", in: "5;abcdefgh\r\nhello\r\n", limits: Limits{MaxChunkExtBytes: 8}, status: 400},
		{name: "trailer obs-fold (RFC 9112 §5.2)", in: "0\r\nA: b\r\n c\r\n\r\n", status: 400},
		{name: "trailer whitespace before colon (RFC 9112 §5.1)", in: "0\r\nA : b\r\n\r\n", status: 400},
		{name: "trailer empty name (RFC 9110 §5.1)", in: "0\r\n: b\r\n\r\n", status: 400},
		{name: "trailer line without colon (RFC 9112 §5)", in: "0\r\nAb\r\n\r\n", status: 400},
		{name: "trailer value CTL (RFC 9110 §5.5)", in: "0\r\nA: \x00\r\n\r\n", status: 400},
		{name: "trailer bare CR (RFC 9112 §2.2)", in: "0\r\nA: b\rc\r\n\r\n", status: 400},
		{name: "final line bare CR (RFC 9112 §2.2)", in: "0\r\n\rX", status: 400},
		{name: "trailer bare LF (RFC 9112 §2.2)", in: "0\r\nA: b\n\r\n", status: 400},
		{name: "trailers beyond MaxTrailerBytes (RFC 9112 §7.1.2)", in: "0\r\n" + strings.Repeat("A: b\r\n", 3000) + "\r\n", status: 431},
		{name: "trailers beyond configured MaxTrailerBytes (RFC 9112 §7.1.2)", in: "0\r\nA: bcdefgh\r\n\r\n", limits: Limits{MaxTrailerBytes: 8}, status: 431},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lim := tc.limits
			for _, step := range []int{0, 1, 3} {
				d := ChunkedDecoder{Limits: &lim}
				_, _, done, err := decodeAll(&d, []byte(tc.in), step)
				if statusOf(err) != tc.status {
					t.Fatalf("step %d: done=%v err=%v, want status %d", step, done, err, tc.status)
				}
				// Errors are sticky: the decoder does not resynchronise.
				if _, _, _, err2 := d.Decode([]byte("0\r\n\r\n")); err2 != err {
					t.Fatalf("after error, Decode returned %v, want %v", err2, err)
				}
			}
		})
	}
}

func TestChunkedBareLFAllowed(t *testing.T) {
	lim := Limits{AllowBareLF: true}
	d := ChunkedDecoder{Limits: &lim}
	body, _, done, err := decodeAll(&d, []byte("5\nhello\n0;x\nA: b\n\n"), 1)
	if err != nil || !done || string(body) != "hello" {
		t.Fatalf("body=%q done=%v err=%v", body, done, err)
	}
}

// Limits are boundaries: exactly at a limit passes.
func TestChunkedLimitBoundaries(t *testing.T) {
	lim := Limits{MaxBodyBytes: 5, MaxChunkExtBytes: 4, MaxTrailerBytes: 8}
	d := ChunkedDecoder{Limits: &lim}
	// ";a=b" is 4 bytes of extension; "A: b\r\n\r\n" is 8 bytes of trailer.
	body, _, done, err := decodeAll(&d, []byte("5;a=b\r\nhello\r\n0\r\nA: b\r\n\r\n"), 0)
	if err != nil || !done || !bytes.Equal(body, []byte("hello")) {
		t.Fatalf("body=%q done=%v err=%v", body, done, err)
	}
}

func TestChunkedResetReuses(t *testing.T) {
	lim := Limits{MaxBodyBytes: 8}
	d := ChunkedDecoder{Limits: &lim}
	for i := 0; i < 3; i++ { // 5 bytes each: only within one body do they add up
		d.Reset()
		if _, _, done, err := decodeAll(&d, []byte("5\r\nhello\r\n0\r\n\r\n"), 0); !done || err != nil {
			t.Fatalf("body %d: done=%v err=%v", i, done, err)
		}
		if !d.Done() || d.Limits != &lim {
			t.Fatal("Reset lost Limits or Done is wrong")
		}
	}
}
