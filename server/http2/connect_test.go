package http2

import (
	"bufio"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/frame/h2"
	"github.com/switchyard-dev/switchyard/server"
)

// connectHeaders is a plain CONNECT's HEADERS (RFC 9113 §8.5) on stream id, without
// END_STREAM, as a client that waits for a 2xx before it sends DATA opens its tunnel.
func connectHeaders(cl *h2Client, id uint32) []byte {
	return h2.AppendHeaders(nil, id, cl.headers(":method", "CONNECT", ":authority", "example.com:443"), false, 0)
}

// h1Answer is the status and body HTTP/1.1 gives raw, a request, on a connection of its own.
func h1Answer(t *testing.T, s *server.Server, raw string) (string, string) {
	t.Helper()
	c := dial(t, s)
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("HTTP/1.1: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	return strconv.Itoa(resp.StatusCode), string(body)
}

// A plain CONNECT whose HEADERS leave the stream open is answered at once, as HTTP/1.1
// answers the same request (this server is no proxy): the response ends the stream and
// RST_STREAM NO_ERROR asks the client to send no more (§8.1). The server used to wait for
// END_STREAM, which such a client sends only after a 2xx: the stream hung until the
// connection timed out.
func TestH2PlainConnectIsAnsweredAtOnce(t *testing.T) {
	s := startServer(t, server.Config{Logger: discard}, h2Routes)
	status, body := h1Answer(t, s, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
	if status != "404" {
		t.Fatalf("HTTP/1.1 answered CONNECT %s %q; this test expects 404", status, body)
	}
	c := dial(t, s)
	cl := newH2Client(t, c, bufioReader(c))
	cl.write(append(clientPreface(), connectHeaders(cl, 1)...))
	// The deadline only guards against the hang.
	fs, _ := cl.readFrames(10*time.Second, func(f h2frame) bool { return f.Type == h2.FrameRSTStream && f.StreamID == 1 })
	var got []byte
	var st string
	ended := false
	for _, f := range fs {
		if f.StreamID != 1 {
			continue
		}
		switch f.Type {
		case h2.FrameHeaders:
			st, ended = f.status(), f.EndStream()
		case h2.FrameData:
			got = append(got, f.Data()...)
			ended = f.EndStream()
		case h2.FrameRSTStream:
			if !ended || f.ErrCode() != h2.ErrCodeNo {
				t.Fatalf("RST_STREAM %v, the response ended: %v; want NO_ERROR after END_STREAM: %s", f.ErrCode(), ended, describe(fs))
			}
		}
	}
	if st != status || string(got) != body {
		t.Fatalf("HTTP/2 answered %q %q, HTTP/1.1 %q %q: %s", st, got, status, body, describe(fs))
	}
	if last := fs[len(fs)-1]; last.Type != h2.FrameRSTStream {
		t.Fatalf("no RST_STREAM NO_ERROR after the response: %s", describe(fs))
	}
	// The connection serves on.
	cl.write(cl.request(nil, 3, "GET", "/", nil))
	if r := cl.readUntil(3).streams[3]; r == nil || r.status != "200" {
		t.Fatalf("stream 3: %+v, want 200", r)
	}
}

// A plain CONNECT served by a worker-pool handler (here the default route's) goes to it
// on its HEADERS too, and gets one response: the DATA and END_STREAM the client sends
// while the handler runs are discarded, and do not serve the request a second time.
func TestH2PlainConnectOnTheWorkerPoolIsServedOnce(t *testing.T) {
	var calls atomic.Int32
	entered, release := make(chan struct{}, 2), make(chan struct{})
	s := startServer(t, server.Config{Logger: discard}, func(s *server.Server) {
		s.Route("", server.Route{UseWorkerPool: true, HTTP: func(w *server.ResponseWriter, r *server.Request) {
			calls.Add(1)
			entered <- struct{}{}
			<-release
			w.WriteHeader(405)
			_, _ = w.WriteString(string(r.Method) + " " + string(r.Target) + " host " + string(r.Host) +
				" path " + strconv.Quote(string(r.Path)) + " body " + strconv.Quote(string(r.Body)))
		}})
		s.Upgrade(New(Config{}))
	})
	c := dial(t, s)
	cl := newH2Client(t, c, bufioReader(c))
	cl.write(append(clientPreface(), connectHeaders(cl, 1)...))
	select {
	case <-entered:
	case <-time.After(10 * time.Second): // only a hang meets it
		t.Fatal("the CONNECT's HEADERS did not reach its handler")
	}
	b := h2.AppendData(nil, 1, []byte("tunnelled bytes"), false)
	b = h2.AppendData(b, 1, nil, true)
	cl.write(h2.AppendPing(b, false, [8]byte{1}))
	fs, _ := cl.readFrames(10*time.Second, func(f h2frame) bool { return f.Type == h2.FramePing && f.IsAck() })
	for _, f := range fs {
		if f.StreamID == 1 {
			t.Fatalf("stream 1 was answered before its handler returned: %s", describe(fs))
		}
	}
	close(release)
	r := cl.readUntil(1).streams[1]
	const want = `CONNECT example.com:443 host example.com:443 path "" body ""`
	if r == nil || r.status != "405" || string(r.body) != want || r.isReset {
		t.Fatalf("stream 1: %+v %q; want 405 %q ended without RST_STREAM (the client ended it)", r, r.body, want)
	}
	// A PING's ACK: whatever else the server sends on stream 1 has come by then.
	cl.write(h2.AppendPing(nil, false, [8]byte{2}))
	fs, _ = cl.readFrames(10*time.Second, func(f h2frame) bool { return f.Type == h2.FramePing && f.IsAck() })
	for _, f := range fs {
		if f.StreamID == 1 {
			t.Fatalf("after the response on stream 1: %s", describe(fs))
		}
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("the handler ran %d times, want once", n)
	}
}
