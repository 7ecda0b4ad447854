package http2

import (
	"bufio"
	"bytes"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/frame/h2"
	"github.com/switchyard-dev/switchyard/parser"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/internal/servertest"
)

// A route with UseWorkerPool runs its handler on the worker pool over HTTP/2 too: while
// it blocks, the loop serves an unrelated client and the connection's other streams
// (before, the handler ran on the loop: a 1.5 s handler delayed a GET / on the same loop
// by 1.4 s, and 100 streams froze it for 100 times as long).
func TestWorkerPoolRouteDoesNotBlockTheLoop(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	s := startServer(t, server.Config{Loops: 1}, func(s *server.Server) {
		s.Route("/slow", server.Route{UseWorkerPool: true, HTTP: func(w *server.ResponseWriter, r *server.Request) {
			entered <- struct{}{}
			<-release
			_, _ = w.WriteString("slow " + string(r.Body))
		}})
		s.Route("/", server.Route{HTTP: okHandler("fast")})
		s.Upgrade(New(Config{}))
	})
	c := dial(t, s)
	cl := newH2Client(t, c, bufio.NewReader(c))
	cl.write(clientPreface())
	cl.write(cl.request(nil, 1, "POST", "/slow", []byte("body")))
	<-entered
	// The same connection's next stream is answered while stream 1's handler blocks.
	cl.write(cl.request(nil, 3, "GET", "/", nil))
	if r := cl.readUntil(3).streams[3]; r == nil || r.status != "200" || string(r.body) != "fast" {
		t.Fatalf("stream 3 while stream 1's handler blocks: %+v", r)
	}
	// So is another client of the same (only) loop.
	other := dial(t, s)
	servertest.Write(t, other, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if _, body := servertest.ReadResponse(t, bufio.NewReader(other), "GET"); body != "fast" {
		t.Fatalf("unrelated client: %q", body)
	}
	if r := cl.ev.streams[1]; r != nil && r.status != "" {
		t.Fatalf("stream 1 answered before its handler returned: %+v", r)
	}
	close(release)
	if r := cl.readUntil(1).streams[1]; r == nil || r.status != "200" || string(r.body) != "slow body" {
		t.Fatalf("stream 1: %+v", r)
	}
}

// A worker-pool handler that answers frees its request body, and the windows held back
// while the connection buffered more than MaxBufferedBody open at once, not at the
// client's next frame, which may never come: here the client finishes stream 5 before
// it sends more of stream 3, and stream 5 has used its window. (Answer freed the body
// but returned no window, so stream 5 waited for BodyTimeout.)
func TestH2PoolHandlerAnswerReopensHeldWindows(t *testing.T) {
	const limit = 100 << 10 // MaxBodyBytes and MaxBufferedBody
	release := make(chan struct{})
	var closeOnce sync.Once
	t.Cleanup(func() { closeOnce.Do(func() { close(release) }) })
	var calls atomic.Int32
	cl := h2DialWith(t, server.Config{Limits: parser.Limits{MaxBodyBytes: limit}}, Config{StreamWindow: 65535, MaxBufferedBody: limit}, func(s *server.Server) {
		countRoute(&calls)(s)
		s.Route("/gated", server.Route{UseWorkerPool: true, HTTP: func(w *server.ResponseWriter, r *server.Request) {
			<-release
			_, _ = w.WriteString("gated handler got " + strconv.Itoa(len(r.Body)) + " bytes")
		}})
	})
	post := func(id uint32, path string, size int) []byte {
		return h2.AppendHeaders(nil, id, cl.headers(":method", "POST", ":scheme", "http", ":path", path, ":authority", "x", "content-length", strconv.Itoa(size)), false, 0)
	}
	data := func(id uint32, n int, end bool) []byte {
		return h2.AppendData(nil, id, bytes.Repeat([]byte("u"), n), end)
	}
	pingAck := func(f h2frame) bool { return f.Type == h2.FramePing && f.IsAck() }
	// Stream 1's 60 KiB body goes to its handler, which holds it until released.
	b := post(1, "/gated", 60<<10)
	for i := range 4 {
		b = append(b, data(1, 15<<10, i == 3)...)
	}
	// Streams 3 and 5 (90 KiB each) begin: stream 5 a little, then stream 3 half its
	// window, which takes the connection past MaxBufferedBody (60+16+32 KiB): stream 3
	// becomes the one stream whose window is still replenished (data.go), and stream 5's
	// is held back while the handler holds its body.
	b = append(b, post(3, "/count", 90<<10)...)
	b = append(b, post(5, "/count", 90<<10)...)
	b = append(b, data(5, 16384, false)...)
	b = append(b, data(3, 16384, false)...)
	b = append(b, data(3, 16384, false)...)
	// Stream 5 uses the rest of its window.
	b = append(b, data(5, 16384, false)...)
	b = append(b, data(5, 16384, false)...)
	b = append(b, data(5, 16383, false)...)
	cl.write(h2.AppendPing(b, false, [8]byte{1}))
	fs, _ := cl.readFrames(5*time.Second, pingAck)
	for _, f := range fs {
		if f.Type == h2.FrameWindowUpdate && f.StreamID == 5 || f.Type == h2.FrameRSTStream || f.Type == h2.FrameGoAway {
			t.Fatalf("with 157 KiB of bodies buffered (MaxBufferedBody 100 KiB): %s", describe(fs))
		}
	}
	// The handler answers: 96 KiB stay buffered, and stream 5 may go on.
	closeOnce.Do(func() { close(release) })
	fs, closed := cl.readFrames(5*time.Second, func(f h2frame) bool { return f.Type == h2.FrameWindowUpdate && f.StreamID == 5 })
	if closed || len(fs) == 0 || fs[len(fs)-1].Type != h2.FrameWindowUpdate {
		t.Fatalf("stream 1's pool handler answered and freed its 60 KiB body, yet stream 5 got no WINDOW_UPDATE: %s", describe(fs))
	}
	cl.write(append(data(5, 16384, false), data(5, 90<<10-65535-16384, true)...))
	fs, _ = cl.readFrames(5*time.Second, func(f h2frame) bool { return f.Type == h2.FrameHeaders && f.StreamID == 5 })
	if len(fs) == 0 || fs[len(fs)-1].Type != h2.FrameHeaders || fs[len(fs)-1].status() != "200" {
		t.Fatalf("stream 5: %s", describe(fs))
	}
}

// docs/architecture.md §6: a connection holds at most MaxBufferedBody + ConnWindow +
// MaxBodyBytes + (MaxConcurrentStreams-1) x StreamWindow of request bodies. A worker-pool
// handler holds its body (its own copy) until it returns, and a stream reset meanwhile
// keeps its slot until then; but the body left bufferedBody at the reset, so the budget
// was free again: a client that uploaded a body, reset the stream once its handler ran,
// and went on had MaxConcurrentStreams bodies of MaxBodyBytes held at once (here 10 x
// 250 KiB against a bound of 976 KiB). The bodies now count until their handlers return:
// the upload past the budget waits for window, and goes on once they have returned.
func TestH2PoolHandlersBodiesCountUntilTheyReturn(t *testing.T) {
	const (
		maxBody   = 256 << 10 // MaxBufferedBody defaults to twice this
		size      = 250 << 10
		streamWin = 16384
		connWin   = 65535
		mcs       = 10
	)
	bound := int64(2*maxBody + connWin + maxBody + (mcs-1)*streamWin)
	cases := []struct {
		name  string
		reset bool
	}{
		{"the client resets each stream once its handler runs", true},
		{"the streams stay open", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var held, peak atomic.Int64
			entered := make(chan uint32, mcs)
			release := make(chan struct{})
			cl := h2DialWith(t, server.Config{Limits: parser.Limits{MaxBodyBytes: maxBody}},
				Config{StreamWindow: streamWin, ConnWindow: connWin, MaxConcurrentStreams: mcs}, func(s *server.Server) {
					s.Route("/process", server.Route{UseWorkerPool: true, HTTP: func(w *server.ResponseWriter, r *server.Request) {
						n := held.Add(int64(len(r.Body)))
						for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
						}
						entered <- r.StreamID
						<-release
						held.Add(-int64(len(r.Body)))
					}})
				})
			var once sync.Once
			unblock := func() { once.Do(func() { close(release) }) }
			t.Cleanup(unblock) // before the server stops

			conn, win := int64(connWin), map[uint32]int64{}
			apply := func(fs []h2frame) {
				for _, f := range fs {
					switch f.Type {
					case h2.FrameWindowUpdate:
						if f.StreamID == 0 {
							conn += int64(f.Increment())
						} else {
							win[f.StreamID] += int64(f.Increment())
						}
					case h2.FrameRSTStream, h2.FrameGoAway:
						t.Fatalf("%s", describe(fs))
					}
				}
			}
			// settle reads until the ACKs of two PINGs, the second sent after the first
			// came back: the server has then handled everything sent before the first,
			// and every WINDOW_UPDATE it owed for it has arrived.
			ping := byte(0)
			settle := func() {
				for range 2 {
					ping++
					n := ping
					cl.write(h2.AppendPing(nil, false, [8]byte{n}))
					fs, closed := cl.readFrames(5*time.Second, func(f h2frame) bool { return f.Type == h2.FramePing && f.IsAck() && f.PingData()[0] == n })
					if closed || len(fs) == 0 || fs[len(fs)-1].Type != h2.FramePing {
						t.Fatalf("no PING ACK: %s", describe(fs))
					}
					apply(fs)
				}
			}
			settle() // the server's SETTINGS are in and acknowledged: stream windows are 16 KiB
			chunk := make([]byte, 16384)
			send := func(id uint32, sent int) int {
				for sent < size {
					n := min(int64(size-sent), int64(len(chunk)), conn, win[id])
					if n <= 0 {
						return sent
					}
					cl.write(h2.AppendData(nil, id, chunk[:n], sent+int(n) == size))
					sent += int(n)
					conn -= n
					win[id] -= n
				}
				return sent
			}
			var waiting uint32 // the stream whose upload the server holds back
			waitingSent := 0
			for i := uint32(0); i < mcs && waiting == 0; i++ {
				id := 1 + 2*i
				win[id] = streamWin
				cl.write(h2.AppendHeaders(nil, id, cl.headers(":method", "POST", ":scheme", "http", ":path", "/process", ":authority", "x", "content-length", strconv.Itoa(size)), false, 0))
				sent := 0
				for {
					if sent = send(id, sent); sent == size {
						break
					}
					if settle(); min(conn, win[id]) <= 0 {
						waiting, waitingSent = id, sent
						break
					}
				}
				if waiting != 0 {
					break
				}
				select {
				case <-entered:
				case <-time.After(5 * time.Second):
					t.Fatalf("the handler of stream %d did not start", id)
				}
				if tc.reset {
					cl.write(h2.AppendRSTStream(nil, id, h2.ErrCodeCancel)) // the client gives up on it
				}
			}
			if p := peak.Load(); p > bound {
				t.Fatalf("request bodies held by one connection's handlers: %d bytes, documented bound %d (MaxBufferedBody %d + ConnWindow %d + MaxBodyBytes %d + %d x StreamWindow %d)",
					p, bound, 2*maxBody, connWin, maxBody, mcs-1, streamWin)
			}
			if waiting == 0 {
				return
			}
			// The handlers return: the upload held back completes.
			unblock()
			for sent := waitingSent; ; {
				if sent = send(waiting, sent); sent == size {
					break
				}
				fs, closed := cl.readFrames(5*time.Second, func(f h2frame) bool { return f.Type == h2.FrameWindowUpdate })
				if closed || len(fs) == 0 || fs[len(fs)-1].Type != h2.FrameWindowUpdate {
					t.Fatalf("stream %d got no window after the handlers returned (%d of %d bytes sent): %s", waiting, sent, size, describe(fs))
				}
				apply(fs)
			}
			fs, _ := cl.readFrames(5*time.Second, func(f h2frame) bool { return f.Type == h2.FrameHeaders && f.StreamID == waiting })
			if len(fs) == 0 || fs[len(fs)-1].Type != h2.FrameHeaders || fs[len(fs)-1].status() != "200" {
				t.Fatalf("stream %d: %s", waiting, describe(fs))
			}
		})
	}
}
