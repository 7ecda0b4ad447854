package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// HandshakeParams shape a ws-handshake run: Par handshakes kept in flight, each
// connecting, upgrading and closing, for Duration after Warmup.
type HandshakeParams struct {
	Par      int           `json:"parallel"`
	Duration time.Duration `json:"duration"`
	Warmup   time.Duration `json:"warmup"`
	Path     string        `json:"path"`
}

// RunHandshake measures upgrades per second and the latency from creating the socket to
// reading the 101. Each connection then sends a close frame and is reset (SO_LINGER 0),
// so neither side keeps it in TIME_WAIT: at ten thousand upgrades a second a graceful
// close would use up the ephemeral ports within seconds. srcs is unused: without
// TIME_WAIT one source address has ports enough.
//
// The client is one epoll loop per CPU on non-blocking sockets, each keeping its share
// of Par handshakes in flight. On loopback the client's connect and close already carry
// most of both sides' TCP set-up and tear-down, so the client's CPU per upgrade limits
// the rate long before the server's does: blocking sockets on goroutines (the first
// version) spent a context switch and a hand-off of the Go runtime's P on every read of
// a 101, and held every server to the same ~19k upgrades/s.
func RunHandshake(ctx context.Context, addr string, pid int, p HandshakeParams, srcs []net.IP, live *Live) (Metrics, error) {
	if p.Par <= 0 {
		p.Par = 32
	}
	if p.Path == "" {
		p.Path = "/echo"
	}
	hs, err := newRawHandshake(addr, p.Path)
	if err != nil {
		return Metrics{}, err
	}
	var (
		tally = opTally{live: live}
		wg    sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	loops := min(runtime.NumCPU(), p.Par)
	loopErr := make(chan error, loops)
	for i := 0; i < loops; i++ {
		share := p.Par / loops
		if i < p.Par%loops {
			share++
		}
		l, err := newHandshakeLoop(hs, share)
		if err != nil {
			cancel()
			wg.Wait()
			return Metrics{}, err
		}
		l.done = func(lat time.Duration, err error) { tally.done(ctx, lat, err) }
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.run(ctx); err != nil {
				loopErr <- err
			}
		}()
	}
	m := tally.measure(ctx, pid, p.Warmup, p.Duration)
	cancel()
	wg.Wait()
	select {
	case err := <-loopErr:
		return m, err
	default:
	}
	tally.report(&m)
	return m, nil
}

// rawHandshake is the client side of an opening handshake with a request built once. It
// is hand-written, not gobwas's Dialer, because here the client's CPU is the
// measurement's limit: net.Dial plus ws.Dialer cost about 90 µs of client CPU per
// upgrade on this kind of machine, raw system calls a fraction of that. The key is fixed
// (RFC 6455 §4.1 wants a fresh nonce; servers cannot tell, and the check of
// Sec-WebSocket-Accept still holds).
type rawHandshake struct {
	sa     rawSockaddr4 // connect only reads it: every loop shares it
	req    []byte
	accept []byte
}

func newRawHandshake(addr, path string) (*rawHandshake, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	ip := net.ParseIP(host).To4()
	pn, err := strconv.Atoi(port)
	if ip == nil || err != nil {
		return nil, fmt.Errorf("handshake: %q is not an IPv4 host:port", addr)
	}
	const key = "dGhlIHNhbXBsZSBub25jZQ==" // RFC 6455 §1.3's example
	h := &rawHandshake{
		sa: newRawSockaddr4(ip, pn),
		req: []byte("GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n"),
		accept: []byte("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), // RFC 6455 §1.3: the accept of key
	}
	return h, nil
}

var (
	errNot101       = errors.New("handshake: response is not 101 Switching Protocols")
	errNoAccept     = errors.New("handshake: Sec-WebSocket-Accept missing or wrong")
	errClosedEarly  = errors.New("handshake: server closed before the 101")
	errHeadTooLarge = errors.New("handshake: response head too large")
	errTimedOut     = errors.New("handshake: no 101 within 5s")
)

// handshakeTimeout bounds one handshake, as SO_RCVTIMEO did for the blocking client.
const handshakeTimeout = 5 * time.Second

// response checks a complete response head.
func (h *rawHandshake) response(head []byte) error {
	if !bytes.HasPrefix(head, []byte("HTTP/1.1 101")) {
		return errNot101
	}
	if !bytes.Contains(head, h.accept) {
		return errNoAccept
	}
	return nil
}

// handshakeLoop drives its handshakes on one epoll instance.
type handshakeLoop struct {
	h     *rawHandshake
	epfd  int
	slots []hsSlot
	done  func(time.Duration, error)
}

// hsSlot is one handshake in flight.
type hsSlot struct {
	fd   int // -1 between handshakes
	t0   time.Time
	sent bool // the request is written
	n    int
	buf  [1024]byte
}

func newHandshakeLoop(h *rawHandshake, par int) (*handshakeLoop, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("handshake: epoll_create1: %w", err)
	}
	l := &handshakeLoop{h: h, epfd: epfd, slots: make([]hsSlot, par)}
	for i := range l.slots {
		l.slots[i].fd = -1
	}
	return l, nil
}

func (l *handshakeLoop) run(ctx context.Context) error {
	defer func() {
		for i := range l.slots {
			l.finish(&l.slots[i])
		}
		_ = syscall.Close(l.epfd)
	}()
	events := make([]syscall.EpollEvent, len(l.slots))
	lastSweep := time.Now()
	for ctx.Err() == nil {
		// Every handshake that ended, however it ended, is replaced by a new one.
		for i := range l.slots {
			if s := &l.slots[i]; s.fd < 0 {
				l.start(i)
			}
		}
		n, err := epollWait(l.epfd, events, clientSpins, 100)
		if err != nil && err != syscall.EINTR {
			return fmt.Errorf("handshake: epoll_wait: %w", err)
		}
		for i := 0; i < n; i++ {
			// The event's data is the slot's index (see start); a slot whose handshake
			// ended earlier in this batch has no descriptor and nothing to do.
			if s := &l.slots[events[i].Fd]; s.fd >= 0 {
				l.step(s)
			}
		}
		if now := time.Now(); now.Sub(lastSweep) > 100*time.Millisecond {
			lastSweep = now
			for i := range l.slots {
				if s := &l.slots[i]; s.fd >= 0 && now.Sub(s.t0) > handshakeTimeout {
					l.fail(s, errTimedOut)
				}
			}
		}
	}
	return nil
}

// start opens a connection and writes the request if it is connected already (on
// loopback it usually is by the time connect returns). A failure leaves the slot empty
// for run to try again.
func (l *handshakeLoop) start(slot int) {
	s := &l.slots[slot]
	s.t0, s.sent, s.n = time.Now(), false, 0
	fd, err := rawSocketTCP4()
	if err != nil {
		l.done(0, fmt.Errorf("socket: %w", err))
		return
	}
	s.fd = fd
	if err := rawConnect(fd, &l.h.sa); err != nil && err != syscall.EINPROGRESS && err != syscall.EINTR {
		l.fail(s, fmt.Errorf("connect: %w", err))
		return
	}
	l.send(s)
	// epoll_data is ours to fill: it carries the slot's index, not the descriptor, so an
	// event finds its handshake without a lookup. Writability is only asked for while
	// the request waits for the connection: a connected socket is writable at once, and
	// that event would cost a wakeup and a read for nothing.
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | epollET, Fd: int32(slot)}
	if !s.sent {
		ev.Events |= syscall.EPOLLOUT
	}
	if err := rawEpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		l.fail(s, fmt.Errorf("epoll_ctl: %w", err))
	}
}

// send writes the request unless it is written or the socket is still connecting.
func (l *handshakeLoop) send(s *hsSlot) {
	if s.sent {
		return
	}
	n, err := rawWrite(s.fd, l.h.req)
	switch {
	case err == syscall.EAGAIN:
	case err != nil:
		l.fail(s, fmt.Errorf("write: %w", err))
	case n != len(l.h.req):
		l.fail(s, errors.New("write: short write of the request"))
	default:
		s.sent = true
	}
}

// step advances a handshake on a readiness event. Edge-triggered: a read that leaves
// room in the buffer has emptied the socket, and what comes later raises a new event.
func (l *handshakeLoop) step(s *hsSlot) {
	if l.send(s); s.fd < 0 || !s.sent {
		return
	}
	for {
		if s.n == len(s.buf) {
			l.fail(s, errHeadTooLarge)
			return
		}
		room := len(s.buf) - s.n
		m, err := rawRead(s.fd, s.buf[s.n:])
		switch {
		case err == syscall.EAGAIN:
			return
		case err != nil:
			l.fail(s, fmt.Errorf("read: %w", err))
			return
		case m == 0:
			l.fail(s, errClosedEarly)
			return
		}
		s.n += m
		if end := bytes.Index(s.buf[:s.n], []byte("\r\n\r\n")); end >= 0 {
			err := l.h.response(s.buf[:end+4])
			if err == nil {
				_, _ = rawWrite(s.fd, closeFrame)
			}
			lat := time.Since(s.t0)
			l.finish(s)
			l.done(lat, err)
			return
		}
		if m < room {
			return
		}
	}
}

// fail ends a handshake with err; run starts the next one.
func (l *handshakeLoop) fail(s *hsSlot, err error) {
	l.finish(s)
	l.done(0, err)
}

// finish resets and closes the connection (closing also takes it off the epoll set).
func (l *handshakeLoop) finish(s *hsSlot) {
	if s.fd < 0 {
		return
	}
	rawCloseReset(s.fd)
	s.fd = -1
}
