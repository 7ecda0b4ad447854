package probe

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// prober runs the probes against one target.
type prober struct {
	t   target
	o   Options
	r   *Report   // where the TLS handshakes are recorded
	now time.Time // when the probe started, for the certificate's validity
}

// session is one probe's connection. Its deadline covers the whole probe.
type session struct {
	conn     net.Conn
	br       *bufio.Reader
	alpn     string
	deadline time.Time
	stop     func() bool // detaches the context watch
}

// dial opens a fresh connection (RFC 9110 §7.8: each probe must not inherit state from
// another) with TLS when the target asks for it, offering alpn.
func (p *prober) dial(ctx context.Context, alpn []string) (*session, error) {
	deadline := time.Now().Add(p.o.Timeout)
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	c, err := p.o.Dial(dctx, "tcp", p.t.addr)
	if err != nil {
		return nil, err
	}
	if p.t.tls {
		tc := tls.Client(c, p.tlsConfig(alpn))
		if err := tc.HandshakeContext(dctx); err != nil {
			c.Close()
			return nil, fmt.Errorf("TLS handshake: %w", err)
		}
		p.observeTLS(tc.ConnectionState(), alpn)
		c = tc
	}
	_ = c.SetDeadline(deadline)
	s := &session{conn: c, br: bufio.NewReaderSize(&cappedReader{r: c, left: maxProbeRead}, 4096), deadline: deadline}
	if tc, ok := c.(*tls.Conn); ok {
		s.alpn = tc.ConnectionState().NegotiatedProtocol
	}
	// Cancelling ctx must end a probe blocked in a read at once, not at its deadline.
	s.stop = context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	return s, nil
}

// maxProbeRead bounds what one probe reads from the server. net/http's ReadResponse
// does not limit a response head (http.Transport does that itself), and a probe needs a
// few KiB at most: an answer, the first line of a body, a handful of frames.
const maxProbeRead = 2 << 20

var errTooMuch = fmt.Errorf("the server sent more than %d bytes", maxProbeRead)

// cappedReader fails once left bytes have been read.
type cappedReader struct {
	r    io.Reader
	left int64
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, errTooMuch
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

func (s *session) close() {
	s.stop()
	_ = s.conn.Close()
}

// requestHead builds an HTTP/1.1 request head: the request line, Host, the probe's own
// lines, then the user's extra headers.
func (p *prober) requestHead(lines []string) []byte {
	var b strings.Builder
	b.WriteString("GET " + p.t.uri + " HTTP/1.1\r\nHost: " + p.t.host + "\r\nUser-Agent: switchyard-probe\r\n")
	for _, l := range lines {
		b.WriteString(l + "\r\n")
	}
	for _, l := range p.o.Header {
		b.WriteString(l + "\r\n")
	}
	b.WriteString("\r\n")
	return []byte(b.String())
}

// sent is the part of a request shown in the report.
func (p *prober) sent(lines []string) []string {
	return append([]string{"GET " + p.t.uri + " HTTP/1.1"}, lines...)
}

// roundTrip writes req and reads the HTTP/1.x response head; for a status of 300 or more
// it also reads the first line of the body. The returned *http.Response's Body is not to
// be read further.
func (s *session) roundTrip(req []byte) (*http.Response, *Response, error) {
	if _, err := s.conn.Write(req); err != nil {
		return nil, nil, err
	}
	return s.readResponse()
}

func (s *session) readResponse() (*http.Response, *Response, error) {
	if _, err := s.br.Peek(1); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, errors.New("connection closed without a response")
		}
		return nil, nil, err
	}
	hr, err := http.ReadResponse(s.br, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("not a valid HTTP/1.x response: %v", err)
	}
	get := func(k string) string { return clean(strings.Join(hr.Header.Values(k), ", "), 200) }
	r := &Response{
		StatusLine:   clean(hr.Proto+" "+hr.Status, 200),
		Status:       hr.StatusCode,
		Upgrade:      get("Upgrade"),
		Connection:   get("Connection"),
		WSVersion:    get("Sec-WebSocket-Version"),
		WSAccept:     get("Sec-WebSocket-Accept"),
		WSProtocol:   get("Sec-WebSocket-Protocol"),
		WSExtensions: get("Sec-WebSocket-Extensions"),
		Location:     get("Location"),
		Server:       get("Server"),
		Via:          get("Via"),
	}
	if hr.StatusCode >= 300 {
		r.Body = firstLine(hr.Body)
	}
	return hr, r, nil
}

// maxBodyRead bounds how much of a body is read looking for its first line.
const maxBodyRead = 8 << 10

// firstLine returns the first non-blank line of body, reading no more than it needs:
// a body without Content-Length ends only when the server closes, and a probe must not
// wait for that.
func firstLine(body io.Reader) string {
	var buf []byte
	chunk := make([]byte, 1024)
	lr := io.LimitReader(body, maxBodyRead)
	for {
		n, err := lr.Read(chunk)
		buf = append(buf, chunk[:n]...)
		if line, ok := firstCompleteLine(buf); ok {
			return clean(line, 500)
		}
		if err != nil {
			break
		}
	}
	return clean(strings.TrimSpace(string(buf)), 500)
}

func firstCompleteLine(b []byte) (string, bool) {
	for len(b) > 0 {
		i := strings.IndexByte(string(b), '\n')
		if i < 0 {
			return "", false
		}
		if line := strings.TrimSpace(string(b[:i])); line != "" {
			return line, true
		}
		b = b[i+1:]
	}
	return "", false
}

// clean makes server-supplied text safe to print: valid UTF-8, no control characters,
// at most max runes.
func clean(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == max {
			b.WriteString("…")
			break
		}
		if r < 0x20 || r == 0x7f {
			r = ' '
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// describe turns a transport error into a sentence.
func describe(err error, timeout time.Duration) string {
	var ne net.Error
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return fmt.Sprintf("no answer within %v (timeout)", timeout)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "connection closed by the server"
	}
	return err.Error()
}

// exchange dials (offering alpn over TLS), sends the request head built from lines and
// records the response, or what went wrong, in pr. It returns the session for the caller
// to go on with and close, or nil when the exchange failed.
func (p *prober) exchange(ctx context.Context, pr *Probe, alpn, lines []string) *session {
	s, err := p.dial(ctx, alpn)
	if err != nil {
		pr.Error, pr.dialErr = describe(err, p.o.Timeout), err
		return nil
	}
	_, resp, err := s.roundTrip(p.requestHead(lines))
	if err != nil {
		s.close()
		pr.Error = describe(err, p.o.Timeout)
		return nil
	}
	pr.Response = resp
	return s
}
