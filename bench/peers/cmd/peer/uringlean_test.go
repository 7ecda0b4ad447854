//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// TestUringLeanEcho runs the io_uring experiment over real sockets: messages come back
// whole and in order on several connections at once, a frame split over two writes is
// joined, a ping gets its pong, bytes sent with the handshake are echoed, and closing the
// listener stops the loops; in each of the experiment's modes.
func TestUringLeanEcho(t *testing.T) {
	for _, m := range []struct {
		name string
		mode uringMode
	}{{"uring-lean", uringFull}, {"uring-hybrid", uringHybrid}, {"uring-recv", uringRecvOnly}} {
		t.Run(m.name, func(t *testing.T) { testUringEcho(t, m.mode) })
	}
}

func testUringEcho(t *testing.T, mode uringMode) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u, err := startUring(mode)
	if err != nil {
		t.Fatalf("the kernel refused a ring (%v): uring-lean needs Linux 6.1 or later with io_uring enabled", err)
	}
	served := make(chan error, 1)
	go func() { served <- u.serve(ln) }()
	addr := ln.Addr().String()
	deadline := time.Now().Add(30 * time.Second) // a fail-safe, not a bound on speed

	t.Run("messages on several connections", func(t *testing.T) {
		const conns, msgs = 8, 50
		errs := make(chan error, conns)
		for i := range conns {
			go func() { errs <- uringEchoConn(addr, i, msgs, deadline) }()
		}
		for range conns {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
	})

	t.Run("a frame in two writes, then a ping", func(t *testing.T) {
		c, br := uringDial(t, addr, nil, deadline)
		defer c.Close()
		f := maskedFrame(t, true, ws.OpText, "split across two writes")
		for _, part := range [][]byte{f[:7], f[7:]} {
			if _, err := c.Write(part); err != nil {
				t.Fatal(err)
			}
			time.Sleep(10 * time.Millisecond) // let the first part arrive alone
		}
		wantFrame(t, br, ws.OpText, "split across two writes")
		if _, err := c.Write(maskedFrame(t, true, ws.OpPing, "p")); err != nil {
			t.Fatal(err)
		}
		wantFrame(t, br, ws.OpPong, "p")
	})

	t.Run("bytes sent with the handshake", func(t *testing.T) {
		c, br := uringDial(t, addr, maskedFrame(t, true, ws.OpBinary, "early"), deadline)
		defer c.Close()
		wantFrame(t, br, ws.OpBinary, "early")
	})

	ln.Close()
	select {
	case err := <-served:
		if err == nil {
			t.Fatal("serve returned nil after its listener closed")
		}
	case <-time.After(time.Until(deadline)):
		t.Fatal("the loops did not stop after the listener closed")
	}
}

// uringEchoConn sends msgs numbered messages on one connection and reads them back.
func uringEchoConn(addr string, id, msgs int, deadline time.Time) error {
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	c, br, _, err := ws.Dialer{}.Dial(ctx, "ws://"+addr+"/echo")
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(deadline)
	var r io.Reader = c
	if br != nil {
		r = io.MultiReader(br, c)
	}
	for m := range msgs {
		payload := fmt.Sprintf("conn %d message %d", id, m)
		f, err := ws.CompileFrame(ws.MaskFrame(ws.NewTextFrame([]byte(payload))))
		if err != nil {
			return err
		}
		if _, err := c.Write(f); err != nil {
			return err
		}
		got, err := ws.ReadFrame(r)
		if err != nil {
			return fmt.Errorf("conn %d message %d: %w", id, m, err)
		}
		if got.Header.OpCode != ws.OpText || string(got.Payload) != payload {
			return fmt.Errorf("conn %d: got %v %q, want text %q", id, got.Header.OpCode, got.Payload, payload)
		}
	}
	return nil
}

// uringDial upgrades a raw connection to /echo, sending early in the same write as the
// request.
func uringDial(t *testing.T, addr string, early []byte, deadline time.Time) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(deadline)
	req := "GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := c.Write(append([]byte(req), early...)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	status, err := br.ReadString('\n')
	if err != nil || status != "HTTP/1.1 101 Switching Protocols\r\n" {
		t.Fatalf("handshake answered %q (%v)", status, err)
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "\r\n" {
			return c, br
		}
	}
}

func wantFrame(t *testing.T, r io.Reader, op ws.OpCode, payload string) {
	t.Helper()
	f, err := ws.ReadFrame(r)
	if err != nil {
		t.Fatal(err)
	}
	if f.Header.OpCode != op || !bytes.Equal(f.Payload, []byte(payload)) || f.Header.Masked {
		t.Fatalf("got %v %q (masked %v), want unmasked %v %q", f.Header.OpCode, f.Payload, f.Header.Masked, op, payload)
	}
}
