package server

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"time"

	"github.com/switchyard-dev/switchyard/server/internal/gnet"
)

// tlsTransport is a connection's transport once its TLS handshake is done (Conn.tr): the
// socket, as gnet's connection, with its input decrypted and its output encrypted by
// crypto/tls on the loop. Records are decrypted as they complete; a partial record waits
// inside crypto/tls (it keeps partial records across the temporary errors tlsWire
// returns), so no protocol ever sees one. OutboundBuffered is the socket's (ciphertext):
// the send budget and backpressure hold unchanged. Everything it does not override is
// the socket's. Loop only, except AsyncWrite.
type tlsTransport struct {
	gnet.Conn
	tc *tls.Conn
	w  *tlsWire
	c  *Conn
	// plain holds decrypted input from plain.B[off:] between Peek and Discard; nil
	// otherwise (the core always discards all of it by the end of a turn, keeping what
	// a protocol left in its accumulator), so an idle connection holds none.
	plain *[]byte
	off   int
	// err is crypto/tls's verdict on the input (a bad record, an alert, close_notify):
	// nothing more is decrypted, and the connection closes once what came before is served.
	err error
}

// tlsPlainChunk is the room given to each decrypted record: a record carries at most
// 16 KiB of plaintext (RFC 8446 §5.1).
const tlsPlainChunk = 16 << 10

// Peek decrypts every complete record the socket has delivered and returns the plaintext
// not yet discarded. n is ignored: the core always peeks at everything.
func (t *tlsTransport) Peek(int) ([]byte, error) {
	if t.err == nil {
		t.decrypt()
	}
	if t.plain == nil {
		return nil, nil
	}
	return (*t.plain)[t.off:], nil
}

// tlsPlainPool holds buffers for decrypted input, with room for a record at least: a
// pool of its own, so that the buffers keep the size records need.
var tlsPlainPool = sync.Pool{New: func() any { b := make([]byte, 0, 2*tlsPlainChunk); return &b }}

func (t *tlsTransport) decrypt() {
	// crypto/tls is asked only when a whole record waits: asking in vain costs it an
	// allocation (its reader adapter) on top of the error.
	for t.w.ready() {
		if t.plain == nil {
			t.plain, t.off = tlsPlainPool.Get().(*[]byte), 0
		}
		b := *t.plain
		if cap(b)-len(b) < tlsPlainChunk {
			b = append(b, make([]byte, tlsPlainChunk)...)[:len(b)]
		}
		n, err := t.tc.Read(b[len(b):cap(b)])
		*t.plain = b[:len(b)+n]
		if err != nil {
			if err != errTLSWouldBlock {
				t.err = err
			}
			break
		}
	}
	if t.plain != nil && len(*t.plain) == t.off {
		t.releasePlain()
	}
}

// Discard drops n bytes of plaintext (all of it when n < 0). Once crypto/tls has ended
// the input and the plaintext before the end is consumed, the connection closes.
func (t *tlsTransport) Discard(n int) (int, error) {
	if t.plain != nil {
		left := len(*t.plain) - t.off
		if n < 0 || n > left {
			n = left
		}
		t.off += n
		if t.off == len(*t.plain) {
			t.releasePlain()
		}
	} else {
		n = 0
	}
	if t.err != nil && t.plain == nil {
		t.c.closing = true
	}
	return n, nil
}

func (t *tlsTransport) releasePlain() {
	if p := t.plain; p != nil {
		t.plain, t.off = nil, 0
		if cap(*p) <= maxRetainedTLS {
			*p = (*p)[:0]
			tlsPlainPool.Put(p)
		}
	}
}

// InboundBuffered counts the plaintext not discarded and the ciphertext not decrypted
// yet (except what crypto/tls holds of a partial record).
func (t *tlsTransport) InboundBuffered() int {
	n := t.Conn.InboundBuffered() + len(t.w.in)
	if t.plain != nil {
		n += len(*t.plain) - t.off
	}
	return n
}

// Write encrypts p and writes the records to the socket in one write.
func (t *tlsTransport) Write(p []byte) (int, error) {
	s := t.w.scratch
	t.w.collect = true
	n, err := t.tc.Write(p)
	t.w.collect = false
	t.sendCipher(s)
	if err != nil {
		t.c.closing = true
	}
	return n, err
}

// tlsCoalesce is the size under which the pieces of a writev are joined before they are
// encrypted: each tls.Conn.Write ends a record, and a record per small piece would cost
// a seal and 22 bytes of overhead each.
const tlsCoalesce = 16 << 10

// Writev encrypts the turn's output: small pieces joined into records, large ones
// encrypted in place; the ciphertext leaves in one write.
func (t *tlsTransport) Writev(bs [][]byte) (int, error) {
	s := t.w.scratch
	t.w.collect = true
	total, werr := 0, error(nil)
	write := func(p []byte) {
		if werr == nil {
			var n int
			n, werr = t.tc.Write(p)
			total += n
		}
	}
	for _, b := range bs {
		if len(s.plain)+len(b) > tlsCoalesce && len(s.plain) > 0 {
			write(s.plain)
			s.plain = s.plain[:0]
		}
		if len(b) >= tlsCoalesce {
			write(b)
			continue
		}
		s.plain = append(s.plain, b...)
	}
	if len(s.plain) > 0 {
		write(s.plain)
		s.plain = s.plain[:0]
	}
	t.w.collect = false
	t.sendCipher(s)
	if werr != nil {
		t.c.closing = true
	}
	return total, werr
}

// maxRetainedTLS bounds the scratch a loop keeps between uses after a large write.
const maxRetainedTLS = 256 << 10

func (t *tlsTransport) sendCipher(s *tlsScratch) {
	if len(s.cipher) > 0 {
		_, _ = t.Conn.Write(s.cipher) // gnet keeps what the socket does not take
	}
	s.cipher = s.cipher[:0]
	if cap(s.cipher) > maxRetainedTLS {
		s.cipher = nil
	}
	if cap(s.plain) > maxRetainedTLS {
		s.plain = nil
	}
}

// AsyncWrite queues p from any goroutine: it is encrypted on the loop, after what the
// connection has queued there, and callback runs once it has been written.
func (t *tlsTransport) AsyncWrite(p []byte, callback gnet.AsyncCallback) error {
	return t.c.loop.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
		c := t.c
		if c.closed {
			if callback != nil {
				_ = callback(t.Conn, net.ErrClosed)
			}
			return nil
		}
		c.WriteRef(p)
		c.Flush()
		if callback != nil {
			_ = callback(t.Conn, nil)
		}
		return nil
	}))
}

// closeNotify tells the peer the stream ends here (RFC 8446 §6.1), so that it can tell
// the end from a truncation.
func (t *tlsTransport) closeNotify() {
	_ = t.tc.CloseWrite()
	t.releasePlain()
}

// tlsScratch is a loop's room for encrypting: the pieces of a writev joined, and the
// records of one write collected for one write to the socket.
type tlsScratch struct {
	plain  []byte
	cipher []byte
}

// tlsWire is the net.Conn crypto/tls sees under a connection. During the handshake,
// which runs on its own goroutine, Read blocks for the bytes the loop feeds it and Write
// sends through the socket's AsyncWrite. Once the handshake is done and the connection
// has moved onto its tlsTransport, it is used on the loop only: Read returns a whole
// record the socket has buffered, else errTLSWouldBlock, and Write collects records for
// the transport's single write.
type tlsWire struct {
	raw gnet.Conn

	mu   sync.Mutex
	wake chan struct{} // a feed or shut happened; capacity 1
	in   []byte        // bytes received and not read yet
	shut bool
	// left is what crypto/tls has still to read of the record it is reading. The wire
	// hands it one record at a time, never the start of the next: so once the handshake
	// is done crypto/tls holds no byte beyond its last record, and on the loop it is
	// handed a record only once the record is whole (ready), the rest waiting in the
	// socket's buffer.
	left int

	onLoop  bool        // after the handshake: no goroutine but the loop uses the wire
	collect bool        // on the loop, inside a transport's Write: records go to scratch
	scratch *tlsScratch // the loop's
}

// errTLSWouldBlock is what tlsWire.Read returns on the loop when no byte is buffered: a
// temporary net.Error, after which crypto/tls keeps the partial record it holds.
var errTLSWouldBlock error = wouldBlock{}

type wouldBlock struct{}

func (wouldBlock) Error() string   { return "switchyard: no TLS input buffered yet" }
func (wouldBlock) Timeout() bool   { return true }
func (wouldBlock) Temporary() bool { return true }

// tlsMaxHandshakeInput bounds what a client may send before its handshake is done (a
// ClientHello is at most 64 KiB, a client's certificate chain rarely more).
const tlsMaxHandshakeInput = 128 << 10

// feed hands the handshake goroutine bytes from the loop; it reports false when the
// client has sent more than any handshake needs.
func (w *tlsWire) feed(p []byte) bool {
	w.mu.Lock()
	ok := len(w.in)+len(p) <= tlsMaxHandshakeInput
	if ok {
		w.in = append(w.in, p...)
	}
	w.mu.Unlock()
	w.signal()
	return ok
}

func (w *tlsWire) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// close ends the handshake's reads: the connection has gone or timed out.
func (w *tlsWire) close() {
	w.mu.Lock()
	w.shut = true
	w.mu.Unlock()
	w.signal()
}

// tlsRecordHeader is the length of a TLS record's header (RFC 8446 §5.1).
const tlsRecordHeader = 5

// tlsMaxRecord bounds a record crypto/tls accepts (2^14 plus the expansion TLS 1.2
// allows); a header announcing more is handed over at once, for crypto/tls to refuse.
const tlsMaxRecord = tlsRecordHeader + 16<<10 + 2048

// recordLen is the length of the record b starts with, header included, or 0 while its
// header is incomplete.
func recordLen(b []byte) int {
	if len(b) < tlsRecordHeader {
		return 0
	}
	return tlsRecordHeader + (int(b[3])<<8 | int(b[4]))
}

func (w *tlsWire) Read(p []byte) (int, error) {
	if w.onLoop {
		return w.loopRead(p)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for (len(w.in) == 0 || w.left == 0 && len(w.in) < tlsRecordHeader) && !w.shut {
		w.mu.Unlock()
		<-w.wake
		w.mu.Lock()
	}
	if w.left == 0 {
		if w.left = recordLen(w.in); w.left == 0 {
			return 0, net.ErrClosed
		}
	}
	n := copy(p, w.in[:min(w.left, len(w.in))])
	w.left -= n
	if w.in = w.in[n:]; len(w.in) == 0 {
		w.in = nil
	}
	return n, nil
}

// source is the ciphertext received and not handed to crypto/tls: what arrived with the
// end of the handshake, joined with the socket's buffer, or the socket's buffer alone.
func (w *tlsWire) source() []byte {
	b, _ := w.raw.Peek(-1)
	if len(w.in) == 0 {
		return b
	}
	if len(b) > 0 {
		w.in = append(w.in, b...)
		_, _ = w.raw.Discard(len(b))
	}
	return w.in
}

// ready reports whether crypto/tls has a record to read: the rest of one it has begun,
// or a whole one (or a header announcing more than any record may hold).
func (w *tlsWire) ready() bool {
	if w.left > 0 {
		return true
	}
	src := w.source()
	n := recordLen(src)
	return n > 0 && (n <= len(src) || n > tlsMaxRecord)
}

func (w *tlsWire) loopRead(p []byte) (int, error) {
	if !w.ready() {
		return 0, errTLSWouldBlock
	}
	src := w.source()
	if w.left == 0 {
		w.left = min(recordLen(src), len(src)) // an oversized record: what there is
	}
	n := copy(p, src[:min(w.left, len(src))])
	if n == 0 {
		return 0, errTLSWouldBlock // never spin crypto/tls's reader on an empty read
	}
	w.left -= n
	if len(w.in) > 0 {
		if w.in = w.in[n:]; len(w.in) == 0 {
			w.in = nil
		}
	} else {
		_, _ = w.raw.Discard(n)
	}
	return n, nil
}

func (w *tlsWire) Write(p []byte) (int, error) {
	if w.onLoop {
		if w.collect {
			w.scratch.cipher = append(w.scratch.cipher, p...)
			return len(p), nil
		}
		return w.raw.Write(p) // an alert or a key update outside a transport's Write
	}
	// The handshake goroutine: crypto/tls reuses p, and AsyncWrite holds it until written.
	if err := w.raw.AsyncWrite(append([]byte(nil), p...), nil); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (w *tlsWire) Close() error {
	if !w.onLoop {
		w.close()
	}
	return nil
}

func (w *tlsWire) LocalAddr() net.Addr              { return w.raw.LocalAddr() }
func (w *tlsWire) RemoteAddr() net.Addr             { return w.raw.RemoteAddr() }
func (w *tlsWire) SetDeadline(time.Time) error      { return nil }
func (w *tlsWire) SetReadDeadline(time.Time) error  { return nil }
func (w *tlsWire) SetWriteDeadline(time.Time) error { return nil }
