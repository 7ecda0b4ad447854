package server_test

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server"
)

// TestTLSCloseNotifyServesWhatCameBefore: a client that ends its write side with
// close_notify right behind its requests (RFC 8446 §6.1: it closes the sender's write
// side only) gets every response, then the connection ends, as a FIN does in cleartext;
// also when part of a request came in an earlier turn (it waits in the connection's
// accumulator), and when the responses back up behind a client that reads late (the
// connection pauses with requests unserved).
func TestTLSCloseNotifyServesWhatCameBefore(t *testing.T) {
	f := startTLS(t, server.Config{SendBudget: 64 << 10}, false)
	cases := []struct {
		name, early, path string
		n                 int
		readLate          bool
	}{
		{"a request", "", "/", 1, false},
		{"a request whose start came earlier", "GET / HTT", "/", 1, false},
		{"40 large responses to a client that reads late", "", "/big", 40, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hc := &gatherConn{Conn: smallReceiveBufferDial(t, f.addr())}
			c := tls.Client(hc, f.clientConfig("http/1.1"))
			_ = c.SetDeadline(time.Now().Add(time.Minute)) // only a hang meets it
			if err := c.Handshake(); err != nil {
				t.Fatal(err)
			}
			req := strings.Repeat("GET "+tc.path+" HTTP/1.1\r\nHost: localhost\r\n\r\n", tc.n)
			if tc.early != "" {
				if _, err := io.WriteString(c, tc.early); err != nil {
					t.Fatal(err)
				}
				req = strings.TrimPrefix(req, tc.early)
				// The server serves the start alone: nothing answers it, so wait a little.
				time.Sleep(100 * time.Millisecond)
			}
			hc.gathering = true // the rest and close_notify in one segment
			_, _ = io.WriteString(c, req)
			_ = c.CloseWrite()
			if err := hc.send(); err != nil {
				t.Fatal(err)
			}
			if tc.readLate {
				time.Sleep(300 * time.Millisecond)
			}
			br := bufio.NewReader(c)
			for i := range tc.n {
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Fatalf("response %d of %d: %v", i+1, tc.n, err)
				}
				if _, err := io.ReadAll(resp.Body); err != nil || resp.StatusCode != 200 {
					t.Fatalf("response %d: %d, %v", i+1, resp.StatusCode, err)
				}
			}
			if _, err := br.ReadByte(); err != io.EOF {
				t.Fatalf("after the responses: %v, want the end of the connection", err)
			}
		})
	}
}

// gatherConn gathers writes while gathering and sends them in one write, so that records
// reach the server in one segment.
type gatherConn struct {
	net.Conn
	gathering bool
	buf       []byte
}

func (c *gatherConn) Write(p []byte) (int, error) {
	if c.gathering {
		c.buf = append(c.buf, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

func (c *gatherConn) send() error {
	c.gathering = false
	_ = c.Conn.SetWriteDeadline(time.Time{}) // tls.Conn.CloseWrite leaves it at now
	_, err := c.Conn.Write(c.buf)
	c.buf = nil
	return err
}

// smallReceiveBufferDial connects with a small receive buffer, so that the server's
// output backs up soon.
func smallReceiveBufferDial(t *testing.T, addr string) net.Conn {
	t.Helper()
	d := &net.Dialer{Timeout: 10 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4<<10) })
	}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestTLS13UploadRightBehindFinished: a TLS 1.3 client may send application data right
// behind its Finished (RFC 8446 §2). An upload larger than any handshake that arrives
// while the server's handshake is still finishing (a VerifyConnection hook that takes
// 100 ms, as a revocation check may) waits in the kernel and is served once the handshake
// is done; it was taken for a flood of handshake input and cut off.
func TestTLS13UploadRightBehindFinished(t *testing.T) {
	f := startTLS(t, server.Config{TLS: &tls.Config{
		VerifyConnection: func(tls.ConnectionState) error { time.Sleep(100 * time.Millisecond); return nil },
	}}, false)
	c := dialTLS(t, f.addr(), f.clientConfig("http/1.1"))
	_ = c.SetDeadline(time.Now().Add(time.Minute)) // only a hang meets it
	body := strings.Repeat("u", 512<<10)
	go func() {
		_, _ = io.WriteString(c, "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body)
	}()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no response to an upload sent right behind the handshake: %v (TLSStats %+v)", err, f.srv.TLSStats())
	}
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

// TestTLSOverMaxConnsIsClosed: past MaxConns a TLS listener closes the new connection; the
// cleartext 503 a plain listener sends would reach a client that expects a ServerHello
// ("first record does not look like a TLS handshake").
func TestTLSOverMaxConnsIsClosed(t *testing.T) {
	f := startTLS(t, server.Config{MaxConns: 1}, false)
	held := dialTLS(t, f.addr(), f.clientConfig("http/1.1"))
	defer held.Close()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", f.addr(), f.clientConfig("http/1.1"))
	if err == nil {
		c.Close()
		t.Fatal("a second TLS connection was served past MaxConns 1")
	}
	if strings.Contains(err.Error(), "does not look like a TLS handshake") {
		t.Fatalf("the client got cleartext: %v", err)
	}
}
