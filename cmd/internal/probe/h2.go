package probe

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/switchyard-dev/switchyard/frame/h2"
	"golang.org/x/net/http2/hpack"
)

// clientSettings are the probe's SETTINGS, sent both in HTTP2-Settings and in the
// preface: no push (we would not read it), otherwise the defaults.
var clientSettings = []h2.Setting{
	{ID: h2.SettingEnablePush, Val: 0},
	{ID: h2.SettingMaxConcurrentStreams, Val: 100},
}

// http2SettingsHeader is the HTTP2-Settings value: the SETTINGS payload in base64url
// without padding (RFC 7540 §3.2.1).
func http2SettingsHeader() string {
	f := h2.AppendSettings(nil, clientSettings...)
	return base64.RawURLEncoding.EncodeToString(f[h2.FrameHeaderLen:])
}

// probeH2C asks for `Upgrade: h2c` (RFC 7540 §3.2). After a 101 the server's first frame
// must be SETTINGS (§3.5) and the response to the request arrives on stream 1.
func (p *prober) probeH2C(ctx context.Context) Probe {
	lines := []string{
		"Connection: Upgrade, HTTP2-Settings",
		"Upgrade: h2c",
		"HTTP2-Settings: " + http2SettingsHeader(),
	}
	pr := Probe{ID: "h2c", Title: "Upgrade: h2c (HTTP/2 over cleartext, RFC 7540 §3.2)", Sent: p.sent(lines)}
	if p.t.tls {
		pr.Sent = nil
		pr.Verdict = Verdict{LevelInfo, "skipped", "not tried: h2c is for cleartext connections only; over TLS HTTP/2 is chosen with ALPN (see the h2 probe)"}
		return pr
	}
	s := p.exchange(ctx, &pr, nil, lines)
	if s == nil {
		return pr
	}
	defer s.close()
	resp := pr.Response
	if resp.Status == 101 && hasToken(resp.Upgrade, "h2c") {
		pr.H2 = &H2Result{}
		preface := h2.AppendSettings([]byte(h2.ClientPreface), clientSettings...)
		if _, err := s.conn.Write(preface); err != nil {
			pr.H2.Error = "could not send the preface: " + describe(err, p.o.Timeout)
			return pr
		}
		s.readH2(pr.H2, p.o)
	}
	return pr
}

// probePriorKnowledge opens with the client preface, SETTINGS and a GET on stream 1
// (RFC 9113 §3.3); over TLS it offers h2 with ALPN first (RFC 9113 §3.2). A server that
// speaks only HTTP/1.1 answers with an error response or closes.
func (p *prober) probePriorKnowledge(ctx context.Context) Probe {
	pr := Probe{ID: "h2", Title: "HTTP/2 with prior knowledge (client preface, RFC 9113 §3.3)",
		Sent: []string{"PRI * HTTP/2.0 (client preface)", "SETTINGS", "HEADERS stream=1: GET " + p.t.uri}}
	alpn := []string(nil)
	if p.t.tls {
		pr.Title = "HTTP/2 over TLS (ALPN h2, RFC 9113 §3.2)"
		pr.Sent = append([]string{"TLS ALPN: h2, http/1.1"}, pr.Sent...)
		alpn = []string{"h2", "http/1.1"}
	}
	s, err := p.dial(ctx, alpn)
	if err != nil {
		pr.Error, pr.dialErr = describe(err, p.o.Timeout), err
		return pr
	}
	defer s.close()
	pr.H2 = &H2Result{ALPN: s.alpn}
	pr.tls = p.t.tls
	if p.t.tls && s.alpn != "h2" {
		pr.H2.Error = "ALPN did not choose h2"
		return pr
	}
	out := h2.AppendSettings([]byte(h2.ClientPreface), clientSettings...)
	out = h2.AppendHeaders(out, 1, p.requestBlock(), true, h2.MinMaxFrameSize)
	if _, err := s.conn.Write(out); err != nil {
		pr.Error = describe(err, p.o.Timeout)
		return pr
	}
	head, err := s.br.Peek(5)
	switch {
	case len(head) == 0 && err != nil:
		pr.H2.Error = describe(err, p.o.Timeout)
		return pr
	case bytes.HasPrefix(head, []byte("HTTP/")):
		// An HTTP/1.x server read the preface as a request line.
		pr.H2 = nil
		_, resp, err := s.readResponse()
		if err != nil {
			pr.Error = describe(err, p.o.Timeout)
			return pr
		}
		pr.Response = resp
		return pr
	}
	if !looksLikeH2(s.br) {
		// Neither a status line nor a frame: HTTP/0.9-style error pages, TLS alerts on a
		// cleartext port, banners of other protocols.
		pr.H2.Error = "not HTTP/2: the server answered " + quote(firstLine(io.LimitReader(s.br, maxBodyRead)))
		return pr
	}
	s.readH2(pr.H2, p.o)
	return pr
}

// looksLikeH2 reports whether the buffered answer starts like a server preface: a
// SETTINGS frame (RFC 9113 §3.4), or a GOAWAY from a server refusing at once, on stream 0.
func looksLikeH2(br *bufio.Reader) bool {
	b, _ := br.Peek(h2.FrameHeaderLen)
	if len(b) < h2.FrameHeaderLen {
		return len(b) > 3 && (b[3] == byte(h2.FrameSettings) || b[3] == byte(h2.FrameGoAway))
	}
	fh, _ := h2.DecodeFrameHeader(b)
	return (fh.Type == h2.FrameSettings || fh.Type == h2.FrameGoAway) && fh.StreamID == 0
}

// requestBlock is the HPACK block of a GET for the target (RFC 9113 §8.3.1).
func (p *prober) requestBlock() []byte {
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	w := func(k, v string) { _ = enc.WriteField(hpack.HeaderField{Name: k, Value: v}) }
	w(":method", "GET")
	w(":scheme", p.t.scheme)
	w(":authority", p.t.host)
	w(":path", p.t.uri)
	w("user-agent", "switchyard-probe")
	for _, l := range p.o.Header {
		k, v, _ := strings.Cut(l, ":")
		k = strings.ToLower(strings.TrimSpace(k))
		switch k {
		case "host", "connection", "upgrade", "keep-alive", "proxy-connection", "transfer-encoding", "te":
			continue // connection-specific: RFC 9113 §8.2.2 forbids them
		}
		w(k, strings.TrimSpace(v))
	}
	return buf.Bytes()
}

// Limits on what readH2 accepts from a server.
const (
	maxH2Frames     = 64
	maxHeaderBlock  = 64 << 10
	maxFramesListed = 24
)

// readH2 reads the server's frames until it has seen SETTINGS and the end of stream 1's
// response, a GOAWAY, an error, or the deadline. It acknowledges SETTINGS and PING as a
// client must, and says goodbye with GOAWAY(NO_ERROR).
func (s *session) readH2(res *H2Result, o Options) {
	dec := hpack.NewDecoder(4096, nil)
	dec.SetMaxStringLength(maxHeaderBlock)
	var block []byte
	streamDone := false
	defer func() { _, _ = s.conn.Write(h2.AppendGoAway(nil, 0, h2.ErrCodeNo, nil)) }()
	for n := 0; n < maxH2Frames; n++ {
		f, err := s.readFrame()
		if err != nil {
			if res.SettingsReceived && streamDone {
				return
			}
			var ce h2.ConnectionError
			if errors.As(err, &ce) {
				res.Error = "invalid frame from the server: " + ce.Error()
			} else {
				res.Error = describe(err, o.Timeout)
			}
			return
		}
		if len(res.Frames) < maxFramesListed {
			res.Frames = append(res.Frames, frameLabel(&f))
		}
		if n == 0 && (f.Type != h2.FrameSettings || f.IsAck()) {
			res.Error = "the server's first frame was " + f.Type.String() + ", not SETTINGS (RFC 9113 §3.4)"
		}
		switch f.Type {
		case h2.FrameSettings:
			if f.IsAck() {
				break
			}
			if !res.SettingsReceived {
				res.SettingsReceived = true
				for i := range f.NumSettings() {
					st := f.Setting(i)
					res.Settings = append(res.Settings, fmt.Sprintf("%s=%d", st.ID, st.Val))
				}
			}
			_, _ = s.conn.Write(h2.AppendSettingsAck(nil))
		case h2.FramePing:
			if !f.IsAck() {
				_, _ = s.conn.Write(h2.AppendPing(nil, true, f.PingData()))
			}
		case h2.FrameHeaders, h2.FrameContinuation:
			if len(block)+len(f.HeaderBlockFragment()) > maxHeaderBlock {
				res.Error = "header block over 64 KiB"
				return
			}
			block = append(block, f.HeaderBlockFragment()...)
			if f.EndHeaders() {
				fields, err := dec.DecodeFull(block)
				block = block[:0]
				if err != nil {
					res.Error = "undecodable header block: " + err.Error()
					return
				}
				if f.StreamID == 1 && res.Status == "" {
					for _, hf := range fields {
						if hf.Name == ":status" {
							res.Status = clean(hf.Value, 10)
						}
					}
				}
			}
			if f.StreamID == 1 && f.Type == h2.FrameHeaders && f.EndStream() {
				streamDone = true
			}
		case h2.FrameData:
			if f.StreamID == 1 && f.EndStream() {
				streamDone = true
			}
		case h2.FrameRSTStream:
			if f.StreamID == 1 {
				streamDone = true
			}
		case h2.FrameGoAway:
			res.GoAway = f.ErrCode().String()
			if d := clean(string(f.DebugData()), 200); d != "" {
				res.GoAway += ": " + d
			}
			return
		}
		if res.SettingsReceived && streamDone {
			return
		}
	}
}

// readFrame reads one whole frame; the 16 KiB limit is the SETTINGS_MAX_FRAME_SIZE the
// probe advertised (by not changing it), so a larger frame is the server's error.
func (s *session) readFrame() (h2.Frame, error) {
	var hdr [h2.FrameHeaderLen]byte
	if _, err := io.ReadFull(s.br, hdr[:]); err != nil {
		return h2.Frame{}, err
	}
	fh, _ := h2.DecodeFrameHeader(hdr[:])
	if fh.Length > h2.MinMaxFrameSize {
		f, _, err := h2.ReadFrame(hdr[:], h2.MinMaxFrameSize)
		return f, err
	}
	buf := make([]byte, h2.FrameHeaderLen+int(fh.Length))
	copy(buf, hdr[:])
	if _, err := io.ReadFull(s.br, buf[h2.FrameHeaderLen:]); err != nil {
		return h2.Frame{}, err
	}
	f, _, err := h2.ReadFrame(buf, h2.MinMaxFrameSize)
	var se h2.StreamError
	if errors.As(err, &se) {
		return f, nil // the frame is readable; a stream error is not the probe's concern
	}
	return f, err
}

func frameLabel(f *h2.Frame) string {
	l := f.Type.String()
	if f.IsAck() {
		l += "(ACK)"
	}
	if f.StreamID != 0 {
		l += fmt.Sprintf("[%d]", f.StreamID)
	}
	switch f.Type {
	case h2.FrameRSTStream, h2.FrameGoAway:
		l += "(" + f.ErrCode().String() + ")"
	}
	return l
}
