package ws_test

import (
	"fmt"

	"github.com/switchyard-dev/switchyard/frame/ws"
)

// The receive loop of a server connection over the bytes the event loop
// buffered: decode, wait for the whole payload, unmask, answer control
// frames, assemble and inflate data messages.
func Example_receiveLoop() {
	// Negotiated at the handshake.
	params, compression := ws.DeflateConfig{}.Negotiate([]byte("permessage-deflate; client_max_window_bits"))
	fmt.Printf("Sec-WebSocket-Extensions: %s\n", params.AppendResponse(nil))

	rules := ws.ServerRules(compression)
	asm := ws.Assembler{Compression: compression, MaxMessageSize: 1 << 20}
	inf := params.NewServerInflater()

	// What a client sent: a text message in two fragments with a ping in
	// between, then a compressed binary message.
	key := [4]byte{1, 2, 3, 4}
	client := params.NewClientDeflater(1)
	var in []byte
	in = ws.AppendMaskedFrame(in, false, ws.OpText, 0, key, []byte("Hello, "))
	in = ws.AppendMaskedFrame(in, true, ws.OpPing, 0, key, []byte("are you there?"))
	in = ws.AppendMaskedFrame(in, true, ws.OpContinuation, 0, key, []byte("world"))
	in = ws.AppendMaskedFrame(in, true, ws.OpBinary, ws.RSV1, key, client.Compress(nil, []byte("squeezed")))

	var out []byte // frames to send, batched
	for {
		h, n, err := ws.DecodeHeader(in, rules)
		if err == ws.ErrIncomplete {
			break // wait for more bytes
		}
		if err != nil {
			out = ws.AppendCloseError(out, err.(*ws.Error))
			break
		}
		if e := asm.Check(h); e != nil { // before buffering the payload
			out = ws.AppendCloseError(out, e)
			break
		}
		if int64(len(in)-n) < h.Length {
			break // wait for the rest of the payload
		}
		payload := in[n : n+int(h.Length)]
		ws.Unmask(payload, h.Mask, 0)
		in = in[n+int(h.Length):]

		msg, done, e := asm.Frame(h, payload)
		if e == nil && done && msg.Compressed {
			msg, e = asm.Inflate(msg, inf)
		}
		switch {
		case e != nil:
			out = ws.AppendCloseError(out, e)
		case !done:
		case msg.Op == ws.OpPing:
			out = ws.AppendFrame(out, true, ws.OpPong, false, msg.Payload)
			fmt.Printf("ping %q\n", msg.Payload)
		default:
			fmt.Printf("message op=%d %q\n", msg.Op, msg.Payload)
		}
		asm.Release() // the idle connection keeps no buffer
	}
	fmt.Printf("reply % x\n", out[:2])
	// Output:
	// Sec-WebSocket-Extensions: permessage-deflate
	// ping "are you there?"
	// message op=1 "Hello, world"
	// message op=2 "squeezed"
	// reply 8a 0e
}
