package websocket

import (
	"fmt"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server/internal/servertest"
)

// Autobahn 7: the close handshake (RFC 6455 §5.5.1, §7). Every case ends with the close
// frame the server must send, and the harness then requires the TCP connection to end
// (§7.1.1: the server closes it first).
func TestConformanceClose(t *testing.T) {
	s := conformanceServer(t, Handler{})
	hello := []byte("Hello World!")
	big := repeat('*', 256<<10)
	cases := []testCase{
		conversation("a message, then close 1000: echo, then close 1000 (RFC 6455 §7.1.2)",
			cat(text("Hello World!"), closeFrame(1000, "")), echo(ws.OpText, hello), closeWith(1000)),
		conversation("a second close after the first is ignored (RFC 6455 §5.5.1)",
			cat(closeFrame(1000, ""), closeFrame(1000, "")), closeWith(1000)),
		conversation("a ping after close is not answered (RFC 6455 §5.5.1)",
			cat(closeFrame(1000, ""), ping(hello)), closeWith(1000)),
		conversation("a text message after close is not echoed (RFC 6455 §1.4, §5.5.1)",
			cat(closeFrame(1000, ""), text("Hello World!")), closeWith(1000)),
		conversation("a close between fragments ends the message unfinished (RFC 6455 §5.5.1)",
			cat(frag(ws.OpText, false, []byte("fragment1")), closeFrame(1000, ""), frag(ws.OpContinuation, true, []byte("fragment2"))), closeWith(1000)),
		conversation("a 256 KiB message, then close, then ping: echo, then close (RFC 6455 §7.1.2)",
			cat(msg(ws.OpText, big), closeFrame(1000, ""), ping(nil)), echo(ws.OpText, big), closeWith(1000)),
		conversation("garbage after close is ignored (RFC 6455 §5.5.1)",
			cat(closeFrame(1000, ""), []byte{0xff, 0xff, 0xff, 0xff}), closeWith(1000)),
		conversation("close without payload is answered with an empty close (RFC 6455 §5.5.1, §7.1.5)",
			msg(ws.OpClose, nil), closeEmpty()),
		conversation("close with a 1-byte payload fails with 1002 (RFC 6455 §5.5.1)",
			msg(ws.OpClose, []byte{0x03}), failed(ws.StatusProtocolError)...),
		conversation("close 1000 without reason is echoed (RFC 6455 §5.5.1)", closeFrame(1000, ""), closeWith(1000)),
		conversation("close 1000 with a reason is echoed (RFC 6455 §5.5.1)", closeFrame(1000, "Hello World!"), closeWith(1000)),
		conversation("close 1000 with a 123-byte reason (payload 125) is echoed (RFC 6455 §5.5)",
			closeFrame(1000, strings.Repeat("*", 123)), closeWith(1000)),
		conversation("close 1000 with a 124-byte reason (payload 126) fails with 1002 (RFC 6455 §5.5)",
			msg(ws.OpClose, append(closePayload(1000), repeat('*', 124)...)), failed(ws.StatusProtocolError)...),
		conversation("close with a reason that is not UTF-8 fails with 1007 (RFC 6455 §5.5.1, §8.1)",
			msg(ws.OpClose, append(closePayload(1000), "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64"...)),
			failed(ws.StatusInvalidPayload)...),
	}
	// §7.4.1 and the IANA registry (§11.7): defined codes and the library/application
	// ranges are echoed; 1012-1014 were registered after RFC 6455.
	for _, code := range []ws.StatusCode{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999} {
		cases = append(cases, conversation(fmt.Sprintf("valid close code %d is echoed (RFC 6455 §7.4)", code),
			closeFrame(code, "reason"), closeWith(code)))
	}
	// §7.4.1: unused (0-999), reserved (1004), never on the wire (1005, 1006, 1015),
	// reserved for the protocol (1016-2999), and out of range (5000+).
	for _, code := range []ws.StatusCode{0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535} {
		cases = append(cases, conversation(fmt.Sprintf("invalid close code %d fails with 1002 (RFC 6455 §7.4)", code),
			msg(ws.OpClose, closePayload(code)), failed(ws.StatusProtocolError)...))
	}
	runCases(t, s, "", cases)
}

// The server's own close (RFC 6455 §7.1.2): the handler starts the handshake, data the
// client sends before its close reply is ignored (no echo, no pong), and the TCP
// connection ends once the client answers.
func TestConformanceServerInitiatedClose(t *testing.T) {
	s := conformanceServer(t, Handler{OnMessage: func(c *Conn, m Message) {
		if string(m.Payload) == "close me" {
			c.Close(4001, "asked to")
			return
		}
		_ = c.Write(m.Op, m.Payload)
	}})
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			cl := tr.dial(t, s, "")
			servertest.Write(t, cl.conn, string(cat(text("close me"), text("ignored"), ping(nil))))
			if err := cl.expect(closeWith(4001)); err != nil {
				t.Fatal(err)
			}
			servertest.Write(t, cl.conn, string(closeFrame(4001, "")))
			servertest.ExpectClosed(t, cl.br)
		})
	}
}
