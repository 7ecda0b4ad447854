package ws

import (
	"bytes"
	"compress/flate"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// stdInflate decompresses one message with a fresh compress/flate reader,
// independently of Inflater (RFC 7692 §7.2.2: append the tail, inflate).
func stdInflate(t *testing.T, dict, compressed []byte) []byte {
	t.Helper()
	r := flate.NewReaderDict(io.MultiReader(bytes.NewReader(compressed), bytes.NewReader(inflateTail[:])), dict)
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("stdlib inflate: %v", err)
	}
	return out
}

func testMessages() [][]byte {
	rng := rand.New(rand.NewPCG(3, 4))
	random := make([]byte, 70000)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	return [][]byte{
		[]byte("Hello"),
		[]byte("Hello"), // repeated: context takeover can reference the previous one
		{},
		[]byte(strings.Repeat("switchyard websocket ", 3000)),
		random,
		[]byte(strings.Repeat("z", 100)),
	}
}

func TestDeflateRoundTrip(t *testing.T) {
	cases := []struct {
		name       string
		level      int
		windowBits int
		takeover   bool
	}{
		{"RFC 7692 §7.2.1 no context takeover", flate.BestSpeed, 15, false},
		{"RFC 7692 §7.2.1 context takeover", flate.BestSpeed, 15, true},
		{"RFC 7692 §7.2.1 context takeover level 9", flate.BestCompression, 15, true},
		{"RFC 7692 §7.1.2.1 window 8 bits Huffman-only with takeover", flate.BestSpeed, 8, true},
		{"RFC 7692 §7.1.2.1 window 12 bits Huffman-only", flate.DefaultCompression, 12, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := NewDeflater(c.level, c.windowBits, c.takeover)
			inf := NewInflater(c.windowBits, c.takeover)
			defer d.Release()
			var history []byte // all plaintext so far, the takeover dictionary
			for i, m := range testMessages() {
				comp := d.Compress([]byte("prefix"), m)
				if string(comp[:6]) != "prefix" {
					t.Fatal("Compress did not append to dst")
				}
				comp = comp[6:]
				if bytes.HasSuffix(comp, deflateTail[:]) {
					t.Fatalf("message %d: tail not removed (§7.2.1)", i)
				}
				// An independent decoder agrees.
				var dict []byte
				if c.takeover {
					dict = history
				}
				if got := stdInflate(t, dict, comp); !bytes.Equal(got, m) {
					t.Fatalf("message %d: stdlib decode mismatch", i)
				}
				got, err := inf.Inflate([]byte("pre"), comp, 1<<20)
				if err != nil || !bytes.Equal(got[3:], m) || string(got[:3]) != "pre" {
					t.Fatalf("message %d: Inflate err=%v equal=%v", i, err, bytes.Equal(got[3:], m))
				}
				history = append(history, m...)
			}
		})
	}
}

func TestDeflateEmptyMessage(t *testing.T) {
	// RFC 7692 §7.2.3.6: an empty message compresses to a single 0x00.
	d := NewDeflater(flate.BestSpeed, 15, false)
	if got := d.Compress(nil, nil); !bytes.Equal(got, []byte{0}) {
		t.Fatalf("got %x", got)
	}
}

func TestDeflateContextTakeoverShrinksRepeats(t *testing.T) {
	// RFC 7692 §7.2.1: with takeover a repeated message references the
	// previous one and compresses far better; without it, it cannot.
	msg := []byte(strings.Repeat("0123456789abcdefghij", 50))
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range msg {
		msg[i] = byte('a' + rng.IntN(26))
	}
	with, without := NewDeflater(1, 15, true), NewDeflater(1, 15, false)
	defer with.Release()
	with.Compress(nil, msg)
	without.Compress(nil, msg)
	a, b := len(with.Compress(nil, msg)), len(without.Compress(nil, msg))
	if a*4 > b {
		t.Fatalf("takeover %d bytes vs %d without: no reference to the previous message", a, b)
	}
}

func TestHuffmanOnlyHasNoBackReferences(t *testing.T) {
	// RFC 7692 §7.1.2.1: with a window below 15 bits no back-reference may
	// reach further than the window. Huffman-only output has none: each
	// message decodes without the previous ones (no cross-message
	// references) and stays far larger than LZ77 would make such a
	// repetitive input (no references inside the message).
	d := NewDeflater(flate.BestCompression, 8, true)
	defer d.Release()
	msg := []byte(strings.Repeat("abcabcabc", 1000))
	for i := 0; i < 3; i++ {
		comp := d.Compress(nil, msg)
		if got := stdInflate(t, nil, comp); !bytes.Equal(got, msg) {
			t.Fatalf("message %d needs earlier context", i)
		}
		if len(comp) < len(msg)/8 {
			t.Fatalf("message %d: %d bytes from %d: LZ77 matches were used", i, len(comp), len(msg))
		}
	}
}

func TestHuffmanOnlyHoldsNoCompressor(t *testing.T) {
	// RFC 7692 §7.1.2.1, §7.2.1: below a 15-bit window the server compresses
	// Huffman-only, whose messages refer to no earlier one, so even with
	// context takeover the connection keeps no compressor between messages.
	for _, c := range []struct {
		name       string
		level      int
		windowBits int
		hold       bool
	}{
		{"window 15 level 1 with takeover keeps its compressor", 1, 15, true},
		{"window 9 with takeover keeps none", 1, 9, false},
		{"Huffman-only level with takeover keeps none", flate.HuffmanOnly, 15, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := NewDeflater(c.level, c.windowBits, true)
			defer d.Release()
			inf := NewInflater(c.windowBits, true)
			for i := range 3 {
				msg := []byte(strings.Repeat("held or not ", 20+i))
				out, err := inf.Inflate(nil, d.Compress(nil, msg), 1<<20)
				if err != nil || !bytes.Equal(out, msg) {
					t.Fatalf("message %d: %v", i, err)
				}
				if held := d.pw != nil; held != c.hold {
					t.Fatalf("message %d: compressor held = %v, want %v", i, held, c.hold)
				}
			}
		})
	}
}

func TestInflateLimits(t *testing.T) {
	bomb := NewDeflater(flate.BestCompression, 15, false).Compress(nil, make([]byte, 10<<20))
	cases := []struct {
		name  string
		in    []byte
		limit int
		want  *Error
	}{
		{"§7.4.1 1009 deflate bomb stops at the limit", bomb, 1 << 20, ErrInflatedTooBig},
		{"§7.4.1 output exactly at the limit", NewDeflater(1, 15, false).Compress(nil, make([]byte, 1000)), 1000, nil},
		{"§7.4.1 one byte over the limit", NewDeflater(1, 15, false).Compress(nil, make([]byte, 1001)), 1000, ErrInflatedTooBig},
		{"§7.4.1 limit 0 admits only the empty message", []byte{0x00}, 0, nil},
		{"§7.4.1 limit 0 refuses one byte", NewDeflater(1, 15, false).Compress(nil, []byte("x")), 0, ErrInflatedTooBig},
		{"§7.4.1 negative limit acts as 0", NewDeflater(1, 15, false).Compress(nil, []byte("x")), -5, ErrInflatedTooBig},
		{"RFC 7692 §8 corrupt data is 1007", []byte{0xff, 0xff, 0xff, 0xff}, 1 << 20, ErrDeflateData},
		{"RFC 7692 §8 truncated stream is 1007", bomb[:len(bomb)/2], 100 << 20, ErrDeflateData},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inf := NewInflater(15, false)
			dst := []byte("keep")
			out, err := inf.Inflate(dst, c.in, c.limit)
			if err != c.want {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if err != nil && string(out) != "keep" {
				t.Fatalf("dst not restored on error: %d bytes", len(out))
			}
			if cap(out) > max(c.limit, 0)*9/8+8192 { // allocator size classes round up a little
				t.Fatalf("buffer grew to %d for limit %d", cap(out), c.limit)
			}
		})
	}
}

func TestInflateBFinalMessage(t *testing.T) {
	// RFC 7692 §7.2.3.4 senders may end a message with a BFINAL block
	// instead of a sync flush; the appended tail is then ignored.
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, 5)
	w.Write([]byte("final block message"))
	w.Close()
	out, err := NewInflater(15, false).Inflate(nil, buf.Bytes(), 1000)
	if err != nil || string(out) != "final block message" {
		t.Fatalf("got %q %v", out, err)
	}
}

func TestAssemblerInflate(t *testing.T) {
	// RFC 7692 §6: a fragmented compressed message is joined, then inflated,
	// then its text validated (§8.1 on the inflated bytes).
	d := NewDeflater(1, 15, false)
	valid := d.Compress(nil, []byte("héllo wörld, compressed"))
	invalid := d.Compress(nil, []byte("bad \xff text"))
	big := d.Compress(nil, bytes.Repeat([]byte("a"), 100))
	bomb := d.Compress(nil, make([]byte, MinInflateLimit+1)) // zeros: a few hundred bytes
	atFloor := d.Compress(nil, make([]byte, MinInflateLimit))

	cases := []struct {
		name    string
		op      OpCode
		payload []byte
		max     int
		ratio   int
		want    string
		wantErr *Error
	}{
		{"inflating past ratio × compressed size is 1009", OpBinary, bomb, 0, 32, "", ErrInflatedTooBig},
		{"the ratio allows MinInflateLimit however small the message", OpBinary, atFloor, 0, 32, string(make([]byte, MinInflateLimit)), nil},
		{"RFC 7692 §6 compressed text", OpText, valid, 0, 0, "héllo wörld, compressed", nil},
		{"§8.1 inflated text invalid is 1007", OpText, invalid, 0, 0, "", ErrInvalidUTF8},
		{"§8.1 binary not validated", OpBinary, invalid, 0, 0, "bad \xff text", nil},
		{"§7.4.1 inflated size over the limit is 1009", OpBinary, big, 50, 0, "", ErrInflatedTooBig},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := Assembler{Compression: true, MaxMessageSize: c.max, MaxInflateRatio: c.ratio}
			half := len(c.payload) / 2
			if _, done, err := a.Frame(Header{OpCode: c.op, Rsv: RSV1}, c.payload[:half]); done || err != nil {
				t.Fatal(done, err)
			}
			msg, done, err := a.Frame(Header{Fin: true, OpCode: OpContinuation}, c.payload[half:])
			if !done || err != nil || !msg.Compressed {
				t.Fatal(done, err)
			}
			out, ierr := a.Inflate(msg, NewInflater(15, false))
			if ierr != c.wantErr {
				t.Fatalf("err = %v, want %v", ierr, c.wantErr)
			}
			if ierr == nil && (string(out.Payload) != c.want || out.Compressed || out.Op != c.op) {
				t.Fatalf("got %+v", out)
			}
			a.Release()
			if a.frag != nil || a.out != nil {
				t.Fatal("buffers kept after Release")
			}
		})
	}
}

func TestInflaterDictionaryWindow(t *testing.T) {
	// RFC 7692 §7.1.2.2: the dictionary kept for context takeover is the
	// peer's window, not more.
	inf := NewInflater(9, true)
	d := NewDeflater(1, 15, false)
	for _, n := range []int{100, 300, 2000, 10} {
		msg := bytes.Repeat([]byte{byte(n)}, n)
		if _, err := inf.Inflate(nil, d.Compress(nil, msg), 1<<20); err != nil {
			t.Fatal(err)
		}
		if len(inf.dict) > 512 || cap(inf.dict) > 512 {
			t.Fatalf("dict %d/%d bytes for a 9-bit window", len(inf.dict), cap(inf.dict))
		}
	}
	// The last 512 bytes of output: 502 bytes of 2000's value then 10 of 10.
	if inf.dict[0] != byte(2000&0xff) || inf.dict[511] != 10 || len(inf.dict) != 512 {
		t.Fatalf("dict content wrong: len %d", len(inf.dict))
	}
}

func TestInflateRFC7692Examples(t *testing.T) {
	// The payloads of RFC 7692 §7.2.3, each decoding to "Hello".
	cases := []struct {
		name     string
		takeover bool
		msgs     [][]byte
	}{
		{"RFC 7692 §7.2.3.1 one compressed block", false,
			[][]byte{{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}}},
		{"RFC 7692 §7.2.3.2 sharing the LZ77 window", true,
			[][]byte{{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}, {0xf2, 0x00, 0x11, 0x00, 0x00}}},
		{"RFC 7692 §7.2.3.3 block with no compression", false,
			[][]byte{{0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00}}},
		{"RFC 7692 §7.2.3.4 block with BFINAL set", false,
			[][]byte{{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00}}},
		{"RFC 7692 §7.2.3.5 two blocks in one message", false,
			[][]byte{{0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inf := NewInflater(15, c.takeover)
			for i, m := range c.msgs {
				out, err := inf.Inflate(nil, m, 100)
				if err != nil || string(out) != "Hello" {
					t.Fatalf("message %d: %q %v", i, out, err)
				}
			}
		})
	}
	// Without takeover the §7.2.3.2 second message has nothing to refer to.
	if _, err := NewInflater(15, false).Inflate(nil, []byte{0xf2, 0x00, 0x11, 0x00, 0x00}, 100); err != ErrDeflateData {
		t.Fatalf("reference without context: err = %v", err)
	}
}
