package server

// An RFC 6455 / RFC 7692 conformance suite over the ground of Autobahn|Testsuite, driven
// with raw client-masked frames over loopback. Each case is a conversation of steps (bytes
// to send, frames to expect) and runs twice: every step in one write, and every step
// chopped into 1-byte writes (or into many small writes for multi-megabyte steps). A case
// that does not end with the server's close frame ends with a clean close handshake, so a
// stray frame from the server (an extra pong, an echo that should not be) fails it.
//
// This file holds the harness and the framing sections (Autobahn 1-5); UTF-8, close,
// large messages and permessage-deflate have files of their own.

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/switchyard-dev/switchyard/frame/ws"
)

// wsStep is one turn of a conversation: bytes the client sends, then the frames the
// server must answer with before the next step.
type wsStep struct {
	send []byte
	want []wsWant
}

// wsWant is an expected server frame. A close frame's code is checked exactly; code 0
// means the close payload must be empty.
type wsWant struct {
	op      ws.OpCode
	payload []byte
	code    ws.StatusCode
}

type wsCase struct {
	name  string // the rule checked, with its RFC section
	steps []wsStep
	// chop is the write size of the chopped run (0: 1 byte, or about `pieces` writes
	// for a step over oneByteMax bytes, default chopOneByteMax and 65536).
	chop               int
	oneByteMax, pieces int
	// serial keeps memory-hungry cases out of the parallel runs.
	serial bool
}

// chopOneByteMax is the longest step written one byte per write; longer steps would take
// millions of system calls.
const chopOneByteMax = 70000

// conversation builds the usual one-step case.
func conversation(name string, send []byte, want ...wsWant) wsCase {
	return wsCase{name: name, steps: []wsStep{{send: send, want: want}}}
}

func echo(op ws.OpCode, p []byte) wsWant     { return wsWant{op: op, payload: p} }
func echoText(s string) wsWant               { return wsWant{op: ws.OpText, payload: []byte(s)} }
func pong(p []byte) wsWant                   { return wsWant{op: ws.OpPong, payload: p} }
func closeWith(code ws.StatusCode) wsWant    { return wsWant{op: ws.OpClose, code: code} }
func closeEmpty() wsWant                     { return wsWant{op: ws.OpClose} }
func failed(code ws.StatusCode) []wsWant     { return []wsWant{closeWith(code)} }
func cat(parts ...[]byte) []byte             { return bytes.Join(parts, nil) }
func repeat(b byte, n int) []byte            { return bytes.Repeat([]byte{b}, n) }
func closePayload(code ws.StatusCode) []byte { return binary.BigEndian.AppendUint16(nil, uint16(code)) }

// maskKey varies the masking key from frame to frame (never all zero, which would hide
// a server that forgot to unmask).
func maskKey(op ws.OpCode, n int) [4]byte {
	return [4]byte{byte(n), byte(n >> 8), 0xa5, byte(op) | 0x40}
}

// frame builds a masked client frame with any FIN, RSV and opcode, valid or not.
func frame(fin bool, rsv byte, op ws.OpCode, p []byte) []byte {
	return ws.AppendMaskedFrame(nil, fin, op, rsv, maskKey(op, len(p)), p)
}

// msg is a whole message in one frame; fragN starts or continues a fragmented one.
func msg(op ws.OpCode, p []byte) []byte            { return frame(true, 0, op, p) }
func text(s string) []byte                         { return msg(ws.OpText, []byte(s)) }
func frag(op ws.OpCode, fin bool, p []byte) []byte { return frame(fin, 0, op, p) }
func ping(p []byte) []byte                         { return msg(ws.OpPing, p) }
func closeFrame(code ws.StatusCode, reason string) []byte {
	return msg(ws.OpClose, ws.AppendClose(nil, code, reason))
}

// fragments splits p into frames of at most size bytes (at least one frame).
func fragments(op ws.OpCode, p []byte, size int) []byte {
	var out []byte
	for first := true; first || len(p) > 0; first = false {
		n := min(size, len(p))
		o := ws.OpContinuation
		if first {
			o = op
		}
		out = append(out, frag(o, n == len(p), p[:n])...)
		p = p[n:]
	}
	return out
}

// serverFrame is a frame as the server sent it.
type serverFrame struct {
	fin     bool
	rsv     byte
	op      ws.OpCode
	payload []byte
}

// readServerFrame reads one frame with a decoder of its own, checking that the server
// does not mask (RFC 6455 §5.1).
func readServerFrame(br *bufio.Reader) (serverFrame, error) {
	var f serverFrame
	var hdr [8]byte
	if _, err := io.ReadFull(br, hdr[:2]); err != nil {
		return f, err
	}
	f.fin, f.rsv, f.op = hdr[0]&0x80 != 0, hdr[0]>>4&7, ws.OpCode(hdr[0]&0x0f)
	if hdr[1]&0x80 != 0 {
		return f, errors.New("server frame is masked (RFC 6455 §5.1)")
	}
	n := uint64(hdr[1] & 0x7f)
	switch n {
	case 126:
		if _, err := io.ReadFull(br, hdr[:2]); err != nil {
			return f, err
		}
		n = uint64(binary.BigEndian.Uint16(hdr[:2]))
	case 127:
		if _, err := io.ReadFull(br, hdr[:8]); err != nil {
			return f, err
		}
		n = binary.BigEndian.Uint64(hdr[:8])
	}
	if n > 64<<20 {
		return f, fmt.Errorf("server frame of %d bytes", n)
	}
	f.payload = make([]byte, n)
	_, err := io.ReadFull(br, f.payload)
	return f, err
}

// wsClient is the client side of one connection.
type wsClient struct {
	conn net.Conn
	br   *bufio.Reader
	ext  string        // the 101's Sec-WebSocket-Extensions
	inf  *testInflater // non-nil when permessage-deflate was negotiated
}

// wsDial upgrades a new connection, offering the extra handshake lines in extra.
func wsDial(t *testing.T, s *Server, extra string) *wsClient {
	t.Helper()
	conn := dial(t, s)
	br := bufio.NewReaderSize(conn, 64<<10)
	write(t, conn, wsHandshake+extra+"\r\n")
	resp, _ := readResponse(t, br, "GET")
	if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("handshake: %d %v", resp.StatusCode, resp.Header)
	}
	c := &wsClient{conn: conn, br: br, ext: strings.Join(resp.Header.Values("Sec-WebSocket-Extensions"), ", ")}
	if c.ext != "" {
		p, err := parseDeflateAnswer(c.ext)
		if err != nil {
			t.Fatalf("101 Sec-WebSocket-Extensions %q: %v", c.ext, err)
		}
		c.inf = newTestInflater(p.serverBits, !p.serverNoCtx)
	}
	return c
}

// writeChopped writes p in pieces of chop bytes, each its own write.
func writeChopped(conn net.Conn, p []byte, chop int) error {
	for len(p) > 0 {
		n := min(chop, len(p))
		if _, err := conn.Write(p[:n]); err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

// expect reads the next frame and compares it with w.
func (c *wsClient) expect(w wsWant) error {
	f, err := readServerFrame(c.br)
	if err != nil {
		return fmt.Errorf("want %s, reading: %w", w, err)
	}
	if !f.fin {
		return fmt.Errorf("want %s, got a frame without FIN (op %v)", w, f.op)
	}
	if f.rsv&^ws.RSV1 != 0 || f.rsv != 0 && (c.inf == nil || f.op.IsControl()) {
		return fmt.Errorf("want %s, got RSV bits %03b on op %v", w, f.rsv, f.op)
	}
	if f.rsv&ws.RSV1 != 0 {
		if f.payload, err = c.inf.inflate(f.payload); err != nil {
			return fmt.Errorf("want %s, inflating the reply: %v", w, err)
		}
	} else if c.inf != nil && f.op.IsData() && len(f.payload) >= 256 {
		return fmt.Errorf("want %s: a %d-byte reply went uncompressed on a permessage-deflate connection", w, len(f.payload))
	}
	if f.op != w.op {
		return fmt.Errorf("want %s, got op %v payload %.80q", w, f.op, f.payload)
	}
	if w.op != ws.OpClose {
		if !bytes.Equal(f.payload, w.payload) {
			return fmt.Errorf("want %s, got %d bytes %.80q", w, len(f.payload), f.payload)
		}
		return nil
	}
	switch {
	case w.code == 0 && len(f.payload) != 0:
		return fmt.Errorf("want an empty close, got %x", f.payload)
	case w.code == 0:
		return nil
	case len(f.payload) < 2:
		return fmt.Errorf("want close %d, got close payload %x", w.code, f.payload)
	}
	code := ws.StatusCode(binary.BigEndian.Uint16(f.payload))
	reason := f.payload[2:]
	if code != w.code || !utf8.Valid(reason) {
		return fmt.Errorf("want close %d, got close %d %q", w.code, code, reason)
	}
	return nil
}

func (w wsWant) String() string {
	if w.op == ws.OpClose {
		if w.code == 0 {
			return "empty close"
		}
		return fmt.Sprintf("close %d", w.code)
	}
	return fmt.Sprintf("op %v with %d bytes %.40q", w.op, len(w.payload), w.payload)
}

// converse runs c's steps on a fresh connection.
func converse(t *testing.T, s *Server, extra string, c wsCase, chopped bool) {
	cl := wsDial(t, s, extra)
	closed := false
	for i, st := range c.steps {
		chop := len(st.send)
		if chopped {
			oneByteMax, pieces := chopOneByteMax, 65536
			if c.oneByteMax > 0 {
				oneByteMax, pieces = c.oneByteMax, c.pieces
			}
			switch {
			case c.chop > 0:
				chop = c.chop
			case len(st.send) <= oneByteMax:
				chop = 1
			default:
				chop = len(st.send)/pieces + 1
			}
		}
		// The deadline bounds each step, not the conversation.
		_ = cl.conn.SetDeadline(time.Now().Add(10 * time.Second))
		done := make(chan error, 1)
		go func(p []byte) { done <- writeChopped(cl.conn, p, max(chop, 1)) }(st.send)
		for _, w := range st.want {
			if err := cl.expect(w); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
			closed = w.op == ws.OpClose
		}
		// Once the server has closed, the rest of a step may meet a reset: only the
		// writes of a conversation still open must succeed.
		if err := <-done; err != nil && !closed {
			t.Fatalf("step %d: writing: %v", i, err)
		}
		if closed && i != len(c.steps)-1 {
			t.Fatalf("step %d: the server closed before the conversation ended", i)
		}
	}
	_ = cl.conn.SetDeadline(time.Now().Add(10 * time.Second))
	if !closed {
		write(t, cl.conn, string(closeFrame(ws.StatusNormalClosure, "done")))
		if err := cl.expect(closeWith(ws.StatusNormalClosure)); err != nil {
			t.Fatalf("clean close after the conversation: %v", err)
		}
	}
	// RFC 6455 §7.1.1: after the close handshake the server closes the TCP connection.
	expectClosed(t, cl.br)
}

// runWS runs each case whole and chopped.
func runWS(t *testing.T, s *Server, extra string, cases []wsCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !c.serial {
				t.Parallel()
			}
			t.Run("one write", func(t *testing.T) { converse(t, s, extra, c, false) })
			t.Run("chopped", func(t *testing.T) { converse(t, s, extra, c, true) })
		})
	}
}

// conformanceServer is the echo every section talks to.
func conformanceServer(t *testing.T, h WebSocketHandler) *Server {
	if h.OnMessage == nil {
		h.OnMessage = func(c *WSConn, m Message) { _ = c.Reply(m.Op, m.Payload) }
	}
	return wsEchoServer(t, h)
}

// Autobahn 1: data framing of text and binary messages at every length encoding's edge.
func TestWSConformanceFraming(t *testing.T) {
	s := conformanceServer(t, WebSocketHandler{})
	var cases []wsCase
	for _, n := range []int{0, 1, 125, 126, 127, 128, 65535, 65536, 65537, 200000} {
		tp, bp := repeat('*', n), repeat(0xfe, n)
		cases = append(cases,
			conversation(fmt.Sprintf("text of %d bytes is echoed (RFC 6455 §5.2, §5.6)", n), msg(ws.OpText, tp), echo(ws.OpText, tp)),
			conversation(fmt.Sprintf("binary of %d bytes is echoed (RFC 6455 §5.2, §5.6)", n), msg(ws.OpBinary, bp), echo(ws.OpBinary, bp)))
	}
	big := repeat('*', 65536)
	cases = append(cases,
		wsCase{name: "text of 65536 bytes in 997-byte writes (RFC 6455 §5.2)", chop: 997,
			steps: []wsStep{{send: msg(ws.OpText, big), want: []wsWant{echo(ws.OpText, big)}}}},
		conversation("three messages in one stream are echoed in order (RFC 6455 §5.6)",
			cat(text("a"), msg(ws.OpBinary, []byte{0, 1}), text("ccc")),
			echoText("a"), echo(ws.OpBinary, []byte{0, 1}), echoText("ccc")),
		conversation("an unmasked client frame fails with 1002 (RFC 6455 §5.1)",
			ws.AppendFrame(nil, true, ws.OpText, false, []byte("hi")), failed(ws.StatusProtocolError)...),
		conversation("a 64-bit length with its most significant bit set fails with 1002 (RFC 6455 §5.2)",
			[]byte{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4}, failed(ws.StatusProtocolError)...),
		conversation("a length in a longer encoding than needed is accepted (RFC 6455 §5.2: a sender rule)",
			cat([]byte{0x81, 0x80 | 126, 0, 2, 0, 0, 0, 0}, []byte("ok")), echoText("ok")),
	)
	runWS(t, s, "", cases)
}

// Autobahn 2: pings and pongs (RFC 6455 §5.5.2, §5.5.3).
func TestWSConformancePingPong(t *testing.T) {
	s := conformanceServer(t, WebSocketHandler{})
	bin := []byte{0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff}
	var tenPings []byte
	var tenPongs []wsWant
	for i := range 10 {
		p := fmt.Appendf(nil, "ping %d", i)
		tenPings = append(tenPings, ping(p)...)
		tenPongs = append(tenPongs, pong(p))
	}
	cases := []wsCase{
		conversation("ping without payload gets an empty pong (RFC 6455 §5.5.2)", ping(nil), pong(nil)),
		conversation("ping with text payload gets it back (RFC 6455 §5.5.3)", ping([]byte("Hello, world!")), pong([]byte("Hello, world!"))),
		conversation("ping with binary payload gets it back (RFC 6455 §5.5.3)", ping(bin), pong(bin)),
		conversation("ping with a 125-byte payload gets it back (RFC 6455 §5.5)", ping(repeat(0xfe, 125)), pong(repeat(0xfe, 125))),
		conversation("ping with a 126-byte payload fails with 1002 (RFC 6455 §5.5)",
			cat(ping(repeat(0xfe, 126)), ping([]byte("after"))), failed(ws.StatusProtocolError)...),
		conversation("unsolicited pong without payload is ignored (RFC 6455 §5.5.3)", msg(ws.OpPong, nil)),
		conversation("unsolicited pong with payload is ignored (RFC 6455 §5.5.3)", msg(ws.OpPong, []byte("unsolicited"))),
		conversation("unsolicited pong, then ping: only the ping is answered (RFC 6455 §5.5.3)",
			cat(msg(ws.OpPong, []byte("unsolicited")), ping([]byte("solicited"))), pong([]byte("solicited"))),
		conversation("ten pings are answered in order (RFC 6455 §5.5.2)", tenPings, tenPongs...),
	}
	runWS(t, s, "", cases)
}

// Autobahn 3: RSV bits without an extension that defines them (RFC 6455 §5.2).
func TestWSConformanceReservedBits(t *testing.T) {
	s := conformanceServer(t, WebSocketHandler{})
	hello := []byte("Hello, world!")
	cases := []wsCase{
		conversation("RSV1 on text fails with 1002 (RFC 6455 §5.2)", frame(true, ws.RSV1, ws.OpText, hello), failed(ws.StatusProtocolError)...),
	}
	for _, tc := range []struct {
		rsv byte
		op  ws.OpCode
		p   []byte
	}{
		{ws.RSV2, ws.OpText, hello},
		{ws.RSV3, ws.OpText, hello},
		{ws.RSV1 | ws.RSV2, ws.OpText, hello},
		{ws.RSV1 | ws.RSV3, ws.OpBinary, []byte{0, 0xff}},
		{ws.RSV2 | ws.RSV3, ws.OpPing, hello},
		{ws.RSV1 | ws.RSV2 | ws.RSV3, ws.OpClose, closePayload(1000)},
		{ws.RSV2, ws.OpContinuation, hello},
	} {
		// A good message first proves the failure is the frame's own, then a ping that
		// must go unanswered.
		cases = append(cases, wsCase{
			name: fmt.Sprintf("RSV %03b on op %v after a good message fails with 1002, the following ping unanswered (RFC 6455 §5.2)", tc.rsv, tc.op),
			steps: []wsStep{{
				send: cat(text("Hello, world!"), frame(true, tc.rsv, tc.op, tc.p), ping(nil)),
				want: []wsWant{echo(ws.OpText, hello), closeWith(ws.StatusProtocolError)},
			}},
		})
	}
	runWS(t, s, "", cases)
}

// Autobahn 4: reserved opcodes (RFC 6455 §5.2, §11.8).
func TestWSConformanceReservedOpcodes(t *testing.T) {
	s := conformanceServer(t, WebSocketHandler{})
	var cases []wsCase
	for _, op := range []ws.OpCode{3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf} {
		for _, p := range [][]byte{nil, []byte("reserved payload")} {
			cases = append(cases, conversation(
				fmt.Sprintf("reserved opcode %d with %d-byte payload after a good message fails with 1002 (RFC 6455 §5.2)", op, len(p)),
				cat(text("Hello"), frame(true, 0, op, p), ping(nil)),
				echoText("Hello"), closeWith(ws.StatusProtocolError)))
		}
	}
	runWS(t, s, "", cases)
}

// Autobahn 5: fragmentation (RFC 6455 §5.4).
func TestWSConformanceFragmentation(t *testing.T) {
	s := conformanceServer(t, WebSocketHandler{})
	f1, f2 := []byte("fragment1"), []byte("fragment2")
	fragment := func(i int) []byte { return fmt.Appendf(nil, "fragment%d", i) }
	pinged := func(i int) []byte { return fmt.Appendf(nil, "ping%d", i) }
	p1p2 := cat(f1, f2)
	cases := []wsCase{
		conversation("a fragmented ping fails with 1002 (RFC 6455 §5.4, §5.5)",
			cat(frag(ws.OpPing, false, f1), frag(ws.OpContinuation, true, f2)), failed(ws.StatusProtocolError)...),
		conversation("a fragmented pong fails with 1002 (RFC 6455 §5.4, §5.5)",
			cat(frag(ws.OpPong, false, f1), frag(ws.OpContinuation, true, f2)), failed(ws.StatusProtocolError)...),
		conversation("a fragmented close fails with 1002 (RFC 6455 §5.4, §5.5)",
			cat(frag(ws.OpClose, false, closePayload(1000)), frag(ws.OpContinuation, true, nil)), failed(ws.StatusProtocolError)...),
		conversation("text in two fragments is echoed whole (RFC 6455 §5.4)",
			cat(frag(ws.OpText, false, f1), frag(ws.OpContinuation, true, f2)), echo(ws.OpText, p1p2)),
		conversation("binary in two fragments is echoed whole (RFC 6455 §5.4)",
			cat(frag(ws.OpBinary, false, f1), frag(ws.OpContinuation, true, f2)), echo(ws.OpBinary, p1p2)),
		conversation("text in one-byte fragments is echoed whole (RFC 6455 §5.4)",
			fragments(ws.OpText, []byte("Hello-µ@ßöäüàá-UTF-8!!"), 1), echoText("Hello-µ@ßöäüàá-UTF-8!!")),
		conversation("empty fragments, empty final fragment (RFC 6455 §5.4)",
			cat(frag(ws.OpText, false, nil), frag(ws.OpContinuation, false, []byte("x")), frag(ws.OpContinuation, true, nil)), echoText("x")),
		conversation("a message of empty fragments is an empty message (RFC 6455 §5.4)",
			cat(frag(ws.OpBinary, false, nil), frag(ws.OpContinuation, false, nil), frag(ws.OpContinuation, true, nil)), echo(ws.OpBinary, []byte{})),
		conversation("a ping between two fragments is answered before the message (RFC 6455 §5.4, §5.5.2)",
			cat(frag(ws.OpText, false, f1), ping([]byte("ping payload")), frag(ws.OpContinuation, true, f2)),
			pong([]byte("ping payload")), echo(ws.OpText, p1p2)),
		conversation("an unsolicited pong between fragments is ignored (RFC 6455 §5.4, §5.5.3)",
			cat(frag(ws.OpBinary, false, f1), msg(ws.OpPong, []byte("x")), frag(ws.OpContinuation, true, f2)), echo(ws.OpBinary, p1p2)),
		{
			name: "pings between fragments are answered at once, before the final fragment arrives (RFC 6455 §5.4, §5.5.2)",
			steps: []wsStep{
				{send: cat(frag(ws.OpText, false, fragment(1)), frag(ws.OpContinuation, false, fragment(2)), ping(pinged(1))), want: []wsWant{pong(pinged(1))}},
				{send: cat(frag(ws.OpContinuation, false, fragment(3)), frag(ws.OpContinuation, false, fragment(4)), ping(pinged(2))), want: []wsWant{pong(pinged(2))}},
				{send: frag(ws.OpContinuation, true, fragment(5)), want: []wsWant{echoText("fragment1fragment2fragment3fragment4fragment5")}},
			},
		},
		conversation("a continuation with FIN and nothing to continue fails with 1002 (RFC 6455 §5.4)",
			cat(frag(ws.OpContinuation, true, f1), text("Hello")), failed(ws.StatusProtocolError)...),
		conversation("a continuation without FIN and nothing to continue fails with 1002 (RFC 6455 §5.4)",
			cat(frag(ws.OpContinuation, false, f1), text("Hello")), failed(ws.StatusProtocolError)...),
		conversation("a continuation sequence with nothing to continue fails with 1002 (RFC 6455 §5.4)",
			cat(frag(ws.OpContinuation, false, f1), frag(ws.OpContinuation, true, f2), text("Hello")), failed(ws.StatusProtocolError)...),
		conversation("a stray continuation after a finished fragmented message fails with 1002 (RFC 6455 §5.4)",
			cat(frag(ws.OpText, false, f1), frag(ws.OpContinuation, true, f2), frag(ws.OpContinuation, false, f1), text("Hello")),
			echo(ws.OpText, p1p2), closeWith(ws.StatusProtocolError)),
		conversation("a new text message inside a fragmented one fails with 1002 (RFC 6455 §5.4)",
			cat(frag(ws.OpText, false, f1), frag(ws.OpText, true, f2)), failed(ws.StatusProtocolError)...),
		conversation("a new binary message inside a fragmented text one fails with 1002 (RFC 6455 §5.4)",
			cat(frag(ws.OpText, false, f1), frag(ws.OpBinary, false, f2), frag(ws.OpContinuation, true, f2)), failed(ws.StatusProtocolError)...),
	}
	runWS(t, s, "", cases)
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
