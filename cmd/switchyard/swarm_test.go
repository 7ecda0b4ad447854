package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"golang.org/x/sys/unix"
)

// swarm is many WebSocket subscribers read by one goroutine through epoll: a goroutine
// per client would pass the race detector's limit of 8128 goroutines, and cost more than
// the servers under test.
//
// Messages are 5 bytes: a phase and a big-endian sequence number from 1. Each client
// records what it got per phase; a message out of order or twice is an error.
type swarm struct {
	ep    int
	conns []net.Conn // kept so their descriptors stay open
	byFD  map[int]*swarmClient

	mu      sync.Mutex // the reader holds it while it handles a batch
	clients []*swarmClient
	errs    []string
	stop    chan struct{}
	stopped chan struct{}
}

const swarmPhases = 4

type swarmClient struct {
	node    int
	pending []byte              // a partial frame
	last    [swarmPhases]uint32 // highest sequence number seen per phase
	count   [swarmPhases]int    // messages per phase
	got     [swarmPhases][]bool // which sequence numbers arrived, per phase (tracked phases only)
	closed  bool
}

func newSwarm(t *testing.T) *swarm {
	t.Helper()
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	s := &swarm{ep: ep, byFD: map[int]*swarmClient{}, stop: make(chan struct{}), stopped: make(chan struct{})}
	t.Cleanup(func() {
		close(s.stop)
		<-s.stopped
		for _, c := range s.conns {
			c.Close()
		}
		unix.Close(ep)
	})
	go s.read()
	return s
}

// track makes every client remember which of n messages of phase arrived.
func (s *swarm) track(phase, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.clients {
		c.got[phase] = make([]bool, n+1)
	}
}

// dial opens n subscribers to addr's path (a few handshakes at a time) on node.
func (s *swarm) dial(t *testing.T, addr, path string, n, node int) {
	t.Helper()
	type result struct {
		c   net.Conn
		err error
	}
	results := make(chan result, n)
	work := make(chan struct{}, n)
	for range n {
		work <- struct{}{}
	}
	close(work)
	for range 8 {
		go func() {
			for range work {
				c, err := wsDial(addr, path)
				results <- result{c, err}
			}
		}()
	}
	for range n {
		r := <-results
		if r.err != nil {
			t.Fatalf("subscriber to %s: %v", addr, r.err)
		}
		s.add(t, r.c, node)
	}
}

func (s *swarm) add(t *testing.T, c net.Conn, node int) {
	t.Helper()
	raw, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var fd int
	_ = raw.Control(func(f uintptr) { fd = int(f) })
	cl := &swarmClient{node: node}
	s.mu.Lock()
	s.conns = append(s.conns, c)
	s.byFD[fd] = cl
	s.clients = append(s.clients, cl)
	s.mu.Unlock()
	if err := unix.EpollCtl(s.ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}); err != nil {
		t.Fatal(err)
	}
}

// wsDial opens a WebSocket (no extensions) to addr's path; the server sends nothing
// before a broadcast, so nothing is read past the 101.
func wsDial(addr, path string) (net.Conn, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	_, err = fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", path)
	if err != nil {
		c.Close()
		return nil, err
	}
	// Read the response byte by byte: a buffered reader could take the first frames.
	var head []byte
	b := make([]byte, 1)
	for !strings.HasSuffix(string(head), "\r\n\r\n") {
		if _, err := c.Read(b); err != nil {
			c.Close()
			return nil, fmt.Errorf("handshake: %w (%q)", err, head)
		}
		head = append(head, b[0])
	}
	if !strings.HasPrefix(string(head), "HTTP/1.1 101 ") {
		c.Close()
		return nil, fmt.Errorf("handshake: %q", head)
	}
	_ = c.SetDeadline(time.Time{})
	return c, nil
}

func (s *swarm) read() {
	defer close(s.stopped)
	events := make([]unix.EpollEvent, 256)
	buf := make([]byte, 64<<10)
	for {
		select {
		case <-s.stop:
			return
		default:
		}
		n, err := unix.EpollWait(s.ep, events, 50)
		if err != nil && !errors.Is(err, unix.EINTR) {
			s.fail("epoll_wait: %v", err)
			return
		}
		s.mu.Lock()
		for _, ev := range events[:max(n, 0)] {
			cl := s.byFD[int(ev.Fd)]
			if cl == nil || cl.closed {
				continue
			}
			m, err := unix.Read(int(ev.Fd), buf)
			if errors.Is(err, unix.EAGAIN) {
				continue
			}
			if m <= 0 {
				cl.closed = true
				s.errs = append(s.errs, fmt.Sprintf("a subscriber's connection ended: %v", err))
				_ = unix.EpollCtl(s.ep, unix.EPOLL_CTL_DEL, int(ev.Fd), nil)
				continue
			}
			s.frames(cl, buf[:m])
		}
		s.mu.Unlock()
	}
}

func (s *swarm) fail(format string, args ...any) {
	s.mu.Lock()
	s.errs = append(s.errs, fmt.Sprintf(format, args...))
	s.mu.Unlock()
}

// frames parses what arrived for cl (server frames are unmasked). s.mu held.
func (s *swarm) frames(cl *swarmClient, data []byte) {
	if len(cl.pending) > 0 {
		data = append(cl.pending, data...)
	}
	for {
		op, payload, rest, ok := nextFrame(data)
		if !ok {
			break
		}
		s.message(cl, op, payload)
		data = rest
	}
	cl.pending = append(cl.pending[:0], data...)
}

// nextFrame splits the first whole frame off data.
func nextFrame(data []byte) (op ws.OpCode, payload, rest []byte, ok bool) {
	if len(data) < 2 {
		return 0, nil, nil, false
	}
	n, hlen := uint64(data[1]&0x7f), 2
	switch {
	case n == 126 && len(data) >= 4:
		n, hlen = uint64(binary.BigEndian.Uint16(data[2:4])), 4
	case n == 127 && len(data) >= 10:
		n, hlen = binary.BigEndian.Uint64(data[2:10]), 10
	case n >= 126:
		return 0, nil, nil, false
	}
	if uint64(len(data)-hlen) < n {
		return 0, nil, nil, false
	}
	end := hlen + int(n)
	return ws.OpCode(data[0] & 0x0f), data[hlen:end], data[end:], true
}

func (s *swarm) message(cl *swarmClient, op ws.OpCode, p []byte) {
	if op != ws.OpBinary {
		if op == ws.OpClose {
			s.errs = append(s.errs, fmt.Sprintf("a subscriber was closed: %x", p))
		}
		return // pings need no answer within the test
	}
	if len(p) != 5 || p[0] >= swarmPhases {
		s.errs = append(s.errs, fmt.Sprintf("unexpected message %x", p))
		return
	}
	phase, seq := p[0], binary.BigEndian.Uint32(p[1:])
	if seq <= cl.last[phase] {
		s.errs = append(s.errs, fmt.Sprintf("phase %d: message %d after %d (twice or out of order)", phase, seq, cl.last[phase]))
		return
	}
	if phase == 1 && seq != cl.last[phase]+1 {
		s.errs = append(s.errs, fmt.Sprintf("phase 1: message %d after %d (one missing)", seq, cl.last[phase]))
	}
	cl.last[phase] = seq
	cl.count[phase]++
	if g := cl.got[phase]; int(seq) < len(g) {
		g[seq] = true
	}
}

// waitAll waits until every client's highest sequence number in phase is at least seq,
// or until the fail-safe limit passes; it reports whether they all got there.
func (s *swarm) waitAll(phase int, seq uint32, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for {
		s.mu.Lock()
		behind := 0
		for _, c := range s.clients {
			if c.last[phase] < seq {
				behind++
			}
		}
		s.mu.Unlock()
		if behind == 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// errors are what went wrong so far (the first few).
func (s *swarm) errors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.errs[:min(len(s.errs), 10)]
}

// wsPublisher is a client that sends masked binary messages of the swarm's format.
type wsPublisher struct {
	c   net.Conn
	buf []byte
}

func (p *wsPublisher) send(t *testing.T, phase byte, seq uint32) {
	t.Helper()
	var msg [5]byte
	msg[0] = phase
	binary.BigEndian.PutUint32(msg[1:], seq)
	p.buf = ws.AppendMaskedFrame(p.buf[:0], true, ws.OpBinary, 0, [4]byte{7, 1, 2, 9}, msg[:])
	if _, err := p.c.Write(p.buf); err != nil {
		t.Fatalf("publisher: %v", err)
	}
}
