//go:build linux

package gnet

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

type echoHandler struct {
	BuiltinEventEngine
	running chan Engine
}

func (h *echoHandler) OnRun(e Engine) { h.running <- e }

func (h *echoHandler) OnTraffic(c Conn) Action {
	b, _ := c.Next(-1)
	_, _ = c.Write(b)
	return None
}

func runEdgeTriggeredEcho(t *testing.T) string {
	t.Helper()
	h := &echoHandler{running: make(chan Engine, 1)}
	_, addr := startEngine(t, h, h.running, WithMulticore(true), WithNumEventLoop(2), WithSharedListener(true),
		WithEdgeTriggeredIO(true), WithReadBufferCap(64<<10), WithEdgeTriggeredIOChunk(256<<10))
	return addr
}

// In ET mode a loop stops reading after a read that did not fill its buffer (see
// eventloop.read). If a later arrival raised no new edge, the bytes would sit in the
// socket and these echoes would time out: sizes around the 64 KiB buffer, past the
// 256 KiB per-event chunk, and writes spaced so that reads come up short between them.
func TestEdgeTriggeredReadsEverything(t *testing.T) {
	addr := runEdgeTriggeredEcho(t)
	tests := []struct {
		name   string
		pieces []int // written one after another, each echoed before the next
		gap    time.Duration
	}{
		{"one byte", []int{1}, 0},
		{"below the buffer", []int{64<<10 - 1}, 0},
		{"the buffer", []int{64 << 10}, 0},
		{"above the buffer", []int{64<<10 + 1}, 0},
		{"past the chunk", []int{1<<20 + 3}, 0},
		{"small pieces with gaps", []int{5, 7, 64 << 10, 3, 1}, 20 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			for i, size := range tt.pieces {
				msg := bytes.Repeat([]byte{byte('a' + i)}, size)
				errc := make(chan error, 1)
				go func() { _, err := c.Write(msg); errc <- err }()
				got := make([]byte, size)
				if _, err := io.ReadFull(c, got); err != nil {
					t.Fatalf("piece %d (%d bytes): %v", i, size, err)
				}
				if err := <-errc; err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, msg) {
					t.Fatalf("piece %d (%d bytes) came back changed", i, size)
				}
				time.Sleep(tt.gap)
			}
		})
	}
}

// A client that half-closes after its data still gets the data echoed, then the close.
func TestEdgeTriggeredHalfCloseAfterData(t *testing.T) {
	addr := runEdgeTriggeredEcho(t)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte("last words")); err != nil {
		t.Fatal(err)
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "last words" {
		t.Fatalf("got %q, %v; want the echo, then EOF", got, err)
	}
}
