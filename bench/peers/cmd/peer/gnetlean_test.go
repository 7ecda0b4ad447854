package main

import (
	"bytes"
	"testing"

	"github.com/gobwas/ws"
	"github.com/panjf2000/gnet/v2"
)

func maskedFrame(t *testing.T, fin bool, op ws.OpCode, payload string) []byte {
	t.Helper()
	b, err := ws.CompileFrame(ws.MaskFrame(ws.NewFrame(op, fin, []byte(payload))))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func serverFrame(t *testing.T, fin bool, op ws.OpCode, payload string) []byte {
	t.Helper()
	b, err := ws.CompileFrame(ws.NewFrame(op, fin, []byte(payload)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLeanEcho: whole frames at the head of the buffer are answered (RFC 6455 §5.2), a
// partial one is left for the next read, pings get pongs and a close ends the connection.
func TestLeanEcho(t *testing.T) {
	long := string(bytes.Repeat([]byte("x"), 300)) // a 16-bit length
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	whole := cat(maskedFrame(t, true, ws.OpBinary, "hello"), maskedFrame(t, true, ws.OpText, long))
	partial := maskedFrame(t, true, ws.OpBinary, "later")
	cases := []struct {
		name   string
		in     []byte
		out    []byte
		used   int
		action gnet.Action
	}{
		{"data frames come back unmasked with their opcode", whole,
			cat(serverFrame(t, true, ws.OpBinary, "hello"), serverFrame(t, true, ws.OpText, long)), len(whole), gnet.None},
		{"a partial frame is not consumed", cat(whole, partial[:5]),
			cat(serverFrame(t, true, ws.OpBinary, "hello"), serverFrame(t, true, ws.OpText, long)), len(whole), gnet.None},
		{"a fragment is echoed as a fragment", maskedFrame(t, false, ws.OpText, "frag"),
			serverFrame(t, false, ws.OpText, "frag"), len(maskedFrame(t, false, ws.OpText, "frag")), gnet.None},
		{"a ping is answered with a pong (§5.5.2)", maskedFrame(t, true, ws.OpPing, "p"),
			serverFrame(t, true, ws.OpPong, "p"), len(maskedFrame(t, true, ws.OpPing, "p")), gnet.None},
		{"a close is echoed and closes (§5.5.1)", maskedFrame(t, true, ws.OpClose, "\x03\xe8"),
			serverFrame(t, true, ws.OpClose, "\x03\xe8"), len(maskedFrame(t, true, ws.OpClose, "\x03\xe8")), gnet.Close},
		{"an unmasked client frame closes (§5.1)", serverFrame(t, true, ws.OpBinary, "x"), nil, 0, gnet.Close},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, used, action := leanEcho(append([]byte(nil), c.in...), nil)
			if !bytes.Equal(out, c.out) || used != c.used || action != c.action {
				t.Fatalf("got out %q used %d action %v; want %q %d %v", out, used, action, c.out, c.used, c.action)
			}
		})
	}
}
