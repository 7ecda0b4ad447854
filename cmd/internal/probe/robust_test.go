package probe

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/frame/h2"
)

// rawServer hands every accepted connection to serve, which owns it.
func rawServer(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(20 * time.Second))
				serve(c)
			}()
		}
	}()
	return ln.Addr().String()
}

func TestRunUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	r, err := Run(context.Background(), "http://"+addr+"/", Options{Timeout: time.Second})
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("error %v, want ErrUnreachable", err)
	}
	if len(r.Probes) != 1 || r.Probes[0].Error == "" {
		t.Errorf("report %+v: want the failed GET alone, with its error", r.Probes)
	}
}

func TestRunUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name, url string
		opts      Options
	}{
		{"bad_scheme", "gopher://h/", Options{}},
		{"bad_header", "http://127.0.0.1:1/", Options{Header: []string{"no colon"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Run(context.Background(), tc.url, tc.opts); !errors.Is(err, ErrUsage) {
				t.Errorf("error %v, want ErrUsage", err)
			}
		})
	}
}

// hangGuard is how long a test waits for Run before it calls it hung. Only a hang
// meets it: a slow machine does not.
const hangGuard = 2 * time.Minute

// runGuarded is Run, failing the test if Run never returns.
func runGuarded(t *testing.T, ctx context.Context, url string, opts Options) (Report, error) {
	t.Helper()
	type result struct {
		r   Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := Run(ctx, url, opts)
		done <- result{r, err}
	}()
	select {
	case res := <-done:
		return res.r, res.err
	case <-time.After(hangGuard):
		t.Fatalf("Run(%s) has not returned after %v", url, hangGuard)
		return Report{}, nil
	}
}

func TestRunCancelled(t *testing.T) {
	// A server that holds the connection and never answers, and a probe timeout no test
	// waits for: Run can only end, with context.Canceled, because the cancel cut into
	// the probe waiting on that connection.
	accepted := make(chan struct{}, 1)
	addr := rawServer(t, func(c net.Conn) {
		_ = c.SetDeadline(time.Time{})
		select {
		case accepted <- struct{}{}:
		default:
		}
		_, _ = io.Copy(io.Discard, c)
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-accepted:
			cancel()
		case <-ctx.Done():
		}
	}()
	_, err := runGuarded(t, ctx, "http://"+addr+"/", Options{Timeout: time.Hour})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

// hostile answers: each must produce a report with a verdict for every probe, within the
// timeouts, without reading without bound.
func TestRunHostileServers(t *testing.T) {
	// Short, for the servers that make a probe wait for its timeout. A case whose check
	// reads the answer is patient and gets testTimeout: its verdict must not depend on
	// the answer arriving within 300 ms on a busy machine.
	const timeout = 300 * time.Millisecond
	endless := func(c net.Conn, prefix string, chunk string) {
		go func() { _, _ = io.Copy(io.Discard, c) }()
		_, _ = io.WriteString(c, prefix)
		b := []byte(strings.Repeat(chunk, 4096/len(chunk)))
		for {
			if _, err := c.Write(b); err != nil {
				return
			}
		}
	}
	h2c101 := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n"
	ws101 := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
	pingFrame := string(h2.AppendPing(nil, false, [8]byte{1}))
	cases := []struct {
		name    string
		patient bool
		serve   func(c net.Conn)
		check   func(t *testing.T, r *Report)
	}{
		{"closes_at_once", true, func(c net.Conn) {}, func(t *testing.T, r *Report) {
			if !r.HasFinding("no-response") {
				t.Error("diagnosis does not say the probes got no answer")
			}
		}},
		{"never_answers", false, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) }, func(t *testing.T, r *Report) {
			if !strings.Contains(r.Probe("get").Error, "timeout") {
				t.Errorf("GET error %q, want a timeout", r.Probe("get").Error)
			}
		}},
		{"garbage", false, func(c net.Conn) { _, _ = io.WriteString(c, "\x00\x01\x02 garbage\r\n\r\n") }, nil},
		{"status_line_less_error_page_RFC9113_3.3", true, func(c net.Conn) {
			// What Python's http.server sends for "PRI * HTTP/2.0": a body, no status line.
			_, _ = io.WriteString(c, "<!DOCTYPE HTML>\n<title>Error response</title>\n")
		}, func(t *testing.T, r *Report) {
			if p := r.Probe("h2"); p.Verdict.Code != "not-supported" || !strings.Contains(p.H2.Error, "not HTTP/2") ||
				!strings.Contains(p.H2.Error, "DOCTYPE") {
				t.Errorf("h2 probe %+v: want not-supported quoting the answer", p.H2)
			}
		}},
		{"endless_header_line", false, func(c net.Conn) { endless(c, "HTTP/1.1 200 OK\r\nX-Long: ", "a") }, nil},
		{"endless_headers", false, func(c net.Conn) { endless(c, "HTTP/1.1 200 OK\r\n", "X-A: b\r\n") }, nil},
		{"endless_426_body_without_newline", true, func(c net.Conn) {
			endless(c, "HTTP/1.1 426 Upgrade Required\r\nUpgrade: websocket\r\n\r\n", "z")
		}, func(t *testing.T, r *Report) {
			if b := r.Probe("get").Response.Body; len([]rune(b)) != 501 {
				t.Errorf("body line of %d runes, want 500 and an ellipsis", len([]rune(b)))
			}
		}},
		{"slow_drip", false, func(c net.Conn) {
			go func() { _, _ = io.Copy(io.Discard, c) }()
			for _, b := range []byte("HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", 1000)) {
				if _, err := c.Write([]byte{b}); err != nil {
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}, nil},
		{"ws_101_then_silence", false, func(c net.Conn) {
			_, _ = io.WriteString(c, ws101)
			_, _ = io.Copy(io.Discard, c)
		}, nil},
		{"ws_101_then_huge_frame", false, func(c net.Conn) {
			endless(c, ws101+"\x82\x7f\x00\x00\x00\x01\x00\x00\x00\x00", "x")
		}, nil},
		{"h2c_101_then_garbage", false, func(c net.Conn) { endless(c, h2c101, "\xff") }, nil},
		{"h2c_101_then_oversized_frame_RFC9113_4.2", true, func(c net.Conn) {
			_, _ = io.WriteString(c, h2c101+"\xff\xff\xff\x04\x00\x00\x00\x00\x00")
			_, _ = io.Copy(io.Discard, c)
		}, func(t *testing.T, r *Report) {
			if v := r.Probe("h2c").Verdict; v.Code != "no-settings" {
				t.Errorf("h2c verdict %+v, want no-settings", v)
			}
		}},
		{"h2c_101_then_ping_flood", false, func(c net.Conn) { endless(c, h2c101, pingFrame) }, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := rawServer(t, tc.serve)
			opts := Options{Timeout: timeout}
			if tc.patient {
				opts.Timeout = testTimeout
			}
			// Eight probes, each bounded by the timeout: Run returns, however slowly.
			r, err := runGuarded(t, context.Background(), "http://"+addr+"/", opts)
			if err != nil {
				t.Fatal(err)
			}
			defer dump(t, &r)
			if len(r.Probes) != 9 || len(r.Findings) == 0 {
				t.Fatalf("%d probes, %d findings", len(r.Probes), len(r.Findings))
			}
			for _, p := range r.Probes {
				if p.Verdict.Code == "" || p.Verdict.Level == "" {
					t.Errorf("probe %s has no verdict", p.ID)
				}
			}
			if tc.check != nil {
				tc.check(t, &r)
			}
			var sb strings.Builder
			if err := r.WriteText(&sb); err != nil {
				t.Error(err)
			}
			if err := r.WriteJSON(io.Discard); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestCappedReader(t *testing.T) {
	c := &cappedReader{r: strings.NewReader(strings.Repeat("a", 100)), left: 10}
	b, err := io.ReadAll(c)
	if len(b) != 10 || !errors.Is(err, errTooMuch) {
		t.Errorf("read %d bytes, error %v; want 10 and errTooMuch", len(b), err)
	}
}
