package websocket

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
)

// deflateAnswer is a parsed permessage-deflate response (RFC 7692 §7.1).
type deflateAnswer struct {
	serverNoCtx, clientNoCtx bool
	serverBits, clientBits   int
}

// parseDeflateAnswer reads the server's Sec-WebSocket-Extensions answer on its own terms:
// exactly one permessage-deflate element, known parameters, each at most once.
func parseDeflateAnswer(h string) (deflateAnswer, error) {
	a := deflateAnswer{serverBits: 15, clientBits: 15}
	parts := strings.Split(h, ";")
	if strings.TrimSpace(parts[0]) != "permessage-deflate" || strings.Contains(h, ",") {
		return a, fmt.Errorf("not a single permessage-deflate answer")
	}
	seen := map[string]bool{}
	for _, p := range parts[1:] {
		name, value, hasValue := strings.Cut(strings.TrimSpace(p), "=")
		if seen[name] {
			return a, fmt.Errorf("parameter %q repeated", name)
		}
		seen[name] = true
		bits, err := strconv.Atoi(value)
		switch {
		case name == "server_no_context_takeover" && !hasValue:
			a.serverNoCtx = true
		case name == "client_no_context_takeover" && !hasValue:
			a.clientNoCtx = true
		case name == "server_max_window_bits" && err == nil && bits >= 8 && bits <= 15:
			a.serverBits = bits
		case name == "client_max_window_bits" && err == nil && bits >= 8 && bits <= 15:
			a.clientBits = bits
		default:
			return a, fmt.Errorf("bad parameter %q", p)
		}
	}
	return a, nil
}

// testDeflater is the client side's compressor, written apart from frame/ws with
// compress/flate. It honours the negotiated client parameters (RFC 7692 §7.1): with a
// window below 15 bits it compresses Huffman-only (compress/flate always uses a 32 KiB
// window; without LZ77 matches no window is exceeded), and without context takeover it
// starts every message with a fresh compressor.
type testDeflater struct {
	level    int
	takeover bool
	buf      bytes.Buffer
	w        *flate.Writer
}

func newTestDeflater(a deflateAnswer) *testDeflater {
	d := &testDeflater{level: flate.DefaultCompression, takeover: !a.clientNoCtx}
	if a.clientBits < 15 {
		d.level = flate.HuffmanOnly
	}
	return d
}

// compress returns one message's deflate data without the 00 00 ff ff tail (§7.2.1).
func (d *testDeflater) compress(p []byte) []byte {
	if d.w == nil || !d.takeover {
		d.w, _ = flate.NewWriter(&d.buf, d.level)
	}
	d.buf.Reset()
	_, _ = d.w.Write(p)
	_ = d.w.Flush()
	out := bytes.Clone(d.buf.Bytes())
	if !bytes.HasSuffix(out, []byte{0, 0, 0xff, 0xff}) {
		panic("flate flush without its sync marker")
	}
	return out[:len(out)-4]
}

// compressed is a whole compressed message in one frame: RSV1 set (RFC 7692 §6).
func compressed(op ws.OpCode, deflated []byte) []byte { return frame(true, ws.RSV1, op, deflated) }

// wordsOf returns n bytes of text made of words, compressible the way prose is.
func wordsOf(n, seed int) []byte {
	words := []string{"switchyard ", "gnet ", "upgrade ", "frame ", "deflate ", "window ", "context ",
		"takeover ", "Ω ", "über ", "message ", "κόσμε ", "loop ", "echo ", "close ", "ping "}
	p := make([]byte, 0, n+16)
	x := uint32(seed*7919 + 1)
	for len(p) < n {
		x = x*1103515245 + 12345
		p = append(p, words[(x>>16)%uint32(len(words))]...)
	}
	// Cut on a rune boundary so the text stays valid UTF-8.
	for n > 0 && n < len(p) && !utf8.RuneStart(p[n]) {
		n--
	}
	return bytes.Clone(p[:n])
}

// payloadOf is a compressible payload of op's kind: words for text, words with binary
// noise for binary.
func payloadOf(op ws.OpCode, n, seed int) []byte {
	p := wordsOf(n, seed)
	if op == ws.OpBinary {
		noise := binaryOf(n)
		for i := 0; i < len(p); i += 7 {
			p[i] = noise[i]
		}
	}
	return p
}

// deflateConversation echoes messages of the given sizes, reps of each, one step per
// message as Autobahn does, compressed by a client with answer's parameters. Repetitions
// alternate between two payloads, so that with context takeover a message can refer to
// the one before the last. The chopped run writes steps up to 8 KiB a byte at a time and
// longer ones in about 4096 writes.
func deflateConversation(name string, a deflateAnswer, op ws.OpCode, sizes []int, reps func(int) int) testCase {
	d := newTestDeflater(a)
	c := testCase{name: name, oneByteMax: 8 << 10, pieces: 4096}
	for _, n := range sizes {
		for r := range reps(n) {
			p := payloadOf(op, n, r%2)
			c.steps = append(c.steps, step{send: compressed(op, d.compress(p)), want: []wantFrame{echo(op, p)}})
			c.serial = c.serial || n >= 1<<20
		}
	}
	return c
}

// checkAnswer verifies the 101's Sec-WebSocket-Extensions for an offer, exactly.
func checkAnswer(t *testing.T, s *server.Server, offer, want string) deflateAnswer {
	t.Helper()
	for _, tr := range transports {
		cl := tr.dial(t, s, "Sec-WebSocket-Extensions: "+offer+"\r\n")
		if cl.ext != want {
			t.Fatalf("%s: offer %q: answered %q, want %q", tr.name, offer, cl.ext, want)
		}
		_ = cl.conn.Close()
	}
	if want == "" {
		return deflateAnswer{serverBits: 15, clientBits: 15}
	}
	a, err := parseDeflateAnswer(want)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Autobahn 12: compressed echo round trips of many sizes, with context takeover on both
// sides (the default offer) and without it (RFC 7692 §7.1.1, §7.2).
func TestConformanceDeflateSizes(t *testing.T) {
	s := conformanceServer(t, Handler{Compression: &ws.DeflateConfig{}})
	sizes := []int{16, 64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20}
	if testing.Short() {
		sizes = sizes[:7]
	}
	reps := func(n int) int {
		if n >= 256<<10 {
			return 1
		}
		return 3
	}
	for _, o := range []struct{ name, offer, answer string }{
		{"context takeover both ways", "permessage-deflate; client_max_window_bits", "permessage-deflate"},
		{"no context takeover", "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
	} {
		t.Run(o.name, func(t *testing.T) {
			t.Parallel()
			a := checkAnswer(t, s, o.offer, o.answer)
			var cases []testCase
			for _, op := range []ws.OpCode{ws.OpText, ws.OpBinary} {
				cases = append(cases, deflateConversation(
					fmt.Sprintf("%v messages of 16 B to %d KiB, repeated, round trip compressed (RFC 7692 §7.2)", op, sizes[len(sizes)-1]>>10),
					a, op, sizes, reps))
			}
			runCases(t, s, "Sec-WebSocket-Extensions: "+o.offer+"\r\n", cases)
		})
	}
}

// Autobahn 13: the parameters of the offer (RFC 7692 §7.1). Each offer must get exactly
// the expected answer, and messages must round trip under the negotiated parameters:
// the client compresses within them and inflates the server's replies with a history no
// longer than server_max_window_bits allows and none at all without server context
// takeover.
func TestConformanceDeflateParameters(t *testing.T) {
	s := conformanceServer(t, Handler{Compression: &ws.DeflateConfig{}})
	type offer struct{ offer, answer string }
	offers := []offer{
		{"permessage-deflate", "permessage-deflate"},
		{"permessage-deflate; client_no_context_takeover", "permessage-deflate; client_no_context_takeover"},
		{"permessage-deflate; server_no_context_takeover", "permessage-deflate; server_no_context_takeover"},
		{"permessage-deflate; server_max_window_bits=8", "permessage-deflate; server_max_window_bits=8"},
		{"permessage-deflate; server_max_window_bits=9; client_max_window_bits=9; server_no_context_takeover; client_no_context_takeover",
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=9"},
		{"permessage-deflate; server_max_window_bits=\"10\"", "permessage-deflate; server_max_window_bits=10"},
		{"x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=12", "permessage-deflate; server_max_window_bits=12"},
		{"permessage-deflate; server_max_window_bits=16, permessage-deflate; client_no_context_takeover",
			"permessage-deflate; client_no_context_takeover"},
		{"permessage-deflate; unknown_parameter, permessage-deflate", "permessage-deflate"},
	}
	for bits := 9; bits <= 15; bits++ {
		offers = append(offers,
			offer{fmt.Sprintf("permessage-deflate; server_max_window_bits=%d", bits), fmt.Sprintf("permessage-deflate; server_max_window_bits=%d", bits)},
			offer{fmt.Sprintf("permessage-deflate; client_max_window_bits=%d", bits), fmt.Sprintf("permessage-deflate; client_max_window_bits=%d", bits)},
			offer{fmt.Sprintf("permessage-deflate; server_max_window_bits=%d; client_max_window_bits=%d", bits, 24-bits),
				fmt.Sprintf("permessage-deflate; server_max_window_bits=%d; client_max_window_bits=%d", bits, 24-bits)},
		)
	}
	sizes := []int{16, 300, 4 << 10, 40 << 10}
	for _, o := range offers {
		t.Run(o.offer, func(t *testing.T) {
			t.Parallel()
			a := checkAnswer(t, s, o.offer, o.answer)
			c := deflateConversation("text round trips under the negotiated parameters (RFC 7692 §7.1)", a, ws.OpText, sizes,
				func(int) int { return 2 })
			runCases(t, s, "Sec-WebSocket-Extensions: "+o.offer+"\r\n", []testCase{c})
		})
	}
	// Offers the server must decline: the connection runs without compression (§5).
	for _, o := range []string{
		"permessage-deflate; server_max_window_bits",
		"permessage-deflate; server_max_window_bits=7",
		"permessage-deflate; client_max_window_bits=16",
		"permessage-deflate; server_no_context_takeover; server_no_context_takeover",
		"permessage-deflate; server_no_context_takeover=1",
		"x-unknown-extension",
	} {
		t.Run("declined: "+o, func(t *testing.T) { checkAnswer(t, s, o, "") })
	}
}

// bitWriter writes a deflate bit stream (RFC 1951 §3.1.1): fields least significant bit
// first, Huffman codes most significant bit first.
type bitWriter struct {
	out []byte
	acc uint64
	n   uint
}

func (b *bitWriter) bits(v uint64, n uint) {
	b.acc |= v << b.n
	for b.n += n; b.n >= 8; b.n -= 8 {
		b.out = append(b.out, byte(b.acc))
		b.acc >>= 8
	}
}

func (b *bitWriter) code(c uint64, n uint) {
	var r uint64
	for i := range n {
		r |= (c >> i & 1) << (n - 1 - i)
	}
	b.bits(r, n)
}

// backReference is a permessage-deflate message of one fixed-Huffman block holding a
// single match of length (3..10 or 258) at distance dist, then the sync flush whose
// 00 00 ff ff the sender removes (RFC 7692 §7.2.1). Its output exists only in the
// receiver's history, so it tests the context the receiver keeps.
func backReference(length, dist int) []byte {
	var b bitWriter
	b.bits(0, 1) // BFINAL
	b.bits(1, 2) // BTYPE=01, fixed Huffman codes
	switch {
	case length >= 3 && length <= 10:
		b.code(uint64(length-3+1), 7) // symbols 257..264 are 7-bit codes 1..8
	case length == 258:
		b.code(0xc0+285-280, 8) // symbol 285: 8-bit code
	default:
		panic("unsupported match length")
	}
	bases := []int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769,
		1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577, 32769}
	for c := range 30 {
		if dist < bases[c+1] {
			b.code(uint64(c), 5)
			b.bits(uint64(dist-bases[c]), uint(max(0, c/2-1)))
			break
		}
	}
	b.code(0, 7) // end of block (symbol 256)
	b.bits(0, 3) // the sync flush's empty stored block...
	if b.n > 0 { // ...padded to a byte boundary
		b.bits(0, 8-b.n)
	}
	return b.out
}

// storedMessage is a permessage-deflate message of one stored (uncompressed) block, so
// that its bytes enter the receiver's history exactly.
func storedMessage(p []byte) []byte {
	n := len(p)
	out := []byte{0x00, byte(n), byte(n >> 8), ^byte(n), ^byte(n >> 8)}
	return append(append(out, p...), 0x00) // then the sync flush's header bits, padded
}

// The receiver's side of context takeover at the window's edge (RFC 7692 §7.1.2.2): with client_max_window_bits=N the client may refer back 2^N bytes across
// messages, and the server must keep exactly that much history, joined across messages.
func TestConformanceDeflateHistory(t *testing.T) {
	s := conformanceServer(t, Handler{Compression: &ws.DeflateConfig{}})
	for _, tc := range []struct {
		offer, answer string
		first         int
		refs          [][2]int // length, distance
	}{
		{"permessage-deflate; client_max_window_bits=9", "permessage-deflate; client_max_window_bits=9", 1000,
			[][2]int{{10, 512}, {10, 512}, {3, 1}, {258, 512}, {10, 511}}},
		{"permessage-deflate; client_max_window_bits=8", "permessage-deflate; client_max_window_bits=8", 300,
			[][2]int{{10, 256}, {10, 256}, {258, 256}}},
		{"permessage-deflate; client_max_window_bits=12", "permessage-deflate; client_max_window_bits=12", 5000,
			[][2]int{{10, 4096}, {258, 4096}, {10, 4000}}},
		{"permessage-deflate", "permessage-deflate", 40000,
			[][2]int{{10, 32768}, {258, 32768}, {10, 32768}, {5, 20000}}},
	} {
		t.Run(tc.offer, func(t *testing.T) {
			checkAnswer(t, s, tc.offer, tc.answer)
			hist := textOf(tc.first)
			c := testCase{name: fmt.Sprintf("back-references at the edge of the window reach into earlier messages (%s, RFC 7692 §7.1.2.2)", tc.answer),
				steps: []step{{send: compressed(ws.OpText, storedMessage(hist)), want: []wantFrame{echo(ws.OpText, hist)}}}}
			for _, r := range tc.refs {
				length, dist := r[0], r[1]
				var out []byte
				for i := range length { // byte by byte: a match may overlap its own output
					out = append(out, append(hist, out...)[len(hist)+i-dist])
				}
				hist = append(hist, out...)
				c.steps = append(c.steps, step{send: compressed(ws.OpText, backReference(length, dist)), want: []wantFrame{echo(ws.OpText, out)}})
			}
			runCases(t, s, "Sec-WebSocket-Extensions: "+tc.offer+"\r\n", []testCase{c})
		})
	}
	t.Run("no context takeover", func(t *testing.T) {
		const offer = "permessage-deflate; client_no_context_takeover"
		checkAnswer(t, s, offer, offer)
		runCases(t, s, "Sec-WebSocket-Extensions: "+offer+"\r\n", []testCase{conversation(
			"a back-reference into the previous message fails with 1007 without client context takeover (RFC 7692 §7.1.1.2, §8)",
			cat(compressed(ws.OpText, storedMessage(textOf(100))), compressed(ws.OpText, backReference(10, 50))),
			echo(ws.OpText, textOf(100)), closeWith(ws.StatusInvalidPayload))})
	})
}

// Protocol errors of permessage-deflate (RFC 7692 §6.1, §8) and what stays legal.
func TestConformanceDeflateErrors(t *testing.T) {
	const limit = 64 << 10
	s := conformanceServer(t, Handler{Compression: &ws.DeflateConfig{}, MaxMessageSize: limit})
	const offer = "permessage-deflate"
	a := checkAnswer(t, s, offer, offer)
	d := newTestDeflater(a)
	hello := d.compress([]byte("Hello, compressed world! Hello, compressed world!"))
	d2 := newTestDeflater(a)
	long := wordsOf(5000, 1)
	part := d2.compress(long)
	half := len(part) / 2
	bomb := newTestDeflater(deflateAnswer{clientNoCtx: true, clientBits: 15}).compress(make([]byte, limit+1))
	badText := newTestDeflater(deflateAnswer{clientNoCtx: true, clientBits: 15}).compress([]byte("ok \xed\xa0\x80 surrogate"))
	cases := []testCase{
		conversation("a compressed message is echoed (RFC 7692 §6)", compressed(ws.OpText, hello),
			echoText("Hello, compressed world! Hello, compressed world!")),
		conversation("an uncompressed message on a deflate connection is echoed (RFC 7692 §6)", text("plain"), echoText("plain")),
		conversation("a compressed message in two fragments, RSV1 on the first only, is echoed (RFC 7692 §6.1)",
			cat(frame(false, ws.RSV1, ws.OpText, part[:half]), ping([]byte("between")), frame(true, 0, ws.OpContinuation, part[half:])),
			pong([]byte("between")), echo(ws.OpText, long)),
		conversation("an empty compressed message (a single 0x00) is echoed (RFC 7692 §7.2.3.6)",
			compressed(ws.OpBinary, []byte{0x00}), echo(ws.OpBinary, []byte{})),
		conversation("RSV1 on a continuation frame fails with 1002 (RFC 7692 §6.1)",
			cat(frame(false, ws.RSV1, ws.OpText, part[:half]), frame(true, ws.RSV1, ws.OpContinuation, part[half:])),
			failed(ws.StatusProtocolError)...),
		conversation("RSV1 on a ping fails with 1002, unanswered (RFC 7692 §6.1)",
			frame(true, ws.RSV1, ws.OpPing, []byte("x")), failed(ws.StatusProtocolError)...),
		conversation("RSV1 on a close fails with 1002 (RFC 7692 §6.1)",
			frame(true, ws.RSV1, ws.OpClose, closePayload(1000)), failed(ws.StatusProtocolError)...),
		conversation("RSV2 stays reserved with deflate on: 1002 (RFC 6455 §5.2)",
			frame(true, ws.RSV2, ws.OpText, []byte("x")), failed(ws.StatusProtocolError)...),
		conversation("corrupt deflate data fails with 1007 (RFC 7692 §8)",
			compressed(ws.OpText, []byte{0xff, 0xff, 0xff, 0xff, 0xff}), failed(ws.StatusInvalidPayload)...),
		conversation("compressed text that inflates to invalid UTF-8 fails with 1007 (RFC 6455 §8.1)",
			compressed(ws.OpText, badText), failed(ws.StatusInvalidPayload)...),
		conversation("a message that inflates past MaxMessageSize fails with 1009 (RFC 6455 §7.4.1)",
			compressed(ws.OpBinary, bomb), failed(ws.StatusMessageTooBig)...),
	}
	runCases(t, s, "Sec-WebSocket-Extensions: "+offer+"\r\n", cases)
}

// testInflater is the client side's permessage-deflate decompressor, written apart from
// frame/ws so that the server's compressed replies meet an independent judge. It keeps
// only the history the negotiated window allows (RFC 7692 §7.1.2.1): a reference further
// back is corrupt input to compress/flate.
type testInflater struct {
	window   int
	takeover bool
	hist     []byte
}

func newTestInflater(bits int, takeover bool) *testInflater {
	return &testInflater{window: 1 << bits, takeover: takeover}
}

func (f *testInflater) inflate(p []byte) ([]byte, error) {
	// RFC 7692 §7.2.2: append the removed tail; an empty final block ends the stream.
	src := io.MultiReader(bytes.NewReader(p), bytes.NewReader([]byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff}))
	var dict []byte
	if f.takeover {
		dict = f.hist
	}
	out, err := io.ReadAll(flate.NewReaderDict(src, dict))
	if err != nil {
		return nil, err
	}
	if f.takeover {
		f.hist = append(f.hist, out...)
		if len(f.hist) > f.window {
			f.hist = append([]byte(nil), f.hist[len(f.hist)-f.window:]...)
		}
	}
	return out, nil
}
