package h2

import (
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

// RFC 7541 §4.2, §6.3: after the peer lowers SETTINGS_HEADER_TABLE_SIZE,
// the next block starts with a size update the peer's decoder accepts.
func TestHeaderEncoderPeerTableSize(t *testing.T) {
	e := NewHeaderEncoder()
	peer := hpack.NewDecoder(4096, nil)
	e.WriteField("x-a", "1")
	decodeResponse(t, peer, e.Block())
	e.SetPeerMaxTableSize(0)
	peer.SetAllowedMaxDynamicTableSize(0)
	e.Reset()
	e.WriteStatus(200)
	e.WriteField("x-a", "1")
	b := e.Block()
	if b[0] != 0x20 {
		t.Fatalf("block starts with %#x, want size update to 0 (0x20)", b[0])
	}
	fs := decodeResponse(t, peer, b)
	eq(t, len(fs), 2)
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
