package probe

import (
	"context"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // RFC 6455 §4.2.2 fixes SHA-1 for Sec-WebSocket-Accept
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"time"
)

// websocketGUID is the fixed string of RFC 6455 §1.3.
const websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// AcceptKey is the Sec-WebSocket-Accept a server must answer to key (RFC 6455 §4.2.2
// step 5.4): base64 of the SHA-1 of the key and the GUID.
func AcceptKey(key string) string {
	h := sha1.Sum([]byte(key + websocketGUID)) //nolint:gosec // see import
	return base64.StdEncoding.EncodeToString(h[:])
}

// newKey is a Sec-WebSocket-Key: 16 random bytes, base64 (RFC 6455 §4.1 item 7).
func newKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// wsVariant is one WebSocket opening handshake, correct or deliberately not.
type wsVariant struct {
	id, title  string
	connection string // Connection header value
	version    string // Sec-WebSocket-Version
	protocols  string // Sec-WebSocket-Protocol offer, if any
	extensions string // Sec-WebSocket-Extensions offer, if any
}

// permessage-deflate offer as browsers send it (RFC 7692 §7.1).
const deflateOffer = "permessage-deflate; client_max_window_bits"

func (p *prober) wsVariants() []wsVariant {
	return []wsVariant{
		{id: "ws", title: "WebSocket handshake (correct, RFC 6455 §4.1)",
			connection: "Upgrade", version: "13"},
		{id: "ws-no-connection-upgrade", title: "WebSocket handshake without 'upgrade' in Connection (what a proxy stripping hop-by-hop headers forwards)",
			connection: "keep-alive", version: "13"},
		{id: "ws-version-8", title: "WebSocket handshake with Sec-WebSocket-Version: 8 (version negotiation, RFC 6455 §4.4)",
			connection: "Upgrade", version: "8"},
		{id: "ws-subprotocol", title: "WebSocket handshake offering subprotocols (RFC 6455 §1.9)",
			connection: "Upgrade", version: "13", protocols: strings.Join(p.o.Subprotocols, ", ")},
		{id: "ws-deflate", title: "WebSocket handshake offering permessage-deflate (RFC 7692)",
			connection: "Upgrade", version: "13", extensions: deflateOffer},
	}
}

func (p *prober) probeWS(ctx context.Context, v wsVariant) Probe {
	key := newKey()
	lines := []string{
		"Upgrade: websocket",
		"Connection: " + v.connection,
		"Sec-WebSocket-Version: " + v.version,
		"Sec-WebSocket-Key: " + key,
	}
	if v.protocols != "" {
		lines = append(lines, "Sec-WebSocket-Protocol: "+v.protocols)
	}
	if v.extensions != "" {
		lines = append(lines, "Sec-WebSocket-Extensions: "+v.extensions)
	}
	if p.o.Origin != "" {
		lines = append(lines, "Origin: "+p.o.Origin)
	}
	pr := Probe{ID: v.id, Title: v.title, Sent: p.sent(lines)}
	s := p.exchange(ctx, &pr, []string{"http/1.1"}, lines)
	if s == nil {
		return pr
	}
	defer s.close()
	resp := pr.Response
	if resp.Status == 101 {
		switch got := resp.WSAccept; {
		case got == "":
			resp.AcceptCheck = "missing"
		case got == AcceptKey(key):
			resp.AcceptCheck = "valid"
		default:
			resp.AcceptCheck = "invalid (want " + AcceptKey(key) + ")"
		}
		if hasToken(resp.Upgrade, "websocket") {
			pr.AfterUpgrade = s.closeHandshake(p.o.Timeout)
		}
	}
	return pr
}

// closeHandshake sends a masked close frame with status 1000 (RFC 6455 §5.5.1) and reads
// the server's frames until its close: proof that the connection really speaks WebSocket
// after the 101, and a clean goodbye.
func (s *session) closeHandshake(timeout time.Duration) string {
	wait := min(timeout, 2*time.Second)
	if d := time.Now().Add(wait); d.Before(s.deadline) {
		_ = s.conn.SetDeadline(d)
	}
	var mask [4]byte
	_, _ = rand.Read(mask[:])
	frame := []byte{0x88, 0x82, mask[0], mask[1], mask[2], mask[3], 0x03 ^ mask[0], 0xe8 ^ mask[1]}
	if _, err := s.conn.Write(frame); err != nil {
		return "could not send a close frame: " + describe(err, wait)
	}
	for range 8 {
		op, masked, payload, err := readWSFrame(s)
		if err != nil {
			return "sent close 1000; no close frame came back: " + describe(err, wait)
		}
		note := ""
		if masked {
			note = " (but the server masked its frame, which RFC 6455 §5.1 forbids)"
		}
		if op != 0x8 {
			continue // a message sent on open, or a ping: skip to the close
		}
		if len(payload) >= 2 {
			return fmt.Sprintf("close handshake completed: the server answered close %d%s", binary.BigEndian.Uint16(payload), note)
		}
		return "close handshake completed: the server answered close (no status)" + note
	}
	return "sent close 1000; the server kept sending other frames"
}

// readWSFrame reads one server frame (RFC 6455 §5.2), refusing payloads over 64 KiB:
// a probe has no use for them.
func readWSFrame(s *session) (op byte, masked bool, payload []byte, err error) {
	var h [2]byte
	if _, err = io.ReadFull(s.br, h[:]); err != nil {
		return 0, false, nil, err
	}
	op, masked = h[0]&0x0f, h[1]&0x80 != 0
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err = io.ReadFull(s.br, b[:]); err != nil {
			return 0, false, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err = io.ReadFull(s.br, b[:]); err != nil {
			return 0, false, nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > 64<<10 {
		return 0, false, nil, fmt.Errorf("server frame of %d bytes", n)
	}
	var key [4]byte
	if masked {
		if _, err = io.ReadFull(s.br, key[:]); err != nil {
			return 0, false, nil, err
		}
	}
	payload = make([]byte, n)
	if _, err = io.ReadFull(s.br, payload); err != nil {
		return 0, false, nil, err
	}
	if masked {
		for i := range payload {
			payload[i] ^= key[i%4]
		}
	}
	return op, masked, payload, nil
}

// tokens splits a comma-separated header value into lowercase tokens; parameters after
// ';' and protocol versions after '/' are kept.
func tokens(v string) []string {
	var out []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.ToLower(strings.TrimSpace(f)); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// hasToken reports whether the list v holds tok, ignoring case and any /version or
// ;parameters (RFC 9110 §5.6.1, §7.8).
func hasToken(v, tok string) bool {
	for _, t := range tokens(v) {
		t, _, _ = strings.Cut(t, ";")
		t, _, _ = strings.Cut(strings.TrimSpace(t), "/")
		if t == strings.ToLower(tok) {
			return true
		}
	}
	return false
}
