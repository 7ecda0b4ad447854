package http2

import (
	"bytes"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/frame/h2"
	"github.com/switchyard-dev/switchyard/parser"
	"github.com/switchyard-dev/switchyard/server"
)

// h2Dial opens an HTTP/2 connection with prior knowledge to a server with cfg.
func h2Dial(t *testing.T, cfg server.Config, h2cfg Config) *h2Client {
	t.Helper()
	return h2DialWith(t, cfg, h2cfg, nil)
}

// h2DialWith is h2Dial with the routes setup adds.
func h2DialWith(t *testing.T, cfg server.Config, h2cfg Config, setup func(*server.Server)) *h2Client {
	t.Helper()
	cfg.Logger = discard
	s := startServer(t, cfg, func(s *server.Server) {
		routes(s)
		s.Route("/goaway", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) {
			r.Conn().Protocol().(*h2Conn).Drain(r.Conn())
			_, _ = w.WriteString("going away")
		}})
		if setup != nil {
			setup(s)
		}
		s.Upgrade(New(h2cfg))
	})
	c := dial(t, s)
	cl := newH2Client(t, c, bufioReader(c))
	cl.write(clientPreface())
	return cl
}

// The defences of RFC 9113 §10.5 end an abusive connection with GOAWAY
// ENHANCE_YOUR_CALM, after the frames that are legal one by one but not in bulk.
func TestH2DefencesEndAbusiveConnections(t *testing.T) {
	getBlock := func(cl *h2Client) []byte {
		return cl.headers(":method", "POST", ":scheme", "http", ":path", "/echo", ":authority", "x")
	}
	// openEach opens 150 streams, each followed by what then(id) appends.
	openEach := func(cl *h2Client, then func(b []byte, id uint32) []byte) []byte {
		var b []byte
		for i := uint32(0); i < 150; i++ {
			id := 1 + 2*i
			b = then(h2.AppendHeaders(b, id, getBlock(cl), false, 0), id)
		}
		return b
	}
	cases := []struct {
		name  string
		h2cfg Config
		flood func(cl *h2Client) []byte
	}{
		{"HEADERS past MAX_CONCURRENT_STREAMS, each refused (§5.1.2)", Config{MaxConcurrentStreams: 1, MaxControlFrames: 100}, func(cl *h2Client) []byte {
			b := h2.AppendHeaders(nil, 1, getBlock(cl), false, 0) // open: its body is owed
			for i := uint32(1); i <= 200; i++ {
				b = h2.AppendHeaders(b, 1+2*i, getBlock(cl), true, 0)
			}
			return b
		}},
		{"rapid reset: streams opened and cancelled at once (CVE-2023-44487)", Config{}, func(cl *h2Client) []byte {
			return openEach(cl, func(b []byte, id uint32) []byte { return h2.AppendRSTStream(b, id, h2.ErrCodeCancel) })
		}},
		// MadeYouReset (CVE-2025-8671): the client makes the server reset each stream with
		// a frame that is a stream error (RFC 9113 §5.4.2); those resets share the budget.
		{"MadeYouReset: WINDOW_UPDATE of 0 on each stream, RST_STREAM PROTOCOL_ERROR (§6.9)", Config{}, func(cl *h2Client) []byte {
			return openEach(cl, func(b []byte, id uint32) []byte { return h2.AppendWindowUpdate(b, id, 0) })
		}},
		{"MadeYouReset: DATA on each half-closed (remote) stream, RST_STREAM STREAM_CLOSED (§5.1)", Config{}, func(cl *h2Client) []byte {
			// A zero window keeps each stream half-closed while its response waits.
			b := h2.AppendSettings(nil, h2.Setting{ID: h2.SettingInitialWindowSize, Val: 0})
			for i := uint32(0); i < 150; i++ {
				id := 1 + 2*i
				b = cl.request(b, id, "GET", "/", nil)
				b = h2.AppendData(b, id, []byte("x"), false)
			}
			return b
		}},
		{"MadeYouReset: PRIORITY of 4 octets on each stream, RST_STREAM FRAME_SIZE_ERROR (§6.3)", Config{}, func(cl *h2Client) []byte {
			return openEach(cl, func(b []byte, id uint32) []byte {
				return append(h2.AppendFrameHeader(b, h2.FrameHeader{Length: 4, Type: h2.FramePriority, StreamID: id}), 0, 0, 0, 0)
			})
		}},
		{"PING flood (CVE-2019-9512)", Config{MaxControlFrames: 100}, func(cl *h2Client) []byte {
			var b []byte
			for i := 0; i < 200; i++ {
				b = h2.AppendPing(b, false, [8]byte{byte(i)})
			}
			return b
		}},
		{"SETTINGS flood (CVE-2019-9515)", Config{MaxControlFrames: 100}, func(cl *h2Client) []byte {
			var b []byte
			for i := 0; i < 200; i++ {
				b = h2.AppendSettings(b)
			}
			return b
		}},
		{"empty DATA flood (CVE-2019-9518)", Config{MaxControlFrames: 100}, func(cl *h2Client) []byte {
			b := h2.AppendHeaders(nil, 1, getBlock(cl), false, 0)
			for i := 0; i < 200; i++ {
				b = h2.AppendData(b, 1, nil, false)
			}
			return b
		}},
		{"HEADERS flood on a stream the server reset (ignored, §5.1)", Config{MaxControlFrames: 100}, func(cl *h2Client) []byte {
			b := h2.AppendHeaders(nil, 1, cl.headers(":method", "POST", ":scheme", "http", ":path", "/echo", ":authority", "x", "content-length", "3"), false, 0)
			b = h2.AppendData(b, 1, []byte("abcdef"), false) // more than content-length: RST_STREAM
			for i := 0; i < 200; i++ {
				b = h2.AppendHeaders(b, 1, cl.headers("x-trailer", "1"), true, 0)
			}
			return b
		}},
		{"HEADERS flood of new streams after GOAWAY (ignored, §6.8)", Config{MaxControlFrames: 100}, func(cl *h2Client) []byte {
			b := h2.AppendHeaders(nil, 1, getBlock(cl), false, 0) // stays open, so the connection does
			b = cl.request(b, 3, "GET", "/goaway", nil)
			for i := uint32(0); i < 200; i++ {
				b = cl.request(b, 5+2*i, "GET", "/", nil)
			}
			return b
		}},
		{"CONTINUATION flood (CVE-2024-27316)", Config{}, func(cl *h2Client) []byte {
			block := getBlock(cl)
			b := h2.AppendFrameHeader(nil, h2.FrameHeader{Length: uint32(len(block)), Type: h2.FrameHeaders, StreamID: 1})
			b = append(b, block...)
			for i := 0; i < 300; i++ {
				b = h2.AppendFrameHeader(b, h2.FrameHeader{Type: h2.FrameContinuation, StreamID: 1})
			}
			return b
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cl := h2Dial(t, server.Config{}, tc.h2cfg)
			cl.write(tc.flood(cl))
			fs, _ := cl.readFrames(5*time.Second, func(f h2frame) bool {
				return f.Type == h2.FrameGoAway && f.ErrCode() == h2.ErrCodeEnhanceYourCalm
			})
			if len(fs) == 0 || fs[len(fs)-1].Type != h2.FrameGoAway || fs[len(fs)-1].ErrCode() != h2.ErrCodeEnhanceYourCalm {
				t.Fatalf("want GOAWAY ENHANCE_YOUR_CALM, got %s", describe(fs))
			}
			if _, closed := cl.readFrames(5*time.Second, nil); !closed {
				t.Fatal("the connection stayed open after GOAWAY ENHANCE_YOUR_CALM")
			}
		})
	}
}

// overListSize is a request header block for method and path whose fields each fit a
// MaxHeaderListSize of 1024, but whose list does not.
func (cl *h2Client) overListSize(method, path string) []byte {
	fields := []string{":method", method, ":scheme", "http", ":path", path, ":authority", "x"}
	for i := range 10 {
		fields = append(fields, "x-big"+strings.Repeat("i", i), strings.Repeat("a", 200))
	}
	return cl.headers(fields...)
}

// Limits answered per stream while the connection goes on: an oversized header list gets
// 431 (RFC 9113 §10.5.1, RFC 6585 §5), an oversized body 413 followed by RST_STREAM
// NO_ERROR (RFC 9113 §8.1), and a stream past MAX_CONCURRENT_STREAMS REFUSED_STREAM
// (RFC 9113 §5.1.2).
func TestH2StreamLimits(t *testing.T) {
	t.Run("header list too large: 431 (RFC 9113 §10.5.1)", func(t *testing.T) {
		cl := h2Dial(t, server.Config{}, Config{MaxHeaderListSize: 1024})
		cl.write(h2.AppendHeaders(nil, 1, cl.overListSize("GET", "/"), true, 0))
		cl.write(cl.request(nil, 3, "GET", "/", nil))
		ev := cl.readUntil(1, 3)
		if r := ev.streams[1]; r.status != "431" {
			t.Fatalf("stream 1: %+v, want 431", r)
		}
		if r := ev.streams[3]; r.status != "200" {
			t.Fatalf("the connection did not go on: stream 3 %+v", r)
		}
	})
	t.Run("body too large: 413 then RST_STREAM NO_ERROR (RFC 9113 §8.1)", func(t *testing.T) {
		cl := h2Dial(t, server.Config{Limits: parser.Limits{MaxBodyBytes: 1000}}, Config{})
		cl.write(cl.request(nil, 1, "POST", "/echo", bytes.Repeat([]byte("b"), 2000)))
		ev := cl.readUntil(1)
		if r := ev.streams[1]; r.status != "413" {
			t.Fatalf("stream 1: %+v, want 413", r)
		}
		if f, ok := cl.readFrame(); !ok || f.Type != h2.FrameRSTStream || f.ErrCode() != h2.ErrCodeNo {
			t.Fatalf("want RST_STREAM NO_ERROR after the 413, got %v", f.FrameHeader)
		}
	})
	t.Run("streams past MAX_CONCURRENT_STREAMS are refused (RFC 9113 §5.1.2)", func(t *testing.T) {
		cl := h2Dial(t, server.Config{}, Config{MaxConcurrentStreams: 2})
		// A zero window keeps the first two responses, and so their streams, open.
		b := h2.AppendSettings(nil, h2.Setting{ID: h2.SettingInitialWindowSize, Val: 0})
		for _, id := range []uint32{1, 3, 5} {
			b = cl.request(b, id, "GET", "/", nil)
		}
		cl.write(b)
		ev := cl.readUntil(5)
		if r := ev.streams[5]; !r.isReset || r.rst != h2.ErrCodeRefusedStream {
			t.Fatalf("stream 5: %+v, want RST_STREAM REFUSED_STREAM", r)
		}
		cl.write(h2.AppendSettings(nil, h2.Setting{ID: h2.SettingInitialWindowSize, Val: 65535}))
		ev = cl.readUntil(1, 3)
		for _, id := range []uint32{1, 3} {
			if r := ev.streams[id]; r.status != "200" || len(r.body) == 0 {
				t.Fatalf("stream %d did not resume once the window opened (RFC 9113 §6.9.2): %+v", id, r)
			}
		}
	})
}

// countRoute adds /count, which answers with what it got and counts its calls.
func countRoute(calls *atomic.Int32) func(*server.Server) {
	return func(s *server.Server) {
		s.Route("/count", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) {
			calls.Add(1)
			_, _ = w.WriteString("got " + strconv.Itoa(len(r.Body)) + " bytes")
		}})
	}
}

// RFC 9113 §5.1 "closed": after the server resets a stream, the frames the client had
// already sent on it (here the trailers ending the request) are processed only as far as
// HPACK needs and then discarded; they must not end the connection (they ended it with
// GOAWAY STREAM_CLOSED).
func TestH2HeadersOnAStreamTheServerResetAreIgnored(t *testing.T) {
	cases := []struct {
		name string
		cfg  server.Config
		body []byte // more than content-length or MaxBodyBytes allows
		cl   []string
	}{
		{"reset for content-length mismatch (§8.1.1)", server.Config{}, []byte("abcdef"), []string{"content-length", "3"}},
		{"413 then RST_STREAM NO_ERROR (§8.1)", server.Config{Limits: parser.Limits{MaxBodyBytes: 1000}}, bytes.Repeat([]byte("b"), 2000), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cl := h2Dial(t, tc.cfg, Config{})
			fields := append([]string{":method", "POST", ":scheme", "http", ":path", "/echo", ":authority", "x"}, tc.cl...)
			b := h2.AppendHeaders(nil, 1, cl.headers(fields...), false, 0)
			b = h2.AppendData(b, 1, tc.body, false)
			// A trailer field new to the HPACK dynamic table, which stream 3 then refers to.
			b = h2.AppendHeaders(b, 1, cl.headers("x-trailer", "1"), true, 0)
			cl.write(b)
			fs, closed := cl.readFrames(5*time.Second, func(f h2frame) bool { return f.Type == h2.FrameRSTStream && f.StreamID == 1 })
			if closed || len(fs) == 0 || fs[len(fs)-1].Type != h2.FrameRSTStream {
				t.Fatalf("no RST_STREAM on stream 1: %s (closed %v)", describe(fs), closed)
			}
			block := cl.headers(":method", "GET", ":scheme", "http", ":path", "/", ":authority", "x", "x-trailer", "1")
			cl.write(h2.AppendHeaders(nil, 3, block, true, 0))
			ev := cl.readUntil(3)
			if ev.goAway {
				t.Fatalf("trailers on a stream the server had reset ended the connection: GOAWAY %v", ev.goAwayErr)
			}
			if r := ev.streams[3]; r == nil || r.status != "200" {
				t.Fatalf("stream 3 (its header block refers to the ignored trailers' HPACK entry): %+v", r)
			}
		})
	}
}

// A request answered before its body was complete (431, 413) while a zero flow-control
// window holds its response's DATA is ended by the client, with trailers or with an
// empty DATA frame carrying END_STREAM: it must not then reach the handler nor get a
// second response, and once the window opens its response ends the stream without the
// RST_STREAM NO_ERROR that asks a client to stop sending a request it has finished
// (RFC 9113 §8.1).
func TestH2RejectedRequestIsNotServedWhenItEnds(t *testing.T) {
	rejections := []struct {
		name   string
		cfg    server.Config
		h2cfg  Config
		status string
		open   func(cl *h2Client) []byte
	}{
		{"431", server.Config{}, Config{MaxHeaderListSize: 1024}, "431", func(cl *h2Client) []byte {
			return h2.AppendHeaders(nil, 1, cl.overListSize("POST", "/count"), false, 0)
		}},
		{"413", server.Config{Limits: parser.Limits{MaxBodyBytes: 1000}}, Config{}, "413", func(cl *h2Client) []byte {
			b := h2.AppendHeaders(nil, 1, cl.headers(":method", "POST", ":scheme", "http", ":path", "/count", ":authority", "x"), false, 0)
			return h2.AppendData(b, 1, bytes.Repeat([]byte("b"), 2000), false)
		}},
	}
	endings := []struct {
		name string
		end  func(cl *h2Client) []byte
	}{
		{"trailers", func(cl *h2Client) []byte { return h2.AppendHeaders(nil, 1, cl.headers("x-trailer", "1"), true, 0) }},
		{"DATA with END_STREAM", func(cl *h2Client) []byte { return h2.AppendData(nil, 1, nil, true) }},
	}
	for _, rej := range rejections {
		for _, end := range endings {
			t.Run(rej.name+" then "+end.name, func(t *testing.T) {
				var calls atomic.Int32
				cl := h2DialWith(t, rej.cfg, rej.h2cfg, countRoute(&calls))
				b := h2.AppendSettings(nil, h2.Setting{ID: h2.SettingInitialWindowSize, Val: 0})
				cl.write(append(b, rej.open(cl)...))
				fs, _ := cl.readFrames(5*time.Second, func(f h2frame) bool { return f.Type == h2.FrameHeaders && f.StreamID == 1 })
				if len(fs) == 0 || fs[len(fs)-1].Type != h2.FrameHeaders || fs[len(fs)-1].status() != rej.status {
					t.Fatalf("want %s on stream 1: %s", rej.status, describe(fs))
				}
				// until the PING's ACK: whatever the server does with the request's end
				pingAck := func(n byte) func(f h2frame) bool {
					return func(f h2frame) bool { return f.Type == h2.FramePing && f.IsAck() && f.PingData()[0] == n }
				}
				cl.write(h2.AppendPing(end.end(cl), false, [8]byte{1}))
				fs, _ = cl.readFrames(5*time.Second, pingAck(1))
				for _, f := range fs {
					if f.StreamID == 1 && f.Type == h2.FrameHeaders {
						t.Fatalf("a second response on stream 1, :status %s: %s", f.status(), describe(fs))
					}
				}
				if n := calls.Load(); n != 0 {
					t.Fatalf("the %s-rejected request reached the handler (%d calls)", rej.status, n)
				}
				// The window opens: the response ends the stream, and nothing follows it.
				b = h2.AppendSettings(nil, h2.Setting{ID: h2.SettingInitialWindowSize, Val: 65535})
				cl.write(h2.AppendPing(b, false, [8]byte{2}))
				fs, _ = cl.readFrames(5*time.Second, pingAck(2))
				ended := false
				for _, f := range fs {
					switch {
					case f.StreamID != 1:
					case f.Type == h2.FrameData && !ended:
						ended = f.EndStream()
					default:
						t.Fatalf("after the response's DATA on stream 1: %s", describe(fs))
					}
				}
				if !ended {
					t.Fatalf("the response did not end stream 1: %s", describe(fs))
				}
			})
		}
	}
}

// Concurrent uploads, each within MaxBodyBytes, that together exceed MaxBufferedBody
// complete (RFC 9113 §5.2.2: flow control must not deadlock). The server held back the
// connection window once it buffered more than MaxBufferedBody, even though every body
// it held was incomplete: none could complete, so none was freed, and the uploads stalled
// until BodyTimeout (with the defaults, three 4 MB uploads on one connection). Then a
// worker-pool handler without a request body (a long poll) stalled them the same way: no
// stream became exempt (data.go) while any pool handler ran, on the premise that its
// answer would free a body.
func TestH2ConcurrentUploadsPastMaxBufferedBodyComplete(t *testing.T) {
	limit := server.Config{Limits: parser.Limits{MaxBodyBytes: 100 << 10}}
	cases := []struct {
		name       string
		cfg        server.Config
		h2cfg      Config
		size       int
		oneAtATime bool
		longPoll   bool // a bodyless GET on a worker-pool route runs meanwhile
	}{
		{"defaults (MaxBodyBytes 4 MiB): three 4 MB uploads", server.Config{}, Config{}, 4000000, false, false},
		{"MaxBodyBytes 256 KiB, ConnWindow 64 KiB: three 250 KiB uploads", server.Config{Limits: parser.Limits{MaxBodyBytes: 256 << 10}}, Config{ConnWindow: 65535}, 250 << 10, false, false},
		{"MaxBufferedBody = MaxBodyBytes = 256 KiB, StreamWindow 64 KiB: three 250 KiB uploads", server.Config{Limits: parser.Limits{MaxBodyBytes: 256 << 10}}, Config{StreamWindow: 65535, MaxBufferedBody: 256 << 10}, 250 << 10, false, false},
		{"the same, one body after the other", server.Config{Limits: parser.Limits{MaxBodyBytes: 256 << 10}}, Config{StreamWindow: 65535, MaxBufferedBody: 256 << 10}, 250 << 10, true, false},
		{"MaxBufferedBody = MaxBodyBytes = 100 KiB, StreamWindow 16 KiB: three 90 KiB uploads", limit, Config{StreamWindow: 16384, MaxBufferedBody: 100 << 10}, 90 << 10, false, false},
		{"the same while a bodyless worker-pool handler runs (a long poll)", limit, Config{StreamWindow: 16384, MaxBufferedBody: 100 << 10}, 90 << 10, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			release := make(chan struct{})
			cl := h2DialWith(t, tc.cfg, tc.h2cfg, func(s *server.Server) {
				countRoute(&calls)(s)
				s.Route("/poll", server.Route{UseWorkerPool: true, HTTP: func(w *server.ResponseWriter, r *server.Request) {
					<-release // answers once the uploads are done
					_, _ = w.WriteString("event")
				}})
			})
			t.Cleanup(func() { close(release) }) // before the server stops
			if tc.longPoll {
				cl.write(cl.request(nil, 1, "GET", "/poll", nil))
			}
			done, sent, stuck := cl.upload([]uint32{3, 5, 7}, nil, tc.oneAtATime, tc.size, 5*time.Second)
			if stuck {
				t.Fatalf("uploads stalled: sent %v of %d bytes each, responses %v", sent, tc.size, done)
			}
			for id, st := range done {
				if st != "200" {
					t.Fatalf("stream %d: %s", id, st)
				}
			}
			if n := calls.Load(); n != 3 {
				t.Fatalf("%d handler calls, want 3", n)
			}
		})
	}
}

// RFC 9113 §6.9.3: with a SETTINGS_INITIAL_WINDOW_SIZE below the default, "the receiver
// MUST be prepared to receive data that exceeds this window size, since the sender might
// send data that exceeds the lower limit prior to processing the SETTINGS frame." A
// client that sends its request body in its first flight, within the default 65,535
// octets, got RST_STREAM FLOW_CONTROL_ERROR from a server with StreamWindow 8192; once
// it has acknowledged the SETTINGS, the smaller window holds.
func TestH2StreamWindowBelowDefaultHoldsOnceAcknowledged(t *testing.T) {
	var calls atomic.Int32
	s := startServer(t, server.Config{Logger: discard}, func(s *server.Server) {
		countRoute(&calls)(s)
		s.Upgrade(New(Config{StreamWindow: 8192}))
	})
	c := dial(t, s)
	cl := newH2Client(t, c, bufioReader(c))
	post := func(b []byte, id uint32, size int) []byte {
		b = h2.AppendHeaders(b, id, cl.headers(":method", "POST", ":scheme", "http", ":path", "/count", ":authority", "x", "content-length", strconv.Itoa(size)), false, 0)
		for off := 0; off < size; off += 16384 {
			end := min(off+16384, size)
			b = h2.AppendData(b, id, bytes.Repeat([]byte("d"), end-off), end == size)
		}
		return b
	}
	cl.write(post(clientPreface(), 1, 60000)) // one flight: the server's SETTINGS are not in yet
	if r := cl.readUntil(1).streams[1]; r == nil || r.status != "200" || string(r.body) != "got 60000 bytes" {
		t.Fatalf("a 60000-byte body sent within the default window before the server's SETTINGS (INITIAL_WINDOW_SIZE 8192): %+v, want 200", r)
	}
	// readUntil acknowledged the SETTINGS: 16384 bytes now exceed stream 3's window.
	cl.write(post(nil, 3, 16384))
	if r := cl.readUntil(3).streams[3]; r == nil || !r.isReset || r.rst != h2.ErrCodeFlowControl {
		t.Fatalf("16384 bytes on a stream opened after the SETTINGS ACK (window 8192): %+v, want RST_STREAM FLOW_CONTROL_ERROR", r)
	}
}

// RFC 9113 §6.5.3: "If the sender of a SETTINGS frame does not receive an acknowledgment
// within a reasonable amount of time, it MAY issue a connection error of type
// SETTINGS_TIMEOUT." Until the ACK a client may send 65,535 octets on every stream
// whatever StreamWindow says (§6.9.3), so a client that never sent it kept those windows
// for the connection's life, past the documented MaxBufferedBody bound. The ACK is now
// due within HeaderTimeout of the server's SETTINGS, however busy the connection is.
func TestH2UnacknowledgedSettingsEndTheConnection(t *testing.T) {
	cases := []struct {
		name string
		send func(cl *h2Client, id uint32) []byte // every 100 ms, on a new stream
	}{
		{"an idle client", func(*h2Client, uint32) []byte { return nil }},
		{"a client uploading 60000 bytes per stream (StreamWindow 8192)", func(cl *h2Client, id uint32) []byte {
			b := h2.AppendHeaders(nil, id, cl.headers(":method", "POST", ":scheme", "http", ":path", "/count", ":authority", "x", "content-length", "60000"), false, 0)
			for off := 0; off < 60000; off += 16384 {
				end := min(off+16384, 60000)
				b = h2.AppendData(b, id, make([]byte, end-off), end == 60000)
			}
			return b
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			s := startServer(t, server.Config{Logger: discard, HeaderTimeout: 500 * time.Millisecond, IdleTimeout: time.Hour}, func(s *server.Server) {
				countRoute(&calls)(s)
				s.Upgrade(New(Config{StreamWindow: 8192}))
			})
			c := dial(t, s)
			cl := newH2Client(t, c, bufioReader(c))
			cl.write(clientPreface())
			done := make(chan h2.ErrCode, 1)
			go func() { // reads, keeping HPACK in step, and never acknowledges the SETTINGS
				code := h2.ErrCode(0xff)
				for {
					f, ok := cl.readFrame()
					if !ok {
						done <- code
						return
					}
					switch f.Type {
					case h2.FrameHeaders:
						_, _ = cl.dec.DecodeFull(f.HeaderBlockFragment())
					case h2.FrameGoAway:
						code = f.ErrCode()
					}
				}
			}()
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			guard := time.After(30 * time.Second) // only a hang meets it
			for id := uint32(1); ; {
				select {
				case code := <-done:
					if code != h2.ErrCodeSettingsTimeout {
						t.Fatalf("closed with GOAWAY %v, want SETTINGS_TIMEOUT", code)
					}
					return
				case <-guard:
					t.Fatalf("%s never acknowledged the server's SETTINGS (HeaderTimeout 500 ms): the connection was open 30 s later, %d requests served", tc.name, calls.Load())
				case <-tick.C:
					if b := tc.send(cl, id); b != nil {
						if _, err := cl.c.Write(b); err != nil {
							t.Fatalf("closed without GOAWAY: %v", err)
						}
						id += 2
					}
				}
			}
		})
	}
}

// A stream reset while its worker-pool handler runs, by the client (RST_STREAM) or by the
// server for a stream error the client provoked (MadeYouReset, CVE-2025-8671), keeps
// counting against SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113 §5.1.2) until the handler
// has returned: resetting requests does not let a client run more handlers at once than
// the limit. (Before, the reset freed the slot at once while the handler ran on.)
func TestH2ResetStreamsCountUntilTheirHandlersReturn(t *testing.T) {
	cases := []struct {
		name  string
		reset func(id uint32) []byte
	}{
		{"client RST_STREAM CANCEL (§6.4)", func(id uint32) []byte {
			return h2.AppendRSTStream(nil, id, h2.ErrCodeCancel)
		}},
		{"WINDOW_UPDATE of 0: RST_STREAM PROTOCOL_ERROR (§6.9)", func(id uint32) []byte {
			return h2.AppendWindowUpdate(nil, id, 0)
		}},
		{"DATA on the half-closed (remote) stream: RST_STREAM STREAM_CLOSED (§5.1)", func(id uint32) []byte {
			return h2.AppendData(nil, id, []byte("x"), false)
		}},
		{"PRIORITY of 4 octets: RST_STREAM FRAME_SIZE_ERROR (§6.3)", func(id uint32) []byte {
			return append(h2.AppendFrameHeader(nil, h2.FrameHeader{Length: 4, Type: h2.FramePriority, StreamID: id}), 0, 0, 0, 0)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			entered := make(chan uint32, 16)
			release := make(chan struct{})
			s := startServer(t, server.Config{Logger: discard}, func(s *server.Server) {
				routes(s)
				s.Route("/block", server.Route{UseWorkerPool: true, HTTP: func(w *server.ResponseWriter, r *server.Request) {
					entered <- r.StreamID
					<-release
					_, _ = w.WriteString("late")
				}})
				s.Upgrade(New(Config{MaxConcurrentStreams: 2}))
			})
			var once sync.Once
			unblock := func() { once.Do(func() { close(release) }) }
			t.Cleanup(unblock) // before the server stops
			c := dial(t, s)
			cl := newH2Client(t, c, bufioReader(c))
			b := clientPreface()
			for _, id := range []uint32{1, 3} {
				b = cl.request(b, id, "GET", "/block", nil)
				b = append(b, tc.reset(id)...)
			}
			cl.write(b)
			guard := time.After(30 * time.Second) // only a hang meets it
			for range 2 {
				select {
				case <-entered:
				case <-guard:
					t.Fatal("the handlers of streams 1 and 3 did not start")
				}
			}
			// Streams 1 and 3 are closed, their handlers still run: stream 5 is one too many.
			// The PING's ACK comes after the server's answer to stream 5's HEADERS.
			b = cl.request(nil, 5, "GET", "/block", nil)
			cl.write(h2.AppendPing(b, false, [8]byte{5}))
			if rst := readResetsUntilPong(cl); rst[5] != h2.ErrCodeRefusedStream {
				t.Fatalf("stream 5, opened while the reset streams 1 and 3 still ran their handlers (MAX_CONCURRENT_STREAMS 2): RST_STREAMs %v, want REFUSED_STREAM on 5", rst)
			}
			// Once the handlers have returned, their slots are free again.
			unblock()
			deadline := time.Now().Add(30 * time.Second) // only a hang meets it
			for id := uint32(7); ; id += 2 {
				cl.write(cl.request(nil, id, "GET", "/", nil))
				r := cl.readUntil(id).streams[id]
				if r.status == "200" {
					break
				}
				if !r.isReset || r.rst != h2.ErrCodeRefusedStream || time.Now().After(deadline) {
					t.Fatalf("stream %d after the handlers returned: %+v, want 200 (refused until their answers are in)", id, r)
				}
				time.Sleep(10 * time.Millisecond) // the answers are on their way to the loop
			}
			if n := len(entered); n != 0 {
				t.Fatalf("%d more handlers started than the two of streams 1 and 3", n)
			}
		})
	}
}

// RFC 9113 §6.8: a graceful GOAWAY names the last stream the server will serve, lets the
// open ones finish, ignores newer ones, and then the connection closes.
func TestH2GoAwayFinishesOpenStreams(t *testing.T) {
	cl := h2Dial(t, server.Config{}, Config{})
	b := h2.AppendHeaders(nil, 1, cl.headers(":method", "POST", ":scheme", "http", ":path", "/echo", ":authority", "x"), false, 0)
	b = h2.AppendData(b, 1, []byte("first half, "), false)
	b = cl.request(b, 3, "GET", "/goaway", nil)
	cl.write(b)
	ev := cl.readUntil(3)
	if !ev.goAway || ev.goAwayErr != h2.ErrCodeNo {
		t.Fatalf("no GOAWAY NO_ERROR: %+v", ev)
	}
	b = cl.request(nil, 5, "GET", "/", nil) // after GOAWAY: ignored
	b = h2.AppendData(b, 1, []byte("second half"), true)
	cl.write(b)
	ev = cl.readUntil(1)
	if r := ev.streams[1]; r.status != "200" || string(r.body) != "first half, second half" {
		t.Fatalf("stream 1 did not finish: %+v", r)
	}
	if ev.streams[5] != nil {
		t.Fatalf("stream 5 opened after GOAWAY was served: %+v", ev.streams[5])
	}
	if ev = cl.readUntil(); !ev.closed {
		t.Fatal("the connection stayed open")
	}
}

// An HTTP/2 connection with no open stream is ended with GOAWAY after the idle timeout.
func TestH2IdleTimeout(t *testing.T) {
	cl := h2Dial(t, server.Config{}, Config{IdleTimeout: 300 * time.Millisecond})
	cl.write(cl.request(nil, 1, "GET", "/", nil))
	start := time.Now()
	if r := cl.readUntil(1).streams[1]; r == nil || r.status != "200" {
		t.Fatalf("stream 1: %+v, want a 200", r)
	}
	ev := cl.readUntil()
	if !ev.goAway || ev.goAwayErr != h2.ErrCodeNo || !ev.closed {
		t.Fatalf("want GOAWAY NO_ERROR and close, got %+v", ev)
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("closed after %v, before the idle timeout", d)
	}
}

// Frames that move no stream do not keep an idle connection open: PINGs (or SETTINGS, or
// empty frames), WINDOW_UPDATEs with no DATA waiting for window, RST_STREAM on a stream
// already closed, and the frames the server ignores: HEADERS or DATA on a stream it reset
// (§5.1), a new stream's HEADERS after its GOAWAY (§6.8; an open stream keeps that
// connection, so its body timeout ends it). Only frames that move a stream re-arm its
// deadline (before, any frame did, so a client pinging every few seconds held the
// connection forever; then a WINDOW_UPDATE every 100 ms did, and then HEADERS on a stream
// the server had reset did, since every header block counted as progress).
func TestH2IdleTimeoutIgnoresFramesThatMoveNoStream(t *testing.T) {
	served := func(cl *h2Client) { // stream 1 was served and closed
		cl.write(cl.request(nil, 1, "GET", "/", nil))
		cl.readUntil(1)
	}
	reset := func(cl *h2Client) { // the server reset stream 1: more DATA than content-length
		b := h2.AppendHeaders(nil, 1, cl.headers(":method", "POST", ":scheme", "http", ":path", "/echo", ":authority", "x", "content-length", "3"), false, 0)
		cl.write(h2.AppendData(b, 1, []byte("abcdef"), false))
		if r := cl.readUntil(1).streams[1]; r == nil || !r.isReset {
			t.Fatalf("stream 1: %+v, want RST_STREAM", r)
		}
	}
	goneAway := func(cl *h2Client) { // stream 1's upload stalls, stream 3 makes the server send GOAWAY
		b := h2.AppendHeaders(nil, 1, cl.headers(":method", "POST", ":scheme", "http", ":path", "/echo", ":authority", "x"), false, 0)
		b = h2.AppendData(b, 1, []byte("half"), false)
		cl.write(cl.request(b, 3, "GET", "/goaway", nil))
		if ev := cl.readUntil(3); !ev.goAway {
			t.Fatal("no GOAWAY")
		}
	}
	next := uint32(5)
	cases := []struct {
		name  string
		open  func(cl *h2Client)
		frame func(cl *h2Client) []byte
	}{
		{"PING", served, func(*h2Client) []byte { return h2.AppendPing(nil, false, [8]byte{1}) }},
		{"WINDOW_UPDATE on the connection", served, func(*h2Client) []byte { return h2.AppendWindowUpdate(nil, 0, 1) }},
		{"WINDOW_UPDATE on the closed stream", served, func(*h2Client) []byte { return h2.AppendWindowUpdate(nil, 1, 1) }},
		{"RST_STREAM on the closed stream", served, func(*h2Client) []byte { return h2.AppendRSTStream(nil, 1, h2.ErrCodeCancel) }},
		{"HEADERS (trailers) on the stream the server reset", reset, func(cl *h2Client) []byte {
			return h2.AppendHeaders(nil, 1, cl.headers("x-trailer", "1"), true, 0)
		}},
		{"DATA on the stream the server reset", reset, func(*h2Client) []byte { return h2.AppendData(nil, 1, []byte("x"), false) }},
		{"HEADERS of a new stream after GOAWAY", goneAway, func(cl *h2Client) []byte {
			next += 2
			return cl.request(nil, next, "GET", "/", nil)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cl := h2Dial(t, server.Config{BodyTimeout: 500 * time.Millisecond}, Config{IdleTimeout: 500 * time.Millisecond})
			tc.open(cl)
			done := make(chan *connEvents, 1)
			go func() { done <- cl.readUntil() }() // until the server closes
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			guard := time.After(30 * time.Second) // only a hang meets it
			for {
				select {
				case ev := <-done:
					if !ev.goAway || ev.goAwayErr != h2.ErrCodeNo || !ev.closed {
						t.Fatalf("want GOAWAY NO_ERROR and close, got %+v", ev)
					}
					return
				case <-guard:
					t.Fatalf("a %s every 100 ms kept a connection with no stream moving open long past its 500 ms idle (or body) timeout", tc.name)
				case <-tick.C:
					if _, err := cl.c.Write(tc.frame(cl)); err != nil {
						t.Fatalf("closed without GOAWAY: %v", err)
					}
				}
			}
		})
	}
}

// A client that reads a large response slowly, granting window a little at a time, is
// not cut off by the body timeout while the grants keep the response moving: a
// WINDOW_UPDATE that lets queued DATA go is progress.
func TestH2SlowReaderKeepsItsConnection(t *testing.T) {
	// 40 grants, 50 ms apart: twice the timeout in all, a twentieth of it each, so that a
	// busy machine's delays do not pass for a stalled client.
	const size, grant = 40 << 10, 1 << 10
	body := bytes.Repeat([]byte("s"), size)
	s := startServer(t, server.Config{Logger: discard, BodyTimeout: time.Second}, func(s *server.Server) {
		s.Route("/big", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) { _, _ = w.Write(body) }})
		s.Upgrade(New(Config{}))
	})
	c := dial(t, s)
	cl := newH2Client(t, c, bufioReader(c))
	// A zero stream window: each byte of the response waits for a grant.
	b := h2.AppendSettings([]byte(h2.ClientPreface), h2.Setting{ID: h2.SettingInitialWindowSize, Val: 0})
	cl.write(cl.request(b, 1, "GET", "/big", nil))
	got, granted := 0, 0
	for got < size {
		if got == granted {
			time.Sleep(50 * time.Millisecond) // a slow reader
			cl.write(h2.AppendWindowUpdate(h2.AppendWindowUpdate(nil, 0, grant), 1, grant))
			granted += grant
		}
		f, ok := cl.readFrame()
		if !ok {
			t.Fatalf("the connection closed after %d of %d bytes, while the client kept granting window", got, size)
		}
		cl.follow(f)
		switch f.Type {
		case h2.FrameData:
			got += len(f.Data())
		case h2.FrameGoAway, h2.FrameRSTStream:
			t.Fatalf("%v %v after %d of %d bytes, while the client kept granting window", f.Type, f.ErrCode(), got, size)
		}
	}
}

// readResetsUntilPong reads frames until the server's PING ACK and returns the
// RST_STREAMs among them by stream. The server handles frames in order, so it has
// answered every frame sent before the PING by then.
func readResetsUntilPong(cl *h2Client) map[uint32]h2.ErrCode {
	cl.t.Helper()
	rst := map[uint32]h2.ErrCode{}
	for {
		f, ok := cl.readFrame()
		if !ok {
			cl.t.Fatalf("the server closed the connection; RST_STREAMs %v", rst)
		}
		cl.follow(f)
		switch f.Type {
		case h2.FrameRSTStream:
			rst[f.StreamID] = f.ErrCode()
		case h2.FramePing:
			if f.IsAck() {
				return rst
			}
		}
	}
}
