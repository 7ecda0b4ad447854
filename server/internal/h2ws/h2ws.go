// Package h2ws is a small RFC 8441 client for the tests: it opens an HTTP/2 connection
// with prior knowledge, sends extended CONNECT requests, and offers each accepted stream
// as a net.Conn whose bytes are the stream's DATA, so that a WebSocket test written
// against a socket runs unchanged over an HTTP/2 stream. It is built on x/net's Framer and
// hpack, not on the server's own frame/h2 code, so that it judges the server
// independently. It honours both send windows and grants the server's data back as it
// is read (or not at all, with Conn.ManualWindow, to play a client that stops reading).
package h2ws

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Conn is one HTTP/2 connection to the server.
type Conn struct {
	nc net.Conn
	fr *http2.Framer

	wmu  sync.Mutex // serialises frame writes and the encoder
	ebuf bytes.Buffer
	enc  *hpack.Encoder

	mu       sync.Mutex
	cond     *sync.Cond
	dec      *hpack.Decoder
	streams  map[uint32]*Stream
	nextID   uint32
	sendWin  int64 // connection send window
	peerInit int64 // the server's SETTINGS_INITIAL_WINDOW_SIZE
	maxFrame uint32
	// Settings is the server's first SETTINGS frame, by ID.
	Settings map[http2.SettingID]uint32
	gotSet   bool
	// GoAway is the server's GOAWAY code and last stream, once received.
	GoAway     *http2.GoAwayFrame
	goAwayCode http2.ErrCode
	readErr    error
}

// Dial opens a connection to addr with the HTTP/2 preface and waits for the server's
// SETTINGS.
func Dial(addr string) (*Conn, error) {
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	_ = nc.SetDeadline(time.Now().Add(60 * time.Second))
	return Start(nc)
}

// Start speaks HTTP/2 with prior knowledge on nc.
func Start(nc net.Conn) (*Conn, error) {
	c := &Conn{nc: nc, streams: map[uint32]*Stream{}, nextID: 1, sendWin: 65535, peerInit: 65535,
		maxFrame: 16384, Settings: map[http2.SettingID]uint32{}}
	c.cond = sync.NewCond(&c.mu)
	c.fr = http2.NewFramer(nc, nc)
	c.fr.MaxHeaderListSize = 1 << 20
	c.enc = hpack.NewEncoder(&c.ebuf)
	c.dec = hpack.NewDecoder(4096, nil)
	if _, err := io.WriteString(nc, http2.ClientPreface); err != nil {
		return nil, err
	}
	if err := c.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1 << 20}); err != nil {
		return nil, err
	}
	// The connection window is made large, so that streams are limited by their own.
	if err := c.fr.WriteWindowUpdate(0, 1<<30); err != nil {
		return nil, err
	}
	go c.readLoop()
	c.mu.Lock()
	for !c.gotSet && c.readErr == nil {
		c.cond.Wait()
	}
	err := c.readErr
	c.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("waiting for the server's SETTINGS: %w", err)
	}
	return c, nil
}

// Close closes the connection.
func (c *Conn) Close() error { return c.nc.Close() }

// Raw is the socket, for tests that write malformed frames themselves.
func (c *Conn) Raw() net.Conn { return c.nc }

// WriteRaw writes bytes to the socket between frames.
func (c *Conn) WriteRaw(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.nc.Write(b)
	return err
}

// Framer runs fn with the connection's framer, between other writes.
func (c *Conn) Framer(fn func(fr *http2.Framer) error) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return fn(c.fr)
}

// Response is the server's answer to a request.
type Response struct {
	Status int
	Fields map[string][]string
}

// Get returns the first value of a field.
func (r *Response) Get(name string) string {
	if v := r.Fields[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Stream is one stream. Once the server accepted an extended CONNECT, it is a net.Conn:
// Read returns the DATA the server sent (io.EOF after END_STREAM, ErrReset after
// RST_STREAM), Write sends DATA within the windows, CloseWrite sends END_STREAM.
type Stream struct {
	c  *Conn
	ID uint32
	// Pad, when not 0, pads each DATA frame Write sends with Pad bytes (RFC 9113 §6.1);
	// the padding and its length byte count against the windows as data does. Set it
	// before the first Write.
	Pad uint8

	// guarded by c.mu
	resp     *Response
	in       bytes.Buffer
	ended    bool // END_STREAM received
	reset    bool
	ResetErr http2.ErrCode
	sendWin  int64
	unacked  uint32 // received but not yet granted back (HoldWindow)
	manual   bool
	deadline time.Time
}

// ErrReset is what Read returns once the server reset the stream; Stream.ResetErr holds
// its code.
var ErrReset = errors.New("h2ws: stream reset by the server")

// Connect sends an extended CONNECT for a WebSocket on path, with fields (name, value
// pairs) after the pseudo-headers, and waits for the response HEADERS.
func (c *Conn) Connect(path string, fields ...string) (*Stream, *Response, error) {
	all := append([]string{":method", "CONNECT", ":protocol", "websocket", ":scheme", "http",
		":path", path, ":authority", "localhost", "sec-websocket-version", "13"}, fields...)
	return c.Request(false, all...)
}

// Request opens a stream with the given header fields (pseudo-headers included, exactly
// as listed) and waits for the response HEADERS or a reset. endStream ends the stream with
// the HEADERS.
func (c *Conn) Request(endStream bool, fields ...string) (*Stream, *Response, error) {
	s, err := c.Send(endStream, fields...)
	if err != nil {
		return nil, nil, err
	}
	resp, err := s.Response()
	return s, resp, err
}

// Connecting sends an extended CONNECT like Connect without waiting for the answer
// (Stream.Response waits).
func (c *Conn) Connecting(path string, fields ...string) (*Stream, error) {
	all := append([]string{":method", "CONNECT", ":protocol", "websocket", ":scheme", "http",
		":path", path, ":authority", "localhost", "sec-websocket-version", "13"}, fields...)
	return c.Send(false, all...)
}

// Send opens a stream with the given header fields and returns at once.
func (c *Conn) Send(endStream bool, fields ...string) (*Stream, error) {
	c.mu.Lock()
	id := c.nextID
	c.nextID += 2
	s := &Stream{c: c, ID: id, sendWin: c.peerInit}
	c.streams[id] = s
	c.mu.Unlock()
	c.wmu.Lock()
	c.ebuf.Reset()
	for i := 0; i+1 < len(fields); i += 2 {
		_ = c.enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	err := c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: c.ebuf.Bytes(),
		EndHeaders: true, EndStream: endStream})
	c.wmu.Unlock()
	return s, err
}

// Response waits for the response HEADERS, or a reset.
func (s *Stream) Response() (*Response, error) {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	for s.resp == nil && !s.reset && c.readErr == nil {
		c.cond.Wait()
	}
	switch {
	case s.resp != nil:
		return s.resp, nil
	case s.reset:
		return nil, fmt.Errorf("%w: %v", ErrReset, s.ResetErr)
	}
	return nil, c.readErr
}

func (c *Conn) readLoop() {
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			c.mu.Lock()
			c.readErr = err
			c.cond.Broadcast()
			c.mu.Unlock()
			return
		}
		c.handle(f)
	}
}

func (c *Conn) handle(f http2.Frame) {
	var reply func(fr *http2.Framer) error
	c.mu.Lock()
	switch f := f.(type) {
	case *http2.SettingsFrame:
		if !f.IsAck() {
			_ = f.ForeachSetting(func(s http2.Setting) error {
				if !c.gotSet {
					c.Settings[s.ID] = s.Val
				}
				switch s.ID {
				case http2.SettingInitialWindowSize:
					delta := int64(s.Val) - c.peerInit
					c.peerInit = int64(s.Val)
					for _, st := range c.streams {
						st.sendWin += delta
					}
				case http2.SettingMaxFrameSize:
					c.maxFrame = s.Val
				}
				return nil
			})
			c.gotSet = true
			reply = func(fr *http2.Framer) error { return fr.WriteSettingsAck() }
		}
	case *http2.HeadersFrame:
		if s := c.streams[f.StreamID]; s != nil {
			fields, _ := c.dec.DecodeFull(f.HeaderBlockFragment())
			r := &Response{Fields: map[string][]string{}}
			for _, hf := range fields {
				if hf.Name == ":status" {
					_, _ = fmt.Sscan(hf.Value, &r.Status)
				}
				r.Fields[hf.Name] = append(r.Fields[hf.Name], hf.Value)
			}
			if s.resp == nil {
				s.resp = r
			}
			if f.StreamEnded() {
				s.ended = true
			}
		}
	case *http2.DataFrame:
		// The connection window is always granted back; a stream's only unless the
		// test holds it (HoldWindow), to play a client that stops reading one stream.
		n := f.Header().Length
		id, grantStream := f.StreamID, true
		if s := c.streams[f.StreamID]; s != nil {
			s.in.Write(f.Data())
			if f.StreamEnded() {
				s.ended = true
			}
			if s.manual {
				s.unacked += n
				grantStream = false
			}
		}
		if n > 0 {
			reply = func(fr *http2.Framer) error {
				if err := fr.WriteWindowUpdate(0, n); err != nil || !grantStream {
					return err
				}
				return fr.WriteWindowUpdate(id, n)
			}
		}
	case *http2.RSTStreamFrame:
		if s := c.streams[f.StreamID]; s != nil {
			s.reset, s.ResetErr = true, f.ErrCode
		}
	case *http2.WindowUpdateFrame:
		if f.StreamID == 0 {
			c.sendWin += int64(f.Increment)
		} else if s := c.streams[f.StreamID]; s != nil {
			s.sendWin += int64(f.Increment)
		}
	case *http2.GoAwayFrame:
		c.GoAway = f
		c.goAwayCode = f.ErrCode
	case *http2.PingFrame:
		if !f.IsAck() {
			data := f.Data
			reply = func(fr *http2.Framer) error { return fr.WritePing(true, data) }
		}
	}
	c.cond.Broadcast()
	c.mu.Unlock()
	if reply != nil {
		_ = c.Framer(reply)
	}
}

// GoAwayCode is the GOAWAY's error code and whether one arrived.
func (c *Conn) GoAwayCode() (http2.ErrCode, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.goAwayCode, c.GoAway != nil
}

// WaitClosed waits until the server closes the connection and returns the read error.
func (c *Conn) WaitClosed() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.readErr == nil {
		c.cond.Wait()
	}
	return c.readErr
}

// Read returns DATA the server sent on the stream.
func (s *Stream) Read(p []byte) (int, error) {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	for s.in.Len() == 0 && !s.ended && !s.reset && c.readErr == nil {
		if !s.deadline.IsZero() && time.Now().After(s.deadline) {
			return 0, os.ErrDeadlineExceeded
		}
		s.waitLocked()
	}
	if s.in.Len() > 0 {
		return s.in.Read(p)
	}
	switch {
	case s.reset:
		return 0, fmt.Errorf("%w: %v", ErrReset, s.ResetErr)
	case s.ended:
		return 0, io.EOF
	}
	return 0, c.readErr
}

// waitLocked waits for the reader goroutine, waking at the deadline.
func (s *Stream) waitLocked() {
	if s.deadline.IsZero() {
		s.c.cond.Wait()
		return
	}
	t := time.AfterFunc(time.Until(s.deadline), func() {
		s.c.mu.Lock()
		s.c.cond.Broadcast()
		s.c.mu.Unlock()
	})
	s.c.cond.Wait()
	t.Stop()
}

// Write sends p as DATA frames within MAX_FRAME_SIZE and both windows, waiting for
// WINDOW_UPDATEs as needed.
func (s *Stream) Write(p []byte) (int, error) {
	c := s.c
	sent := 0
	over, padding := int64(0), []byte(nil)
	if s.Pad > 0 {
		over, padding = int64(s.Pad)+1, make([]byte, s.Pad)
	}
	for sent < len(p) {
		c.mu.Lock()
		for (c.sendWin <= over || s.sendWin <= over) && !s.reset && c.readErr == nil {
			if !s.deadline.IsZero() && time.Now().After(s.deadline) {
				c.mu.Unlock()
				return sent, os.ErrDeadlineExceeded
			}
			s.waitLocked()
		}
		if s.reset {
			c.mu.Unlock()
			return sent, fmt.Errorf("%w: %v", ErrReset, s.ResetErr)
		}
		if c.readErr != nil {
			c.mu.Unlock()
			return sent, c.readErr
		}
		n := min(int64(len(p)-sent), c.sendWin-over, s.sendWin-over, int64(c.maxFrame)-over)
		c.sendWin -= n + over
		s.sendWin -= n + over
		c.cond.Broadcast() // for WaitSendWindow
		c.mu.Unlock()
		chunk := p[sent : sent+int(n)]
		if err := c.Framer(func(fr *http2.Framer) error { return fr.WriteDataPadded(s.ID, false, chunk, padding) }); err != nil {
			return sent, err
		}
		sent += int(n)
	}
	return sent, nil
}

// CloseWrite ends the stream from the client's side (END_STREAM).
func (s *Stream) CloseWrite() error {
	return s.c.Framer(func(fr *http2.Framer) error { return fr.WriteData(s.ID, true, nil) })
}

// Trailers ends the stream with a HEADERS frame carrying fields (name, value pairs).
func (s *Stream) Trailers(fields ...string) error {
	c := s.c
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.ebuf.Reset()
	for i := 0; i+1 < len(fields); i += 2 {
		_ = c.enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	return c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: s.ID, BlockFragment: c.ebuf.Bytes(),
		EndHeaders: true, EndStream: true})
}

// Reset cancels the stream (RST_STREAM with code).
func (s *Stream) Reset(code http2.ErrCode) error {
	return s.c.Framer(func(fr *http2.Framer) error { return fr.WriteRSTStream(s.ID, code) })
}

// HoldWindow stops granting the stream's DATA back to the server: its window closes
// once it has sent that much, until Grant.
func (s *Stream) HoldWindow() {
	s.c.mu.Lock()
	s.manual = true
	s.c.mu.Unlock()
}

// Received is how many bytes of DATA wait in the stream unread.
func (s *Stream) Received() int {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	return s.in.Len()
}

// WaitReceived waits until at least n bytes wait unread, or the stream or connection ends.
func (s *Stream) WaitReceived(n int) int {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	for s.in.Len() < n && !s.ended && !s.reset && c.readErr == nil {
		if !s.deadline.IsZero() && time.Now().After(s.deadline) {
			break
		}
		s.waitLocked()
	}
	return s.in.Len()
}

// SendWindow is the stream's send window as the server granted it.
func (s *Stream) SendWindow() int64 {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	return s.sendWin
}

// WaitSendWindow waits until the stream's send window is at most n (the server stopped
// granting), or the deadline passes; it returns the window.
func (s *Stream) WaitSendWindow(n int64) int64 {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	for s.sendWin > n && !s.reset && c.readErr == nil {
		if !s.deadline.IsZero() && time.Now().After(s.deadline) {
			break
		}
		s.waitLocked()
	}
	return s.sendWin
}

// Grant returns the DATA received so far to the stream's window (HoldWindow).
func (s *Stream) Grant() error {
	c := s.c
	c.mu.Lock()
	n := s.unacked
	s.unacked = 0
	c.mu.Unlock()
	if n == 0 {
		return nil
	}
	return c.Framer(func(fr *http2.Framer) error {
		return fr.WriteWindowUpdate(s.ID, n)
	})
}

// Ended reports whether the server ended the stream, and whether it reset it.
func (s *Stream) Ended() (ended, reset bool, code http2.ErrCode) {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	return s.ended, s.reset, s.ResetErr
}

// WaitEnd waits for END_STREAM, RST_STREAM or the connection's end.
func (s *Stream) WaitEnd() (ended, reset bool, code http2.ErrCode) {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	for !s.reset && c.readErr == nil && !(s.ended && s.in.Len() == 0) {
		if !s.deadline.IsZero() && time.Now().After(s.deadline) {
			break
		}
		s.waitLocked()
	}
	return s.ended, s.reset, s.ResetErr
}

// Close ends the stream from the client's side; the connection stays open.
func (s *Stream) Close() error { return s.CloseWrite() }

func (s *Stream) LocalAddr() net.Addr  { return s.c.nc.LocalAddr() }
func (s *Stream) RemoteAddr() net.Addr { return s.c.nc.RemoteAddr() }

// SetDeadline bounds Read, Write and WaitEnd.
func (s *Stream) SetDeadline(t time.Time) error {
	s.c.mu.Lock()
	s.deadline = t
	s.c.mu.Unlock()
	return nil
}
func (s *Stream) SetReadDeadline(t time.Time) error  { return s.SetDeadline(t) }
func (s *Stream) SetWriteDeadline(t time.Time) error { return s.SetDeadline(t) }

var _ net.Conn = (*Stream)(nil)
