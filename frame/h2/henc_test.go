package h2

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/http2/hpack"
)

func decodeResponse(t *testing.T, dec *hpack.Decoder, block []byte) []hpack.HeaderField {
	t.Helper()
	fs, err := dec.DecodeFull(block)
	if err != nil {
		t.Fatalf("peer cannot decode block % x: %v", block, err)
	}
	return fs
}

// RFC 9113 §8.3.2: a response block starts with :status; the peer's
// decoder (sharing the connection's HPACK context) reads back each block.
func TestHeaderEncoderRoundTrip(t *testing.T) {
	e := NewHeaderEncoder()
	peer := hpack.NewDecoder(4096, nil)
	for i, status := range []int{200, 201, 404, 201, 599} {
		e.Reset()
		e.WriteStatus(status)
		e.WriteField("content-type", "text/plain")
		e.WriteFieldUnindexed("content-length", "12")
		fs := decodeResponse(t, peer, e.Block())
		want := []hpack.HeaderField{
			{Name: ":status", Value: statusText(status)},
			{Name: "content-type", Value: "text/plain"},
			{Name: "content-length", Value: "12", Sensitive: true},
		}
		if len(fs) != len(want) {
			t.Fatalf("block %d: %v", i, fs)
		}
		for j := range want {
			eq(t, fs[j], want[j])
		}
	}
}

// RFC 7541 §6.2.3: the unindexed form never enters the dynamic table, so
// a volatile value does not evict the stable ones.
func TestHeaderEncoderUnindexedLeavesTableAlone(t *testing.T) {
	e := NewHeaderEncoder()
	e.WriteFieldUnindexed("date", "Sun, 22 Nov 2026 04:00:00 GMT")
	if b := e.Block(); b[0]&0xf0 != 0x10 {
		t.Fatalf("first octet %#x is not a never-indexed literal", b[0])
	}
	e.Reset()
	e.WriteFieldUnindexed("date", "Sun, 22 Nov 2026 04:00:00 GMT")
	if b := e.Block(); b[0]&0x80 != 0 {
		t.Fatal("unindexed field was found in the dynamic table")
	}
}

func TestHeaderEncoderAppendHeaders(t *testing.T) {
	e := NewHeaderEncoder()
	e.WriteStatus(204)
	out := e.AppendHeaders(nil, 3, true, 0)
	f, n, err := ReadFrame(out, 0)
	if err != nil || n != len(out) {
		t.Fatal(n, err)
	}
	eq(t, f.EndStream(), true)
	eq(t, f.EndHeaders(), true)
	eq(t, string(f.HeaderBlockFragment()), "\x89") // :status 204 is static index 9
}

// Repeated responses hit the tables: encoding allocates nothing.
func TestHeaderEncoderRepeatedAllocs(t *testing.T) {
	e := NewHeaderEncoder()
	dst := make([]byte, 0, 256)
	resp := func() {
		e.Reset()
		e.WriteStatus(201)
		e.WriteField("content-type", "application/json")
		e.WriteField("server", "switchyard")
		e.WriteFieldUnindexed("content-length", "1234")
		dst = e.AppendHeaders(dst[:0], 1, false, 0)
	}
	resp()
	if n := testing.AllocsPerRun(100, resp); n != 0 {
		t.Fatalf("%v allocs per repeated response, want 0", n)
	}
}

// RFC 7541 C.6: the response examples with Huffman coding and a 256-octet table, byte
// for byte, with the table's size after each block (evictions included). One difference:
// C.6.2 Huffman-codes "307" (3 octets either way, 0x83640eff); this encoder, like
// hpack.Encoder, codes a string only when that makes it shorter, so it sends 0x03333037.
// And a name-only match in the static table is its last entry with the name, as in
// hpack.Encoder: :status is 14 (0x4e), not 8 as in the examples (0x48).
func TestHeaderEncoderRFC7541ResponseExamples(t *testing.T) {
	e := &HeaderEncoder{maxSize: 256}
	for _, tc := range []struct {
		fields []string
		want   string
		size   uint32
	}{
		{[]string{":status", "302", "cache-control", "private", "date", "Mon, 21 Oct 2013 20:13:21 GMT", "location", "https://www.example.com"},
			"4e8264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3", 222},
		{[]string{":status", "307", "cache-control", "private", "date", "Mon, 21 Oct 2013 20:13:21 GMT", "location", "https://www.example.com"},
			"4e03333037c1c0bf", 222},
		{[]string{":status", "200", "cache-control", "private", "date", "Mon, 21 Oct 2013 20:13:22 GMT", "location", "https://www.example.com",
			"content-encoding", "gzip", "set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"},
			"88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007", 215},
	} {
		e.Reset()
		for i := 0; i < len(tc.fields); i += 2 {
			e.WriteField(tc.fields[i], tc.fields[i+1])
		}
		if got := hex.EncodeToString(e.Block()); got != tc.want {
			t.Fatalf("block\n got %s\nwant %s", got, tc.want)
		}
		eq(t, e.size, tc.size)
	}
}

// The encoder makes hpack.Encoder's choices, so for the same fields (names lowercase)
// its blocks are x/net's byte for byte, and x/net's decoder
// reads back every field, whatever the mix of names, values, never-indexed fields, values
// too large for the table and evictions.
func TestHeaderEncoderMatchesXNet(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		ops := randomOps(rng, 1+rng.IntN(60))
		encodeAndCompare(t, ops, fmt.Sprintf("round %d", round), false)
		encodeAndCompare(t, ops, fmt.Sprintf("round %d with volatile fields", round), true)
	}
}

// Fields whose hashes are equal (same name, same length, same first and last eight
// bytes) share the slot that remembers the newest entry of each: each is found by its
// bytes, at its own index, as x/net finds it.
func TestHeaderEncoderFieldsWithEqualHashes(t *testing.T) {
	a, b := "12345678-a-87654321", "12345678-b-87654321"
	if hpackFieldHash(7, []byte(a)) != hpackFieldHash(7, []byte(b)) {
		t.Fatal("the test's values should hash alike")
	}
	ops := []encOp{{name: "x-id", value: a}, {name: "x-id", value: b, end: true},
		{name: "x-id", value: a}, {name: "x-id", value: b}, {name: "x-id", value: a, end: true}}
	encodeAndCompare(t, ops, "equal hashes", false)
}

// RFC 7541 §6.2.2: a volatile field is a literal without indexing, named by its static
// index where there is one; it adds nothing to the table and allocates nothing, whatever
// its value. One the table holds in full is still sent as an index.
func TestHeaderEncoderVolatileField(t *testing.T) {
	e := NewHeaderEncoder()
	e.WriteVolatileFieldBytes([]byte("Content-Length"), []byte("12"))
	if b := e.Block(); !bytes.Equal(b, []byte{0x0f, 0x0d, 0x02, '1', '2'}) {
		t.Fatalf("block % x: want a literal without indexing of static name 28", b)
	}
	e.Reset()
	e.WriteVolatileFieldBytes([]byte("x-request-id"), []byte("a1"))
	if b := e.Block(); b[0] != 0x00 || e.n != 0 {
		t.Fatalf("block % x, %d entries: want a literal with its name, not indexed", b, e.n)
	}
	scratch := make([]byte, 0, 20)
	length := 0
	if n := testing.AllocsPerRun(100, func() {
		length++
		e.Reset()
		e.WriteVolatileFieldBytes([]byte("content-length"), strconv.AppendInt(scratch[:0], int64(length), 10))
	}); n != 0 || e.n != 0 {
		t.Fatalf("%v allocs per block and %d entries, want none", n, e.n)
	}
	e.Reset()
	e.WriteFieldBytes([]byte("content-length"), []byte("99"))
	e.Reset()
	e.WriteVolatileFieldBytes([]byte("content-length"), []byte("99"))
	if b := e.Block(); len(b) != 1 || b[0]&0x80 == 0 {
		t.Fatalf("block % x: want the index of the entry written before", b)
	}
}

// FuzzHeaderEncoder: ops made from the input encode to blocks that x/net's decoder reads
// back as the fields written (names lowercased), byte for byte what hpack.Encoder writes.
func FuzzHeaderEncoder(f *testing.F) {
	f.Add([]byte("\x00\x01\x02\x03\x10\x21\x32\x43\xff\x05"))
	f.Add([]byte("\xf0\x00\x01\xf1\x02\x03\xf2\x04"))
	f.Fuzz(func(t *testing.T, in []byte) {
		// 64 ops reach every table state the sizes allow; more only slow each run down
		// (and the fuzzer's minimizing with it).
		var ops []encOp
		for _, b := range in[:min(len(in), 64)] {
			ops = append(ops, opFromByte(b))
		}
		encodeAndCompare(t, ops, "fuzz", false)
		encodeAndCompare(t, ops, "fuzz with volatile fields", true)
	})
}

// encOp is a field to write (never-indexed, volatile, or indexed) or, with size set, a
// new peer table size; end closes the block.
type encOp struct {
	name, value          string
	never, volatile, end bool
	size                 *uint32
}

var (
	encNames  = []string{":status", "content-type", "date", "server", "x-trace", "X-Mixed-Case", "set-cookie", "location", "cache-control", "content-length", "vary", "etag"}
	encValues = []string{"200", "404", "", "text/plain", "gzip, deflate", "private", "a", strings.Repeat("v", 100), strings.Repeat("w", 300), strings.Repeat("big", 2000), "Mon, 21 Oct 2013 20:13:21 GMT", "ünïcode"}
	encSizes  = []uint32{4096, 8192, 256, 100, 64, 0}
)

func opFromByte(b byte) encOp {
	if b >= 0xf0 {
		s := encSizes[int(b&0x0f)%len(encSizes)]
		return encOp{size: &s, end: b&1 == 1}
	}
	never := int(b)*37%7 == 0
	return encOp{name: encNames[int(b>>4)%len(encNames)], value: encValues[int(b&0x0f)%len(encValues)],
		never: never, volatile: !never && int(b)*11%5 == 0, end: int(b)*13%3 == 0}
}

func randomOps(rng *rand.Rand, n int) []encOp {
	ops := make([]encOp, n)
	for i := range ops {
		ops[i] = opFromByte(byte(rng.IntN(256)))
	}
	return ops
}

// encodeAndCompare writes ops through a HeaderEncoder and through hpack.Encoder, and
// checks that x/net's decoder reads every block back as written and that the blocks are
// byte for byte x/net's. With volatile, the ops marked so go through
// WriteVolatileFieldBytes, which hpack.Encoder has no counterpart for: then the tables
// part ways, and only the decoding is checked (an index into a table the decoder does
// not have would decode as another field, or not at all).
func encodeAndCompare(t *testing.T, ops []encOp, what string, volatile bool) {
	t.Helper()
	e := NewHeaderEncoder()
	var xbuf bytes.Buffer
	xe := hpack.NewEncoder(&xbuf)
	dec := hpack.NewDecoder(4096, nil)
	var want []hpack.HeaderField
	end := func() {
		got, err := dec.DecodeFull(e.Block())
		if err != nil {
			t.Fatalf("%s: x/net cannot decode % x: %v", what, e.Block(), err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: decoded %d fields, wrote %d", what, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: field %d decoded as %+v, written %+v", what, i, got[i], want[i])
			}
		}
		if !volatile && !bytes.Equal(e.Block(), xbuf.Bytes()) {
			t.Fatalf("%s: block\n% x\nx/net's\n% x", what, e.Block(), xbuf.Bytes())
		}
		e.Reset()
		xbuf.Reset()
		want = want[:0]
	}
	for _, op := range ops {
		if op.size != nil {
			if len(want) > 0 {
				end() // a peer's SETTINGS apply between blocks
			}
			e.SetPeerMaxTableSize(*op.size)
			xe.SetMaxDynamicTableSizeLimit(*op.size)
			dec.SetAllowedMaxDynamicTableSize(*op.size)
		} else {
			f := hpack.HeaderField{Name: strings.ToLower(op.name), Value: op.value, Sensitive: op.never}
			switch {
			case op.never:
				e.WriteFieldUnindexed(op.name, op.value)
			case volatile && op.volatile:
				e.WriteVolatileFieldBytes([]byte(op.name), []byte(op.value))
			default:
				e.WriteFieldBytes([]byte(op.name), []byte(op.value))
			}
			_ = xe.WriteField(f)
			want = append(want, f)
		}
		if op.end && len(want) > 0 {
			end()
		}
	}
	if len(want) > 0 {
		end()
	}
}

// A repeated response, its fields given as views of a reused buffer, allocates nothing:
// each is found in a table.
func TestHeaderEncoderRepeatedResponseAllocatesNothing(t *testing.T) {
	e := NewHeaderEncoder()
	scratch := []byte("Content-Typetext/plain; charset=utf-8")
	write := func() {
		e.Reset()
		e.WriteStatus(200)
		e.WriteFieldBytes(scratch[:12], scratch[12:])
		e.WriteField("server", "switchyard")
		e.WriteFieldBytes([]byte("date"), []byte("Mon, 07 Dec 2026 17:00:00 GMT"))
		e.WriteFieldUnindexed("content-length", "1234")
	}
	write()
	if n := testing.AllocsPerRun(100, write); n != 0 {
		t.Fatalf("a repeated response allocated %v times", n)
	}
}

// RFC 7541 §4.2, §6.3: the table shrinks when the peer lowers SETTINGS_HEADER_TABLE_SIZE,
// announced at the start of the next block, and does not grow
// back when it raises it again before the next block: one size update, to the smallest
// (two would be refused by x/net's decoder, see SetPeerMaxTableSize), and the entries
// evicted meanwhile are gone.
func TestHeaderEncoderTableOnlyShrinks(t *testing.T) {
	e := NewHeaderEncoder()
	dec := hpack.NewDecoder(4096, nil)
	e.WriteField("x-a", "1")
	decodeResponse(t, dec, e.Block())
	e.SetPeerMaxTableSize(0)
	e.SetPeerMaxTableSize(100000)
	dec.SetAllowedMaxDynamicTableSize(4096)
	for i := range 2 {
		e.Reset()
		e.WriteField("x-a", "1")
		b := e.Block()
		if i == 0 && (b[0] != 0x20 || b[1] != 0x00) {
			t.Fatalf("block % x: want a size update to 0, then x-a as a literal not indexed", b)
		}
		if i == 1 && b[0] != 0x00 {
			t.Fatalf("block % x: want x-a as a literal not indexed, and no size update", b)
		}
		fs := decodeResponse(t, dec, b)
		eq(t, len(fs), 1)
		eq(t, fs[0].Name, "x-a")
	}
}
