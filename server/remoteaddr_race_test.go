package server

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// Issue 14, item 13: Conn.RemoteAddr is documented safe from any goroutine, so a
// goroutine that kept the connection (a WebSocket hub's publisher logging its members,
// say) may call it while the loop closes the connection. The loop must write nothing
// RemoteAddr reads (under -race the detector reports the write), and the address must
// stay the client's after the close.
func TestRemoteAddrFromAnotherGoroutineWhileTheClientLeaves(t *testing.T) {
	type result struct {
		reads int
		wrong []string
	}
	var stop atomic.Bool
	results := make(chan result, 1)
	s := startServer(t, Config{}, func(s *Server) {
		s.Route("", Route{HTTP: func(w *ResponseWriter, r *Request) {
			c := r.Conn()
			want := r.RemoteAddr().String()
			go func() {
				var res result
				for !stop.Load() || res.reads == 0 {
					a := c.RemoteAddr()
					if a == nil || a.String() != want {
						if len(res.wrong) < 5 {
							res.wrong = append(res.wrong, fmt.Sprint(a))
						}
					}
					res.reads++
					// Paced, so that the race detector still has the stack of the read
					// before the loop's write (a tight loop overruns its history, and a
					// race whose earlier access it cannot restore goes unreported).
					time.Sleep(100 * time.Microsecond)
				}
				results <- res
			}()
			_, _ = w.WriteString(want)
		}})
	})
	c := dial(t, s)
	write(t, c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	_, body := readResponse(t, bufio.NewReader(c), "GET")
	if want := c.LocalAddr().String(); body != want {
		t.Fatalf("RemoteAddr() = %q, want the client's %q", body, want)
	}
	c.Close() // the loop closes and releases the connection while the goroutine reads
	deadline := time.Now().Add(10 * time.Second)
	for s.open.Load() > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the server did not close the connection")
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(10 * time.Millisecond) // a few more reads after the close
	stop.Store(true)
	res := <-results
	if len(res.wrong) > 0 {
		t.Fatalf("RemoteAddr read from another goroutine returned %v (of %d reads), want %s every time", res.wrong, res.reads, body)
	}
}

// A worker-pool handler runs off the loop, but the client's address is still the
// request's: Request.RemoteAddr returns it there too (it returned nil), and goes on
// returning it while the loop force-closes the connection under the handler (a
// Shutdown whose deadline has passed), without a data race under -race.
func TestRemoteAddrInAWorkerPoolHandler(t *testing.T) {
	first := make(chan net.Addr, 1)
	release := make(chan struct{})
	wrong := make(chan []string, 1)
	s := startServer(t, Config{}, func(s *Server) {
		s.Route("", Route{UseWorkerPool: true, HTTP: func(w *ResponseWriter, r *Request) {
			first <- r.RemoteAddr()
			want := fmt.Sprint(r.RemoteAddr())
			var bad []string
			for done := false; !done; {
				select {
				case <-release:
					done = true
				default:
				}
				if a := r.RemoteAddr(); a == nil || a.String() != want {
					bad = append(bad, fmt.Sprint(a))
				}
				time.Sleep(100 * time.Microsecond) // see TestRemoteAddrFromAnotherGoroutineWhileTheClientLeaves
			}
			wrong <- bad
		}})
	})
	c := dial(t, s)
	want := c.LocalAddr().String()
	write(t, c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if a := <-first; a == nil || a.String() != want {
		close(release)
		t.Fatalf("RemoteAddr() in a worker-pool handler = %v, want the client's %s", a, want)
	}
	// The handler is still running: a Shutdown past its deadline closes the connection
	// under it.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_ = s.Shutdown(ctx)
	close(release)
	if bad := <-wrong; len(bad) > 0 {
		t.Fatalf("RemoteAddr() in a worker-pool handler while its connection closed: %v, want the client's %s", bad[:min(len(bad), 5)], want)
	}
}
