package soak

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gobwas/ws"
)

// wsClient is a WebSocket client written with gobwas/ws framing and compress/flate, not
// with the server's own frame/ws package, so that the two judge each other.
type wsClient struct {
	c   net.Conn
	br  *bufio.Reader
	rng *rand.Rand

	deflate   bool // permessage-deflate negotiated (RFC 7692)
	clientCtx bool // we keep our compressor's window between messages
	serverCtx bool // the server keeps its window: our inflater needs its history
	fw        *flate.Writer
	fbuf      bytes.Buffer
	hist      []byte // the last 32 KiB the server's compressed messages inflated to

	pings []string // payloads of our pings whose pongs are due, in order
}

// wsOffers are the permessage-deflate offers the clients choose from ("" offers none).
var wsOffers = []string{
	"",
	"permessage-deflate",
	"permessage-deflate; client_no_context_takeover",
	"permessage-deflate; server_no_context_takeover; client_no_context_takeover",
}

// wsUpgrade performs the opening handshake on /echo (RFC 6455 §4.1) offering ext, and
// checks the 101: Upgrade, Connection and Sec-WebSocket-Accept computed here.
func wsUpgrade(c net.Conn, rng *rand.Rand, ext string) (*wsClient, error) {
	var raw [16]byte
	for i := range raw {
		raw[i] = byte(rng.Uint32())
	}
	key := base64.StdEncoding.EncodeToString(raw[:])
	req := "GET /echo HTTP/1.1\r\nHost: soak\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + "\r\n"
	if ext != "" {
		req += "Sec-WebSocket-Extensions: " + ext + "\r\n"
	}
	if _, err := io.WriteString(c, req+"\r\n"); err != nil {
		return nil, fmt.Errorf("writing the handshake: %w", err)
	}
	w := &wsClient{c: c, br: bufio.NewReaderSize(c, 32<<10), rng: rng}
	resp, err := http.ReadResponse(w.br, &http.Request{Method: "GET"})
	if err != nil {
		return nil, fmt.Errorf("reading the 101: %w", err)
	}
	_ = resp.Body.Close()
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if resp.StatusCode != 101 || !strings.EqualFold(resp.Header.Get("Upgrade"), "websocket") ||
		resp.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		return nil, fmt.Errorf("handshake answered %d %v", resp.StatusCode, resp.Header)
	}
	got := resp.Header.Get("Sec-WebSocket-Extensions")
	if strings.Contains(got, "permessage-deflate") {
		if ext == "" {
			return nil, fmt.Errorf("server chose permessage-deflate, which was not offered: %q", got)
		}
		w.deflate = true
		w.clientCtx = !strings.Contains(got, "client_no_context_takeover")
		w.serverCtx = !strings.Contains(got, "server_no_context_takeover")
		if strings.Contains(ext, "client_no_context_takeover") && w.clientCtx ||
			strings.Contains(ext, "server_no_context_takeover") && w.serverCtx {
			return nil, fmt.Errorf("server dropped a no_context_takeover the client asked for: %q", got)
		}
	}
	return w, nil
}

// appendFrame appends one masked frame (RFC 6455 §5.2-§5.3).
func (w *wsClient) appendFrame(dst []byte, fin bool, op ws.OpCode, rsv1 bool, payload []byte) []byte {
	var mask [4]byte
	m := w.rng.Uint32()
	mask[0], mask[1], mask[2], mask[3] = byte(m), byte(m>>8), byte(m>>16), byte(m>>24)
	h := ws.Header{Fin: fin, Rsv: ws.Rsv(rsv1, false, false), OpCode: op, Masked: true, Mask: mask, Length: int64(len(payload))}
	buf := bytes.NewBuffer(dst)
	_ = ws.WriteHeader(buf, h)
	dst = buf.Bytes()
	start := len(dst)
	dst = append(dst, payload...)
	ws.Cipher(dst[start:], mask, 0)
	return dst
}

// compress deflates one message (RFC 7692 §7.2.1): flush, then drop the 00 00 ff ff tail.
func (w *wsClient) compress(p []byte) []byte {
	w.fbuf.Reset()
	if w.fw == nil {
		w.fw, _ = flate.NewWriter(&w.fbuf, flate.BestSpeed)
	} else if !w.clientCtx {
		w.fw.Reset(&w.fbuf)
	}
	_, _ = w.fw.Write(p)
	_ = w.fw.Flush()
	out := w.fbuf.Bytes()
	return append([]byte(nil), out[:len(out)-4]...)
}

// inflate decompresses a message from the server (RFC 7692 §7.2.2). Under context
// takeover the server's window is the plain text of its earlier compressed messages,
// which a fresh reader gets as its preset dictionary.
func (w *wsClient) inflate(p []byte) ([]byte, error) {
	src := append(append(make([]byte, 0, len(p)+9), p...), 0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff)
	var dict []byte
	if w.serverCtx {
		dict = w.hist
	}
	out, err := io.ReadAll(flate.NewReaderDict(bytes.NewReader(src), dict))
	if err != nil {
		return nil, fmt.Errorf("inflating a %d-byte message: %w", len(p), err)
	}
	if w.serverCtx {
		w.hist = append(w.hist, out...)
		if len(w.hist) > 32<<10 {
			w.hist = append(w.hist[:0], w.hist[len(w.hist)-32<<10:]...)
		}
	}
	return out, nil
}

// appendMessage appends a data message, compressed or not, in `fragments` frames, with a
// ping between the first two when asked (control frames may be interleaved, §5.4).
func (w *wsClient) appendMessage(dst []byte, op ws.OpCode, p []byte, compress bool, fragments int, ping string) []byte {
	data := p
	if compress {
		data = w.compress(p)
	}
	for i := range fragments {
		lo, hi := len(data)*i/fragments, len(data)*(i+1)/fragments
		fop := op
		if i > 0 {
			fop = ws.OpContinuation
		}
		dst = w.appendFrame(dst, i == fragments-1, fop, compress && i == 0, data[lo:hi])
		if i == 0 && ping != "" {
			dst = w.appendFrame(dst, true, ws.OpPing, false, []byte(ping))
			w.pings = append(w.pings, ping)
		}
	}
	return dst
}

var errClosed = errors.New("close frame")

// readMessage reads the next data message, answering the server's pings and checking
// pongs against our pings as it goes. A close frame returns errClosed with its payload.
func (w *wsClient) readMessage() (ws.OpCode, []byte, error) {
	var (
		op         ws.OpCode
		msg        []byte
		compressed bool
		inMessage  bool
	)
	for {
		h, err := ws.ReadHeader(w.br)
		if err != nil {
			return 0, nil, fmt.Errorf("reading a frame header: %w", err)
		}
		if h.Masked {
			return 0, nil, errors.New("server frame is masked (RFC 6455 §5.1 forbids it)")
		}
		if h.Rsv2() || h.Rsv3() || h.Rsv1() && (!w.deflate || h.OpCode.IsControl() || h.OpCode == ws.OpContinuation) {
			return 0, nil, fmt.Errorf("server frame has reserved bits %03b on %v", h.Rsv, h.OpCode)
		}
		payload := make([]byte, h.Length)
		if _, err := io.ReadFull(w.br, payload); err != nil {
			return 0, nil, fmt.Errorf("reading a %d-byte payload: %w", h.Length, err)
		}
		switch h.OpCode {
		case ws.OpPing:
			if _, err := w.c.Write(w.appendFrame(nil, true, ws.OpPong, false, payload)); err != nil {
				return 0, nil, err
			}
			continue
		case ws.OpPong:
			if len(w.pings) == 0 || w.pings[0] != string(payload) {
				return 0, nil, fmt.Errorf("unexpected pong %q (pending %q)", payload, w.pings)
			}
			w.pings = w.pings[1:]
			continue
		case ws.OpClose:
			return ws.OpClose, payload, errClosed
		case ws.OpText, ws.OpBinary:
			if inMessage {
				return 0, nil, errors.New("new data frame inside a fragmented message")
			}
			op, compressed, inMessage = h.OpCode, h.Rsv1(), true
		case ws.OpContinuation:
			if !inMessage {
				return 0, nil, errors.New("continuation without a message")
			}
		default:
			return 0, nil, fmt.Errorf("reserved opcode %v", h.OpCode)
		}
		msg = append(msg, payload...)
		if !h.Fin {
			continue
		}
		if compressed {
			if msg, err = w.inflate(msg); err != nil {
				return 0, nil, err
			}
		}
		return op, msg, nil
	}
}

// closeHandshake sends close 1000 and expects the server to answer it and close the TCP
// connection (RFC 6455 §5.5.1, §7.1.1).
func (w *wsClient) closeHandshake() error {
	if _, err := w.c.Write(w.appendFrame(nil, true, ws.OpClose, false, ws.NewCloseFrameBody(1000, "bye"))); err != nil {
		return fmt.Errorf("writing close: %w", err)
	}
	switch _, p, err := w.readMessage(); {
	case err == errClosed:
		if code, _ := ws.ParseCloseFrameData(p); code != 1000 {
			return fmt.Errorf("close answered with code %d", code)
		}
	case err != nil:
		return fmt.Errorf("waiting for the close reply: %w", err)
	default:
		// Echoes still in flight before the close reply are the caller's to have counted.
		return fmt.Errorf("data message after all echoes were in")
	}
	if _, err := w.br.ReadByte(); err != io.EOF {
		return fmt.Errorf("after the close handshake the server should close the TCP connection, got %v", err)
	}
	return nil
}

// wsPayload builds a message of about n bytes that starts with its sequence number. Text
// is valid UTF-8 with multi-byte characters (which fragmentation may split between frames,
// as §5.6 allows); compressible text repeats words so that deflate has work.
func wsPayload(rng *rand.Rand, op ws.OpCode, seq int64, n int) []byte {
	b := fmt.Appendf(make([]byte, 0, n+16), "#%d;", seq)
	if op == ws.OpBinary {
		return appendRandom(b, rng, n-len(b))
	}
	words := []string{"switchyard ", "échangeur ", "分岐器 ", "weiche ", "🚂 ", "aiguillage "}
	for len(b) < n {
		if rng.IntN(4) == 0 {
			b = append(b, byte('a'+rng.IntN(26)))
		} else {
			b = append(b, words[rng.IntN(len(words))]...)
		}
	}
	return b
}

func wsSize(rng *rand.Rand) int {
	switch r := rng.IntN(100); {
	case r < 55:
		return rng.IntN(126) // 7-bit length
	case r < 90:
		return 126 + rng.IntN(8<<10) // 16-bit length
	case r < 99:
		return rng.IntN(64 << 10)
	default:
		return 64<<10 + rng.IntN(64<<10) // 64-bit length
	}
}

// wsPending is a message sent whose echo is due.
type wsPending struct {
	op      ws.OpCode
	payload []byte
	sent    time.Time
}

// runWSClient is a well-behaved WebSocket client: each connection offers one of wsOffers,
// then keeps a window of sequence-numbered text and binary messages of mixed sizes in
// flight (some compressed, some fragmented with a ping inside), checks that every echo
// comes back intact and in order, and ends with the close handshake.
func runWSClient(ctx context.Context, e *env, id int) {
	rng := rand.New(rand.NewPCG(uint64(id), 2))
	var seq int64
	for ctx.Err() == nil {
		if !wsSession(ctx, e, rng, &seq) {
			return
		}
	}
}

func wsSession(ctx context.Context, e *env, rng *rand.Rand, seq *int64) bool {
	c, err := e.dial()
	if err != nil {
		e.t.fail(protoWS, "dial: %v", err)
		return false
	}
	defer c.Close()
	e.t.conns[protoWS].Add(1)
	e.t.requests.max.Add(1)
	e.t.ws101.max.Add(1)
	w, err := wsUpgrade(c, rng, wsOffers[rng.IntN(len(wsOffers))])
	if err != nil {
		e.t.fail(protoWS, "%v", err)
		return true
	}
	e.t.requests.min.Add(1)
	e.t.ws101.min.Add(1)
	const maxInFlight, maxInFlightBytes = 8, 256 << 10
	var pending []wsPending
	inFlight := 0
	total := 10 + rng.IntN(150)
	sent := 0
	for sent < total && ctx.Err() == nil || len(pending) > 0 {
		if sent < total && ctx.Err() == nil && len(pending) < maxInFlight && inFlight < maxInFlightBytes {
			*seq++
			op := ws.OpText
			if rng.IntN(2) == 0 {
				op = ws.OpBinary
			}
			p := wsPayload(rng, op, *seq, wsSize(rng))
			compress := w.deflate && rng.IntN(2) == 0
			fragments, ping := 1, ""
			if rng.IntN(5) == 0 {
				fragments = 2 + rng.IntN(3)
				ping = fmt.Sprintf("ping %d", *seq)
			}
			_ = c.SetDeadline(time.Now().Add(exchangeTimeout))
			e.t.wsIn.max.Add(1)
			if _, err := c.Write(w.appendMessage(nil, op, p, compress, fragments, ping)); err != nil {
				e.t.fail(protoWS, "writing message %d: %v", *seq, err)
				return true
			}
			pending = append(pending, wsPending{op, p, time.Now()})
			inFlight += len(p)
			sent++
			e.t.wsSent.Add(1)
			if compress {
				e.t.wsCompressed.Add(1)
			}
			if fragments > 1 {
				e.t.wsFragmented.Add(1)
			}
			continue
		}
		op, p, err := w.readMessage()
		if err != nil {
			e.t.fail(protoWS, "waiting for the echo of %q…: %v", pending[0].payload[:min(12, len(pending[0].payload))], err)
			return true
		}
		want := pending[0]
		if op != want.op || !bytes.Equal(p, want.payload) {
			e.t.fail(protoWS, "echo differs: sent %v %d bytes %q…, got %v %d bytes %q…",
				want.op, len(want.payload), want.payload[:min(12, len(want.payload))], op, len(p), p[:min(12, len(p))])
			return true
		}
		pending = pending[1:]
		inFlight -= len(want.payload)
		e.t.wsIn.min.Add(1)
		e.t.wsEchoed.Add(1)
		e.t.done(protoWS, want.sent)
	}
	_ = c.SetDeadline(time.Now().Add(exchangeTimeout))
	if len(w.pings) > 0 {
		// The server answers a ping as it reads it (§5.5.2), before the echo of the
		// message it was sent inside.
		e.t.fail(protoWS, "pongs missing for %q after every echo was in", w.pings)
		return true
	}
	if err := w.closeHandshake(); err != nil {
		e.t.fail(protoWS, "%v", err)
	}
	return true
}
