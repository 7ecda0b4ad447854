package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server/internal/gnet"
	"github.com/switchyard-dev/switchyard/server/internal/servertest"
)

// stopWheels keeps s's loops (those that have served a connection) from ever running a
// wheel tick: a connection whose reading was paused can then resume only because the
// socket took its output.
func stopWheels(t *testing.T, s *Server) {
	t.Helper()
	for _, l := range s.loopList() {
		done := make(chan struct{})
		if err := l.Run(gnet.RunnableFunc(func(context.Context) error {
			l.wheel.arm = func(int64) {}
			l.timer.Stop() // a tick asked for earlier
			close(done)
			return nil
		})); err != nil {
			t.Fatal(err)
		}
		<-done
	}
}

// TestReadingResumesWhenTheSocketTakesTheOutput: a keep-alive client pipelines requests
// for responses larger than the send budget. Each response fills the budget, so the
// server stops reading the connection until the peer has taken the output; it must read
// on as soon as the socket has taken it (at once, or from its writable event once the
// peer reads), not when a timer looks again: with the loops' wheels stopped, every
// response still arrives.
func TestReadingResumesWhenTheSocketTakesTheOutput(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	cert, err := SelfSignedCertificate()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		// readLate: the client reads nothing until the server has paused its connection,
		// so the socket is full and the output waits in the server.
		readLate, tls bool
	}{{"client reading", false, false}, {"client reading late", true, false}, {"over TLS, client reading late", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{SendBudget: 256 << 10, Loops: 1}
			if tc.tls {
				cfg.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
			}
			s := startServer(t, cfg, func(s *Server) {
				s.Route("/big", Route{HTTP: func(w *ResponseWriter, r *Request) { _, _ = w.Write(body) }})
				s.Route("/small", Route{HTTP: okHandler("small")})
			})
			var c net.Conn
			if tc.tls {
				tlsc, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", s.Addr().String(),
					&tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
				if err != nil {
					t.Fatal(err)
				}
				c = tlsc
			} else {
				c = dial(t, s)
			}
			defer c.Close()
			// Generous: a failure is a hang, and a busy machine under -race is slow.
			_ = c.SetDeadline(time.Now().Add(time.Minute))
			write(t, c, "GET /small HTTP/1.1\r\nHost: x\r\n\r\n") // the loop comes to be
			br := bufio.NewReader(c)
			readResponse(t, br, "GET")
			stopWheels(t, s)
			const n = 16
			write(t, c, strings.Repeat("GET /big HTTP/1.1\r\nHost: x\r\n\r\n", n))
			if tc.readLate {
				servertest.Eventually(t, "the server pauses the connection", func() bool { return s.Stats().Paused > 0 })
			}
			for i := 0; i < n; i++ {
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Fatalf("response %d of %d: %v (reading paused %d times)", i+1, n, err, s.Stats().Paused)
				}
				got, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || !bytes.Equal(got, body) {
					t.Fatalf("response %d: %d bytes, %v", i+1, len(got), err)
				}
			}
		})
	}
}

// TestClosingConnectionEndsWhenItsOutputHasGone: a response with "Connection: close"
// larger than the socket takes at once lingers in the server until the peer has read it;
// the connection's end (FIN) follows as soon as the last byte has gone, not when a timer
// looks again: with the loops' wheels stopped, the client still reads to EOF.
func TestClosingConnectionEndsWhenItsOutputHasGone(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 1<<19) // 8 MiB
	s := startServer(t, Config{Loops: 1}, func(s *Server) {
		s.Route("/big", Route{HTTP: func(w *ResponseWriter, r *Request) { _, _ = w.Write(body) }})
		s.Route("/small", Route{HTTP: okHandler("small")})
	})
	c := dial(t, s)
	_ = c.SetDeadline(time.Now().Add(time.Minute))        // as above
	write(t, c, "GET /small HTTP/1.1\r\nHost: x\r\n\r\n") // the loop comes to be
	br := bufio.NewReader(c)
	readResponse(t, br, "GET")
	stopWheels(t, s)
	write(t, c, "GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("body: %d bytes, %v", len(got), err)
	}
	if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
		t.Fatalf("after the response: %d more bytes, %v; want EOF", len(rest), err)
	}
}
