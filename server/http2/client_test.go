package http2

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/frame/h2"
	"golang.org/x/net/http2/hpack"
)

// h2Client is a minimal HTTP/2 client for raw-byte tests: it writes frames it is told to
// and reads the server's frames one at a time, decoding header blocks with x/net's hpack.
type h2Client struct {
	t    testing.TB
	c    net.Conn
	br   *bufio.Reader
	dec  *hpack.Decoder
	ebuf bytes.Buffer
	enc  *hpack.Encoder
	ev   *connEvents // everything read so far
}

func newH2Client(t testing.TB, c net.Conn, br *bufio.Reader) *h2Client {
	cl := &h2Client{t: t, c: c, br: br, dec: hpack.NewDecoder(4096, nil)}
	cl.enc = hpack.NewEncoder(&cl.ebuf)
	return cl
}

// clientPreface is the preface plus an empty SETTINGS frame (RFC 9113 §3.4).
func clientPreface() []byte {
	return h2.AppendSettings([]byte(h2.ClientPreface))
}

// settingsHeader is an HTTP2-Settings value (RFC 7540 §3.2.1) carrying params.
func settingsHeader(params ...h2.Setting) string {
	payload := h2.AppendSettings(nil, params...)[h2.FrameHeaderLen:]
	return base64.RawURLEncoding.EncodeToString(payload)
}

func (cl *h2Client) write(b []byte) {
	cl.t.Helper()
	if _, err := cl.c.Write(b); err != nil {
		cl.t.Fatal(err)
	}
}

// headers encodes a request header block; fields alternate name, value.
func (cl *h2Client) headers(fields ...string) []byte {
	cl.ebuf.Reset()
	for i := 0; i+1 < len(fields); i += 2 {
		_ = cl.enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	return append([]byte(nil), cl.ebuf.Bytes()...)
}

// request appends HEADERS (and DATA when body is not nil) for one request.
func (cl *h2Client) request(dst []byte, id uint32, method, path string, body []byte) []byte {
	fields := []string{":method", method, ":scheme", "http", ":path", path, ":authority", "test"}
	if body != nil {
		fields = append(fields, "content-length", strconv.Itoa(len(body)))
	}
	dst = h2.AppendHeaders(dst, id, cl.headers(fields...), body == nil, 0)
	if body != nil {
		dst = h2.AppendData(dst, id, body, true)
	}
	return dst
}

// h2frame is one frame read from the server, its payload copied; readFrames decodes the
// fields of HEADERS frames.
type h2frame struct {
	h2.Frame
	raw    []byte
	fields []hpack.HeaderField
}

// status is the :status of a HEADERS frame readFrames read.
func (f h2frame) status() string {
	if len(f.fields) == 0 {
		return ""
	}
	return f.fields[0].Value
}

// readFrame reads the next frame; ok is false once the server has closed.
// follow does for f what a client must whatever it checks: acknowledge the server's
// SETTINGS, and keep the HPACK decoder in step with its HEADERS.
func (cl *h2Client) follow(f h2frame) {
	switch {
	case f.Type == h2.FrameSettings && !f.IsAck():
		cl.write(h2.AppendSettingsAck(nil))
	case f.Type == h2.FrameHeaders:
		if _, err := cl.dec.DecodeFull(f.HeaderBlockFragment()); err != nil {
			cl.t.Fatalf("hpack: %v", err)
		}
	}
}

func (cl *h2Client) readFrame() (f h2frame, ok bool) {
	cl.t.Helper()
	var hdr [h2.FrameHeaderLen]byte
	if _, err := io.ReadFull(cl.br, hdr[:]); err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			cl.t.Fatalf("timed out waiting for a frame")
		}
		return f, false
	}
	fh, _ := h2.DecodeFrameHeader(hdr[:])
	raw := make([]byte, h2.FrameHeaderLen+int(fh.Length))
	copy(raw, hdr[:])
	if _, err := io.ReadFull(cl.br, raw[h2.FrameHeaderLen:]); err != nil {
		cl.t.Fatalf("reading a %v payload: %v", fh, err)
	}
	fr, _, err := h2.ReadFrame(raw, h2.MaxMaxFrameSize)
	if _, isConn := err.(h2.ConnectionError); isConn {
		cl.t.Fatalf("server sent an invalid frame %v: %v", fh, err)
	}
	return h2frame{Frame: fr, raw: raw}, true
}

// response is what the server sent on one stream.
type response struct {
	status  string
	fields  map[string]string
	body    []byte
	rst     h2.ErrCode
	isReset bool
}

// connEvents is what readUntil saw on the connection.
type connEvents struct {
	first     h2.FrameType // the first frame's type
	streams   map[uint32]*response
	goAway    bool
	goAwayErr h2.ErrCode
	closed    bool
}

// readUntil reads frames, answering SETTINGS and granting flow control as a client does,
// until every stream in want has ended (END_STREAM or RST_STREAM) or the server closed.
// The events accumulate over calls.
func (cl *h2Client) readUntil(want ...uint32) *connEvents {
	cl.t.Helper()
	if cl.ev == nil {
		cl.ev = &connEvents{first: 0xff, streams: map[uint32]*response{}}
	}
	ev := cl.ev
	if ev.closed {
		return ev
	}
	done := func() bool {
		for _, id := range want {
			r := ev.streams[id]
			if r == nil || r.status == "" && !r.isReset || !r.isReset && r.fields["_end"] != "1" {
				return false
			}
		}
		return len(want) > 0
	}
	for !done() {
		f, ok := cl.readFrame()
		if !ok {
			ev.closed = true
			return ev
		}
		if ev.first == 0xff {
			ev.first = f.Type
		}
		r := ev.streams[f.StreamID]
		if r == nil && f.StreamID != 0 {
			r = &response{fields: map[string]string{}}
			ev.streams[f.StreamID] = r
		}
		switch f.Type {
		case h2.FrameSettings:
			if !f.IsAck() {
				cl.write(h2.AppendSettingsAck(nil))
			}
		case h2.FrameHeaders, h2.FrameContinuation:
			fields, err := cl.dec.DecodeFull(f.HeaderBlockFragment())
			if err != nil {
				cl.t.Fatalf("hpack: %v", err)
			}
			for _, hf := range fields {
				if hf.Name == ":status" {
					r.status = hf.Value
				}
				r.fields[hf.Name] = hf.Value
			}
			if f.EndStream() {
				r.fields["_end"] = "1"
			}
		case h2.FrameData:
			r.body = append(r.body, f.Data()...)
			if f.Length > 0 {
				cl.write(h2.AppendWindowUpdate(h2.AppendWindowUpdate(nil, 0, f.Length), f.StreamID, f.Length))
			}
			if f.EndStream() {
				r.fields["_end"] = "1"
			}
		case h2.FrameRSTStream:
			r.isReset, r.rst = true, f.ErrCode()
		case h2.FrameGoAway:
			ev.goAway, ev.goAwayErr = true, f.ErrCode()
		}
	}
	return ev
}

func bufioReader(c net.Conn) *bufio.Reader { return bufio.NewReader(c) }

// readFrames reads frames until stop says so, the server closes (closed) or d passes,
// answering SETTINGS but, unlike readUntil, granting no flow-control window: what the
// server does next is the server's own doing.
func (cl *h2Client) readFrames(d time.Duration, stop func(f h2frame) bool) (got []h2frame, closed bool) {
	cl.t.Helper()
	_ = cl.c.SetReadDeadline(time.Now().Add(d))
	defer cl.c.SetReadDeadline(time.Time{})
	for {
		var hdr [h2.FrameHeaderLen]byte
		if _, err := io.ReadFull(cl.br, hdr[:]); err != nil {
			var ne net.Error
			return got, !errors.As(err, &ne) || !ne.Timeout()
		}
		fh, _ := h2.DecodeFrameHeader(hdr[:])
		raw := make([]byte, h2.FrameHeaderLen+int(fh.Length))
		copy(raw, hdr[:])
		if _, err := io.ReadFull(cl.br, raw[h2.FrameHeaderLen:]); err != nil {
			return got, true
		}
		fr, _, _ := h2.ReadFrame(raw, h2.MaxMaxFrameSize)
		f := h2frame{Frame: fr, raw: raw}
		switch {
		case f.Type == h2.FrameHeaders: // keeps the client's HPACK state in step
			fields, err := cl.dec.DecodeFull(f.HeaderBlockFragment())
			if err != nil {
				cl.t.Fatalf("hpack: %v", err)
			}
			f.fields = fields
		case f.Type == h2.FrameSettings && !f.IsAck():
			cl.write(h2.AppendSettingsAck(nil))
		}
		got = append(got, f)
		if stop != nil && stop(f) {
			return got, false
		}
	}
}

// describe lists frames for a failure message.
func describe(fs []h2frame) string {
	var sb strings.Builder
	for _, f := range fs {
		sb.WriteString(f.FrameHeader.String())
		if f.Type == h2.FrameRSTStream || f.Type == h2.FrameGoAway {
			sb.WriteString(" code=" + f.ErrCode().String())
		}
		sb.WriteString("; ")
	}
	return sb.String()
}

// upload sends a POST of size bytes (with content-length) on each stream, as a
// multiplexing client does: within the server's windows (its SETTINGS_INITIAL_WINDOW_SIZE
// and WINDOW_UPDATEs), each round of DATA frames starting with the next stream. With
// oneAtATime, ids[0]'s body goes out whole before the others'. It returns each stream's
// outcome (its :status, or "RST code"), or stuck and what was sent per stream if the
// server sends nothing for stall while bodies wait for window.
func (cl *h2Client) upload(ids []uint32, paths map[uint32]string, oneAtATime bool, size int, stall time.Duration) (done map[uint32]string, sent map[uint32]int, stuck bool) {
	cl.t.Helper()
	connWin, initial := int64(65535), int64(65535)
	streamWin := map[uint32]int64{}
	sent, done = map[uint32]int{}, map[uint32]string{}
	for _, id := range ids {
		path := "/count"
		if p, ok := paths[id]; ok {
			path = p
		}
		cl.write(h2.AppendHeaders(nil, id, cl.headers(":method", "POST", ":scheme", "http", ":path", path, ":authority", "x", "content-length", strconv.Itoa(size)), false, 0))
	}
	chunk := bytes.Repeat([]byte("u"), 16384)
	settingsIn := false // DATA waits for the server's SETTINGS (its stream window)
	for round := 0; len(done) < len(ids); {
		progressed := false
		if settingsIn {
			round++
			for k := range ids {
				id := ids[(k+round)%len(ids)]
				if oneAtATime && id != ids[0] && sent[ids[0]] < size {
					continue
				}
				n := min(int64(size-sent[id]), int64(len(chunk)), connWin, streamWin[id])
				if n <= 0 {
					continue
				}
				cl.write(h2.AppendData(nil, id, chunk[:n], sent[id]+int(n) == size))
				sent[id] += int(n)
				connWin -= n
				streamWin[id] -= n
				progressed = true
			}
		}
		if progressed {
			continue
		}
		fs, closed := cl.readFrames(stall, func(h2frame) bool { return true })
		if len(fs) == 0 || closed {
			return done, sent, true
		}
		switch f := fs[0]; f.Type {
		case h2.FrameSettings:
			if !f.IsAck() && !settingsIn {
				for i := 0; i < f.NumSettings(); i++ {
					if s := f.Setting(i); s.ID == h2.SettingInitialWindowSize {
						initial = int64(s.Val)
					}
				}
				for _, id := range ids {
					streamWin[id] += initial
				}
				settingsIn = true
			}
		case h2.FrameWindowUpdate:
			if f.StreamID == 0 {
				connWin += int64(f.Increment())
			} else {
				streamWin[f.StreamID] += int64(f.Increment())
			}
		case h2.FrameHeaders:
			done[f.StreamID] = f.status()
		case h2.FrameRSTStream:
			done[f.StreamID] = "RST " + f.ErrCode().String()
		case h2.FrameGoAway:
			return done, sent, true
		}
	}
	return done, sent, false
}
