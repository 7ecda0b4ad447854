package http2

import (
	"bufio"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/frame/h2"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/internal/servertest"
)

// streamServer serves /s with a worker-pool handler that writes parts, flushing each,
// then runs then, and reports how it ended on done; after part 0 it waits for release
// (nil: it goes on at once).
func streamServer(t *testing.T, cfg server.Config, parts []string, release <-chan struct{}, then func(w *server.ResponseWriter) error, done chan<- error) *server.Server {
	return startServer(t, cfg, func(s *server.Server) {
		s.Route("/s", server.Route{UseWorkerPool: true, HTTP: func(w *server.ResponseWriter, r *server.Request) {
			w.Header("content-type", "text/event-stream")
			for i, p := range parts {
				_, _ = w.WriteString(p)
				if err := w.Flush(); err != nil {
					done <- err
					return
				}
				if i == 0 && release != nil {
					<-release
				}
			}
			var err error
			if then != nil {
				err = then(w)
			}
			done <- err
		}})
		s.Route("/", server.Route{HTTP: okHandler("ok")})
		s.Upgrade(New(Config{}))
	})
}

// frames1 reads frames until stream 1 ends (END_STREAM or RST_STREAM) or stop says so.
func frames1(cl *h2Client, stop func(h2frame) bool) []h2frame {
	got, _ := cl.readFrames(10*time.Second, func(f h2frame) bool {
		return f.StreamID == 1 && (f.Type == h2.FrameRSTStream || f.EndStream()) || stop != nil && stop(f)
	})
	return got
}

// TestH2StreamedResponse: the head and the first part of a response reach the client
// while its handler still waits, as HEADERS without END_STREAM or content-length and a
// DATA frame; the rest follows, and END_STREAM ends it.
func TestH2StreamedResponse(t *testing.T) {
	release, done := make(chan struct{}), make(chan error, 1)
	s := streamServer(t, server.Config{}, []string{"first", "second"}, release, nil, done)
	c := dial(t, s)
	cl := newH2Client(t, c, bufio.NewReader(c))
	cl.write(clientPreface())
	cl.write(cl.request(nil, 1, "GET", "/s", nil))
	got := frames1(cl, func(f h2frame) bool { return f.Type == h2.FrameData && f.StreamID == 1 })
	var head h2frame
	for _, f := range got {
		if f.Type == h2.FrameHeaders && f.StreamID == 1 {
			head = f
		}
	}
	if head.Type != h2.FrameHeaders || head.EndStream() || head.status() != "200" {
		t.Fatalf("want HEADERS 200 without END_STREAM first: %s", describe(got))
	}
	for _, hf := range head.fields {
		if hf.Name == "content-length" {
			t.Fatalf("a streamed response announced content-length %s", hf.Value)
		}
	}
	if last := got[len(got)-1]; string(last.Data()) != "first" || last.EndStream() {
		t.Fatalf("want DATA \"first\" without END_STREAM before the handler goes on: %s", describe(got))
	}
	close(release)
	var body strings.Builder
	got = frames1(cl, nil)
	for _, f := range got {
		if f.Type == h2.FrameData && f.StreamID == 1 {
			body.WriteString(string(f.Data()))
		}
	}
	if last := got[len(got)-1]; body.String() != "second" || !last.EndStream() {
		t.Fatalf("the rest: %q, %s", body.String(), describe(got))
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestH2StreamWaitsForWindow: a client that grants no stream window holds the streaming
// handler back (Stats.Paused) instead of the server buffering its parts; each window it
// grants lets the parts go on, and the response arrives whole.
func TestH2StreamWaitsForWindow(t *testing.T) {
	parts := []string{strings.Repeat("a", 4000), strings.Repeat("b", 4000), strings.Repeat("c", 4000)}
	done := make(chan error, 1)
	s := streamServer(t, server.Config{}, parts, nil, nil, done)
	c := dial(t, s)
	cl := newH2Client(t, c, bufio.NewReader(c))
	cl.write(h2.AppendSettings([]byte(h2.ClientPreface), h2.Setting{ID: h2.SettingInitialWindowSize, Val: 0}))
	cl.write(cl.request(nil, 1, "GET", "/s", nil))
	servertest.Eventually(t, "the handler waits for window", func() bool { return s.Stats().Paused > 0 })
	var body strings.Builder
	for body.Len() < 12000 {
		cl.write(h2.AppendWindowUpdate(nil, 1, 1000))
		for _, f := range frames1(cl, func(f h2frame) bool { return f.Type == h2.FrameData }) {
			if f.Type == h2.FrameData && f.StreamID == 1 {
				if f.Length > 1000 {
					t.Fatalf("DATA of %d octets beyond the 1000 granted", f.Length)
				}
				body.WriteString(string(f.Data()))
			}
		}
	}
	if body.String() != strings.Join(parts, "") {
		t.Fatal("body out of order")
	}
	got := frames1(cl, nil)
	if last := got[len(got)-1]; last.Type != h2.FrameData || !last.EndStream() || last.Length != 0 {
		t.Fatalf("want an empty DATA with END_STREAM to end it: %s", describe(got))
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestH2StreamEndsEarly: a stream the client resets tells its handler at the next Flush
// (a server-sent-events loop ends with its client), and the connection serves on; a
// handler that panics or sends no part within HandlerTimeout after its head went has its
// stream reset (INTERNAL_ERROR, CANCEL), so the client sees the response cut short.
func TestH2StreamEndsEarly(t *testing.T) {
	cases := []struct {
		name    string
		timeout time.Duration
		// then runs after the first part; proceed closes once the client has seen the
		// stream end.
		then     func(w *server.ResponseWriter, proceed <-chan struct{}) error
		clientRS bool
		wantCode h2.ErrCode // of the server's RST_STREAM
		wantErr  error      // what the handler's last Flush returned
	}{
		{"client resets", 0, func(w *server.ResponseWriter, _ <-chan struct{}) error {
			for {
				_, _ = w.WriteString("tick")
				if err := w.Flush(); err != nil {
					return err
				}
				time.Sleep(time.Millisecond)
			}
		}, true, 0, server.ErrAbandoned},
		{"panic", 0, func(*server.ResponseWriter, <-chan struct{}) error { panic("after the head") }, false, h2.ErrCodeInternal, nil},
		{"HandlerTimeout", 200 * time.Millisecond, func(w *server.ResponseWriter, proceed <-chan struct{}) error {
			<-proceed // past HandlerTimeout, which reset the stream
			_, _ = w.WriteString("late")
			return w.Flush()
		}, false, h2.ErrCodeCancel, server.ErrAbandoned},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			done, proceed := make(chan error, 1), make(chan struct{})
			then := func(w *server.ResponseWriter) error { return tc.then(w, proceed) }
			s := streamServer(t, server.Config{HandlerTimeout: tc.timeout}, []string{"part"}, nil, then, done)
			c := dial(t, s)
			cl := newH2Client(t, c, bufio.NewReader(c))
			cl.write(clientPreface())
			cl.write(cl.request(nil, 1, "GET", "/s", nil))
			got := frames1(cl, func(f h2frame) bool { return tc.clientRS && f.Type == h2.FrameData })
			if tc.clientRS {
				cl.write(h2.AppendRSTStream(nil, 1, h2.ErrCodeCancel))
			} else if last := got[len(got)-1]; last.Type != h2.FrameRSTStream || last.ErrCode() != tc.wantCode {
				t.Fatalf("want RST_STREAM %v: %s", tc.wantCode, describe(got))
			}
			close(proceed)
			if tc.wantErr != nil {
				if err := <-done; !errors.Is(err, tc.wantErr) {
					t.Fatalf("the handler's last Flush returned %v, want %v", err, tc.wantErr)
				}
			}
			cl.write(cl.request(nil, 3, "GET", "/", nil))
			if r := cl.readUntil(3).streams[3]; r == nil || string(r.body) != "ok" {
				t.Fatalf("the next stream: %+v", r)
			}
		})
	}
}

// TestH2StreamPartsLargerThanTheBudget: parts larger than the send budget, within windows
// that admit them, to a client that reads: the socket takes each whole, so no writable
// event follows, and the handler must go on from the check after the flush.
func TestH2StreamPartsLargerThanTheBudget(t *testing.T) {
	parts := []string{strings.Repeat("a", 40000), strings.Repeat("b", 40000), strings.Repeat("c", 40000)}
	done := make(chan error, 1)
	s := streamServer(t, server.Config{SendBudget: 16 << 10}, parts, nil, nil, done)
	c := dial(t, s)
	cl := newH2Client(t, c, bufio.NewReader(c))
	cl.write(h2.AppendSettings([]byte(h2.ClientPreface), h2.Setting{ID: h2.SettingInitialWindowSize, Val: 1 << 20}))
	cl.write(h2.AppendWindowUpdate(nil, 0, 1<<20))
	cl.write(cl.request(nil, 1, "GET", "/s", nil))
	var body strings.Builder
	for _, f := range frames1(cl, nil) {
		if f.Type == h2.FrameData && f.StreamID == 1 {
			body.Write(f.Data())
		}
	}
	if body.String() != strings.Join(parts, "") {
		t.Fatalf("got %d octets of %d", body.Len(), 3*40000)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
