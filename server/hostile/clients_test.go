package hostile

import (
	"bufio"
	"bytes"
	"compress/flate"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/frame/ws"
)

// dial opens a connection that the test closes when it ends.
func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, safety)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// dialNonReader opens a connection for a client that will not read: its receive buffer
// is set small before the handshake (so TCP's window stays small too), and what the
// server sends piles up on the server's side instead of in this socket.
func dialNonReader(t *testing.T, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: safety, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		return errors.Join(err, serr)
	}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// h1Client is a keep-alive HTTP/1.1 client over one connection (net/http only parses
// the responses).
type h1Client struct {
	c  net.Conn
	br *bufio.Reader
}

func newH1Client(t *testing.T, addr string) *h1Client {
	c := dial(t, addr)
	return &h1Client{c: c, br: bufio.NewReader(c)}
}

// get sends GET path and returns the status and body.
func (h *h1Client) get(path string) (int, []byte, error) {
	_ = h.c.SetDeadline(time.Now().Add(safety))
	if _, err := io.WriteString(h.c, "GET "+path+" HTTP/1.1\r\nHost: hostile\r\n\r\n"); err != nil {
		return 0, nil, err
	}
	resp, err := http.ReadResponse(h.br, &http.Request{Method: "GET"})
	if err != nil {
		return 0, nil, err
	}
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// wsClient speaks WebSocket over c: frames built with frame/ws's encoder (masked, as a
// client must), server frames decoded here by hand.
type wsClient struct {
	c   net.Conn
	br  *bufio.Reader
	key [4]byte
	// Extensions is the 101's Sec-WebSocket-Extensions.
	Extensions string
}

// upgradeWS performs the opening handshake for path on c offering extensions ("" offers
// none), and checks the 101 and its Sec-WebSocket-Accept.
func upgradeWS(c net.Conn, path, extensions string) (*wsClient, error) {
	_ = c.SetDeadline(time.Now().Add(safety))
	key := base64.StdEncoding.EncodeToString([]byte("hostile-client-k"))
	req := "GET " + path + " HTTP/1.1\r\nHost: hostile\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + "\r\n"
	if extensions != "" {
		req += "Sec-WebSocket-Extensions: " + extensions + "\r\n"
	}
	if _, err := io.WriteString(c, req+"\r\n"); err != nil {
		return nil, err
	}
	w := &wsClient{c: c, br: bufio.NewReaderSize(c, 64<<10), key: [4]byte{0x9e, 0x37, 0x79, 0xb9}}
	resp, err := http.ReadResponse(w.br, &http.Request{Method: "GET"})
	if err != nil {
		return nil, fmt.Errorf("reading the 101: %w", err)
	}
	_ = resp.Body.Close()
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		return nil, fmt.Errorf("handshake on %s answered %d %v", path, resp.StatusCode, resp.Header)
	}
	w.Extensions = resp.Header.Get("Sec-WebSocket-Extensions")
	return w, nil
}

func dialWS(t *testing.T, addr, path, extensions string) *wsClient {
	t.Helper()
	w, err := upgradeWS(dial(t, addr), path, extensions)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// frame appends one masked client frame; rsv is as in ws.Header.Rsv (ws.RSV1 marks a
// compressed message).
func (w *wsClient) frame(dst []byte, op ws.OpCode, rsv byte, payload []byte) []byte {
	return ws.AppendMaskedFrame(dst, true, op, rsv, w.key, payload)
}

func (w *wsClient) send(op ws.OpCode, rsv byte, payload []byte) error {
	_ = w.c.SetWriteDeadline(time.Now().Add(safety))
	_, err := w.c.Write(w.frame(nil, op, rsv, payload))
	return err
}

// serverFrame is a frame as the server sent it (unmasked).
type serverFrame struct {
	fin     bool
	rsv     byte
	op      ws.OpCode
	payload []byte
}

// readFrame reads one server frame; with discard its payload is skipped, not kept.
func (w *wsClient) readFrame(discard bool) (serverFrame, error) {
	_ = w.c.SetReadDeadline(time.Now().Add(safety))
	var h [2]byte
	if _, err := io.ReadFull(w.br, h[:]); err != nil {
		return serverFrame{}, err
	}
	f := serverFrame{fin: h[0]&0x80 != 0, rsv: h[0] >> 4 & 7, op: ws.OpCode(h[0] & 0x0f)}
	if h[1]&0x80 != 0 {
		return f, errors.New("the server sent a masked frame")
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(w.br, ext[:]); err != nil {
			return f, err
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(w.br, ext[:]); err != nil {
			return f, err
		}
		n = binary.BigEndian.Uint64(ext[:])
	}
	if n > 64<<20 {
		return f, fmt.Errorf("a frame of %d bytes", n)
	}
	if discard {
		_, err := w.br.Discard(int(n))
		return f, err
	}
	f.payload = make([]byte, n)
	_, err := io.ReadFull(w.br, f.payload)
	return f, err
}

// closeCode is the status code of a close frame's payload (1005 when it has none).
func closeCode(payload []byte) ws.StatusCode {
	if len(payload) < 2 {
		return ws.StatusNoStatusRcvd
	}
	return ws.StatusCode(binary.BigEndian.Uint16(payload))
}

// deflaters keeps one compressor per level: a new flate.Writer costs about a megabyte
// of allocation, and hundreds of them take seconds under the race detector.
var deflaters struct {
	sync.Mutex
	w map[int]*flate.Writer
}

// deflateMessage compresses p as one permessage-deflate message (RFC 7692 §7.2.1): a
// raw DEFLATE stream ended by a sync flush, whose 0x00 0x00 0xff 0xff tail is removed.
func deflateMessage(p []byte, level int) []byte {
	deflaters.Lock()
	defer deflaters.Unlock()
	var buf bytes.Buffer
	fw := deflaters.w[level]
	if fw == nil {
		fw, _ = flate.NewWriter(&buf, level)
		if deflaters.w == nil {
			deflaters.w = map[int]*flate.Writer{}
		}
		deflaters.w[level] = fw
	}
	fw.Reset(&buf)
	_, _ = fw.Write(p)
	_ = fw.Flush()
	return bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})
}

// inflateMessage undoes deflateMessage (RFC 7692 §7.2.2) for a message compressed
// without context takeover.
func inflateMessage(p []byte) ([]byte, error) {
	src := io.MultiReader(bytes.NewReader(p), bytes.NewReader([]byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff}))
	return io.ReadAll(flate.NewReader(src))
}

// flooded is what an attack's writes achieved.
type flooded struct {
	bytes   int64
	chunks  int
	stalled bool  // a write waited a second: the server stopped reading this connection
	err     error // the server closed the connection (or another write error)
	took    time.Duration
}

func (f flooded) String() string {
	s := fmt.Sprintf("wrote %.1f MiB in %d chunks in %v", mib(f.bytes), f.chunks, f.took.Round(time.Millisecond))
	switch {
	case f.stalled:
		s += "; then the server stopped reading (a write waited 1 s)"
	case f.err != nil:
		s += fmt.Sprintf("; then a write failed: %v", f.err)
	}
	return s
}

// noDeadline bounds a flood by its count alone.
var noDeadline time.Time

// flood writes next(i) for i < chunks, until then (when not zero) has passed, or until
// the server stops taking what is written (a write waits a second: backpressure) or
// closes the connection. Both of those end the attack; neither is a failure by itself.
func flood(c net.Conn, chunks int, then time.Time, next func(i int) []byte) flooded {
	var f flooded
	start := time.Now()
	for i := 0; i < chunks && (then.IsZero() || time.Now().Before(then)); i++ {
		_ = c.SetWriteDeadline(time.Now().Add(time.Second))
		n, err := c.Write(next(i))
		f.bytes += int64(n)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				f.stalled = true
			} else {
				f.err = err
			}
			break
		}
		f.chunks++
	}
	f.took = time.Since(start)
	return f
}

// containsToken reports whether a comma- and semicolon-separated header value lists tok.
func containsToken(value, tok string) bool {
	for _, part := range strings.FieldsFunc(value, func(r rune) bool { return r == ',' || r == ';' }) {
		if strings.EqualFold(strings.TrimSpace(part), tok) {
			return true
		}
	}
	return false
}
