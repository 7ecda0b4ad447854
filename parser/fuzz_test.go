package parser

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/switchyard-dev/switchyard/parser/parsertest"
)

// fuzzLimits derives limits from a fuzzed byte, so small limits and the
// lenient bare-LF mode get explored too.
func fuzzLimits(mode uint8) Limits {
	var l Limits
	if mode&1 != 0 {
		l.AllowBareLF = true
	}
	if mode&2 != 0 {
		l.MaxRequestLine = 32
		l.MaxHeaderBytes = 128
		l.MaxHeaders = 4
		l.MaxBodyBytes = 100
	}
	return l
}

var validStatus = map[int]bool{400: true, 413: true, 414: true, 431: true, 501: true, 505: true}

func FuzzParse(f *testing.F) {
	for _, tc := range validCases {
		f.Add(tc.in, uint8(0))
		f.Add(tc.in, uint8(3))
	}
	for _, tc := range strictCases {
		f.Add(strictBytes(tc.in, tc.raw), uint8(0))
	}
	f.Add([]byte(Preface), uint8(0))
	f.Add(append([]byte(Preface[:20]), "XX"...), uint8(0))
	f.Add(parsertest.CurlH2Upgrade[:50], uint8(1))

	f.Fuzz(func(t *testing.T, in []byte, mode uint8) {
		lim := fuzzLimits(mode)
		p := Parser{Limits: lim}
		var req Request
		n, err := p.Parse(in, &req)
		switch {
		case err == nil:
			if n <= 0 || n > len(in) || n != req.HeadLen {
				t.Fatalf("n = %d, HeadLen = %d, len = %d", n, req.HeadLen, len(in))
			}
		case err == ErrIncomplete || err == ErrPreface:
			if n != 0 {
				t.Fatalf("n = %d with %v", n, err)
			}
		default:
			if !validStatus[statusOf(err)] || n != 0 {
				t.Fatalf("unexpected error %v (n = %d)", err, n)
			}
		}

		// Incremental arrival agrees with the whole buffer.
		for _, k := range []int{len(in) / 2, len(in) - 1} {
			if k <= 0 {
				continue
			}
			q := Parser{Limits: lim}
			var r Request
			n2, err2 := q.Parse(in[:k], &r)
			if err2 == ErrIncomplete {
				n2, err2 = q.Parse(in, &r)
			}
			if err2 == ErrIncomplete && statusOf(err) > 0 {
				// Documented: a rule broken inside a line that has not
				// ended is answered when the line ends or a limit is hit.
				continue
			}
			if err2 != err || n2 != n {
				t.Fatalf("split at %d: (%d, %v), whole (%d, %v)", k, n2, err2, n, err)
			}
			if err == nil && summary(&r) != summary(&req) {
				t.Fatalf("split at %d:\n%s\nwhole:\n%s", k, summary(&r), summary(&req))
			}
		}

		if err != nil {
			return
		}
		if err := viewsInside(in[:n], &req); err != nil {
			t.Fatal(err)
		}
		if err := wellFormed(&req); err != nil {
			t.Fatalf("accepted %q: %v", in[:n], err)
		}
		// Writing the request back and parsing it again gives the same request.
		out := serialize(&req)
		rlim := Limits{MaxHeaders: lim.MaxHeaders, MaxBodyBytes: lim.MaxBodyBytes, MaxRequestLine: len(out), MaxHeaderBytes: len(out)}
		rp := Parser{Limits: rlim}
		var again Request
		if _, err := rp.Parse(out, &again); err != nil {
			t.Fatalf("re-serialised request %q rejected: %v (original %q)", out, err, in[:n])
		}
		if summary(&again) != summary(&req) {
			t.Fatalf("round trip differs:\n%s\nvs\n%s", summary(&again), summary(&req))
		}
	})
}

func FuzzChunked(f *testing.F) {
	for _, tc := range chunkedValid {
		f.Add([]byte(tc.in), uint8(0), uint8(1))
	}
	for _, s := range []string{"5\r\nhelloX\r\n", "00000000000000005\r\n", "5;a=\"x\\\"\"\r\nhello\r\n0\r\nA: b\r\n\r\n", "5\nhello\n0\n\n"} {
		f.Add([]byte(s), uint8(1), uint8(3))
	}
	f.Fuzz(func(t *testing.T, in []byte, mode, step uint8) {
		lim := fuzzLimits(mode)
		whole := ChunkedDecoder{Limits: &lim}
		var body []byte
		used, done := 0, false
		var err error
		for used < len(in) && !done && err == nil {
			rest := in[used:]
			var n int
			var data []byte
			n, data, done, err = whole.Decode(rest)
			if n < 0 || n > len(rest) {
				t.Fatalf("consumed %d of %d", n, len(rest))
			}
			if !inside(rest[:n], data) {
				t.Fatalf("data %q not inside the consumed input", data)
			}
			if n == 0 && !done && err == nil {
				t.Fatal("no progress")
			}
			body = append(body, data...)
			used += n
		}
		// Split into pieces of `step` bytes, the outcome is the same.
		split := ChunkedDecoder{Limits: &lim}
		body2, used2, done2, err2 := decodeAll(&split, in, int(step%16)+1)
		if err2 != err || done2 != done || !bytes.Equal(body2, body) || err == nil && used2 != used {
			t.Fatalf("split by %d: (%q, %d, %v, %v), whole (%q, %d, %v, %v)", step%16+1, body2, used2, done2, err2, body, used, done, err)
		}
		if err != nil && !validStatus[statusOf(err)] {
			t.Fatalf("unexpected error %v", err)
		}
	})
}

// wellFormed checks, independently of how the parser got there, that what it
// accepted obeys the grammar: token method and names, target characters,
// values without CTLs (but HTAB) and without surrounding OWS.
func wellFormed(req *Request) error {
	if len(req.Method) == 0 || len(req.Target) == 0 {
		return fmt.Errorf("empty method or target")
	}
	for _, c := range req.Method {
		if !tcharTable[c] {
			return fmt.Errorf("method %q", req.Method)
		}
	}
	for _, c := range req.Target {
		if !targetTable[c] {
			return fmt.Errorf("target %q", req.Target)
		}
	}
	for _, h := range req.Headers {
		if len(h.Name) == 0 || h.ID != headerID(h.Name) {
			return fmt.Errorf("header name %q id %v", h.Name, h.ID)
		}
		for _, c := range h.Name {
			if !tcharTable[c] {
				return fmt.Errorf("header name %q", h.Name)
			}
		}
		for _, c := range h.Value {
			if !fieldValueTable[c] {
				return fmt.Errorf("header value %q", h.Value)
			}
		}
		if len(h.Value) > 0 && (IsOWS(h.Value[0]) || IsOWS(h.Value[len(h.Value)-1])) {
			return fmt.Errorf("header value %q not trimmed", h.Value)
		}
	}
	return nil
}
