package soak

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gobwas/ws"
	"golang.org/x/net/http2"
)

// reapWithin bounds how long the server may keep a silent or half-open connection: its
// longest timeout in DefaultTimeouts (a WebSocket ping after 1 s, then 3 s for the pong)
// plus the timer wheel's granularity and slack for a loaded machine.
const reapWithin = 8 * time.Second

// fault is one fault injector: it opens a connection, misbehaves, checks how the server
// took it, and returns the kind and variant it injected.
type fault func(e *env, rng *rand.Rand) string

// faults are run concurrently, each in a loop, for the whole soak. Silent clients take
// seconds each, so they get several goroutines.
var faults = []struct {
	run     fault
	workers int
}{
	{wsMidFrame, 1},
	{h1MidRequest, 1},
	{h2MidFrame, 1},
	{slowReaderWS, 1},
	{slowReaderH1, 1},
	{slowReaderH2, 1},
	{halfOpen, 1},
	{silent, 4},
	{garbageFresh, 1},
	{garbageAfterWS, 1},
	{garbageAfterH2, 1},
}

func runFault(ctx context.Context, e *env, f fault, id int) {
	rng := rand.New(rand.NewPCG(uint64(id), 4))
	for ctx.Err() == nil {
		began := time.Now()
		kind := f(e, rng)
		e.t.fault(kind, time.Since(began))
		time.Sleep(time.Duration(2+rng.IntN(8)) * time.Millisecond)
	}
}

// dialFault dials for a fault injector; a failed dial is a server failure.
func dialFault(e *env, kind string) net.Conn {
	c, err := e.dial()
	if err != nil {
		e.t.errorf("%s: dial: %v", kind, err)
		return nil
	}
	return c
}

// abort closes c abruptly half of the time (SO_LINGER 0: an RST instead of a FIN).
func abort(c net.Conn, rng *rand.Rand) {
	if tc, ok := c.(*net.TCPConn); ok && rng.IntN(2) == 0 {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// readToClose reads until the server closes the connection, which it must do within
// `within`; EOF and a reset both count as closed. It returns what it read.
func readToClose(c net.Conn, within time.Duration) ([]byte, error) {
	_ = c.SetReadDeadline(time.Now().Add(within))
	var buf bytes.Buffer
	_, err := io.Copy(&buf, c)
	if err == nil || errors.Is(err, syscall.ECONNRESET) {
		return buf.Bytes(), nil
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return buf.Bytes(), fmt.Errorf("the server kept the connection open for %v", within)
	}
	return buf.Bytes(), err
}

// upgradeForFault upgrades to WebSocket without compression and counts the 101.
func upgradeForFault(e *env, c net.Conn, rng *rand.Rand, kind string) *wsClient {
	e.t.requests.max.Add(1)
	e.t.ws101.max.Add(1)
	w, err := wsUpgrade(c, rng, "")
	if err != nil {
		e.t.errorf("%s: %v", kind, err)
		return nil
	}
	e.t.requests.min.Add(1)
	e.t.ws101.min.Add(1)
	return w
}

// echoOne sends one message and checks its echo.
func echoOne(e *env, w *wsClient, rng *rand.Rand, kind string) bool {
	p := wsPayload(rng, ws.OpText, rng.Int64(), rng.IntN(300))
	e.t.wsIn.max.Add(1)
	if _, err := w.c.Write(w.appendMessage(nil, ws.OpText, p, false, 1, "")); err != nil {
		e.t.errorf("%s: writing a message: %v", kind, err)
		return false
	}
	op, got, err := w.readMessage()
	if err != nil || op != ws.OpText || !bytes.Equal(got, p) {
		e.t.errorf("%s: echo of a message before the fault: %v %q", kind, err, got[:min(len(got), 20)])
		return false
	}
	e.t.wsIn.min.Add(1)
	e.t.wsEchoed.Add(1)
	return true
}

// wsMidFrame echoes one message, then sends a frame header and half its payload and hangs
// up: the server must drop the partial frame and the connection, and nothing else.
func wsMidFrame(e *env, rng *rand.Rand) string {
	const kind = "ws-mid-frame"
	c := dialFault(e, kind)
	if c == nil {
		return kind
	}
	defer abort(c, rng)
	w := upgradeForFault(e, c, rng, kind)
	if w == nil || !echoOne(e, w, rng, kind) {
		return kind
	}
	n := 2 + rng.IntN(100<<10)
	frame := w.appendFrame(nil, true, ws.OpBinary, false, make([]byte, n))
	_, _ = c.Write(frame[:len(frame)-n/2-1])
	return kind
}

// h1MidRequest answers one request, then sends half a head, or a head and half its body
// (Content-Length or chunked), and hangs up.
func h1MidRequest(e *env, rng *rand.Rand) string {
	kind := "h1-mid-request"
	c := dialFault(e, kind)
	if c == nil {
		return kind
	}
	defer abort(c, rng)
	br := bufio.NewReader(c)
	ok := &h1Request{method: "GET", path: "/"}
	if _, err := c.Write(ok.appendTo(nil, "soak")); err != nil {
		e.t.errorf("%s: %v", kind, err)
		return kind
	}
	e.t.requests.max.Add(1)
	if err := checkResponse(br, ok); err != nil {
		e.t.errorf("%s: the request before the fault: %v", kind, err)
		return kind
	}
	e.t.requests.min.Add(1)
	body := randomBody(rng, 0, 100+rng.IntN(64<<10))
	req := &h1Request{method: "POST", path: "/body-echo", body: body, chunked: rng.IntN(2) == 0}
	raw := req.appendTo(nil, "soak")
	switch rng.IntN(2) {
	case 0:
		kind += "/head"
		head := bytes.Index(raw, []byte("\r\n\r\n"))
		raw = raw[:1+rng.IntN(head+2)]
	default:
		kind += "/body"
		raw = raw[:len(raw)-len(body)/2-6] // short of the body (and of a chunked terminator)
	}
	_, _ = c.Write(raw)
	return kind
}

// h2MidFrame completes one stream, then opens another whose DATA frame is cut in the
// middle, and hangs up.
func h2MidFrame(e *env, rng *rand.Rand) string {
	const kind = "h2-mid-frame"
	c := dialFault(e, kind)
	if c == nil {
		return kind
	}
	defer abort(c, rng)
	h, err := h2Prior(c)
	if err != nil {
		e.t.errorf("%s: %v", kind, err)
		return kind
	}
	first := randomH2Req(rng, 0, 4000)
	e.t.requests.max.Add(1)
	e.t.h2Streams.max.Add(1)
	if err := h.send([]*h2Req{first}); err != nil {
		e.t.errorf("%s: %v", kind, err)
		return kind
	}
	if err := h.await([]*h2Req{first}); err != nil {
		e.t.errorf("%s: the stream before the fault: %v", kind, err)
		return kind
	}
	e.t.requests.min.Add(1)
	e.t.h2Streams.min.Add(1)

	// HEADERS with content-length 3000, then a DATA frame claiming 2000 bytes with 700.
	h.ebuf.Reset()
	for _, f := range [][2]string{{":method", "POST"}, {":scheme", "http"}, {":authority", "soak"},
		{":path", "/echo"}, {"content-length", "3000"}} {
		_ = h.enc.WriteField(hpackField(f[0], f[1]))
	}
	_ = h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: h.nextID, BlockFragment: h.ebuf.Bytes(), EndHeaders: true})
	_ = h.fr.WriteData(h.nextID, false, make([]byte, 1000))
	_ = h.bw.Flush()
	cut := h2FrameHeader(2000, 0x0, 0, h.nextID)
	_, _ = c.Write(append(cut, make([]byte, 700)...))
	e.t.h2Streams.max.Add(1) // the server may or may not have seen the HEADERS before the hang-up
	return kind
}

// h2FrameHeader is a raw frame header (RFC 9113 §4.1).
func h2FrameHeader(length int, typ, flags byte, stream uint32) []byte {
	return []byte{byte(length >> 16), byte(length >> 8), byte(length), typ, flags,
		byte(stream >> 24 & 0x7f), byte(stream >> 16), byte(stream >> 8), byte(stream)}
}

// slowPattern is the random content of the slow readers' payloads, made once.
var slowPattern = func() []byte {
	rng := rand.New(rand.NewPCG(5, 5))
	return appendRandom(nil, rng, 128<<10)
}()

// slowPayload is the payload of message seq of a slow reader: recomputable, so the reader
// can check what it gets back without keeping megabytes of what it sent, and cheap, so
// the race detector does not make the slow readers slow for the wrong reason. Each
// payload is a different window of slowPattern behind its sequence number.
func slowPayload(seq int64, n int) []byte {
	b := fmt.Appendf(make([]byte, 0, n), "#%d;", seq)
	off := int(uint64(seq*7919) % uint64(len(slowPattern)-n))
	return append(b, slowPattern[off:off+n-len(b)]...)
}

// slowReceiveBuffer is the slow readers' socket receive buffer. It is set (which turns
// off the kernel's autotuning, up to 32 MiB here) so that what they do not read backs up
// into the server, and kept above twice the loopback MSS (64 KiB) so that TCP does not
// fall into silly-window avoidance, which would make them slow for the wrong reason.
const slowReceiveBuffer = 128 << 10

// writeAll writes frames from a goroutine, as a client that sends while reading slowly
// does: should the server push back (stop reading) instead of buffering, the writes wait
// and the reads go on, so the fault cannot deadlock the soak.
func writeAll(c net.Conn, n int, frame func(i int) []byte) <-chan error {
	return writeAllCounted(c, n, frame, new(atomic.Int64))
}

// writeAllCounted is writeAll counting the frames written in written.
func writeAllCounted(c net.Conn, n int, frame func(i int) []byte, written *atomic.Int64) <-chan error {
	errc := make(chan error, 1)
	go func() {
		for i := range n {
			if _, err := c.Write(frame(i)); err != nil {
				errc <- fmt.Errorf("writing %d of %d: %w", i+1, n, err)
				return
			}
			written.Add(1)
		}
		errc <- nil
	}()
	return errc
}

// waitStalled returns once all n frames are written or the writer has made no progress
// for quiet: then the server has stopped reading (its backpressure) or the writer is done.
func waitStalled(written *atomic.Int64, n int64, quiet time.Duration) {
	last, since := written.Load(), time.Now()
	for written.Load() < n {
		time.Sleep(10 * time.Millisecond)
		if w := written.Load(); w != last {
			last, since = w, time.Now()
		} else if time.Since(since) >= quiet {
			return
		}
	}
}

// slowReaderWS sends 16 MiB of messages (8 under the race detector) while reading slowly through a small receive
// buffer. The echoes cannot all wait in the server: its send budget (1 MiB by default)
// must drop some (the route's DropMessages) or stop reading the client until it catches
// up (the core's backpressure). What arrives must be intact and in order, and the close
// handshake, whose control frames are never dropped, must still complete.
func slowReaderWS(e *env, rng *rand.Rand) string {
	const kind = "slow-reader-ws"
	c := dialFault(e, kind)
	if c == nil {
		return kind
	}
	defer c.Close()
	_ = c.(*net.TCPConn).SetReadBuffer(slowReceiveBuffer)
	w := upgradeForFault(e, c, rng, kind)
	if w == nil {
		return kind
	}
	n, size := int64(256), 64<<10
	if raceEnabled {
		n = 128 // 8 MiB is still well past what the kernel and the send budget absorb
	}
	base := rng.Int64N(1 << 40)
	e.t.wsIn.max.Add(n)
	_ = c.SetDeadline(time.Now().Add(4 * exchangeTimeout))
	masks := rand.New(rand.NewPCG(uint64(base), 6))
	wc := &wsClient{rng: masks} // frames the writer goroutine's messages with its own masks
	var written atomic.Int64
	errc := writeAllCounted(c, int(n)+1, func(i int) []byte {
		if i == int(n) {
			return wc.appendFrame(nil, true, ws.OpClose, false, ws.NewCloseFrameBody(1000, ""))
		}
		return wc.appendFrame(nil, true, ws.OpBinary, false, slowPayload(base+int64(i), size))
	}, &written)
	// Read nothing until the writer is done or stuck: past the send budget the server must
	// have dropped echoes or stopped reading by then, whatever the machine's speed (reading
	// from the start let a slow server keep under its budget, and the check below failed).
	waitStalled(&written, n+1, 500*time.Millisecond)
	next, got := base, int64(0)
	defer func() { e.t.wsDropped.max.Add(n - got) }() // those not echoed were dropped or lost
	for {
		time.Sleep(time.Millisecond)
		op, p, err := w.readMessage()
		if err == errClosed {
			break
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			e.t.errorf("%s: after %d echoes the server closed in the middle of a frame, before its close reply: "+
				"echoes it had queued were cut off (%v)", kind, got, err)
			return kind
		}
		if err != nil {
			e.t.errorf("%s: after %d echoes: %v", kind, got, err)
			return kind
		}
		var seq int64
		if _, err := fmt.Sscanf(string(p[:min(len(p), 24)]), "#%d;", &seq); err != nil || seq < next || seq >= base+n ||
			op != ws.OpBinary || !bytes.Equal(p, slowPayload(seq, size)) {
			e.t.errorf("%s: echo %d is corrupt or out of order (seq %d, expected at least %d)", kind, got, seq-base, next-base)
			return kind
		}
		next = seq + 1
		got++
	}
	if err := <-errc; err != nil {
		e.t.errorf("%s: %v", kind, err)
		return kind
	}
	if _, err := w.br.ReadByte(); err != io.EOF {
		e.t.errorf("%s: after the close handshake the server should close, got %v", kind, err)
	}
	e.t.wsIn.min.Add(n) // the close reply came after the server had read every message
	e.t.wsEchoed.Add(got)
	e.t.wsDropped.min.Add(n - got)
	return kind
}

// slowReaderH1 pipelines 200 echo requests of 32 KiB while reading slowly through a small
// receive buffer: HTTP/1.1 has no dropping, so every response must arrive, in order.
func slowReaderH1(e *env, rng *rand.Rand) string {
	kind := "slow-reader-h1"
	c := dialFault(e, kind)
	if c == nil {
		return kind
	}
	defer c.Close()
	_ = c.(*net.TCPConn).SetReadBuffer(slowReceiveBuffer)
	const n, size = 200, 32 << 10
	base := rng.Int64N(1 << 40)
	// Half of them end with Connection: close, so the server closes with responses still
	// queued: they must all go out before the FIN (RFC 9112 §9.6).
	closeLast := rng.IntN(2) == 0
	if closeLast {
		kind += "/close"
	} else {
		kind += "/keep-alive"
	}
	req := func(i int) *h1Request {
		r := &h1Request{method: "POST", path: "/body-echo", body: slowPayload(base+int64(i), size)}
		if i%4 == 0 {
			r = &h1Request{method: "GET", path: "/"}
		}
		r.close = closeLast && i == n-1
		return r
	}
	_ = c.SetDeadline(time.Now().Add(4 * exchangeTimeout))
	e.t.requests.max.Add(n)
	errc := writeAll(c, n, func(i int) []byte { return req(i).appendTo(nil, "soak") })
	time.Sleep(200 * time.Millisecond)
	br := bufio.NewReaderSize(c, 4096)
	for i := range n {
		if i%5 == 0 {
			time.Sleep(time.Millisecond)
		}
		if err := checkResponse(br, req(i)); err != nil {
			e.t.errorf("%s: response %d of %d: %v", kind, i+1, n, err)
			return kind
		}
		e.t.requests.min.Add(1)
	}
	if err := <-errc; err != nil {
		e.t.errorf("%s: %v", kind, err)
	}
	if closeLast {
		if _, err := br.ReadByte(); err != io.EOF {
			e.t.errorf("%s: after Connection: close the server should close, got %v", kind, err)
		}
	}
	return kind
}

// slowReaderH2 grants only 1 KiB per stream (SETTINGS_INITIAL_WINDOW_SIZE) and reads
// slowly: the server must hold its responses within the flow-control windows and finish
// them as the client opens the windows (RFC 9113 §6.9).
func slowReaderH2(e *env, rng *rand.Rand) string {
	const kind = "slow-reader-h2"
	c := dialFault(e, kind)
	if c == nil {
		return kind
	}
	defer c.Close()
	_ = c.(*net.TCPConn).SetReadBuffer(slowReceiveBuffer)
	h, err := h2Prior(c, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1024})
	if err != nil {
		e.t.errorf("%s: %v", kind, err)
		return kind
	}
	_ = c.SetDeadline(time.Now().Add(4 * exchangeTimeout))
	reqs := make([]*h2Req, 16)
	for i := range reqs {
		reqs[i] = &h2Req{method: "POST", path: "/body-echo", body: randomBody(rng, int64(i), 3000)}
	}
	e.t.requests.max.Add(int64(len(reqs)))
	e.t.h2Streams.max.Add(int64(len(reqs)))
	if err := h.send(reqs); err != nil {
		e.t.errorf("%s: %v", kind, err)
		return kind
	}
	time.Sleep(200 * time.Millisecond)
	h.slow = 200 * time.Microsecond
	if err := h.await(reqs); err != nil {
		e.t.errorf("%s: %v", kind, err)
		return kind
	}
	e.t.requests.min.Add(int64(len(reqs)))
	e.t.h2Streams.min.Add(int64(len(reqs)))
	h.goAwayAndClose()
	return kind
}

// halfOpen half-closes (shutdown SHUT_WR) after a partial request, a partial frame, or a
// whole request. A partial one can never complete, so the server must close; a whole
// HTTP/1.1 request must still be answered (RFC 9112 §9.6: the client's half-close is not
// a request to abort).
func halfOpen(e *env, rng *rand.Rand) string {
	kind := "half-open"
	c := dialFault(e, kind)
	if c == nil {
		return kind
	}
	defer c.Close()
	tc := c.(*net.TCPConn)
	var check func(got []byte) error
	switch rng.IntN(4) {
	case 0:
		kind += "/h1-partial-head"
		_, _ = c.Write([]byte("GET / HTTP/1.1\r\nHost: so"))
	case 1:
		kind += "/h1-whole-request"
		req := &h1Request{method: "POST", path: "/body-echo", body: randomBody(rng, 1, rng.IntN(4000))}
		_, _ = c.Write(req.appendTo(nil, "soak"))
		e.t.requests.max.Add(1)
		check = func(got []byte) error {
			if err := checkResponse(bufio.NewReader(bytes.NewReader(got)), req); err != nil {
				return err
			}
			e.t.requests.min.Add(1)
			return nil
		}
	case 2:
		kind += "/ws-partial-frame"
		w := upgradeForFault(e, c, rng, kind)
		if w == nil {
			return kind
		}
		frame := w.appendFrame(nil, true, ws.OpText, false, []byte("never finished"))
		_, _ = c.Write(frame[:5])
	default:
		kind += "/h2-partial-frame"
		h, err := h2Prior(c)
		if err != nil {
			e.t.errorf("%s: %v", kind, err)
			return kind
		}
		_, _ = h.c.Write(h2FrameHeader(8, 0x6, 0, 0)[:6]) // half a PING's header
	}
	_ = tc.CloseWrite()
	got, err := readToClose(c, reapWithin)
	if err != nil {
		e.t.errorf("%s: %v", kind, err)
	} else if check != nil {
		if err := check(got); err != nil {
			e.t.errorf("%s: %v", kind, err)
		}
	}
	return kind
}

// silent opens a connection and goes quiet, before a request, inside one, after a
// WebSocket upgrade (the server pings, gets no pong, closes) or after the HTTP/2 preface
// (GOAWAY on idle, or for the SETTINGS it never acknowledges). The server must reclaim it by its timeouts.
func silent(e *env, rng *rand.Rand) string {
	kind := "silent"
	c := dialFault(e, kind)
	if c == nil {
		return kind
	}
	defer c.Close()
	var check func(got []byte) error
	switch rng.IntN(5) {
	case 0:
		kind += "/no-request"
	case 1:
		kind += "/mid-head"
		_, _ = c.Write([]byte("POST /body-echo HTTP/1.1\r\nHost: soak\r\nContent-Le"))
		check = expectStatus(e, 408)
	case 2:
		kind += "/mid-body"
		_, _ = c.Write([]byte("POST /body-echo HTTP/1.1\r\nHost: soak\r\nContent-Length: 100\r\n\r\nhalf"))
		check = expectStatus(e, 408)
	case 3:
		kind += "/websocket"
		w := upgradeForFault(e, c, rng, kind)
		if w == nil {
			return kind
		}
		pre, _ := w.br.Peek(w.br.Buffered()) // read past the 101 already, if anything came
		pre = append([]byte(nil), pre...)
		if rng.IntN(2) == 0 {
			_, _ = c.Write(w.appendFrame(nil, true, ws.OpText, false, []byte("never finished"))[:4])
		}
		check = func(got []byte) error {
			h, err := ws.ReadHeader(bytes.NewReader(append(pre, got...)))
			if err != nil || h.OpCode != ws.OpPing {
				return fmt.Errorf("expected a ping before the close, got %q", got)
			}
			return nil
		}
	default:
		kind += "/http2"
		if _, err := h2Prior(c); err != nil {
			e.t.errorf("%s: %v", kind, err)
			return kind
		}
		check = func(got []byte) error {
			// It never acknowledges the server's SETTINGS either: SETTINGS_TIMEOUT
			// (RFC 9113 §6.5.3) if that falls due before the idle timeout.
			if code, ok := goAwayIn(got); !ok || code != http2.ErrCodeNo && code != http2.ErrCodeSettingsTimeout {
				return fmt.Errorf("expected GOAWAY NO_ERROR or SETTINGS_TIMEOUT for an idle connection, got %v %v", code, ok)
			}
			return nil
		}
	}
	got, err := readToClose(c, reapWithin)
	if err == nil && check != nil {
		err = check(got)
	}
	if err != nil {
		e.t.errorf("%s: %v", kind, err)
	}
	return kind
}

// expectStatus checks that the server answered status before closing, and counts it.
func expectStatus(e *env, status int) func([]byte) error {
	return func(got []byte) error {
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(got)), nil)
		if err != nil {
			return fmt.Errorf("expected a %d response, got %q", status, got)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != status {
			return fmt.Errorf("expected %d, got %d", status, resp.StatusCode)
		}
		e.t.seen(fmt.Sprintf("%d", status))
		return nil
	}
}

// goAwayIn finds the GOAWAY among the frames the server sent on a prior-knowledge
// connection and returns its error code.
func goAwayIn(got []byte) (http2.ErrCode, bool) {
	fr := http2.NewFramer(io.Discard, bytes.NewReader(got))
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return 0, false
		}
		if g, ok := f.(*http2.GoAwayFrame); ok {
			return g.ErrCode, true
		}
	}
}

// garbageFresh sends random bytes, sometimes behind a plausible request line, on a new
// connection. The server must refuse or drop it, never serve it, and close.
func garbageFresh(e *env, rng *rand.Rand) string {
	kind := "garbage-fresh"
	c := dialFault(e, kind)
	if c == nil {
		return kind
	}
	defer c.Close()
	junk := make([]byte, 1+rng.IntN(4096))
	for i := range junk {
		junk[i] = byte(rng.Uint32())
	}
	if rng.IntN(2) == 0 {
		kind += "/after-request-line"
		junk = append([]byte("GET / HTTP/1.1\r\n"), junk...)
	} else {
		kind += "/raw"
	}
	_, _ = c.Write(junk)
	got, err := readToClose(c, reapWithin)
	if err != nil {
		e.t.errorf("%s: %v", kind, err)
		return kind
	}
	if len(got) > 0 {
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(got)), nil)
		if err != nil {
			e.t.errorf("%s: the server's answer is not an HTTP/1.1 response: %q", kind, got[:min(len(got), 80)])
			return kind
		}
		_ = resp.Body.Close()
		if resp.StatusCode < 400 {
			e.t.errorf("%s: garbage was answered %d", kind, resp.StatusCode)
		}
		e.t.seen(fmt.Sprintf("%d", resp.StatusCode))
	}
	return kind
}

// garbageAfterWS upgrades, then sends a frame that breaks RFC 6455 at its first byte
// (reserved opcode, reserved bits, RSV1 without an extension, no mask) followed by random
// bytes. The server must fail the connection with close 1002 (§7.4.1) and close.
func garbageAfterWS(e *env, rng *rand.Rand) string {
	kind := "garbage-after-ws"
	c := dialFault(e, kind)
	if c == nil {
		return kind
	}
	defer c.Close()
	w := upgradeForFault(e, c, rng, kind)
	if w == nil {
		return kind
	}
	junk := make([]byte, 2+rng.IntN(2048))
	for i := range junk {
		junk[i] = byte(rng.Uint32())
	}
	switch rng.IntN(4) {
	case 0:
		kind += "/reserved-opcode"
		junk[0] = 0x80 | []byte{3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf}[rng.IntN(10)]
		junk[1] = 0x80 | byte(rng.IntN(126))
	case 1:
		kind += "/reserved-bits"
		junk[0] = 0x82 | []byte{0x10, 0x20, 0x30}[rng.IntN(3)]
		junk[1] = 0x80 | byte(rng.IntN(126))
	case 2:
		kind += "/rsv1-without-deflate"
		junk[0] = 0xc2
		junk[1] = 0x80 | byte(rng.IntN(126))
	default:
		kind += "/unmasked"
		junk[0] = 0x82
		junk[1] = byte(rng.IntN(126))
	}
	_, _ = c.Write(junk)
	_ = c.SetDeadline(time.Now().Add(reapWithin))
	_, p, err := w.readMessage()
	if err != errClosed {
		e.t.errorf("%s: expected a close frame, got %v", kind, err)
		return kind
	}
	if code, _ := ws.ParseCloseFrameData(p); code != ws.StatusProtocolError {
		e.t.errorf("%s: expected close 1002, got %d", kind, code)
	}
	if _, err := readToClose(c, reapWithin); err != nil {
		e.t.errorf("%s: after its close frame: %v", kind, err)
	}
	e.t.seen("ws-1002")
	return kind
}

// garbageAfterH2 sends the HTTP/2 preface and then either a first frame that is not
// SETTINGS (a connection error, RFC 9113 §3.4) or a valid SETTINGS followed by random
// bytes. The server must end the connection, with GOAWAY in the first case.
func garbageAfterH2(e *env, rng *rand.Rand) string {
	kind := "garbage-after-h2-preface"
	c := dialFault(e, kind)
	if c == nil {
		return kind
	}
	defer c.Close()
	out := []byte(http2.ClientPreface)
	first := rng.IntN(2) == 0
	if first {
		kind += "/not-settings"
		typ := byte(rng.IntN(20))
		if typ == byte(http2.FrameSettings) {
			typ = byte(http2.FramePing)
		}
		n := rng.IntN(64)
		out = append(out, h2FrameHeader(n, typ, byte(rng.Uint32()), rng.Uint32())...)
		for range n {
			out = append(out, byte(rng.Uint32()))
		}
	} else {
		kind += "/after-settings"
		out = append(out, h2FrameHeader(0, 0x4, 0, 0)...)
		for range 9 + rng.IntN(2048) {
			out = append(out, byte(rng.Uint32()))
		}
	}
	_, _ = c.Write(out)
	got, err := readToClose(c, reapWithin)
	if err != nil {
		e.t.errorf("%s: %v", kind, err)
		return kind
	}
	code, ok := goAwayIn(got)
	switch {
	case ok:
		e.t.seen("h2-goaway-" + code.String())
	case first:
		e.t.errorf("%s: expected GOAWAY before the close, got %d bytes", kind, len(got))
	}
	return kind
}
