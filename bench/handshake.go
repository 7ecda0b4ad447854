package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// HandshakeParams shape a ws-handshake run: Par clients each connecting, upgrading and
// closing in a loop for Duration after Warmup.
type HandshakeParams struct {
	Par      int           `json:"parallel"`
	Duration time.Duration `json:"duration"`
	Warmup   time.Duration `json:"warmup"`
	Path     string        `json:"path"`
}

// RunHandshake measures upgrades per second and the latency from connecting to reading
// the 101. Each connection then sends a close frame and is reset (SO_LINGER 0), so neither
// side keeps it in TIME_WAIT: at ten thousand upgrades a second a graceful close would
// use up the ephemeral ports within seconds. srcs is unused: without TIME_WAIT one
// source address has ports enough.
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
		hist      Histogram
		measuring atomic.Bool
		ops, errs atomic.Uint64
		sample    atomic.Value
		wg        sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for i := 0; i < p.Par; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 4096)
			sa := hs.sa // Connect writes into its sockaddr: one per goroutine
			for ctx.Err() == nil {
				t0 := time.Now()
				err := hs.once(&sa, buf)
				lat := time.Since(t0)
				if err != nil {
					if ctx.Err() == nil && measuring.Load() {
						errs.Add(1)
						sample.Store(err.Error())
					}
					continue
				}
				if measuring.Load() {
					hist.Record(lat)
					ops.Add(1)
					live.add(1)
				}
			}
		}()
	}
	sleepCtx(ctx, p.Warmup)
	measuring.Store(true)
	w := openWindow(pid)
	sleepCtx(ctx, p.Duration)
	m := Metrics{Ops: ops.Load()}
	w.close(&m)
	measuring.Store(false)
	cancel()
	wg.Wait()
	m.Errors = errs.Load()
	if s, ok := sample.Load().(string); ok {
		m.ErrorSample = s
	}
	m.Latency = hist.Summary()
	return m, nil
}

// rawHandshake is the client side of an opening handshake on blocking sockets with a
// request built once. It is hand-written, not gobwas's Dialer, because here the client's
// CPU is the measurement's limit: on this kind of machine net.Dial plus ws.Dialer cost
// about 90 µs of client CPU per upgrade, and plain blocking syscalls (socket, connect,
// write, read, close: no epoll registration, no per-dial allocations) about half that,
// leaving the cores to the server under test. The key is fixed (RFC 6455 §4.1 wants a
// fresh nonce; servers cannot tell, and the check of Sec-WebSocket-Accept still holds).
type rawHandshake struct {
	sa     syscall.SockaddrInet4
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
		sa: syscall.SockaddrInet4{Port: pn},
		req: []byte("GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n"),
		accept: []byte("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), // RFC 6455 §1.3: the accept of key
	}
	copy(h.sa.Addr[:], ip)
	return h, nil
}

var (
	errNot101   = errors.New("handshake: response is not 101 Switching Protocols")
	errNoAccept = errors.New("handshake: Sec-WebSocket-Accept missing or wrong")
)

// once connects, upgrades, sends a close frame and resets the connection.
func (h *rawHandshake) once(sa *syscall.SockaddrInet4, buf []byte) error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer func() {
		_ = syscall.SetsockoptLinger(fd, syscall.SOL_SOCKET, syscall.SO_LINGER, &syscall.Linger{Onoff: 1})
		_ = syscall.Close(fd)
	}()
	_ = syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &syscall.Timeval{Sec: 5})
	if err := connect(fd, sa); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	if _, err := retryEINTR(func() (int, error) { return syscall.Write(fd, h.req) }); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	n := 0
	for !bytes.Contains(buf[:n], []byte("\r\n\r\n")) {
		if n == len(buf) {
			return errors.New("handshake: response head too large")
		}
		m, err := retryEINTR(func() (int, error) { return syscall.Read(fd, buf[n:]) })
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		if m == 0 {
			return errors.New("handshake: server closed before the 101")
		}
		n += m
	}
	if !bytes.HasPrefix(buf[:n], []byte("HTTP/1.1 101")) {
		return errNot101
	}
	if !bytes.Contains(buf[:n], h.accept) {
		return errNoAccept
	}
	_, _ = syscall.Write(fd, closeFrame)
	return nil
}

// Blocking system calls on goroutines get EINTR when the Go runtime preempts the thread
// (SIGURG): that is the harness's business, not an error of the server under test.
func retryEINTR(f func() (int, error)) (int, error) {
	for {
		n, err := f()
		if err != syscall.EINTR {
			return n, err
		}
	}
}

// connect is connect(2) that survives EINTR: the connection attempt goes on in the
// kernel, so calling again reports EALREADY while it is pending and EISCONN once done.
func connect(fd int, sa syscall.Sockaddr) error {
	err := syscall.Connect(fd, sa)
	for err == syscall.EINTR || err == syscall.EALREADY {
		time.Sleep(10 * time.Microsecond)
		err = syscall.Connect(fd, sa)
	}
	if err == syscall.EISCONN {
		return nil
	}
	return err
}
