package h2

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/net/http2/hpack"
)

// encodeBlock HPACK-encodes fields (name, value, name, value, ...) with a
// fresh hpack.Encoder, as a peer would for its first block.
func encodeBlock(kv ...string) []byte {
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	for i := 0; i+1 < len(kv); i += 2 {
		_ = enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	return buf.Bytes()
}

var getReq = []string{":method", "GET", ":scheme", "https", ":authority", "example.com", ":path", "/index.html"}

func req(extra ...string) []string { return append(append([]string(nil), getReq...), extra...) }

func with(kv []string, name, value string) []string {
	out := append([]string(nil), kv...)
	for i := 0; i < len(out); i += 2 {
		if out[i] == name {
			out[i+1] = value
		}
	}
	return out
}

func without(kv []string, name string) []string {
	var out []string
	for i := 0; i < len(kv); i += 2 {
		if kv[i] != name {
			out = append(out, kv[i], kv[i+1])
		}
	}
	return out
}

type headerCase struct {
	name      string
	fields    []string
	trailers  bool
	endStream bool
	extended  bool // AllowExtendedConnect
	malformed bool
	check     func(t *testing.T, h *RequestHead)
}

var headerCases = []headerCase{
	{name: "8.3.1 valid GET", fields: req("accept", "*/*", "cookie", "a=1", "cookie", "b=2"), endStream: true,
		check: func(t *testing.T, h *RequestHead) {
			eq(t, h.Method, "GET")
			eq(t, h.Scheme, "https")
			eq(t, h.Authority, "example.com")
			eq(t, h.Path, "/index.html")
			eq(t, h.ContentLength, int64(-1))
			eq(t, len(h.Fields), 3)
			eq(t, h.Fields[0], hpack.HeaderField{Name: "accept", Value: "*/*"})
		}},
	{name: "8.3.1 :authority may be absent", fields: without(getReq, ":authority"),
		check: func(t *testing.T, h *RequestHead) { eq(t, h.Authority, "") }},
	{name: "8.1.1 content-length is exposed", fields: req("content-length", "42"),
		check: func(t *testing.T, h *RequestHead) { eq(t, h.ContentLength, int64(42)) }},
	{name: "RFC 9110 8.6 repeated identical content-length is accepted", fields: req("content-length", "5", "content-length", "5"),
		check: func(t *testing.T, h *RequestHead) { eq(t, h.ContentLength, int64(5)) }},
	{name: "8.1.1 content-length 0 with END_STREAM is fine", fields: req("content-length", "0"), endStream: true},
	{name: "8.1.1 content-length > 0 on a request ended by HEADERS is malformed", fields: req("content-length", "1"), endStream: true, malformed: true},
	{name: "RFC 9110 8.6 conflicting content-length is malformed", fields: req("content-length", "5", "content-length", "6"), malformed: true},
	{name: "RFC 9110 8.6 non-numeric content-length is malformed", fields: req("content-length", "5a"), malformed: true},
	{name: "RFC 9110 8.6 negative content-length is malformed", fields: req("content-length", "-1"), malformed: true},
	{name: "RFC 9110 8.6 overflowing content-length is malformed", fields: req("content-length", "99999999999999999999"), malformed: true},
	{name: "8.2.1 uppercase field name is malformed", fields: req("X-Test", "ok"), malformed: true},
	{name: "8.2.1 space in field name is malformed", fields: req("x test", "ok"), malformed: true},
	{name: "8.2.1 colon inside a regular field name is malformed", fields: req("x:y", "ok"), malformed: true},
	{name: "8.2.1 empty field name is malformed", fields: req("", "ok"), malformed: true},
	{name: "8.2.1 NUL in a value is malformed", fields: req("x", "a\x00b"), malformed: true},
	{name: "8.2.1 CR in a value is malformed", fields: req("x", "a\rb"), malformed: true},
	{name: "8.2.1 LF in a value is malformed", fields: req("x", "a\nb"), malformed: true},
	{name: "8.2.1 leading space in a value is malformed", fields: req("x", " a"), malformed: true},
	{name: "8.2.1 trailing tab in a value is malformed", fields: req("x", "a\t"), malformed: true},
	{name: "8.2.1 inner whitespace and empty values are fine", fields: req("x", "a b\tc", "y", "")},
	{name: "8.2.1 LF in a pseudo-header value is malformed", fields: with(getReq, ":path", "/a\nb"), malformed: true},
	{name: "8.2.2 connection is malformed", fields: req("connection", "close"), malformed: true},
	{name: "8.2.2 keep-alive is malformed", fields: req("keep-alive", "5"), malformed: true},
	{name: "8.2.2 proxy-connection is malformed", fields: req("proxy-connection", "x"), malformed: true},
	{name: "8.2.2 transfer-encoding is malformed", fields: req("transfer-encoding", "chunked"), malformed: true},
	{name: "8.2.2 upgrade is malformed", fields: req("upgrade", "websocket"), malformed: true},
	{name: "8.2.2 te: trailers is allowed", fields: req("te", "trailers")},
	{name: "8.2.2 te compares case-insensitively", fields: req("te", "Trailers")},
	{name: "8.2.2 te other than trailers is malformed", fields: req("te", "gzip"), malformed: true},
	{name: "8.3 pseudo-header after a regular field is malformed",
		fields: append(without(getReq, ":path"), "accept", "*/*", ":path", "/"), malformed: true},
	{name: "8.3.1 duplicate :method is malformed", fields: []string{":method", "GET", ":method", "POST", ":scheme", "https", ":path", "/"}, malformed: true},
	{name: "8.3.1 duplicate :path is malformed", fields: append(without(getReq, "accept"), ":path", "/b"), malformed: true},
	{name: "8.3.1 duplicate :scheme is malformed", fields: append(getReq[:4:4], ":scheme", "http", ":path", "/"), malformed: true},
	{name: "8.3.1 duplicate :authority is malformed", fields: append(without(getReq, ":path"), ":authority", "b", ":path", "/"), malformed: true},
	{name: "8.3 unknown pseudo-header is malformed", fields: append(without(getReq, ":path"), ":foo", "bar", ":path", "/"), malformed: true},
	{name: "8.3 response pseudo-header :status in a request is malformed", fields: append(without(getReq, ":path"), ":status", "200", ":path", "/"), malformed: true},
	{name: "8.3.1 missing :method is malformed", fields: without(getReq, ":method"), malformed: true},
	{name: "8.3.1 missing :scheme is malformed", fields: without(getReq, ":scheme"), malformed: true},
	{name: "8.3.1 missing :path is malformed", fields: without(getReq, ":path"), malformed: true},
	{name: "8.3.1 empty :path is malformed", fields: with(getReq, ":path", ""), malformed: true},
	{name: "8.3.1 relative :path for https is malformed", fields: with(getReq, ":path", "index.html"), malformed: true},
	{name: "8.3.1 :authority with userinfo is malformed for https", fields: with(getReq, ":authority", "user@example.com"), malformed: true},
	{name: "8.3.1 host differing from :authority is malformed", fields: req("host", "other.example"), malformed: true},
	{name: "8.3.1 a second host differing from :authority is malformed", fields: req("host", "example.com", "host", "b"), malformed: true},
	{name: "8.3.1 host equal to :authority is fine", fields: req("host", "example.com")},
	{name: "8.3.1 host and :authority compare case-insensitively", fields: req("host", "Example.COM")},
	{name: "8.3.1 host alone is fine", fields: append(without(getReq, ":authority"), "host", "b")},
	{name: "8.3.1 host differing from a CONNECT's :authority is malformed", fields: []string{":method", "CONNECT", ":authority", "a:443", "host", "b:443"}, malformed: true},
	{name: "8.3.1 '*' for OPTIONS is allowed", fields: with(with(getReq, ":path", "*"), ":method", "OPTIONS")},
	{name: "8.3.1 '*' for GET is malformed", fields: with(getReq, ":path", "*"), malformed: true},
	{name: "8.3.1 other schemes only need a non-empty :path", fields: with(with(getReq, ":scheme", "foo"), ":path", "x")},
	{name: "RFC 9110 9.1 :method must be a token", fields: with(getReq, ":method", "GE T"), malformed: true},
	{name: "8.5 CONNECT with :authority only", fields: []string{":method", "CONNECT", ":authority", "example.com:443"},
		check: func(t *testing.T, h *RequestHead) { eq(t, h.Method, "CONNECT"); eq(t, h.Path, "") }},
	{name: "8.5 CONNECT with :path is malformed", fields: []string{":method", "CONNECT", ":authority", "a:443", ":path", "/"}, malformed: true},
	{name: "8.5 CONNECT with :scheme is malformed", fields: []string{":method", "CONNECT", ":authority", "a:443", ":scheme", "https"}, malformed: true},
	{name: "8.5 CONNECT without :authority is malformed", fields: []string{":method", "CONNECT"}, malformed: true},
	{name: "RFC 8441 4 :protocol is unknown unless enabled", fields: with(req(":protocol", "websocket"), ":method", "CONNECT"), malformed: true},
	{name: "RFC 8441 4 extended CONNECT", extended: true,
		fields: []string{":method", "CONNECT", ":protocol", "websocket", ":scheme", "https", ":path", "/chat", ":authority", "a"},
		check:  func(t *testing.T, h *RequestHead) { eq(t, h.Protocol, "websocket"); eq(t, h.Path, "/chat") }},
	{name: "RFC 8441 4 :protocol with GET is malformed", extended: true, fields: append(without(getReq, ":path"), ":protocol", "websocket", ":path", "/"), malformed: true},
	{name: "RFC 8441 4 extended CONNECT without :path is malformed", extended: true,
		fields: []string{":method", "CONNECT", ":protocol", "websocket", ":scheme", "https", ":authority", "a"}, malformed: true},
	{name: "8.1 trailers", trailers: true, endStream: true, fields: []string{"grpc-status", "0", "x-sum", "abc"},
		check: func(t *testing.T, h *RequestHead) {
			eq(t, len(h.Fields), 2)
			eq(t, h.Fields[1].Value, "abc")
			eq(t, h.Method, "")
		}},
	{name: "8.1 trailers without END_STREAM are malformed", trailers: true, fields: []string{"x", "1"}, malformed: true},
	{name: "8.1 pseudo-header in trailers is malformed", trailers: true, endStream: true, fields: []string{":path", "/"}, malformed: true},
	{name: "8.2.1 uppercase name in trailers is malformed", trailers: true, endStream: true, fields: []string{"X", "1"}, malformed: true},
	{name: "8.2.2 connection-specific field in trailers is malformed", trailers: true, endStream: true, fields: []string{"connection", "x"}, malformed: true},
}

func TestHeaderDecoderValidation(t *testing.T) {
	for _, tc := range headerCases {
		t.Run(tc.name, func(t *testing.T) {
			d := NewHeaderDecoder(4096, 0)
			d.AllowExtendedConnect = tc.extended
			d.Begin(7, tc.trailers, tc.endStream)
			if err := d.Write(encodeBlock(tc.fields...)); err != nil {
				t.Fatal(err)
			}
			h, err := d.End()
			if tc.malformed {
				// §8.1.1: malformed requests are stream errors of type PROTOCOL_ERROR.
				checkErr(t, err, streamErrKind, ErrCodeProtocol, 7)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.check != nil {
				tc.check(t, h)
			}
		})
	}
}

// HPACK decoding errors are connection errors of type COMPRESSION_ERROR
// (RFC 9113 §4.3), as h2spec's hpack group checks.
func TestHeaderDecoderCompressionErrors(t *testing.T) {
	valid := encodeBlock(getReq...)
	endsInLiteral := encodeBlock(req("x-a", "value")...)
	tests := []struct {
		name  string
		block []byte
		kind  errKind
		code  ErrCode
	}{
		{"RFC 7541 6.1 index 0 is a decoding error", []byte{0x80}, connErrKind, ErrCodeCompression},
		{"RFC 7541 2.3.3 index beyond both tables is a decoding error", []byte{0xff, 0x7f}, connErrKind, ErrCodeCompression},
		{"RFC 7541 2.3.3 literal with a name index beyond the tables", []byte{0x0f, 0x7f, 0x01, 'x'}, connErrKind, ErrCodeCompression},
		{"RFC 7541 6.3 size update above SETTINGS_HEADER_TABLE_SIZE", append([]byte{0x3f, 0xe2, 0x1f}, valid...), connErrKind, ErrCodeCompression},
		{"RFC 7541 6.3 size update up to the limit at the start is fine", append([]byte{0x3f, 0xe1, 0x1f}, valid...), noErr, 0},
		{"RFC 7541 4.2 size updates at the start are fine", append([]byte{0x20, 0x3f, 0xe1, 0x1f}, valid...), noErr, 0},
		{"RFC 7541 4.2 size update after fields (table in use)", append(append([]byte(nil), valid...), 0x21), connErrKind, ErrCodeCompression},
		{"RFC 7541 4.2 size update after fields (table empty)", []byte{0x82, 0x87, 0x84, 0x21, 0x41, 0x01, 'a'}, connErrKind, ErrCodeCompression},
		{"RFC 7541 5.2 Huffman padding longer than 7 bits", append(append([]byte(nil), valid...), "\x00\x85\xf2\xb2\x4a\x84\xff\x84\x49\x50\x9f\xff"...), connErrKind, ErrCodeCompression},
		{"RFC 7541 5.2 Huffman padding not EOS prefix (zeros)", append(append([]byte(nil), valid...), "\x00\x85\xf2\xb2\x4a\x84\xff\x83\x49\x50\x90"...), connErrKind, ErrCodeCompression},
		{"RFC 7541 5.2 Huffman string containing EOS", append(append([]byte(nil), valid...), "\x00\x85\xf2\xb2\x4a\x87\xff\xff\xff\xfd\x25\x42\x7f"...), connErrKind, ErrCodeCompression},
		{"RFC 7541 5.1 integer overflow", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, connErrKind, ErrCodeCompression},
		{"RFC 9113 4.3 block ending inside a string is a decoding error", endsInLiteral[:len(endsInLiteral)-1], connErrKind, ErrCodeCompression},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewHeaderDecoder(4096, 0)
			d.Begin(1, false, true)
			err := d.Write(tc.block)
			if err == nil {
				_, err = d.End()
			}
			checkErr(t, err, tc.kind, tc.code, 0)
		})
	}
}

// Documents why blockScanner exists: hpack.Decoder alone accepts a size
// update after a field while its dynamic table is empty. If this starts
// failing, hpack fixed it and the scanner may go.
func TestHPACKAloneMissesLateSizeUpdate(t *testing.T) {
	dec := hpack.NewDecoder(4096, nil)
	if _, err := dec.DecodeFull([]byte{0x82, 0x21}); err != nil {
		t.Skipf("hpack now rejects it (%v): blockScanner is redundant", err)
	}
	d := NewHeaderDecoder(4096, 0)
	d.Begin(1, false, true)
	checkErr(t, d.Write([]byte{0x82, 0x21}), connErrKind, ErrCodeCompression, 0)
}

// RFC 9113 §4.3: a block may be split across frames at any octet; the
// result is the same, including the size-update check's state.
func TestHeaderDecoderFragmentsAtEveryByte(t *testing.T) {
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	enc.SetMaxDynamicTableSizeLimit(4096)
	enc.SetMaxDynamicTableSize(2048) // makes the block start with a size update
	for i := 0; i+1 < len(getReq); i += 2 {
		_ = enc.WriteField(hpack.HeaderField{Name: getReq[i], Value: getReq[i+1]})
	}
	_ = enc.WriteField(hpack.HeaderField{Name: "x-long", Value: strings.Repeat("v", 300)}) // 2-octet length
	_ = enc.WriteField(hpack.HeaderField{Name: "x-secret", Value: "s", Sensitive: true})
	block := buf.Bytes()
	if block[0]&0xe0 != 0x20 {
		t.Fatalf("block does not start with a size update: % x", block[:4])
	}
	for size := 1; size <= len(block); size++ {
		d := NewHeaderDecoder(4096, 0)
		d.Begin(1, false, true)
		for off := 0; off < len(block); off += size {
			if err := d.Write(block[off:min(off+size, len(block))]); err != nil {
				t.Fatalf("fragment size %d at %d: %v", size, off, err)
			}
		}
		h, err := d.End()
		if err != nil {
			t.Fatalf("fragment size %d: %v", size, err)
		}
		eq(t, len(h.Fields), 2)
		eq(t, h.Fields[0].Value, strings.Repeat("v", 300))
		eq(t, h.Fields[1].Name, "x-secret")
	}
}

// RFC 9113 §6.5.2, §10.5.1: a header list over the limit is refused for
// its stream only, and HPACK state stays in step for the next block.
func TestHeaderDecoderListTooLarge(t *testing.T) {
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	fields := req("x-big", strings.Repeat("a", 200), "x-next", "indexed")
	for i := 0; i < len(fields); i += 2 {
		_ = enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	first := append([]byte(nil), buf.Bytes()...)
	buf.Reset()
	// The second block refers to entries the first one added.
	for i := 0; i < len(fields); i += 2 {
		_ = enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	second := buf.Bytes()
	if len(second) >= len(fields)/2+4 {
		t.Fatalf("second block is not indexed: %d octets", len(second))
	}

	d := NewHeaderDecoder(4096, 200) // the 200-octet value alone exceeds it
	d.Begin(1, false, true)
	if err := d.Write(first); err != nil {
		t.Fatal(err)
	}
	_, err := d.End()
	if e, ok := err.(HeaderListTooLargeError); !ok || e.StreamID != 1 {
		t.Fatalf("got %v, want HeaderListTooLargeError on stream 1", err)
	}

	d2 := NewHeaderDecoder(4096, 1000)
	for _, b := range [][]byte{first, second} {
		d2.Begin(3, false, true)
		if err := d2.Write(b); err != nil {
			t.Fatal(err)
		}
		h, err := d2.End()
		if err != nil {
			t.Fatal(err)
		}
		eq(t, h.Fields[1].Value, "indexed")
	}
	// Same second block after a too-large first block: still in sync.
	d.Begin(3, false, true)
	if err := d.Write(second); err != nil {
		t.Fatal(err)
	}
	if _, err := d.End(); err == nil {
		t.Fatal("second block is as large and must be refused too")
	}
	d.Begin(5, false, true)
	if err := d.Write([]byte{0xbe}); err != nil { // dynamic index 62: newest entry, x-next: indexed
		t.Fatal(err)
	}
	d.End() // malformed (no pseudo-headers): only the decoded field matters here
	eq(t, d.fields[0].Value, "indexed")
}

// A block vastly longer than the list limit (e.g. an endless CONTINUATION
// stream) ends the connection instead of consuming CPU forever.
func TestHeaderDecoderEndlessBlock(t *testing.T) {
	d := NewHeaderDecoder(4096, 100)
	d.Begin(1, false, false)
	frag := bytes.Repeat([]byte{0x82}, 100) // valid, tiny fields, dropped once over the limit
	var err error
	for i := 0; i < 1000 && err == nil; i++ {
		err = d.Write(frag)
	}
	checkErr(t, err, connErrKind, ErrCodeEnhanceYourCalm, 0)
}

// One HeaderDecoder serves a connection. A repeated request from a peer
// that indexes its fields decodes to table entries whose strings hpack
// shares, so the whole path (decode, validate, RequestHead) allocates
// nothing.
func TestHeaderDecoderRepeatedBlockAllocs(t *testing.T) {
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	fields := req("accept", "*/*", "user-agent", "bench/1.0")
	encode := func() []byte {
		buf.Reset()
		for i := 0; i < len(fields); i += 2 {
			_ = enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
		}
		return append([]byte(nil), buf.Bytes()...)
	}
	first, repeat := encode(), encode()
	d := NewHeaderDecoder(4096, 0)
	run := func(block []byte) {
		d.Begin(1, false, true)
		if err := d.Write(block); err != nil {
			t.Fatal(err)
		}
		h, err := d.End()
		if err != nil {
			t.Fatal(err)
		}
		if h.Path != "/index.html" || len(h.Fields) != 2 {
			t.Fatalf("decoded %+v", h)
		}
	}
	run(first)
	if allocs := testing.AllocsPerRun(100, func() { run(repeat) }); allocs != 0 {
		t.Fatalf("%v allocs per repeated block, want 0", allocs)
	}
}

// A single string longer than the whole list limit is refused by hpack
// before it is buffered; decoding stops, so the connection must end.
func TestHeaderDecoderStringLongerThanLimit(t *testing.T) {
	d := NewHeaderDecoder(4096, 100)
	d.Begin(1, false, true)
	err := d.Write(encodeBlock(req("x-big", strings.Repeat("a", 101))...))
	checkErr(t, err, connErrKind, ErrCodeCompression, 0)
}
