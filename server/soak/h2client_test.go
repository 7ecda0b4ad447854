package soak

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2Client is an HTTP/2 client on x/net/http2's Framer and hpack (not the server's
// frame/h2), which validates every frame the server sends as it reads it.
type h2Client struct {
	c    net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
	fr   *http2.Framer
	enc  *hpack.Encoder
	ebuf bytes.Buffer

	nextID     uint32
	connWindow int64  // what the server lets us send on the connection (RFC 9113 §6.9)
	streamInit int64  // its SETTINGS_INITIAL_WINDOW_SIZE
	maxFrame   uint32 // its SETTINGS_MAX_FRAME_SIZE
	slow       time.Duration
	goAway     *http2.GoAwayFrame
}

// upgradeSettings is the HTTP2-Settings of an h2c upgrade (RFC 7540 §3.2.1): the base64url
// of a SETTINGS payload, here MAX_CONCURRENT_STREAMS = 100.
const upgradeSettings = "AAMAAABk"

func newH2Client(c net.Conn, br *bufio.Reader) *h2Client {
	h := &h2Client{c: c, br: br, bw: bufio.NewWriterSize(c, 32<<10), nextID: 1,
		connWindow: 65535, streamInit: 65535, maxFrame: 16384}
	h.fr = http2.NewFramer(h.bw, br)
	h.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	h.enc = hpack.NewEncoder(&h.ebuf)
	return h
}

// h2Prior starts HTTP/2 with prior knowledge (RFC 9113 §3.3): preface, then SETTINGS.
func h2Prior(c net.Conn, settings ...http2.Setting) (*h2Client, error) {
	h := newH2Client(c, bufio.NewReaderSize(c, 32<<10))
	_, _ = h.bw.WriteString(http2.ClientPreface)
	_ = h.fr.WriteSettings(settings...)
	return h, h.bw.Flush()
}

// h2Upgrade starts HTTP/2 with an h2c upgrade (RFC 7540 §3.2) carrying req, which the
// server answers on stream 1 after the 101.
func h2Upgrade(c net.Conn, req *h2Req) (*h2Client, error) {
	br := bufio.NewReaderSize(c, 32<<10)
	head := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: soak\r\nConnection: Upgrade, HTTP2-Settings\r\n"+
		"Upgrade: h2c\r\nHTTP2-Settings: %s\r\n", req.method, req.path, upgradeSettings)
	if req.body != nil {
		head += "Content-Length: " + strconv.Itoa(len(req.body)) + "\r\n"
	}
	if _, err := c.Write(append([]byte(head+"\r\n"), req.body...)); err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(br, &http.Request{Method: req.method})
	if err != nil {
		return nil, fmt.Errorf("reading the 101: %w", err)
	}
	if resp.StatusCode != 101 || resp.Header.Get("Upgrade") != "h2c" {
		body, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("h2c upgrade answered %d %v %q", resp.StatusCode, resp.Header, body)
	}
	h := newH2Client(c, br)
	req.id, h.nextID = 1, 3
	_, _ = h.bw.WriteString(http2.ClientPreface)
	_ = h.fr.WriteSettings(http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 100})
	return h, h.bw.Flush()
}

// h2Req is one request on a stream and what came back.
type h2Req struct {
	id           uint32
	method, path string
	body         []byte // nil: no body
	status       string
	got          []byte
	ended        bool
}

func (r *h2Req) want() []byte {
	if r.path == "/" {
		return []byte(RootText)
	}
	return r.body
}

func (r *h2Req) check() error {
	if r.status != "200" {
		return fmt.Errorf("stream %d %s %s: status %q", r.id, r.method, r.path, r.status)
	}
	if want := r.want(); !bytes.Equal(r.got, want) {
		return fmt.Errorf("stream %d %s %s: body of %d bytes differs from the %d sent (first difference at %d)",
			r.id, r.method, r.path, len(r.got), len(want), firstDiff(r.got, want))
	}
	return nil
}

// send opens a stream for every request: all the HEADERS first, then their DATA frames
// interleaved, so the server has them all open at once.
func (h *h2Client) send(reqs []*h2Req) error {
	total := 0
	for _, r := range reqs {
		total += len(r.body)
	}
	for h.connWindow < int64(total) {
		// The server returns the window as it consumes bodies (§6.9.1); wait for it.
		if err := h.readFrame(nil); err != nil {
			return fmt.Errorf("waiting for the connection window (%d, need %d): %w", h.connWindow, total, err)
		}
	}
	for _, r := range reqs {
		r.id = h.nextID
		h.nextID += 2
		h.ebuf.Reset()
		fields := []string{":method", r.method, ":scheme", "http", ":authority", "soak", ":path", r.path}
		if r.body != nil {
			fields = append(fields, "content-type", "application/x-soak", "content-length", strconv.Itoa(len(r.body)))
		}
		for i := 0; i < len(fields); i += 2 {
			_ = h.enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
		}
		if err := h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: r.id, BlockFragment: h.ebuf.Bytes(),
			EndStream: len(r.body) == 0, EndHeaders: true}); err != nil {
			return err
		}
	}
	off := make([]int, len(reqs))
	for more := true; more; {
		more = false
		for i, r := range reqs {
			if off[i] >= len(r.body) {
				continue
			}
			n := min(len(r.body)-off[i], int(h.maxFrame))
			if err := h.fr.WriteData(r.id, off[i]+n == len(r.body), r.body[off[i]:off[i]+n]); err != nil {
				return err
			}
			off[i] += n
			h.connWindow -= int64(n)
			more = more || off[i] < len(r.body)
		}
	}
	return h.bw.Flush()
}

// readFrame reads one frame and acts on it as a client must: SETTINGS and PING are
// acknowledged, received DATA is given back with WINDOW_UPDATE, window grants are noted.
// Responses are filed into reqs by stream.
func (h *h2Client) readFrame(reqs map[uint32]*h2Req) error {
	if h.slow > 0 {
		time.Sleep(h.slow)
	}
	f, err := h.fr.ReadFrame()
	if err != nil {
		return fmt.Errorf("reading a frame: %w", err)
	}
	switch f := f.(type) {
	case *http2.SettingsFrame:
		if f.IsAck() {
			return nil
		}
		err := f.ForeachSetting(func(s http2.Setting) error {
			switch s.ID {
			case http2.SettingInitialWindowSize:
				h.streamInit = int64(s.Val)
			case http2.SettingMaxFrameSize:
				h.maxFrame = s.Val
			}
			return nil
		})
		if err != nil {
			return err
		}
		_ = h.fr.WriteSettingsAck()
	case *http2.PingFrame:
		if !f.IsAck() {
			_ = h.fr.WritePing(true, f.Data)
		}
	case *http2.WindowUpdateFrame:
		if f.StreamID == 0 {
			h.connWindow += int64(f.Increment)
		}
	case *http2.MetaHeadersFrame:
		r := reqs[f.StreamID]
		if r == nil {
			return fmt.Errorf("HEADERS on stream %d, which has no request", f.StreamID)
		}
		if r.status != "" {
			return fmt.Errorf("stream %d: a second HEADERS (trailers were not expected)", f.StreamID)
		}
		r.status = f.PseudoValue("status")
		r.ended = f.StreamEnded()
	case *http2.DataFrame:
		r := reqs[f.StreamID]
		if r == nil || r.status == "" || r.ended {
			return fmt.Errorf("DATA on stream %d, which has no response open", f.StreamID)
		}
		r.got = append(r.got, f.Data()...)
		r.ended = f.StreamEnded()
		if f.Length > 0 { // padding counts too (§6.9.1)
			_ = h.fr.WriteWindowUpdate(0, f.Length)
			if !r.ended {
				_ = h.fr.WriteWindowUpdate(f.StreamID, f.Length)
			}
		}
	case *http2.RSTStreamFrame:
		return fmt.Errorf("stream %d reset: %v", f.StreamID, f.ErrCode)
	case *http2.GoAwayFrame:
		h.goAway = f
		return fmt.Errorf("GOAWAY %v (last stream %d) %q", f.ErrCode, f.LastStreamID, f.DebugData())
	}
	return h.bw.Flush()
}

// await reads until every request has its whole response.
func (h *h2Client) await(reqs []*h2Req) error {
	byID := make(map[uint32]*h2Req, len(reqs))
	open := 0
	for _, r := range reqs {
		byID[r.id] = r
		if !r.ended {
			open++
		}
	}
	for open > 0 {
		if err := h.readFrame(byID); err != nil {
			return err
		}
		open = 0
		for _, r := range reqs {
			if !r.ended {
				open++
			}
		}
	}
	for _, r := range reqs {
		if err := r.check(); err != nil {
			return err
		}
	}
	return nil
}

// goAwayAndClose ends the connection as a client should (RFC 9113 §6.8).
func (h *h2Client) goAwayAndClose() {
	_ = h.fr.WriteGoAway(0, http2.ErrCodeNo, nil)
	_ = h.bw.Flush()
	_ = h.c.Close()
}

// randomH2Req picks a GET / or a POST with a body to one of the echo routes.
func randomH2Req(rng *rand.Rand, seq int64, maxBody int) *h2Req {
	switch rng.IntN(3) {
	case 0:
		return &h2Req{method: "GET", path: "/"}
	case 1:
		return &h2Req{method: "POST", path: "/echo", body: randomBody(rng, seq, rng.IntN(maxBody))}
	default:
		return &h2Req{method: "POST", path: "/body-echo", body: randomBody(rng, seq, rng.IntN(maxBody))}
	}
}

// runH2Client is a well-behaved HTTP/2 client: each connection starts with prior
// knowledge or an h2c upgrade (as upgrade is true), then runs rounds of concurrent
// streams with bodies and checks every response.
func runH2Client(ctx context.Context, e *env, id int, upgrade bool) {
	rng := rand.New(rand.NewPCG(uint64(id), 3))
	var seq int64
	for ctx.Err() == nil {
		c, err := e.dial()
		if err != nil {
			e.t.fail(protoH2, "dial: %v", err)
			return
		}
		e.t.conns[protoH2].Add(1)
		if err := h2Session(ctx, e, rng, &seq, c, upgrade); err != nil {
			e.t.fail(protoH2, "%v", err)
		}
		_ = c.Close()
	}
}

func h2Session(ctx context.Context, e *env, rng *rand.Rand, seq *int64, c net.Conn, upgrade bool) error {
	var h *h2Client
	var err error
	began := time.Now()
	if upgrade {
		*seq++
		first := randomH2Req(rng, *seq, 4096)
		if first.path == "/echo" {
			first.path = "/body-echo" // over HTTP/1.1, /echo would want a WebSocket
		}
		e.t.requests.max.Add(1)
		e.t.h2c101.max.Add(1)
		e.t.h2Streams.max.Add(1)
		if h, err = h2Upgrade(c, first); err != nil {
			return err
		}
		e.t.h2c101.min.Add(1)
		if err := h.await([]*h2Req{first}); err != nil {
			return fmt.Errorf("the upgrade request's response on stream 1: %w", err)
		}
		e.t.requests.min.Add(1)
		e.t.h2Streams.min.Add(1)
		e.t.h2Requests.Add(1)
		e.t.done(protoH2, began)
	} else if h, err = h2Prior(c); err != nil {
		return err
	}
	rounds := 1 + rng.IntN(15)
	for r := 0; r < rounds && ctx.Err() == nil; r++ {
		n := 1 + rng.IntN(10)
		reqs := make([]*h2Req, n)
		for i := range reqs {
			*seq++
			reqs[i] = randomH2Req(rng, *seq, 6000) // n × 6000 stays inside the initial 65,535 window
		}
		began := time.Now()
		_ = c.SetDeadline(began.Add(exchangeTimeout))
		e.t.requests.max.Add(int64(n))
		e.t.h2Streams.max.Add(int64(n))
		if err := h.send(reqs); err != nil {
			return fmt.Errorf("sending %d streams: %w", n, err)
		}
		if err := h.await(reqs); err != nil {
			return fmt.Errorf("round of %d streams: %w", n, err)
		}
		e.t.requests.min.Add(int64(n))
		e.t.h2Streams.min.Add(int64(n))
		e.t.h2Requests.Add(int64(n))
		e.t.done(protoH2, began)
	}
	h.goAwayAndClose()
	return nil
}

func hpackField(name, value string) hpack.HeaderField {
	return hpack.HeaderField{Name: name, Value: value}
}
