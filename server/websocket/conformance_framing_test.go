package websocket

import (
	"fmt"
	"testing"

	"github.com/switchyard-dev/switchyard/frame/ws"
)

// Autobahn 1: data framing of text and binary messages at every length encoding's edge.
func TestConformanceFraming(t *testing.T) {
	s := conformanceServer(t, Handler{})
	var cases []testCase
	for _, n := range []int{0, 1, 125, 126, 127, 128, 65535, 65536, 65537, 200000} {
		tp, bp := repeat('*', n), repeat(0xfe, n)
		cases = append(cases,
			conversation(fmt.Sprintf("text of %d bytes is echoed (RFC 6455 §5.2, §5.6)", n), msg(ws.OpText, tp), echo(ws.OpText, tp)),
			conversation(fmt.Sprintf("binary of %d bytes is echoed (RFC 6455 §5.2, §5.6)", n), msg(ws.OpBinary, bp), echo(ws.OpBinary, bp)))
	}
	big := repeat('*', 65536)
	cases = append(cases,
		testCase{name: "text of 65536 bytes in 997-byte writes (RFC 6455 §5.2)", chop: 997,
			steps: []step{{send: msg(ws.OpText, big), want: []wantFrame{echo(ws.OpText, big)}}}},
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
	runCases(t, s, "", cases)
}

// Autobahn 2: pings and pongs (RFC 6455 §5.5.2, §5.5.3).
func TestConformancePingPong(t *testing.T) {
	s := conformanceServer(t, Handler{})
	bin := []byte{0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff}
	var tenPings []byte
	var tenPongs []wantFrame
	for i := range 10 {
		p := fmt.Appendf(nil, "ping %d", i)
		tenPings = append(tenPings, ping(p)...)
		tenPongs = append(tenPongs, pong(p))
	}
	cases := []testCase{
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
	runCases(t, s, "", cases)
}

// Autobahn 3: RSV bits without an extension that defines them (RFC 6455 §5.2).
func TestConformanceReservedBits(t *testing.T) {
	s := conformanceServer(t, Handler{})
	hello := []byte("Hello, world!")
	cases := []testCase{
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
		cases = append(cases, testCase{
			name: fmt.Sprintf("RSV %03b on op %v after a good message fails with 1002, the following ping unanswered (RFC 6455 §5.2)", tc.rsv, tc.op),
			steps: []step{{
				send: cat(text("Hello, world!"), frame(true, tc.rsv, tc.op, tc.p), ping(nil)),
				want: []wantFrame{echo(ws.OpText, hello), closeWith(ws.StatusProtocolError)},
			}},
		})
	}
	runCases(t, s, "", cases)
}

// Autobahn 4: reserved opcodes (RFC 6455 §5.2, §11.8).
func TestConformanceReservedOpcodes(t *testing.T) {
	s := conformanceServer(t, Handler{})
	var cases []testCase
	for _, op := range []ws.OpCode{3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf} {
		for _, p := range [][]byte{nil, []byte("reserved payload")} {
			cases = append(cases, conversation(
				fmt.Sprintf("reserved opcode %d with %d-byte payload after a good message fails with 1002 (RFC 6455 §5.2)", op, len(p)),
				cat(text("Hello"), frame(true, 0, op, p), ping(nil)),
				echoText("Hello"), closeWith(ws.StatusProtocolError)))
		}
	}
	runCases(t, s, "", cases)
}

// Autobahn 5: fragmentation (RFC 6455 §5.4).
func TestConformanceFragmentation(t *testing.T) {
	s := conformanceServer(t, Handler{})
	f1, f2 := []byte("fragment1"), []byte("fragment2")
	fragment := func(i int) []byte { return fmt.Appendf(nil, "fragment%d", i) }
	pinged := func(i int) []byte { return fmt.Appendf(nil, "ping%d", i) }
	p1p2 := cat(f1, f2)
	cases := []testCase{
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
			steps: []step{
				{send: cat(frag(ws.OpText, false, fragment(1)), frag(ws.OpContinuation, false, fragment(2)), ping(pinged(1))), want: []wantFrame{pong(pinged(1))}},
				{send: cat(frag(ws.OpContinuation, false, fragment(3)), frag(ws.OpContinuation, false, fragment(4)), ping(pinged(2))), want: []wantFrame{pong(pinged(2))}},
				{send: frag(ws.OpContinuation, true, fragment(5)), want: []wantFrame{echoText("fragment1fragment2fragment3fragment4fragment5")}},
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
	runCases(t, s, "", cases)
}
