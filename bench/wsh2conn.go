package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"github.com/switchyard-dev/switchyard/frame/h2"
	"golang.org/x/net/http2/hpack"
)

// The RFC 8441 client: WebSockets as streams of HTTP/2 connections (extended CONNECT,
// :protocol websocket), for the ws-over-h2 and ws-h2-open scenarios. A connection's
// preface, SETTINGS and (for echo) its WebSockets are set up on a goroutine with blocking
// reads; then the socket moves onto the load client's loops, where h2wsConn.onData reads
// the server's frames in place and appends what it sends to cc.out: no allocation per
// message or per open, no goroutine per connection.

// errNoRFC8441 is the answer of a server that does not advertise
// SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3): the scenario is n/a for it.
var errNoRFC8441 = errors.New("n/a: the server does not advertise SETTINGS_ENABLE_CONNECT_PROTOCOL (no RFC 8441)")

// h2wsWindow is the receive window the client gives each stream and the connection, and
// windowRefill how much it lets the server use before giving it back: large, so that
// WINDOW_UPDATEs are rare and the server is never held up by the client.
const (
	h2wsWindow   = 1 << 30
	windowRefill = 1 << 28
)

// h2wsDialer opens HTTP/2 connections (prior knowledge, RFC 9113 §3.3) ready for RFC 8441.
type h2wsDialer struct {
	tcp          tcpDialer
	connectFirst []byte // a connection's first extended CONNECT header block
	connect      []byte // every later one
	timeout      time.Duration
}

func newH2WSDialer(addr, path string, srcs []net.IP) *h2wsDialer {
	// As browsers do, the first block adds its fields to the connection's dynamic table
	// (RFC 7541 §6.2.1) and every later one is the same fields as indexes, a byte each:
	// both blocks are fixed, since the table they build never changes (nor overflows).
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	block := func() []byte {
		buf.Reset()
		for _, f := range [][2]string{{":method", "CONNECT"}, {":protocol", "websocket"}, {":scheme", "http"},
			{":path", path}, {":authority", addr}, {"sec-websocket-version", "13"}} {
			_ = enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
		}
		return append([]byte(nil), buf.Bytes()...)
	}
	first := block()
	return &h2wsDialer{tcp: tcpDialer{addr: addr, srcs: srcs}, connectFirst: first, connect: block(), timeout: 5 * time.Second}
}

// connectBlock is the header block of the connection's next extended CONNECT; blocks
// must reach the server in the order they are taken.
func (st *h2wsConn) connectBlock() []byte {
	if !st.connectSent && st.connectFirst != nil {
		st.connectSent = true
		return st.connectFirst
	}
	return st.connect
}

// h2wsStream is one WebSocket (echo) of a connection.
type h2wsStream struct {
	id      uint32
	sendWin int64  // what the server lets this stream send (RFC 9113 §6.9)
	recv    int64  // DATA received since the last stream WINDOW_UPDATE
	msg     []byte // DATA frame carrying one masked message, built once
	rx      []byte // the echo being received
	got     int
	sentAt  int64
	busy    bool // a message in flight
	blocked bool // waiting for window to send
}

// h2wsOpen is a stream of ws-h2-open, from its CONNECT to its end.
type h2wsOpen struct {
	id      uint32
	sentAt  int64
	closing bool // the 200 came; our close frame and END_STREAM went
}

// h2wsConn is one HTTP/2 connection's client state; the loop owns it after set-up.
type h2wsConn struct {
	sendWin    int64 // the connection's send window
	initWin    int64 // the server's SETTINGS_INITIAL_WINDOW_SIZE
	maxStreams uint32
	rfc8441    bool  // the server's SETTINGS_ENABLE_CONNECT_PROTOCOL was 1
	recv       int64 // DATA received since the last connection WINDOW_UPDATE
	dec        *hpack.Decoder

	// echo
	streams []h2wsStream // stream i has ID 2i+1
	expect  []byte       // the server's echo frame of the message
	waiting []int32      // streams blocked on the connection window, in order
	// the extended CONNECT's header blocks (connectBlock)
	connectFirst, connect []byte
	connectSent           bool
	// open
	nextID   uint32
	opens    []h2wsOpen // ring by (id>>1) % len
	inFlight int
	closeWS  []byte // a masked close 1000 frame, sent as DATA with END_STREAM after the 200

	// callbacks from the scenario
	onEcho func(now, sentAt int64) (again bool)
	onOpen func(now, sentAt int64)
	again  func() bool // the run goes on: open another
	fail   func(error)
}

// dial opens a connection, exchanges SETTINGS and checks the server allows extended
// CONNECT; with streams > 0 it also opens that many WebSockets (echo). It reads frame by
// frame, so nothing is left buffered when the socket moves to a loop.
func (d *h2wsDialer) dial(ctx context.Context, st *h2wsConn, streams int) (net.Conn, error) {
	c, _, err := d.tcp.dial(ctx)
	if err != nil {
		return nil, err
	}
	_ = c.SetDeadline(time.Now().Add(d.timeout))
	fail := func(err error) (net.Conn, error) { c.Close(); return nil, err }
	out := h2.AppendSettings([]byte(h2.ClientPreface),
		h2.Setting{ID: h2.SettingEnablePush, Val: 0}, h2.Setting{ID: h2.SettingInitialWindowSize, Val: h2wsWindow})
	out = h2.AppendWindowUpdate(out, 0, h2wsWindow-65535)
	if _, err := c.Write(out); err != nil {
		return fail(err)
	}
	st.sendWin, st.initWin, st.maxStreams = 65535, 65535, 1<<31-1
	buf := make([]byte, 0, 1<<14)
	settings := false
	for !settings {
		f, err := readWholeFrame(c, &buf)
		if err != nil {
			return fail(fmt.Errorf("before SETTINGS: %w", err))
		}
		if f.Type == h2.FrameSettings && !f.IsAck() {
			settings = true
		}
		if err := st.setupFrame(c, &f); err != nil {
			return fail(err)
		}
	}
	if !st.rfc8441 {
		return fail(errNoRFC8441)
	}
	st.connectFirst, st.connect = d.connectFirst, d.connect
	if streams == 0 {
		_ = c.SetDeadline(time.Time{})
		return c, nil
	}
	if uint32(streams) > st.maxStreams {
		return fail(fmt.Errorf("the server allows %d concurrent streams, the scenario wants %d per connection", st.maxStreams, streams))
	}
	out = out[:0]
	for i := range st.streams[:streams] {
		out = h2.AppendHeaders(out, st.streams[i].id, st.connectBlock(), false, h2.MinMaxFrameSize)
	}
	if _, err := c.Write(out); err != nil {
		return fail(err)
	}
	for ok := 0; ok < streams; {
		f, err := readWholeFrame(c, &buf)
		if err != nil {
			return fail(fmt.Errorf("waiting for %d responses to extended CONNECT: %w", streams-ok, err))
		}
		if f.Type == h2.FrameHeaders {
			status, err := st.status(&f)
			if err != nil {
				return fail(err)
			}
			if status != "200" {
				return fail(fmt.Errorf("extended CONNECT answered %s", status))
			}
			ok++
			continue
		}
		if err := st.setupFrame(c, &f); err != nil {
			return fail(err)
		}
	}
	_ = c.SetDeadline(time.Time{})
	return c, nil
}

// readWholeFrame reads one frame into *buf (reused).
func readWholeFrame(c net.Conn, buf *[]byte) (h2.Frame, error) {
	b := (*buf)[:h2.FrameHeaderLen]
	if _, err := io.ReadFull(c, b); err != nil {
		return h2.Frame{}, err
	}
	fh, _ := h2.DecodeFrameHeader(b)
	if fh.Length > h2.MinMaxFrameSize {
		return h2.Frame{}, fmt.Errorf("frame of %d bytes over the 16 KiB advertised", fh.Length)
	}
	n := h2.FrameHeaderLen + int(fh.Length)
	if cap(*buf) < n {
		grown := make([]byte, n)
		copy(grown, b)
		*buf = grown
	}
	b = (*buf)[:n]
	if _, err := io.ReadFull(c, b[h2.FrameHeaderLen:]); err != nil {
		return h2.Frame{}, err
	}
	f, _, err := h2.ReadFrame(b, h2.MinMaxFrameSize)
	return f, err
}

// setupFrame handles a frame during set-up, answering on c.
func (st *h2wsConn) setupFrame(c net.Conn, f *h2.Frame) error {
	var out []byte
	if err := st.control(f, &out); err != nil {
		return err
	}
	if len(out) > 0 {
		_, err := c.Write(out)
		return err
	}
	return nil
}

// control handles the frames that are not a stream's data: SETTINGS, PING,
// WINDOW_UPDATE, GOAWAY, RST_STREAM. Answers go to *out.
func (st *h2wsConn) control(f *h2.Frame, out *[]byte) error {
	switch f.Type {
	case h2.FrameSettings:
		if f.IsAck() {
			return nil
		}
		for i := range f.NumSettings() {
			s := f.Setting(i)
			switch s.ID {
			case h2.SettingEnableConnectProtocol:
				st.rfc8441 = s.Val == 1
			case h2.SettingInitialWindowSize:
				delta := int64(s.Val) - st.initWin // RFC 9113 §6.9.2
				st.initWin = int64(s.Val)
				for i := range st.streams {
					st.streams[i].sendWin += delta
				}
			case h2.SettingMaxConcurrentStreams:
				st.maxStreams = s.Val
			}
		}
		*out = h2.AppendSettingsAck(*out)
	case h2.FramePing:
		if !f.IsAck() {
			*out = h2.AppendPing(*out, true, f.PingData())
		}
	case h2.FrameWindowUpdate:
		if f.StreamID == 0 {
			st.sendWin += int64(f.Increment())
		} else if i := int(f.StreamID-1) / 2; i < len(st.streams) && st.streams[i].id == f.StreamID {
			st.streams[i].sendWin += int64(f.Increment())
		}
	case h2.FrameGoAway:
		return fmt.Errorf("GOAWAY %s %q", f.ErrCode(), f.DebugData())
	case h2.FrameRSTStream:
		if st.opens == nil { // echo: every stream is a WebSocket that must stay open
			return fmt.Errorf("RST_STREAM %s on stream %d", f.ErrCode(), f.StreamID)
		}
	case h2.FrameHeaders, h2.FrameData, h2.FrameContinuation:
		return fmt.Errorf("unexpected %s on stream %d", f.Type, f.StreamID)
	}
	return nil
}

// status is the :status of a response block: the static-table index the servers use for
// it (one byte, RFC 7541 Appendix A), else a full decode. Only the fast path is
// allocation-free; its blocks are not fed to the decoder, which is right as long as the
// server adds nothing to its dynamic table in them.
func (st *h2wsConn) status(f *h2.Frame) (string, error) {
	if !f.EndHeaders() {
		return "", errors.New("a response split over CONTINUATION frames: not read by the bench client")
	}
	b := f.HeaderBlockFragment()
	if len(b) > 0 && b[0] >= 0x88 && b[0] <= 0x8e {
		return staticStatus[b[0]-0x88], nil
	}
	if st.dec == nil { // the first response not on the fast path
		st.dec = hpack.NewDecoder(4096, nil)
		st.dec.SetMaxStringLength(16 << 10)
	}
	fields, err := st.dec.DecodeFull(b)
	if err != nil {
		return "", fmt.Errorf("undecodable response block: %w", err)
	}
	for _, hf := range fields {
		if hf.Name == ":status" {
			return hf.Value, nil
		}
	}
	return "", errors.New("response without :status")
}

var staticStatus = [...]string{"200", "204", "206", "304", "400", "404", "500"}

// refill gives back receive window once the server has used windowRefill of it.
func refill(out []byte, streamID uint32, used *int64, n int64) []byte {
	*used += n
	if *used >= windowRefill {
		out = h2.AppendWindowUpdate(out, streamID, uint32(*used))
		*used = 0
	}
	return out
}

// maskedDataFrame is a DATA frame on streamID carrying one masked client WebSocket frame.
func maskedDataFrame(streamID uint32, op ws.OpCode, payload []byte) ([]byte, error) {
	frame, err := clientFrame(op, payload, false)
	if err != nil {
		return nil, err
	}
	return h2.AppendData(nil, streamID, frame, false), nil
}

// unmaskedFrame is the frame a server sends with payload (RFC 6455 §5.2).
func unmaskedFrame(op ws.OpCode, payload []byte) []byte {
	b, _ := ws.CompileFrame(ws.NewFrame(op, true, payload))
	return b
}

// h2wsRun is the state the ws-over-h2 scenarios share with their clients' callbacks, and
// their measured part.
type h2wsRun struct {
	running, measuring atomic.Bool
	ops                atomic.Uint64 // echoes, or opens, counted while measuring
	inflight           atomic.Int64
}

// measure runs the warm-up and the measured window on the server's CPU (pid), stops the
// clients and waits up to 2 s for what is in flight, noting what never ended (left names
// it: "messages unanswered"). It returns the error count at the window's start.
func (r *h2wsRun) measure(ctx context.Context, lc *loadClient, pid int, warmup, duration time.Duration, m *Metrics, left string) uint64 {
	sleepCtx(ctx, warmup)
	errs0 := lc.errs.Load()
	r.measuring.Store(true)
	w := openFineWindow(pid)
	sleepCtx(ctx, duration)
	m.Ops = r.ops.Load()
	w.close(m)
	r.measuring.Store(false)
	r.running.Store(false)
	for deadline := time.Now().Add(2 * time.Second); r.inflight.Load() > 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if n := r.inflight.Load(); n > 0 {
		m.Note += fmt.Sprintf("; %d %s at the end", n, left)
	}
	return errs0
}
