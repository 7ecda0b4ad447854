package server

import (
	"bufio"
	"errors"
	"io"

	"os"
	"strings"
	"testing"
	"time"
)

// While a worker-pool handler runs, the connection is not read: what the client pipelines
// meanwhile waits in the kernel, whose TCP window stops the client, instead of growing the
// server's buffers (before, the server read it all: 19.5 MiB pipelined during a 1.5 s
// handler grew the heap by 96 MiB).
func TestWorkerPoolHandlerHoldsTheConnectionsInput(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	s := startServer(t, Config{}, func(s *Server) {
		s.Route("/slow", Route{UseWorkerPool: true, HTTP: func(w *ResponseWriter, r *Request) {
			entered <- struct{}{}
			<-release
			_, _ = w.WriteString("done")
		}})
		s.Route("/", Route{HTTP: okHandler("x")})
	})
	c := dial(t, s)
	write(t, c, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
	<-entered
	// 64 MiB of pipelined requests, more than loopback's socket buffers hold: the writes
	// must stall, since nothing reads them.
	const flood = 64 << 20
	req := []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	chunk := []byte(strings.Repeat(string(req), (64<<10)/len(req)))
	written := 0
	for written < flood {
		_ = c.SetWriteDeadline(time.Now().Add(2 * time.Second))
		n, err := c.Write(chunk)
		written += n
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	if written >= flood {
		t.Fatalf("the server took all %d MiB pipelined while its handler ran", flood>>20)
	}
	close(release)
	_ = c.SetDeadline(time.Now().Add(time.Minute))
	br := bufio.NewReader(c)
	if _, body := readResponse(t, br, "GET"); body != "done" {
		t.Fatalf("slow response: %q", body)
	}
	if _, body := readResponse(t, br, "GET"); body != "x" { // the held input is served next
		t.Fatalf("first pipelined response: %q", body)
	}
}

// A request body is given BodyTimeout plus the time its bytes take at MinBodyRate: a
// client trickling a byte now and then gets 408 (before, every byte restarted the body
// timeout, so one byte every 29 s held a 4 MiB buffer forever), and one sending at the
// rate or faster is served however long the body takes.
func TestBodyRate(t *testing.T) {
	s := startServer(t, Config{BodyTimeout: time.Second, MinBodyRate: 100}, func(s *Server) {
		s.Route("/", Route{HTTP: echoHandler})
	})
	t.Run("a trickle gets 408", func(t *testing.T) {
		c := dial(t, s)
		_ = c.SetDeadline(time.Now().Add(time.Minute))
		write(t, c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
		got := make(chan string, 1)
		go func() {
			line, _ := bufio.NewReader(c).ReadString('\n')
			got <- line
		}()
		for {
			select {
			case line := <-got:
				if !strings.HasPrefix(line, "HTTP/1.1 408 ") {
					t.Fatalf("got %q, want 408", line)
				}
				return
			case <-time.After(200 * time.Millisecond):
				if _, err := c.Write([]byte("x")); err != nil {
					t.Fatalf("connection closed without 408: %v", err)
				}
			}
		}
	})
	t.Run("a body at the rate is served", func(t *testing.T) {
		c := dial(t, s)
		_ = c.SetDeadline(time.Now().Add(time.Minute))
		const body = 20000 // 20 × 1,000 bytes, 100 ms apart: ten times the rate, twice the timeout
		write(t, c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 20000\r\n\r\n")
		for range body / 1000 {
			write(t, c, strings.Repeat("y", 1000))
			time.Sleep(100 * time.Millisecond)
		}
		resp, got := readResponse(t, bufio.NewReader(c), "POST")
		if resp.StatusCode != 200 || len(got) != len("POST / ")+body {
			t.Fatalf("got %d, %d bytes", resp.StatusCode, len(got))
		}
	})
}

// An upgrade whose request was still arriving when shutdown began is drained too: the
// new protocol gets its Drain (WebSocket's 1001, HTTP/2's GOAWAY) as soon as it starts.
func TestUpgradeCompletingDuringShutdownIsDrained(t *testing.T) {
	s := New(Config{Logger: discard})
	s.Route("/up", Route{RequireUpgrade: true, Upgraders: []Upgrader{testUpgrader{"proto"}}})
	c := newDriven(s)
	c.Record(true)
	c.Feed([]byte("GET /up HTTP/1.1\r\nHost: x\r\nUpgrade: proto\r\n"))
	s.draining.Store(true) // Shutdown has begun; drain left this request in progress
	c.Feed([]byte("Connection: upgrade\r\n\r\n"))
	p, ok := c.Protocol().(*testProtocol)
	if !ok {
		t.Fatalf("protocol %T, output %q", c.Protocol(), c.Output())
	}
	if !p.drained {
		t.Fatalf("the protocol that started during shutdown was not drained")
	}
}

// bulkProtocol writes size bytes when it starts and hands its connection to the test.
type bulkProtocol struct {
	size  int
	conns chan *Conn
}

func (p bulkProtocol) Token() string { return "bulk" }
func (p bulkProtocol) Upgrade(c *Conn, r *Request, hdr []byte) (Protocol, []byte, *Rejection) {
	return p, hdr, nil
}
func (p bulkProtocol) Start(c *Conn, r *Request) {
	c.Write(make([]byte, p.size))
	p.conns <- c
}
func (p bulkProtocol) Serve(c *Conn, in []byte) (int, error) { return len(in), nil }
func (p bulkProtocol) Timeout(c *Conn)                       {}
func (p bulkProtocol) Closed(c *Conn, err error)             {}

// CloseAsync closes after what is queued has been written, like Close: the peer gets every
// byte, then the end of the stream (before, gnet's asynchronous close dropped what the
// socket had not taken yet).
func TestCloseAsyncDeliversWhatWasQueued(t *testing.T) {
	const size = 16 << 20 // far more than a loopback socket takes at once
	bulk := bulkProtocol{size: size, conns: make(chan *Conn, 1)}
	s := startServer(t, Config{}, func(s *Server) {
		s.Route("/bulk", Route{RequireUpgrade: true, Upgraders: []Upgrader{bulk}})
	})
	c := dial(t, s)
	_ = c.SetDeadline(time.Now().Add(time.Minute))
	write(t, c, "GET /bulk HTTP/1.1\r\nHost: x\r\nUpgrade: bulk\r\nConnection: upgrade\r\n\r\n")
	br := bufio.NewReader(c)
	if resp, _ := readResponse(t, br, "GET"); resp.StatusCode != 101 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	conn := <-bulk.conns
	if err := conn.CloseAsync(); err != nil {
		t.Fatal(err)
	}
	// Read only once the close has had time to run while the socket is full: what the
	// socket has not taken must still arrive. (Too short a pause only weakens the test.)
	time.Sleep(200 * time.Millisecond)
	n, err := io.Copy(io.Discard, br)
	if err != nil || n != size {
		t.Fatalf("read %d of %d bytes before the end (%v)", n, size, err)
	}
}
