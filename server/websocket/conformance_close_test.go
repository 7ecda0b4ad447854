package websocket

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/http2"
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

// Data after the server's close (RFC 6455 §1.4, §5.5.1, §7.1.2): the client may have sent
// frames before it saw the server's close frame, and may finish the message it is sending
// before it answers (§5.5.1: "An endpoint MAY delay sending a Close frame until its current
// message is sent"). The server discards them, a fragmented message as well as a whole one
// (a continuation is no protocol error then), and the handshake completes with the
// client's close, whose code OnClose reports. Framing that would be invalid anyway still
// fails the connection.
func TestConformanceDataAfterServerClose(t *testing.T) {
	const closeMe = "close me" // a text message or a ping with it makes the handler close with 4001
	bye := closeFrame(4001, "bye")
	junk := []byte{0xff, 0xff, 0xff} // not deflate data (BTYPE 11)
	for _, tc := range []struct {
		name    string
		deflate bool        // permessage-deflate is negotiated
		send    []byte      // written at once: on the wire, these frames cross the server's close
		want    []wantFrame // the server's frames before its close
		drain   bool        // once want is read, the server shuts down: its close is 1001
		after   []byte      // written once the server's close has been read
		code    StatusCode  // what OnClose reports
		reason  string
	}{
		{name: "the server closes between messages, a fragmented message in flight",
			send: cat(text(closeMe), frag(ws.OpText, false, []byte("in ")), frag(ws.OpContinuation, true, []byte("flight")), bye),
			code: 4001, reason: "bye"},
		{name: "the server closes inside a fragmented message, which ends, and a new message follows",
			send: cat(frag(ws.OpText, false, []byte("open ")), ping([]byte(closeMe)), frag(ws.OpContinuation, true, []byte("end")), text("next"), bye),
			want: []wantFrame{pong([]byte(closeMe))}, code: 4001, reason: "bye"},
		{name: "the client ends its message after the server's close, then sends a fragmented one",
			send:  cat(frag(ws.OpText, false, []byte("open ")), ping([]byte(closeMe))),
			want:  []wantFrame{pong([]byte(closeMe))},
			after: cat(frag(ws.OpContinuation, true, []byte("end")), frag(ws.OpBinary, false, []byte("in ")), frag(ws.OpContinuation, true, []byte("flight")), bye),
			code:  4001, reason: "bye"},
		{name: "server shutdown (1001) inside a fragmented message, which ends, and more messages follow",
			send:  cat(frag(ws.OpText, false, []byte("open ")), ping([]byte("sync"))),
			want:  []wantFrame{pong([]byte("sync"))},
			drain: true,
			after: cat(frag(ws.OpContinuation, true, []byte("end")), text("next"), frag(ws.OpText, false, []byte("in ")), frag(ws.OpContinuation, true, []byte("flight")), closeFrame(1001, "bye")),
			code:  1001, reason: "bye"},
		{name: "compressed data after the server's close is not inflated (RFC 7692 §6)", deflate: true,
			send: cat(text(closeMe), frame(true, ws.RSV1, ws.OpText, junk), frame(false, ws.RSV1, ws.OpBinary, junk), frag(ws.OpContinuation, true, junk), bye),
			code: 4001, reason: "bye"},
		{name: "a continuation with no message open after the server's close fails the connection",
			send: text(closeMe), after: frag(ws.OpContinuation, true, []byte("x")),
			code: StatusAbnormalClosure, reason: ws.ErrUnexpectedContinuation.Reason},
		{name: "a new message inside a fragmented one begun after the server's close fails the connection",
			send: cat(text(closeMe), frag(ws.OpText, false, []byte("in "))), after: text("new"),
			code: StatusAbnormalClosure, reason: ws.ErrExpectedContinuation.Reason},
		{name: "a new message inside a fragmented one begun before the server's close fails the connection",
			send: cat(frag(ws.OpText, false, []byte("open ")), ping([]byte(closeMe))), want: []wantFrame{pong([]byte(closeMe))},
			after: text("new"), code: StatusAbnormalClosure, reason: ws.ErrExpectedContinuation.Reason},
		{name: "RSV1 on a continuation after the server's close fails the connection (RFC 7692 §6.1)", deflate: true,
			send: cat(text(closeMe), frame(false, ws.RSV1, ws.OpText, junk)), after: frame(true, ws.RSV1, ws.OpContinuation, junk),
			code: StatusAbnormalClosure, reason: ws.ErrCompressedBit.Reason},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, tr := range transports {
				t.Run(tr.name, func(t *testing.T) {
					type closed struct {
						code   StatusCode
						reason string
					}
					onClose := make(chan closed, 1)
					h := Handler{
						OnMessage: func(c *Conn, m Message) {
							if string(m.Payload) == closeMe {
								c.Close(4001, "asked to")
								return
							}
							_ = c.Write(m.Op, m.Payload)
						},
						OnPing: func(c *Conn, p []byte) {
							if string(p) == closeMe {
								c.Close(4001, "asked to")
							}
						},
						OnClose: func(_ *Conn, code StatusCode, reason string) { onClose <- closed{code, reason} },
					}
					extra := ""
					if tc.deflate {
						h.Compression = &ws.DeflateConfig{}
						extra = "Sec-WebSocket-Extensions: permessage-deflate\r\n"
					}
					s, shutdown := conformanceRoutesShutdown(t, h)
					cl := tr.dial(t, s, extra)
					servertest.Write(t, cl.conn, string(tc.send))
					for _, w := range tc.want {
						if err := cl.expect(w); err != nil {
							t.Fatal(err)
						}
					}
					serverClose := closeWith(4001)
					if tc.drain {
						shutdown()
						serverClose = closeWith(ws.StatusGoingAway)
					}
					if err := cl.expect(serverClose); err != nil {
						t.Fatal(err)
					}
					if len(tc.after) > 0 {
						servertest.Write(t, cl.conn, string(tc.after))
					}
					servertest.ExpectClosed(t, cl.br)
					_ = cl.conn.Close() // the server shut its side first and waits for this end before OnClose
					select {
					case got := <-onClose:
						if got != (closed{tc.code, tc.reason}) {
							t.Fatalf("OnClose got %d %q, want %d %q", got.code, got.reason, tc.code, tc.reason)
						}
					case <-time.After(10 * time.Second):
						t.Fatal("OnClose not called")
					}
				})
			}
		})
	}
}

// What the client sends after the server's close is discarded as it arrives: no message
// is assembled from it, and a message in progress when the server closed lets go of its
// fragments then, so a peer that goes on sending until CloseTimeout holds no memory.
func TestDataAfterServerCloseIsNotBuffered(t *testing.T) {
	f := newDriven(t, false)
	f.w.rt.OnPing = func(c *Conn, _ []byte) { c.Close(4001, "") }
	big := binaryOf(64 << 10)
	f.d.Record(true)
	if f.d.Feed(frag(ws.OpBinary, false, big)) || f.w.asm == nil {
		t.Fatal("the first fragment did not start a message")
	}
	for i, in := range [][]byte{
		ping(nil), // the server closes inside the message
		frag(ws.OpContinuation, false, big), frag(ws.OpContinuation, true, big),
		frag(ws.OpText, false, big), frag(ws.OpContinuation, false, big),
	} {
		if f.d.Feed(in) {
			t.Fatalf("frame %d after the server's close ended the connection", i)
		}
		if f.w.asm != nil || f.d.Buffered() != 0 {
			t.Fatalf("frame %d: the connection holds an assembler (%v) or %d bytes of input after the server's close", i, f.w.asm != nil, f.d.Buffered())
		}
	}
	if !f.d.Feed(closeFrame(4001, "")) {
		t.Fatal("the client's close did not end the connection")
	}
	want := cat(ws.AppendFrame(nil, true, ws.OpPong, false, nil), ws.AppendFrame(nil, true, ws.OpClose, false, closePayload(4001)))
	if out := f.d.Output(); !bytes.Equal(out, want) {
		t.Fatalf("the server wrote %q, want the pong and its close %q", out, want)
	}
}

// No data frame after the close frame (RFC 6455 §5.5.1: "The application MUST NOT send any
// more data frames after sending a Close frame"): once the server has queued its close,
// in answer to the peer's, on a protocol error or on its own, WriteAsync (and Write on a
// worker-pool route, which is WriteAsync) returns ErrClosed. The close waits behind output
// the client has not read yet, so a write accepted then would follow it on the wire.
func TestWriteAfterCloseFrameIsRefused(t *testing.T) {
	for _, tc := range []struct {
		name    string
		pool    bool   // Handler.UseWorkerPool: the write is Write from another goroutine
		trigger []byte // the client's frames that make the server queue its close
		close   ws.StatusCode
	}{
		{name: "WriteAsync after the peer's close", trigger: closeFrame(1000, "bye"), close: 1000},
		{name: "WriteAsync after a protocol error", trigger: frag(ws.OpContinuation, true, []byte("x")), close: ws.StatusProtocolError},
		{name: "WriteAsync after the handler's Close", trigger: text("close me"), close: 4001},
		{name: "Write on a worker-pool route after the peer's close", pool: true, trigger: closeFrame(1000, "bye"), close: 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, tr := range transports {
				t.Run(tr.name, func(t *testing.T) {
					conns := make(chan *Conn, 1)
					h := Handler{
						SendBudget:    256 << 20,
						UseWorkerPool: tc.pool,
						OnOpen:        func(c *Conn) { conns <- c },
						OnMessage: func(c *Conn, m Message) {
							if string(m.Payload) == "close me" {
								c.Close(4001, "asked to")
							}
						},
					}
					s, _, _ := runServer(t, server.Config{SendBudget: 256 << 20}, func(s *server.Server) {
						s.Upgrade(http2.New(http2.Config{}))
						s.Route("/ws", server.Route{RequireUpgrade: true, Upgraders: []server.Upgrader{New(h)}})
					})
					cl := tr.dial(t, s, "")
					w := <-conns
					write := w.WriteAsync
					if tc.pool {
						write = w.Write
					}
					// Output the client does not read yet, more than the socket's buffers
					// or the stream's window take: the server's close waits behind it.
					chunk := repeat('d', 64<<10)
					const chunks = 256
					for range chunks {
						if err := write(OpBinary, chunk); err != nil {
							t.Fatalf("write before the close: %v", err)
						}
					}
					// The writes have left WriteAsync's queue for the connection's output:
					// the close is queued behind them.
					servertest.Eventually(t, "the writes reach the connection's output", func() bool { return w.queued.Load() == 0 })
					servertest.Write(t, cl.conn, string(tc.trigger))
					servertest.Eventually(t, "the server queues its close frame", func() bool {
						queued := make(chan bool, 1)
						if w.c.Execute(func(*server.Conn) { queued <- w.state >= stateCloseSent }) != nil {
							return true // the connection is gone
						}
						select {
						case q := <-queued:
							return q
						case <-time.After(time.Second): // the connection closed: Execute skipped it
							return true
						}
					})
					late := write(OpText, []byte("after close"))
					_ = cl.conn.SetDeadline(time.Now().Add(20 * time.Second))
					for i := range chunks {
						if err := cl.expect(echo(ws.OpBinary, chunk)); err != nil {
							t.Fatalf("data frame %d: %v", i, err)
						}
					}
					if err := cl.expect(closeWith(tc.close)); err != nil {
						t.Fatal(err)
					}
					if tc.close == 4001 {
						servertest.Write(t, cl.conn, string(closeFrame(4001, "")))
					}
					if _, err := cl.br.Peek(1); err == nil {
						f, _ := readServerFrame(cl.br)
						t.Fatalf("a data frame after the close frame: op %v %q (the write returned %v)", f.op, f.payload, late)
					}
					servertest.ExpectClosed(t, cl.br)
					if late != ErrClosed {
						t.Fatalf("a write after the server's close frame was queued returned %v, want ErrClosed", late)
					}
				})
			}
		})
	}
}

// A WriteAsync that another goroutine makes while the server closes on its own is sent
// before the close frame or not at all (RFC 6455 §5.5.1): one that passed WriteAsync's
// check just before the close was queued is dropped on the loop, not written after the
// close frame. The writer races the close on every connection; without the loop's check
// the first connection already showed a data frame after the close, run after run.
func TestWriteAsyncRacingTheCloseNeverFollowsIt(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			conns := make(chan *Conn, 1)
			h := Handler{
				OnOpen: func(c *Conn) { conns <- c },
				OnMessage: func(c *Conn, m Message) {
					if string(m.Payload) == "close me" {
						c.Close(4001, "asked to")
					}
				},
			}
			s, _, _ := runServer(t, server.Config{}, func(s *server.Server) {
				s.Upgrade(http2.New(http2.Config{}))
				s.Route("/ws", server.Route{RequireUpgrade: true, Upgraders: []server.Upgrader{New(h)}})
			})
			for i := range 8 {
				cl := tr.dial(t, s, "")
				w := <-conns
				writerDone := make(chan struct{})
				go func() {
					defer close(writerDone)
					for w.WriteAsync(OpText, []byte("racing")) != ErrClosed {
					}
				}()
				servertest.Write(t, cl.conn, string(text("close me")))
				_ = cl.conn.SetDeadline(time.Now().Add(20 * time.Second))
				for {
					f, err := readServerFrame(cl.br)
					if err != nil {
						t.Fatalf("connection %d: no close frame: %v", i, err)
					}
					if f.op == ws.OpClose {
						break
					}
					if f.op != ws.OpText || string(f.payload) != "racing" {
						t.Fatalf("connection %d: frame %v %q before the close", i, f.op, f.payload)
					}
				}
				servertest.Write(t, cl.conn, string(closeFrame(4001, "")))
				if f, err := readServerFrame(cl.br); err == nil {
					t.Fatalf("connection %d: a frame after the close frame: op %v %q", i, f.op, f.payload)
				}
				<-writerDone
				cl.conn.Close()
			}
		})
	}
}

// The server's close carries only what RFC 6455 lets a close frame carry, whatever code
// and reason the handler passes: codes that are never sent (§7.4.1: 1005, 1006, 1015;
// §7.4.2: 0-999, 1016-2999) give a close without a code, so without a reason (§5.5.1),
// and a reason is cut before a byte that is not UTF-8, which the peer would fail with
// 1007 (§8.1).
func TestServerCloseCodeAndReasonAreSendable(t *testing.T) {
	s := conformanceServer(t, Handler{OnMessage: func(c *Conn, m Message) {
		code, reason, _ := strings.Cut(string(m.Payload), " ")
		n, _ := strconv.Atoi(code)
		c.Close(StatusCode(n), reason)
	}})
	cases := []struct {
		ask  string
		want []byte // the close frame's payload
	}{
		{"4001 asked to", append(closePayload(4001), "asked to"...)},
		{"1000 ok\xffrest", append(closePayload(1000), "ok"...)},
		{"1006 x", nil},
		{"1005 x", nil},
		{"1015 x", nil},
		{"0 x", nil},
		{"2999 x", nil},
	}
	for _, tc := range cases {
		t.Run(tc.ask, func(t *testing.T) {
			cl := transports[0].dial(t, s, "")
			servertest.Write(t, cl.conn, string(msg(ws.OpBinary, []byte(tc.ask))))
			f, err := readServerFrame(cl.br)
			if err != nil || f.op != ws.OpClose || !bytes.Equal(f.payload, tc.want) {
				t.Fatalf("got op %v payload %q (%v), want a close with %q", f.op, f.payload, err, tc.want)
			}
			if _, _, perr := ws.ParseClose(f.payload); perr != nil {
				t.Fatalf("a peer refuses the close payload %q: %v", f.payload, perr)
			}
		})
	}
}
