package bench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/switchyard-dev/switchyard/frame/h2"
	"golang.org/x/net/http2/hpack"
)

// fakeRFC8441 is a minimal RFC 8441 echo server for testing the client on its own: a
// goroutine per connection, SETTINGS with ENABLE_CONNECT_PROTOCOL when advertise, 200 to
// every HEADERS, WebSocket frames on a stream echoed unmasked (a close answered with a
// close), END_STREAM answered with END_STREAM, the windows given back as DATA is read.
func fakeRFC8441(t *testing.T, advertise bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				_ = c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			wg.Add(1)
			go func() { defer wg.Done(); serveFakeRFC8441(c, advertise) }()
		}
	}()
	return ln.Addr().String()
}

func serveFakeRFC8441(c net.Conn, advertise bool) {
	defer c.Close()
	br := bufio.NewReader(c)
	pre := make([]byte, len(h2.ClientPreface))
	if _, err := io.ReadFull(br, pre); err != nil {
		return
	}
	settings := []h2.Setting{{ID: h2.SettingMaxConcurrentStreams, Val: 100}}
	if advertise {
		settings = append(settings, h2.Setting{ID: h2.SettingEnableConnectProtocol, Val: 1})
	}
	bw := bufio.NewWriter(c)
	_, _ = bw.Write(h2.AppendSettings(nil, settings...))
	_ = bw.Flush()
	pending := map[uint32][]byte{}
	buf := make([]byte, 0, 1<<14)
	for {
		f, err := readFrameFrom(br, &buf)
		if err != nil {
			return
		}
		var out []byte
		switch f.Type {
		case h2.FrameSettings:
			if !f.IsAck() {
				out = h2.AppendSettingsAck(out)
			}
		case h2.FrameHeaders:
			out = h2.AppendHeaders(out, f.StreamID, []byte{0x88}, false, h2.MinMaxFrameSize)
		case h2.FrameRSTStream:
			delete(pending, f.StreamID)
		case h2.FrameData:
			if f.Length > 0 {
				out = h2.AppendWindowUpdate(h2.AppendWindowUpdate(out, 0, f.Length), f.StreamID, f.Length)
			}
			in := append(pending[f.StreamID], f.Data()...)
			for {
				h, n, err := decodeMaskedHeader(in)
				if err != nil || int64(len(in)-n) < h.Length {
					break
				}
				payload := append([]byte(nil), in[n:n+int(h.Length)]...)
				ws.Cipher(payload, h.Mask, 0)
				in = in[n+int(h.Length):]
				out = h2.AppendData(out, f.StreamID, unmaskedFrame(h.OpCode, payload), false)
			}
			pending[f.StreamID] = append([]byte(nil), in...)
			if f.EndStream() { // the client's close: the server ends its side too (RFC 8441 §5)
				out = h2.AppendData(out, f.StreamID, nil, true)
				delete(pending, f.StreamID)
			}
		}
		if len(out) > 0 {
			_, _ = bw.Write(out)
			if br.Buffered() == 0 {
				if bw.Flush() != nil {
					return
				}
			}
		} else if br.Buffered() == 0 && bw.Flush() != nil {
			return
		}
	}
}

func readFrameFrom(r io.Reader, buf *[]byte) (h2.Frame, error) {
	b := (*buf)[:h2.FrameHeaderLen]
	if _, err := io.ReadFull(r, b); err != nil {
		return h2.Frame{}, err
	}
	fh, _ := h2.DecodeFrameHeader(b)
	if n := h2.FrameHeaderLen + int(fh.Length); cap(*buf) < n {
		*buf = append(make([]byte, 0, n), b...)
	}
	b = (*buf)[:h2.FrameHeaderLen+int(fh.Length)]
	if _, err := io.ReadFull(r, b[h2.FrameHeaderLen:]); err != nil {
		return h2.Frame{}, err
	}
	f, _, err := h2.ReadFrame(b, h2.MinMaxFrameSize)
	return f, err
}

// decodeMaskedHeader reads a client frame header (gobwas/ws over a byte slice).
func decodeMaskedHeader(b []byte) (ws.Header, int, error) {
	r := bytes.NewReader(b)
	h, err := ws.ReadHeader(r)
	if err != nil {
		return h, 0, err
	}
	return h, len(b) - r.Len(), nil
}

// The RFC 8441 scenarios end to end, short, no rate asserted: against the fake server
// (the client on its own) and against switchyard in-process (BenchRoutes: /echo and
// HTTP/2): messages and opens flow, without errors.
func TestWSH2Smoke(t *testing.T) {
	servers := []struct {
		name string
		addr func(t *testing.T) string
	}{
		{"fake", func(t *testing.T) string { return fakeRFC8441(t, true) }},
		{"switchyard", startSwitchyard},
	}
	for _, s := range servers {
		t.Run(s.name+"/ws-over-h2", func(t *testing.T) {
			const want = 300
			live := &Live{}
			p := WSH2Params{Conns: 3, Streams: 30, Size: 64, Duration: hangGuard, Warmup: 10 * time.Millisecond}
			m, err := RunWSH2Echo(runUntil(t, func() bool { return live.load() >= want }), s.addr(t), 0, p, nil, live)
			if err != nil {
				t.Fatal(err)
			}
			if m.Conns != 30 || m.Ops < want || m.Errors != 0 || m.Latency.N < m.Ops || m.Latency.P50 <= 0 {
				t.Fatalf("%d WebSockets, %d echoes, %d errors (%s), latency %+v; note %q", m.Conns, m.Ops, m.Errors, m.ErrorSample, m.Latency, m.Note)
			}
			t.Logf("%d echoes, p50 %.0fµs p99 %.0fµs; %s", m.Ops, m.Latency.P50, m.Latency.P99, m.Note)
		})
		t.Run(s.name+"/ws-h2-open", func(t *testing.T) {
			const want = 300
			live := &Live{}
			p := WSH2Params{Conns: 2, InFlight: 8, Duration: hangGuard, Warmup: 10 * time.Millisecond}
			m, err := RunWSH2Open(runUntil(t, func() bool { return live.load() >= want }), s.addr(t), 0, p, nil, live)
			if err != nil {
				t.Fatal(err)
			}
			if m.Conns != 2 || m.Ops < want || m.Errors != 0 || m.Latency.N < m.Ops {
				t.Fatalf("%d connections, %d opens, %d errors (%s); note %q", m.Conns, m.Ops, m.Errors, m.ErrorSample, m.Note)
			}
			t.Logf("%d opens, p50 %.0fµs p99 %.0fµs; %s", m.Ops, m.Latency.P50, m.Latency.P99, m.Note)
		})
	}
}

// A server without SETTINGS_ENABLE_CONNECT_PROTOCOL gets no extended CONNECT (RFC 8441
// §3): both scenarios end at once with the n/a error the report shows.
func TestWSH2NotAdvertisedIsNA(t *testing.T) {
	addr := fakeRFC8441(t, false)
	p := WSH2Params{Conns: 2, Streams: 4, Duration: time.Millisecond}
	for name, run := range map[string]func() (Metrics, error){
		"echo": func() (Metrics, error) { return RunWSH2Echo(t.Context(), addr, 0, p, nil, nil) },
		"open": func() (Metrics, error) { return RunWSH2Open(t.Context(), addr, 0, p, nil, nil) },
	} {
		_, err := run()
		if !errors.Is(err, errNoRFC8441) || !strings.HasPrefix(err.Error(), "n/a") {
			t.Errorf("%s: %v, want errNoRFC8441", name, err)
		}
	}
}

// The client's hot paths allocate nothing: an echo read and the next message queued; a
// CONNECT queued, its 200 read, the close queued, the server's close and END_STREAM read.
func TestWSH2ClientAllocs(t *testing.T) {
	payload := payloadFor(64)
	expect := unmaskedFrame(ws.OpBinary, payload)
	st, err := newEchoState(2, payload, expect)
	if err != nil {
		t.Fatal(err)
	}
	echoes := 0
	st.onEcho = func(now, sentAt int64) bool { echoes++; return true }
	st.fail = func(err error) { t.Fatal(err) }
	st.sendWin, st.streams[1].sendWin = 1<<40, 1<<40
	cc := &clientConn{}
	in := h2.AppendData(nil, 3, expect, false)
	allocs := testing.AllocsPerRun(1000, func() {
		st.send(cc, 1, 1)
		cc.out = cc.out[:0]
		if used, closeNow := st.onEchoData(cc, 2, in); used != len(in) || closeNow {
			t.Fatalf("used %d of %d, close %v", used, len(in), closeNow)
		}
		cc.out = cc.out[:0]
	})
	if allocs != 0 || echoes < 1000 {
		t.Errorf("echo: %.1f allocations per message, %d echoes", allocs, echoes)
	}

	op := newOpenState()
	op.connect, op.sendWin = []byte{0x82}, 1<<40
	op.onOpen = func(now, sentAt int64) {}
	op.again = func() bool { return false } // the test queues each CONNECT itself
	op.fail = func(err error) { t.Fatal(err) }
	resp := make([]byte, 0, 64)
	closeFrame := unmaskedFrame(ws.OpClose, []byte{0x03, 0xe8})
	allocs = testing.AllocsPerRun(1000, func() {
		id := op.nextID
		if err := op.openNext(cc, 1); err != nil {
			t.Fatal(err)
		}
		resp = h2.AppendHeaders(resp[:0], id, []byte{0x88}, false, h2.MinMaxFrameSize)
		resp = h2.AppendData(resp, id, closeFrame, true)
		if used, closeNow := op.onOpenData(cc, 2, resp); used != len(resp) || closeNow {
			t.Fatalf("used %d of %d, close %v", used, len(resp), closeNow)
		}
		cc.out = cc.out[:0]
	})
	if allocs != 0 || op.inFlight != 0 {
		t.Errorf("open: %.1f allocations per open, %d streams not ended", allocs, op.inFlight)
	}
}

// A stream whose message does not fit the server's windows waits, in order, for a
// WINDOW_UPDATE (RFC 9113 §6.9): the client never sends past a window.
func TestWSH2FlowControlParksStreams(t *testing.T) {
	payload := payloadFor(64)
	st, err := newEchoState(3, payload, unmaskedFrame(ws.OpBinary, payload))
	if err != nil {
		t.Fatal(err)
	}
	st.fail = func(err error) { t.Fatal(err) }
	n := int64(len(st.streams[0].msg) - h2.FrameHeaderLen)
	st.sendWin = n // room for one message on the connection
	cc := &clientConn{}
	for i := range st.streams {
		st.send(cc, i, 0)
	}
	if len(cc.out) != len(st.streams[0].msg) || len(st.waiting) != 2 || st.sendWin != 0 {
		t.Fatalf("sent %d bytes, %d parked, window %d; want one message sent, two parked", len(cc.out), len(st.waiting), st.sendWin)
	}
	cc.out = cc.out[:0]
	upd := h2.AppendWindowUpdate(nil, 0, uint32(n))
	st.onEchoData(cc, 1, upd)
	if len(cc.out) != len(st.streams[1].msg) || !bytes.Equal(cc.out, st.streams[1].msg) || len(st.waiting) != 1 || st.waiting[0] != 2 {
		t.Fatalf("after a WINDOW_UPDATE of one message: sent %d bytes, parked %v; want stream 3's message, stream 5 still parked", len(cc.out), st.waiting)
	}
}

// FuzzWSH2ClientData feeds arbitrary server bytes to both RFC 8441 client parsers: they
// must not panic, must not claim more bytes than they got, and must keep their windows
// and counts sane.
func FuzzWSH2ClientData(f *testing.F) {
	payload := payloadFor(64)
	expect := unmaskedFrame(ws.OpBinary, payload)
	closeFrame := unmaskedFrame(ws.OpClose, []byte{0x03, 0xe8})
	f.Add(h2.AppendData(nil, 1, expect, false))
	f.Add(h2.AppendData(nil, 3, expect[:10], false))
	f.Add(append(h2.AppendHeaders(nil, 1, []byte{0x88}, false, h2.MinMaxFrameSize), h2.AppendData(nil, 1, closeFrame, true)...))
	f.Add(h2.AppendHeaders(nil, 3, []byte{0x8d}, true, h2.MinMaxFrameSize))
	f.Add(h2.AppendSettings(nil, h2.Setting{ID: h2.SettingInitialWindowSize, Val: 1}, h2.Setting{ID: h2.SettingEnableConnectProtocol, Val: 1}))
	f.Add(h2.AppendWindowUpdate(h2.AppendPing(nil, false, [8]byte{1}), 1, 100))
	f.Add(h2.AppendRSTStream(nil, 1, h2.ErrCodeCancel))
	f.Add(h2.AppendGoAway(nil, 0, h2.ErrCodeEnhanceYourCalm, []byte("calm")))
	f.Add([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := newEchoState(2, payload, expect)
		if err != nil {
			t.Fatal(err)
		}
		st.onEcho = func(now, sentAt int64) bool { return true }
		st.fail = func(error) {}
		cc := &clientConn{}
		st.send(cc, 0, 0)
		st.send(cc, 1, 0)
		if used, _ := st.onEchoData(cc, 1, data); used < 0 || used > len(data) {
			t.Fatalf("echo: used %d of %d", used, len(data))
		}
		for _, s := range st.streams {
			if s.got < 0 || s.got > len(s.rx) {
				t.Fatalf("stream %d: %d of %d echo bytes", s.id, s.got, len(s.rx))
			}
		}

		op := newOpenState()
		op.connect, op.sendWin = []byte{0x82}, 65535
		op.onOpen, op.again, op.fail = func(now, sentAt int64) {}, func() bool { return true }, func(error) {}
		for range 2 {
			if err := op.openNext(cc, 0); err != nil {
				t.Fatal(err)
			}
		}
		if used, _ := op.onOpenData(cc, 1, data); used < 0 || used > len(data) {
			t.Fatalf("open: used %d of %d", used, len(data))
		}
		if op.inFlight < 0 || op.inFlight > 2 {
			t.Fatalf("open: %d streams in flight, at most 2", op.inFlight)
		}
	})
}

// Issue 17's bars read switchyard's rows of the RFC 8441 scenarios against its own
// HTTP/1.1 rows, and name the peers that are n/a.
func TestRFC8441Bars(t *testing.T) {
	na := "n/a: the server does not advertise SETTINGS_ENABLE_CONNECT_PROTOCOL (no RFC 8441)"
	r := &Report{Summaries: []Summary{
		{Scenario: wsh2OpenName, Server: "switchyard", Runs: 3, Rate: 60000, ServerUsPer: 15},
		{Scenario: wsh2OpenName, Server: "h2c", Runs: 3, Failed: 3, ErrorSample: na},
		{Scenario: h1UpgradeName, Server: "switchyard", Runs: 3, Rate: 10000, ServerUsPer: 30},
		{Scenario: wsh2EchoName, Server: "switchyard", Runs: 3, Rate: 100000, ServerUsPer: 8},
		{Scenario: h1EchoName, Server: "switchyard", Runs: 3, Rate: 100000, ServerUsPer: 5},
	}}
	bars := rfc8441Bars(r)
	if len(bars) != 2 {
		t.Fatalf("%d bars", len(bars))
	}
	open, echo := bars[0], bars[1]
	if !open.Checked || !open.Met || !strings.Contains(open.Got, "6.00×") || !strings.Contains(open.Got, "h2c n/a") {
		t.Errorf("open bar %+v: want met at 6× with h2c n/a", open)
	}
	if !echo.Checked || echo.Met || !strings.Contains(echo.Got, "1.60×") {
		t.Errorf("echo bar %+v: want missed at 1.6×", echo)
	}
	r.Summaries[2].ServerUsPer = 10 // opens now cost more than upgrades
	if b := rfc8441Bars(r)[0]; b.Met {
		t.Errorf("open bar met though an open costs more server CPU than an upgrade: %+v", b)
	}
	if b := rfc8441Bars(&Report{})[1]; b.Checked || b.Got != "not measured" {
		t.Errorf("no runs: %+v", b)
	}
}

// After a connection's first extended CONNECT, each is six indexed fields, a byte each
// (RFC 7541 §6.1), which decode to the same request.
func TestWSH2ConnectBlocks(t *testing.T) {
	d := newH2WSDialer("127.0.0.1:8080", "/echo", nil)
	if len(d.connect) != 6 {
		t.Fatalf("later block %x: %d bytes, want 6", d.connect, len(d.connect))
	}
	for _, b := range d.connect {
		if b&0x80 == 0 {
			t.Fatalf("later block %x: not all indexed fields", d.connect)
		}
	}
	dec := hpack.NewDecoder(4096, nil)
	first, err := dec.DecodeFull(d.connectFirst)
	if err != nil {
		t.Fatal(err)
	}
	later, err := dec.DecodeFull(d.connect)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 6 || fmt.Sprint(first) != fmt.Sprint(later) || first[1].Name != ":protocol" || first[1].Value != "websocket" {
		t.Fatalf("first %v, later %v", first, later)
	}
}
