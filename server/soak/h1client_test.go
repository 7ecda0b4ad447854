package soak

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"time"
)

// exchangeTimeout bounds every exchange a client waits for: a server that stops
// answering fails the run instead of hanging it.
const exchangeTimeout = 10 * time.Second

// env is what every client goroutine shares.
type env struct {
	addr string
	t    *tally
}

func (e *env) dial() (net.Conn, error) {
	c, err := net.DialTimeout("tcp", e.addr, exchangeTimeout)
	if err != nil {
		return nil, err
	}
	_ = c.SetDeadline(time.Now().Add(exchangeTimeout))
	return c, nil
}

// h1Request is one request a client sent and the response it expects.
type h1Request struct {
	method, path string
	body         []byte
	chunked      bool
	close        bool
}

func (r *h1Request) appendTo(b []byte, host string) []byte {
	b = fmt.Appendf(b, "%s %s HTTP/1.1\r\nHost: %s\r\n", r.method, r.path, host)
	if r.close {
		b = append(b, "Connection: close\r\n"...)
	}
	if r.method == "POST" {
		b = append(b, "Content-Type: application/x-soak\r\n"...)
		if r.chunked {
			b = append(b, "Transfer-Encoding: chunked\r\n\r\n"...)
			for rest := r.body; len(rest) > 0; {
				n := min(len(rest), 1+len(rest)/3)
				b = strconv.AppendInt(b, int64(n), 16)
				b = append(b, "\r\n"...)
				b = append(b, rest[:n]...)
				b = append(b, "\r\n"...)
				rest = rest[n:]
			}
			return append(b, "0\r\n\r\n"...)
		}
		b = fmt.Appendf(b, "Content-Length: %d\r\n\r\n", len(r.body))
		return append(b, r.body...)
	}
	return append(b, "\r\n"...)
}

// want is the body the request's response must carry.
func (r *h1Request) want() []byte {
	if r.path == "/body-echo" {
		return r.body
	}
	return []byte(RootText)
}

// checkResponse reads one response with net/http's parser and compares it with what req
// expects.
func checkResponse(br *bufio.Reader, req *h1Request) error {
	resp, err := http.ReadResponse(br, &http.Request{Method: req.method})
	if err != nil {
		return fmt.Errorf("reading the response to %s %s: %w", req.method, req.path, err)
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return fmt.Errorf("reading the body of %s %s: %w", req.method, req.path, err)
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s %s: status %d: %q", req.method, req.path, resp.StatusCode, body)
	}
	if want := req.want(); !bytes.Equal(body, want) {
		return fmt.Errorf("%s %s: body of %d bytes differs from the %d expected (first difference at %d)",
			req.method, req.path, len(body), len(want), firstDiff(body, want))
	}
	if req.close && !resp.Close {
		return fmt.Errorf("%s %s: asked for Connection: close, the response did not say close", req.method, req.path)
	}
	return nil
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// randomBody returns n bytes that carry seq at the start, so a response delivered to the
// wrong request or out of order never matches.
func randomBody(rng *rand.Rand, seq int64, n int) []byte {
	b := fmt.Appendf(make([]byte, 0, n+24), "seq=%d;", seq)
	return appendRandom(b, rng, n-len(b))
}

// appendRandom appends n random bytes, eight at a time.
func appendRandom(b []byte, rng *rand.Rand, n int) []byte {
	for ; n >= 8; n -= 8 {
		b = binary.LittleEndian.AppendUint64(b, rng.Uint64())
	}
	for ; n > 0; n-- {
		b = append(b, byte(rng.Uint32()))
	}
	return b
}

// runH1Client is a well-behaved HTTP/1.1 client: on keep-alive connections it sends
// batches of pipelined GETs and POSTs (with Content-Length or chunked bodies), checks
// every response in order, and every few batches opens a new connection, sometimes
// ending the old one with Connection: close.
func runH1Client(ctx context.Context, e *env, id int) {
	rng := rand.New(rand.NewPCG(uint64(id), 1))
	var seq int64
	for ctx.Err() == nil {
		if !h1Session(ctx, e, rng, &seq) {
			return
		}
	}
}

// h1Session runs one connection; it reports false when it could not even connect.
func h1Session(ctx context.Context, e *env, rng *rand.Rand, seq *int64) bool {
	c, err := e.dial()
	if err != nil {
		e.t.fail(protoH1, "dial: %v", err)
		return false
	}
	defer c.Close()
	e.t.conns[protoH1].Add(1)
	br := bufio.NewReader(c)
	batches := 1 + rng.IntN(20)
	closeAtEnd := rng.IntN(2) == 0
	var out []byte
	for b := 0; b < batches && ctx.Err() == nil; b++ {
		n := 1 + rng.IntN(12)
		last := b == batches-1
		reqs := make([]h1Request, n)
		out = out[:0]
		for i := range reqs {
			r := &reqs[i]
			*seq++
			if rng.IntN(3) == 0 {
				*r = h1Request{method: "GET", path: "/"}
			} else {
				size := rng.IntN(2048)
				if rng.IntN(10) == 0 {
					size = rng.IntN(96 << 10)
				}
				*r = h1Request{method: "POST", path: "/body-echo", body: randomBody(rng, *seq, size), chunked: rng.IntN(4) == 0}
			}
			r.close = closeAtEnd && last && i == n-1
			out = r.appendTo(out, "soak")
		}
		began := time.Now()
		_ = c.SetDeadline(began.Add(exchangeTimeout))
		if _, err := c.Write(out); err != nil {
			e.t.requests.max.Add(int64(n)) // some of it may have gone out
			e.t.fail(protoH1, "writing %d pipelined requests: %v", n, err)
			return true
		}
		e.t.h1Requests.Add(int64(n))
		e.t.requests.max.Add(int64(n))
		for i := range reqs {
			if err := checkResponse(br, &reqs[i]); err != nil {
				e.t.fail(protoH1, "request %d of %d pipelined: %v", i+1, n, err)
				return true
			}
			e.t.requests.min.Add(1)
		}
		e.t.done(protoH1, began)
		if reqs[n-1].close {
			if _, err := br.ReadByte(); err != io.EOF {
				e.t.fail(protoH1, "after Connection: close the server should close, got %v", err)
			}
		}
	}
	return true
}
