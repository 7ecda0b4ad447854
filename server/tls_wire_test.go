package server

import (
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/switchyard-dev/switchyard/server/internal/gnet"
)

// asyncRecorder is the socket's gnet side as the handshake goroutine sees it: what it
// queues through AsyncWrite.
type asyncRecorder struct {
	gnet.Conn
	queued [][]byte
}

func (a *asyncRecorder) AsyncWrite(p []byte, _ gnet.AsyncCallback) error {
	a.queued = append(a.queued, p)
	return nil
}

// socketPair returns a connected pair of stream sockets, the first non-blocking.
func socketPair(t *testing.T) (fd, peer int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Close(fds[0]); _ = unix.Close(fds[1]) })
	if err := unix.SetNonblock(fds[0], true); err != nil {
		t.Fatal(err)
	}
	return fds[0], fds[1]
}

// fill writes to the non-blocking fd until the socket takes no more.
func fill(t *testing.T, fd int) {
	t.Helper()
	junk := make([]byte, 64<<10)
	for {
		if _, err := unix.Write(fd, junk); err == unix.EAGAIN {
			return
		} else if err != nil {
			t.Fatal(err)
		}
	}
}

// The handshake goroutine's writes: straight to a socket with room; through the loop
// (AsyncWrite, with a copy) once the socket is full, and then always, so that the
// flights stay in order; never once the loop has closed the connection.
func TestTLSWireHandshakeWrites(t *testing.T) {
	tests := []struct {
		name       string
		full       bool // the socket takes nothing when the first flight is written
		closed     bool // the loop closed the connection before the first flight
		wantDirect string
		wantQueued []string
	}{
		{name: "room", wantDirect: "flight1flight2"},
		{name: "full", full: true, wantQueued: []string{"flight1", "flight2"}},
		{name: "closed", closed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fd, peer := socketPair(t)
			rec := &asyncRecorder{}
			w := (&tlsTransport{Conn: rec, fd: int32(fd), wake: make(chan struct{}, 1)}).wire()
			if tt.full {
				fill(t, fd)
			}
			if err := unix.SetNonblock(peer, true); err != nil {
				t.Fatal(err)
			}
			if tt.closed {
				w.close()
			}
			for _, flight := range []string{"flight1", "flight2"} {
				p := []byte(flight)
				n, err := w.Write(p)
				if tt.closed {
					if err == nil {
						t.Fatalf("write after close: %d, nil", n)
					}
					continue
				}
				if err != nil || n != len(p) {
					t.Fatalf("write %q: %d, %v", flight, n, err)
				}
				copy(p, "XXXXXXX") // crypto/tls reuses its buffer
				if tt.full {
					// Room again: the second flight must still queue behind the first.
					buf := make([]byte, 1<<20)
					_, _ = unix.Read(peer, buf)
				}
			}
			var got []string
			for _, q := range rec.queued {
				got = append(got, string(q))
			}
			if !slices.Equal(got, tt.wantQueued) {
				t.Fatalf("queued %q, want %q", got, tt.wantQueued)
			}
			if !tt.full {
				buf := make([]byte, 256)
				n, _ := unix.Read(peer, buf)
				if n < 0 {
					n = 0
				}
				if string(buf[:n]) != tt.wantDirect {
					t.Fatalf("socket got %q, want %q", buf[:n], tt.wantDirect)
				}
			}
		})
	}
}
