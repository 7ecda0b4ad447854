package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"time"
)

// RunH1Paced measures an HTTP/1.1 server at addr (process pid) under an open-loop load:
// p.Conns keep-alive connections sending `GET /` at p.Rate requests a second in all, on
// the load client's loops (wrk has no fixed rate). A connection whose answer is late
// pipelines the next request rather than skip it.
func RunH1Paced(ctx context.Context, addr string, pid int, p PacedParams, srcs []net.IP, live *Live) (Metrics, error) {
	p.defaults()
	lc, err := newLoadClientSpins(p.Loops, 0)
	if err != nil {
		return Metrics{}, err
	}
	defer lc.stop()
	r := &pacedRun{lc: lc, live: live}
	req := []byte("GET / HTTP/1.1\r\nHost: " + addr + "\r\nUser-Agent: switchyard-bench\r\n\r\n")
	onData := func(cc *clientConn, now int64, data []byte) (int, bool) {
		off := 0
		for {
			n, status, err := parseH1Response(data[off:])
			if err != nil {
				lc.fail(err)
				return off, true
			}
			if n == 0 {
				return off, false
			}
			off += n
			if status != 200 {
				lc.fail(fmt.Errorf("h1-paced: status %d", status))
			}
			if err := r.answer(cc.state.(*pacedConn), now); err != nil {
				lc.fail(err)
				return off, true
			}
		}
	}
	lc.connect(ctx, &tcpDialer{addr: addr, srcs: srcs}, p.Conns, 64, func(int) *clientConn {
		return &clientConn{onData: onData, state: &pacedConn{msg: req}}
	})
	return r.measure(ctx, pid, p, "reqs")
}

// tcpDialer opens plain TCP connections, spreading them over source addresses as
// wsDialer does.
type tcpDialer struct {
	addr string
	srcs []net.IP
	next atomic.Uint32
}

func (d *tcpDialer) dial(ctx context.Context) (net.Conn, *bufio.Reader, error) {
	nd := net.Dialer{Timeout: 5 * time.Second}
	if len(d.srcs) > 0 {
		nd.LocalAddr = &net.TCPAddr{IP: d.srcs[int(d.next.Add(1))%len(d.srcs)]}
	}
	c, err := nd.DialContext(ctx, "tcp", d.addr)
	return c, nil, err
}

var (
	crlf     = []byte("\r\n")
	crlfcrlf = []byte("\r\n\r\n")
)

// maxH1Head bounds a response head the client waits for.
const maxH1Head = 16 << 10

// parseH1Response reads one HTTP/1.1 response at the head of b: its length with the
// body (0: not all there yet) and its status. Only Content-Length bodies are read
// (RFC 9112 §6.3): the bench servers answer GET / with a short fixed text.
func parseH1Response(b []byte) (n, status int, err error) {
	end := bytes.Index(b, crlfcrlf)
	if end < 0 {
		if len(b) > maxH1Head {
			return 0, 0, errors.New("h1: response head over 16 KiB")
		}
		return 0, 0, nil
	}
	line, rest, _ := bytes.Cut(b[:end], crlf)
	// status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4)
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, 0, fmt.Errorf("h1: bad status line %q", line)
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, 0, fmt.Errorf("h1: bad status line %q", line)
	}
	length := -1
	for len(rest) > 0 {
		var field []byte
		field, rest, _ = bytes.Cut(rest, crlf)
		name, value, _ := bytes.Cut(field, []byte(":"))
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			length, err = strconv.Atoi(string(bytes.TrimSpace(value)))
			if err != nil || length < 0 {
				return 0, 0, fmt.Errorf("h1: bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return 0, 0, errors.New("h1: chunked responses are not read by the bench client")
		}
	}
	if length < 0 {
		if status != 204 && status != 304 && status/100 != 1 {
			return 0, 0, fmt.Errorf("h1: %d response without Content-Length", status)
		}
		length = 0
	}
	if total := end + len(crlfcrlf) + length; len(b) >= total {
		return total, status, nil
	}
	return 0, 0, nil
}
