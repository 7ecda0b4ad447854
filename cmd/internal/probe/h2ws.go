package probe

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/switchyard-dev/switchyard/frame/h2"
	"github.com/switchyard-dev/switchyard/frame/ws"
	"golang.org/x/net/http2/hpack"
)

// H2WSResult is what a WebSocket over HTTP/2 attempt (RFC 8441) showed.
type H2WSResult struct {
	ALPN             string `json:"alpn,omitempty"` // TLS only: the protocol ALPN chose
	SettingsReceived bool   `json:"settings_received"`
	// ConnectProtocol: the server's SETTINGS carried ENABLE_CONNECT_PROTOCOL=1 (RFC 8441 §3).
	// Without it a client must not send extended CONNECT, and the probe does not.
	ConnectProtocol bool   `json:"enable_connect_protocol"`
	Status          string `json:"connect_status,omitempty"` // :status of the extended CONNECT
	Extensions      string `json:"sec_websocket_extensions,omitempty"`
	Body            string `json:"body_first_line,omitempty"` // of a refusal
	Pong            bool   `json:"pong"`                      // a ping on the stream got its pong
	Echo            bool   `json:"echo"`                      // a text message came back unchanged (echo endpoints)
	CloseCode       int    `json:"close_code,omitempty"`      // the server's answer to our close 1000
	StreamEnded     bool   `json:"stream_ended"`              // END_STREAM after the close handshake (RFC 8441 §5)
	Reset           string `json:"rst_stream,omitempty"`      // RST_STREAM's error code on the stream
	GoAway          string `json:"goaway,omitempty"`
	Error           string `json:"error,omitempty"` // why the attempt stopped early
}

// The probe's WebSocket messages on the stream: a ping before and after a text message,
// so the second pong shows the server has handled the text by then (an echo endpoint has
// answered it) without waiting out a timeout on endpoints that do not echo.
var (
	h2wsPing1 = []byte("switchyard-probe 1")
	h2wsText  = []byte("switchyard-probe echo")
	h2wsPing2 = []byte("switchyard-probe 2")
)

// maxH2WSFrames bounds the HTTP/2 frames one attempt reads.
const maxH2WSFrames = 256

// probeH2WebSocket tries a WebSocket over HTTP/2 (RFC 8441): over TLS on a connection
// where ALPN chose h2, over cleartext with prior knowledge (RFC 9113 §3.3). It reads the
// server's SETTINGS for ENABLE_CONNECT_PROTOCOL; when set, it sends an extended CONNECT
// (:protocol websocket) for the target, and on 200 a masked ping, text and ping as DATA,
// then a close 1000, and waits for the server's close and the end of the stream.
func (p *prober) probeH2WebSocket(ctx context.Context) Probe {
	pr := Probe{ID: "h2-websocket", Title: "WebSocket over HTTP/2 (extended CONNECT, RFC 8441)",
		Sent: []string{"PRI * HTTP/2.0 (client preface)", "SETTINGS",
			"HEADERS stream=1: CONNECT :protocol=websocket :path=" + p.t.uri + " (if allowed)",
			"DATA stream=1: masked ping, text, ping, then close 1000"}}
	alpn := []string(nil)
	if p.t.tls {
		pr.Sent = append([]string{"TLS ALPN: h2, http/1.1"}, pr.Sent...)
		alpn = []string{"h2", "http/1.1"} // as browsers offer it
	}
	s, err := p.dial(ctx, alpn)
	if err != nil {
		pr.Error, pr.dialErr = describe(err, p.o.Timeout), err
		pr.Verdict = Verdict{LevelInfo, "not-supported", "no connection: " + pr.Error}
		return pr
	}
	defer s.close()
	res := &H2WSResult{ALPN: s.alpn}
	pr.H2WebSocket, pr.tls = res, p.t.tls
	if p.t.tls && s.alpn != "h2" {
		res.Error = "ALPN did not choose h2"
		pr.Verdict = judgeH2WS(res)
		return pr
	}
	x := &h2wsExchange{s: s, res: res, o: p.o, dec: hpack.NewDecoder(4096, nil)}
	x.dec.SetMaxStringLength(maxHeaderBlock)
	defer func() { _, _ = s.conn.Write(h2.AppendGoAway(nil, 0, h2.ErrCodeNo, nil)) }()
	x.run(p.connectBlock())
	pr.Verdict = judgeH2WS(res)
	return pr
}

// connectBlock is the HPACK block of the extended CONNECT (RFC 8441 §4, §5: the
// WebSocket handshake's Host becomes :authority, its Upgrade and Connection go, and
// Sec-WebSocket-Key/Accept are not used).
func (p *prober) connectBlock() []byte {
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	w := func(k, v string) { _ = enc.WriteField(hpack.HeaderField{Name: k, Value: v}) }
	w(":method", "CONNECT")
	w(":protocol", "websocket")
	w(":scheme", p.t.scheme)
	w(":authority", p.t.host)
	w(":path", p.t.uri)
	w("sec-websocket-version", "13")
	w("user-agent", "switchyard-probe")
	if p.o.Origin != "" {
		w("origin", p.o.Origin)
	}
	return buf.Bytes()
}

// h2wsExchange is one attempt's state.
type h2wsExchange struct {
	s     *session
	res   *H2WSResult
	o     Options
	dec   *hpack.Decoder
	block []byte // header block being assembled
	ws    []byte // WebSocket bytes received on stream 1, not yet parsed
	body  []byte // a refusal's body, first bytes
	pongs int
}

// errStop ends the read loop once the attempt has what it needs.
var errStop = errors.New("done")

func (x *h2wsExchange) run(connect []byte) {
	res := x.res
	out := h2.AppendSettings([]byte(h2.ClientPreface), clientSettings...)
	if _, err := x.s.conn.Write(out); err != nil {
		res.Error = describe(err, x.o.Timeout)
		return
	}
	// Phase 1: the server's SETTINGS.
	if _, err := x.s.br.Peek(1); err == nil && !looksLikeH2(x.s.br) {
		res.Error = "not HTTP/2: the server answered " + quote(clean(firstLine(io.LimitReader(x.s.br, 512)), 80))
		return
	}
	if !x.until(func() bool { return res.SettingsReceived }) || !res.ConnectProtocol {
		return
	}
	if _, err := x.s.conn.Write(h2.AppendHeaders(nil, 1, connect, false, h2.MinMaxFrameSize)); err != nil {
		res.Error = describe(err, x.o.Timeout)
		return
	}
	// Phase 2: the response; a refusal's body to its end.
	if !x.until(func() bool { return res.Status != "" }) {
		return
	}
	if res.Status != "200" {
		x.until(func() bool { return res.StreamEnded || res.Reset != "" || len(x.body) >= 512 })
		res.Body = clean(firstLine(bytes.NewReader(x.body)), 200)
		return
	}
	// Phase 3: ping, text, ping; both pongs (and the echo, if any, between them).
	var key [4]byte
	_, _ = rand.Read(key[:])
	msgs := ws.AppendMaskedFrame(nil, true, ws.OpPing, 0, key, h2wsPing1)
	msgs = ws.AppendMaskedFrame(msgs, true, ws.OpText, 0, key, h2wsText)
	msgs = ws.AppendMaskedFrame(msgs, true, ws.OpPing, 0, key, h2wsPing2)
	if _, err := x.s.conn.Write(h2.AppendData(nil, 1, msgs, false)); err != nil {
		res.Error = describe(err, x.o.Timeout)
		return
	}
	if !x.until(func() bool { return x.pongs == 2 }) {
		return
	}
	res.Pong = true
	// Phase 4: the close handshake, then the stream's end (the server closes first, as
	// over TCP: RFC 6455 §7.1.1).
	closeMsg := ws.AppendMaskedFrame(nil, true, ws.OpClose, 0, key, []byte{0x03, 0xe8})
	if _, err := x.s.conn.Write(h2.AppendData(nil, 1, closeMsg, false)); err != nil {
		res.Error = describe(err, x.o.Timeout)
		return
	}
	if !x.until(func() bool { return res.CloseCode != 0 }) {
		return
	}
	if x.until(func() bool { return res.StreamEnded || res.Reset != "" }) && res.StreamEnded {
		_, _ = x.s.conn.Write(h2.AppendData(nil, 1, nil, true))
	}
}

// until reads frames until done reports true (true), or the connection fails, the server
// goes away, the stream is reset, or the frame budget runs out (false, with Error set).
func (x *h2wsExchange) until(done func() bool) bool {
	for n := 0; !done(); n++ {
		if n == maxH2WSFrames {
			x.res.Error = "no answer within " + strconv.Itoa(maxH2WSFrames) + " frames"
			return false
		}
		f, err := x.s.readFrame()
		if err == nil {
			err = x.handle(&f)
		}
		if err != nil {
			if err != errStop && x.res.Error == "" {
				var ce h2.ConnectionError
				if errors.As(err, &ce) {
					x.res.Error = "invalid frame from the server: " + ce.Error()
				} else {
					x.res.Error = describe(err, x.o.Timeout)
				}
			}
			return done()
		}
	}
	return true
}

func (x *h2wsExchange) handle(f *h2.Frame) error {
	res := x.res
	switch f.Type {
	case h2.FrameSettings:
		if f.IsAck() {
			return nil
		}
		if !res.SettingsReceived {
			res.SettingsReceived = true
			for i := range f.NumSettings() {
				if st := f.Setting(i); st.ID == h2.SettingEnableConnectProtocol {
					res.ConnectProtocol = st.Val == 1
				}
			}
		}
		_, _ = x.s.conn.Write(h2.AppendSettingsAck(nil))
	case h2.FramePing:
		if !f.IsAck() {
			_, _ = x.s.conn.Write(h2.AppendPing(nil, true, f.PingData()))
		}
	case h2.FrameGoAway:
		res.GoAway = f.ErrCode().String()
		if d := clean(string(f.DebugData()), 200); d != "" {
			res.GoAway += ": " + d
		}
		return errStop
	case h2.FrameRSTStream:
		if f.StreamID == 1 {
			res.Reset = f.ErrCode().String()
			return errStop
		}
	case h2.FrameHeaders, h2.FrameContinuation:
		if len(x.block)+len(f.HeaderBlockFragment()) > maxHeaderBlock {
			return errors.New("header block over 64 KiB")
		}
		x.block = append(x.block, f.HeaderBlockFragment()...)
		if f.EndHeaders() {
			fields, err := x.dec.DecodeFull(x.block)
			x.block = x.block[:0]
			if err != nil {
				return errors.New("undecodable header block: " + err.Error())
			}
			if f.StreamID == 1 && res.Status == "" {
				for _, hf := range fields {
					switch hf.Name {
					case ":status":
						res.Status = clean(hf.Value, 10)
					case "sec-websocket-extensions":
						res.Extensions = clean(hf.Value, 200)
					}
				}
			}
		}
		if f.StreamID == 1 && f.Type == h2.FrameHeaders && f.EndStream() {
			res.StreamEnded = true
		}
	case h2.FrameData:
		if f.StreamID != 1 {
			return nil
		}
		if n := len(f.Payload()); n > 0 { // give the window back: the probe reads little
			_, _ = x.s.conn.Write(h2.AppendWindowUpdate(h2.AppendWindowUpdate(nil, 0, uint32(n)), 1, uint32(n)))
		}
		if f.EndStream() {
			res.StreamEnded = true
		}
		if res.Status != "200" {
			if len(x.body) < 512 {
				x.body = append(x.body, f.Data()[:min(len(f.Data()), 512-len(x.body))]...)
			}
			return nil
		}
		x.ws = append(x.ws, f.Data()...)
		return x.parseWS()
	}
	return nil
}

// parseWS takes whole server frames off x.ws (RFC 6455 §5.2; a server's frames are not
// masked, §5.1).
func (x *h2wsExchange) parseWS() error {
	for {
		h, n, err := ws.DecodeHeader(x.ws, ws.ClientRules(false))
		if errors.Is(err, ws.ErrIncomplete) {
			return nil
		}
		if err != nil {
			return errors.New("invalid WebSocket frame from the server: " + err.Error())
		}
		if h.Length > 1<<16 || int64(len(x.ws)-n) < h.Length {
			if h.Length > 1<<16 {
				return errors.New("WebSocket frame over 64 KiB")
			}
			return nil
		}
		payload := x.ws[n : n+int(h.Length)]
		switch h.OpCode {
		case ws.OpPong:
			if bytes.Equal(payload, h2wsPing1) || bytes.Equal(payload, h2wsPing2) {
				x.pongs++
			}
		case ws.OpText:
			if bytes.Equal(payload, h2wsText) {
				x.res.Echo = true
			}
		case ws.OpClose:
			x.res.CloseCode = 1005 // no status code (RFC 6455 §7.1.5)
			if len(payload) >= 2 {
				x.res.CloseCode = int(payload[0])<<8 | int(payload[1])
			}
		}
		x.ws = x.ws[n+int(h.Length):]
	}
}

// judgeH2WS is the probe's verdict.
func judgeH2WS(h *H2WSResult) Verdict {
	switch {
	case h.ALPN != "" && h.ALPN != "h2" || h.Error == "ALPN did not choose h2":
		return Verdict{LevelInfo, "not-supported", "ALPN did not choose h2: no HTTP/2, so no WebSocket over HTTP/2"}
	case !h.SettingsReceived:
		why := "no SETTINGS came back"
		if h.Error != "" {
			why += ": " + h.Error
		}
		return Verdict{LevelInfo, "not-supported", why + ": no HTTP/2 here"}
	case !h.ConnectProtocol:
		return Verdict{LevelInfo, "not-advertised", "the server's SETTINGS lack ENABLE_CONNECT_PROTOCOL=1, so a client may not send extended CONNECT (RFC 8441 §3): no WebSocket over HTTP/2"}
	case h.Status == "":
		return Verdict{LevelFail, "no-response", "ENABLE_CONNECT_PROTOCOL=1, but the extended CONNECT got no response" + errSuffix(h)}
	case h.Status != "200":
		text := "ENABLE_CONNECT_PROTOCOL=1, but the extended CONNECT was refused with :status " + h.Status
		if h.Body != "" {
			text += ": " + quote(h.Body)
		}
		return Verdict{LevelWarn, "refused", text}
	case !h.Pong:
		return Verdict{LevelFail, "broken", "200 to the extended CONNECT, but no pong to the pings on the stream" + errSuffix(h)}
	case h.CloseCode == 0:
		return Verdict{LevelFail, "broken", "200 and pongs, but no close frame answered the close" + errSuffix(h)}
	}
	text := "ENABLE_CONNECT_PROTOCOL=1, 200 to the extended CONNECT, pongs on the stream"
	if h.Echo {
		text += ", the text message echoed"
	}
	text += ", close " + strconv.Itoa(h.CloseCode)
	if !h.StreamEnded {
		what := "no END_STREAM"
		if h.Reset != "" {
			what = "RST_STREAM " + h.Reset
		}
		return Verdict{LevelWarn, "unclean-close", text + ", but then " + what + " (RFC 8441 §5: the stream's end stands for TCP's FIN)" + errSuffix(h)}
	}
	return Verdict{LevelOK, "supported", text + ", END_STREAM: WebSocket over HTTP/2 works"}
}

func errSuffix(h *H2WSResult) string {
	var s []string
	if h.Reset != "" {
		s = append(s, "RST_STREAM "+h.Reset)
	}
	if h.GoAway != "" {
		s = append(s, "GOAWAY "+h.GoAway)
	}
	if h.Error != "" {
		s = append(s, h.Error)
	}
	if len(s) == 0 {
		return ""
	}
	return " (" + strings.Join(s, "; ") + ")"
}

// diagnoseH2WebSocket sets WebSocketOverH2 and adds the RFC 8441 finding.
func (r *Report) diagnoseH2WebSocket() {
	p := r.Probe("h2-websocket")
	if p == nil || p.H2WebSocket == nil {
		return
	}
	h := p.H2WebSocket
	r.WebSocketOverH2 = p.Verdict.Code == "supported"
	add := func(code, text string) { r.Findings = append(r.Findings, Finding{code, text}) }
	switch p.Verdict.Code {
	case "supported":
		add("h2-websocket-ok", "WebSocket over HTTP/2 (RFC 8441): "+p.Verdict.Text+".")
	case "not-advertised":
		add("h2-websocket-not-advertised", "WebSocket over HTTP/2 (RFC 8441): not offered; browsers open a separate HTTP/1.1 connection for each WebSocket.")
	case "refused":
		if !r.WebSocket {
			// Not a WebSocket endpoint over HTTP/1.1 either: refusing is consistent.
			p.Verdict.Level = LevelInfo
			add("h2-websocket-advertised", "WebSocket over HTTP/2 (RFC 8441): the server advertises it; this path refuses it with :status "+h.Status+
				bodySuffix(h.Body)+", as it refuses the HTTP/1.1 WebSocket handshake.")
			break
		}
		add("h2-websocket-refused", "WebSocket over HTTP/2 (RFC 8441): advertised, but refused here with :status "+h.Status+
			bodySuffix(h.Body)+", though the HTTP/1.1 WebSocket handshake works; browsers that see the setting send WebSockets to this path over HTTP/2 and will fail.")
	case "not-supported":
	default:
		add("h2-websocket-broken", "WebSocket over HTTP/2 (RFC 8441): "+p.Verdict.Text+".")
	}
}

func bodySuffix(b string) string {
	if b == "" {
		return ""
	}
	return " (" + quote(b) + ")"
}

// writeH2WS adds the attempt's lines to a probe's text.
func writeH2WS(w *bufio.Writer, field func(label, value string), h *H2WSResult, tls bool) {
	long := func(label, value string) { wrap(w, fmt.Sprintf("    %-8s ", label), strings.Repeat(" ", 13), value) }
	if h.ALPN != "" || tls {
		field("alpn", orNone(h.ALPN))
	}
	if h.SettingsReceived {
		field("settings", "ENABLE_CONNECT_PROTOCOL="+strconv.FormatBool(h.ConnectProtocol))
	}
	if h.Status != "" {
		field(":status", h.Status)
	}
	if h.Extensions != "" {
		field("ext", h.Extensions)
	}
	if h.Body != "" {
		long("body", h.Body)
	}
	if h.Status == "200" {
		field("stream", "pong "+strconv.FormatBool(h.Pong)+", echo "+strconv.FormatBool(h.Echo)+
			", close "+strconv.Itoa(h.CloseCode)+", END_STREAM "+strconv.FormatBool(h.StreamEnded))
	}
	if h.Reset != "" {
		field("reset", h.Reset)
	}
	if h.GoAway != "" {
		long("goaway", h.GoAway)
	}
	if h.Error != "" {
		long("h2 error", h.Error)
	}
}
