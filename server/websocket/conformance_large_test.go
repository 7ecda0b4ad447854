package websocket

import (
	"fmt"
	"testing"

	"github.com/switchyard-dev/switchyard/frame/ws"
)

// textOf returns n bytes of ASCII text that does not repeat at short periods.
func textOf(n int) []byte {
	p := make([]byte, n)
	x := uint32(2463534242)
	for i := range p {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		p[i] = 'a' + byte(x%26)
	}
	return p
}

// binaryOf returns n bytes of pseudo-random binary.
func binaryOf(n int) []byte {
	p := make([]byte, n)
	x := uint64(88172645463325252)
	for i := range p {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		p[i] = byte(x)
	}
	return p
}

// Autobahn 9: large messages, up to the default MaxMessageSize of 16 MiB, in one frame
// and fragmented (RFC 6455 §5.4, §5.6), with the default send budget: a message larger
// than the budget must still be echoed when nothing else is queued.
func TestConformanceLargeMessages(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-megabyte messages")
	}
	s := conformanceServer(t, Handler{})
	const mib = 1 << 20
	one := func(name string, op ws.OpCode, p, stream []byte, chop int) testCase {
		return testCase{name: name, chop: chop, serial: len(p) > 4*mib,
			steps: []step{{send: stream, want: []wantFrame{echo(op, p)}}}}
	}
	t16, b16 := textOf(16*mib), binaryOf(16*mib)
	t4, b4 := textOf(4*mib), binaryOf(4*mib)
	t1, b1 := textOf(mib), binaryOf(mib)
	cases := []testCase{
		one("text of 1 MiB in one frame (RFC 6455 §5.6)", ws.OpText, t1, msg(ws.OpText, t1), 0),
		one("binary of 4 MiB in one frame (RFC 6455 §5.6)", ws.OpBinary, b4, msg(ws.OpBinary, b4), 0),
		one("text of 16 MiB in one frame (RFC 6455 §5.6)", ws.OpText, t16, msg(ws.OpText, t16), 4096),
		one("binary of 16 MiB in one frame (RFC 6455 §5.6)", ws.OpBinary, b16, msg(ws.OpBinary, b16), 4096),
		one("binary of 16 MiB in 1 MiB fragments (RFC 6455 §5.4)", ws.OpBinary, b16, fragments(ws.OpBinary, b16, mib), 65536),
		one("text of 4 MiB in 64 KiB fragments (RFC 6455 §5.4)", ws.OpText, t4, fragments(ws.OpText, t4, 64<<10), 0),
		one("binary of 4 MiB in 4 KiB fragments (RFC 6455 §5.4)", ws.OpBinary, b4, fragments(ws.OpBinary, b4, 4<<10), 0),
		one("text of 1 MiB in 64-byte fragments (RFC 6455 §5.4)", ws.OpText, t1, fragments(ws.OpText, t1, 64), 0),
		one("binary of 1 MiB in 1 KiB fragments (RFC 6455 §5.4)", ws.OpBinary, b1, fragments(ws.OpBinary, b1, 1<<10), 0),
	}
	for _, chop := range []int{64, 1024, 131072} {
		cases = append(cases, one(fmt.Sprintf("binary of 1 MiB in one frame written in %d-byte chops (RFC 6455 §5.2)", chop),
			ws.OpBinary, b1, msg(ws.OpBinary, b1), chop))
	}
	// Autobahn 9.7, 9.8: many small messages back to back.
	var stream []byte
	var want []wantFrame
	for i := range 1000 {
		p := textOf(64 + i%7)
		stream = append(stream, text(string(p))...)
		want = append(want, echo(ws.OpText, p))
	}
	cases = append(cases,
		testCase{name: "1000 small text messages in one stream are echoed in order (RFC 6455 §5.6)", steps: []step{{send: stream, want: want}}},
		// MaxMessageSize (default 16 MiB) is checked on the header, before any payload
		// is buffered: the payload is never sent.
		conversation("a frame declaring 16 MiB + 1 fails with 1009 from its header alone (RFC 6455 §7.4.1)",
			ws.AppendRawHeader(nil, ws.Header{Fin: true, OpCode: ws.OpBinary, Masked: true, Mask: [4]byte{1, 2, 3, 4}, Length: 16*mib + 1}),
			failed(ws.StatusMessageTooBig)...),
	)
	runCases(t, s, "", cases)
}

// Autobahn 10 and MaxMessageSize: a message over the limit fails with 1009 (RFC 6455
// §7.4.1) as soon as a frame header takes it past the limit; up to the limit it is echoed,
// however it is fragmented.
func TestConformanceMessageSizeLimit(t *testing.T) {
	const limit = 64 << 10
	s := conformanceServer(t, Handler{MaxMessageSize: limit})
	at, over := textOf(limit), textOf(limit+1)
	header := func(fin bool, op ws.OpCode, n int) []byte {
		return ws.AppendRawHeader(nil, ws.Header{Fin: fin, OpCode: op, Masked: true, Mask: [4]byte{9, 8, 7, 6}, Length: int64(n)})
	}
	cases := []testCase{
		conversation("a message of exactly MaxMessageSize is echoed (RFC 6455 §5.6)", msg(ws.OpText, at), echo(ws.OpText, at)),
		conversation("a message of MaxMessageSize in 1300-byte fragments is echoed (Autobahn 10.1.1, RFC 6455 §5.4)",
			fragments(ws.OpText, at, 1300), echo(ws.OpText, at)),
		conversation("a single frame over MaxMessageSize fails with 1009 from its header (RFC 6455 §7.4.1)",
			header(true, ws.OpBinary, limit+1), failed(ws.StatusMessageTooBig)...),
		conversation("fragments adding up past MaxMessageSize fail with 1009 (RFC 6455 §7.4.1)",
			fragments(ws.OpText, over, 1300), failed(ws.StatusMessageTooBig)...),
		{
			name: "the fragment header that crosses MaxMessageSize fails with 1009 before its payload (RFC 6455 §7.4.1)",
			steps: []step{
				{send: frag(ws.OpBinary, false, binaryOf(limit-10))},
				{send: header(true, ws.OpContinuation, 11), want: failed(ws.StatusMessageTooBig)},
			},
		},
		conversation("control frames between fragments do not count towards the limit (RFC 6455 §5.4)",
			cat(frag(ws.OpBinary, false, at[:limit/2]), ping(repeat('p', 125)), frag(ws.OpContinuation, true, at[limit/2:])),
			pong(repeat('p', 125)), echo(ws.OpBinary, at)),
	}
	runCases(t, s, "", cases)
}
