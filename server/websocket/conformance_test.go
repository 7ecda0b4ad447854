package websocket

// An RFC 6455 / RFC 7692 conformance suite over the ground of Autobahn|Testsuite, driven
// with raw client-masked frames over loopback. Each case is a conversation of steps (bytes
// to send, frames to expect) and runs twice: every step in one write, and every step
// chopped into 1-byte writes (or into many small writes for multi-megabyte steps). A case
// that does not end with the server's close frame ends with a clean close handshake, so a
// stray frame from the server (an extra pong, an echo that should not be) fails it.
//
// This file holds the harness; the framing sections (Autobahn 1-5), UTF-8, close, large
// messages and permessage-deflate have files of their own.

import (
	"bufio"
	"bytes"
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
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/internal/servertest"
)

// step is one turn of a conversation: bytes the client sends, then the frames the
// server must answer with before the next step.
type step struct {
	send []byte
	want []wantFrame
}

// wantFrame is an expected server frame. A close frame's code is checked exactly; code 0
// means the close payload must be empty.
type wantFrame struct {
	op      ws.OpCode
	payload []byte
	code    ws.StatusCode
}

type testCase struct {
	name  string // the rule checked, with its RFC section
	steps []step
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
func conversation(name string, send []byte, want ...wantFrame) testCase {
	return testCase{name: name, steps: []step{{send: send, want: want}}}
}

func echo(op ws.OpCode, p []byte) wantFrame  { return wantFrame{op: op, payload: p} }
func echoText(s string) wantFrame            { return wantFrame{op: ws.OpText, payload: []byte(s)} }
func pong(p []byte) wantFrame                { return wantFrame{op: ws.OpPong, payload: p} }
func closeWith(code ws.StatusCode) wantFrame { return wantFrame{op: ws.OpClose, code: code} }
func closeEmpty() wantFrame                  { return wantFrame{op: ws.OpClose} }
func failed(code ws.StatusCode) []wantFrame  { return []wantFrame{closeWith(code)} }
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

// client is the client side of one connection.
type client struct {
	conn net.Conn
	br   *bufio.Reader
	ext  string        // the 101's Sec-WebSocket-Extensions
	inf  *testInflater // non-nil when permessage-deflate was negotiated
}

// dialClient upgrades a new connection, offering the extra handshake lines in extra.
func dialClient(t *testing.T, s *server.Server, extra string) *client {
	t.Helper()
	conn := servertest.Dial(t, s.Addr())
	br := bufio.NewReaderSize(conn, 64<<10)
	servertest.Write(t, conn, handshake+extra+"\r\n")
	resp, _ := servertest.ReadResponse(t, br, "GET")
	if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("handshake: %d %v", resp.StatusCode, resp.Header)
	}
	c := &client{conn: conn, br: br, ext: strings.Join(resp.Header.Values("Sec-WebSocket-Extensions"), ", ")}
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
func (c *client) expect(w wantFrame) error {
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

func (w wantFrame) String() string {
	if w.op == ws.OpClose {
		if w.code == 0 {
			return "empty close"
		}
		return fmt.Sprintf("close %d", w.code)
	}
	return fmt.Sprintf("op %v with %d bytes %.40q", w.op, len(w.payload), w.payload)
}

// converse runs c's steps on a fresh connection that dial opens.
func converse(t *testing.T, s *server.Server, extra string, c testCase, chopped bool, dial func(*testing.T, *server.Server, string) *client) {
	cl := dial(t, s, extra)
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
		servertest.Write(t, cl.conn, string(closeFrame(ws.StatusNormalClosure, "done")))
		if err := cl.expect(closeWith(ws.StatusNormalClosure)); err != nil {
			t.Fatalf("clean close after the conversation: %v", err)
		}
	}
	// RFC 6455 §7.1.1: after the close handshake the server closes the TCP connection.
	servertest.ExpectClosed(t, cl.br)
}

// runCases runs each case whole and chopped, over every transport.
func runCases(t *testing.T, s *server.Server, extra string, cases []testCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !c.serial {
				t.Parallel()
			}
			for _, tr := range transports {
				t.Run(tr.name, func(t *testing.T) {
					t.Run("one write", func(t *testing.T) { converse(t, s, extra, c, false, tr.dial) })
					t.Run("chopped", func(t *testing.T) { converse(t, s, extra, c, true, tr.dial) })
				})
			}
		})
	}
}

// conformanceServer is the echo every section talks to.
func conformanceServer(t *testing.T, h Handler) *server.Server {
	if h.OnMessage == nil {
		h.OnMessage = func(c *Conn, m Message) { _ = c.Write(m.Op, m.Payload) }
	}
	return conformanceRoutes(t, h)
}
