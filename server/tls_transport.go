package server

import (
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/switchyard-dev/switchyard/server/internal/gnet"
	"golang.org/x/sys/unix"
)

// tlsTransport is a connection's transport once its TLS handshake is done (Conn.tr): the
// socket, as gnet's connection, with its input decrypted and its output encrypted by
// crypto/tls on the loop. Records are decrypted as they complete; a partial record waits
// inside crypto/tls (it keeps partial records across the temporary errors tlsWire
// returns), so no protocol ever sees one. OutboundBuffered is the socket's (ciphertext):
// the send budget and backpressure hold unchanged. Everything it does not override is
// the socket's. Loop only.
//
// The same memory is crypto/tls's net.Conn, seen as a tlsWire: one object per connection
// instead of two, as every idle TLS connection keeps it (about 80 bytes fewer each).
type tlsTransport struct {
	gnet.Conn
	tc *tls.Conn
	c  *Conn
	// plain holds decrypted input from plain.B[off:] between Peek and Discard; nil
	// otherwise (the core always discards all of it by the end of a turn, keeping what
	// a protocol left in its accumulator), so an idle connection holds none.
	plain *[]byte
	off   int
	// The handshake goroutine's side (tlsWire). wake: a feed or shut happened (capacity
	// 1); in: bytes received and not read yet. mu guards in and shut.
	wake chan struct{}
	in   []byte
	// left is what crypto/tls has still to read of the record it is reading. The wire
	// hands it one record at a time, never the start of the next: so once the handshake
	// is done crypto/tls holds no byte beyond its last record, and on the loop it is
	// handed a record only once the record is whole (ready), the rest waiting in the
	// socket's buffer.
	left int32
	fd   int32
	mu   sync.Mutex
	// wmu orders the handshake goroutine's writes to the socket (fd) with the loop's
	// close: shut is set under it before gnet closes the descriptor, so the goroutine
	// never writes to a descriptor that may since name another connection. queued is set
	// once a write went through the loop: what follows must queue behind it.
	wmu    sync.Mutex
	shut   bool
	queued bool
	onLoop bool // after the handshake: no goroutine but the loop uses the wire
	// collect: on the loop, inside a transport's Write, records go to the loop's scratch.
	collect bool
	// ended: crypto/tls has ended the input (a bad record, an alert, close_notify):
	// nothing more is decrypted, and the connection closes once what came before is served.
	ended bool
}

// tlsWire is the net.Conn crypto/tls sees under a connection: the transport's memory with
// the methods of the ciphertext side. During the handshake, which runs on a goroutine of
// its own, Read blocks for the bytes the loop feeds it and Write sends to the socket (or
// through AsyncWrite). Once the handshake is done it is used on the loop only: Read
// returns a whole record the socket has buffered, else errTLSWouldBlock, and Write
// collects records for the transport's single write.
type tlsWire tlsTransport

func (t *tlsTransport) wire() *tlsWire { return (*tlsWire)(t) }

func (t *tlsTransport) scratch() *tlsScratch { return &t.c.loop.tlsScratch }

// tlsPlainChunk is the room given to each decrypted record: a record carries at most
// 16 KiB of plaintext (RFC 8446 §5.1).
const tlsPlainChunk = 16 << 10

// Peek decrypts every complete record the socket has delivered and returns the plaintext
// not yet discarded. n is ignored: the core always peeks at everything.
func (t *tlsTransport) Peek(int) ([]byte, error) {
	if !t.ended {
		t.decrypt()
	}
	if t.plain == nil {
		return nil, nil
	}
	return (*t.plain)[t.off:], nil
}

func (t *tlsTransport) decrypt() {
	// crypto/tls is asked only when a whole record waits: asking in vain costs it an
	// allocation (its reader adapter) on top of the error.
	for t.wire().ready() {
		if t.plain == nil {
			t.plain, t.off = t.scratch().getPlain(), 0
		}
		b := *t.plain
		if cap(b)-len(b) < tlsPlainChunk {
			b = append(b, make([]byte, tlsPlainChunk)...)[:len(b)]
		}
		n, err := t.tc.Read(b[len(b):cap(b)])
		*t.plain = b[:len(b)+n]
		if err != nil {
			t.ended = err != errTLSWouldBlock
			break
		}
	}
	if t.plain != nil && len(*t.plain) == t.off {
		t.releasePlain()
	}
}

// Discard drops n bytes of plaintext (all of it when n < 0).
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
	return n, nil
}

// inputEnded reports that crypto/tls has ended the input (the peer's close_notify, an
// alert, a bad record) and every byte decrypted before the end has left the transport:
// some may still wait in the connection's accumulator, to be served first.
func (t *tlsTransport) inputEnded() bool { return t.ended && t.plain == nil }

func (t *tlsTransport) releasePlain() {
	if p := t.plain; p != nil {
		t.plain, t.off = nil, 0
		t.scratch().putPlain(p)
	}
}

// InboundBuffered counts the plaintext not discarded and the ciphertext not decrypted
// yet (except what crypto/tls holds of a partial record).
func (t *tlsTransport) InboundBuffered() int {
	n := t.Conn.InboundBuffered() + len(t.in)
	if t.plain != nil {
		n += len(*t.plain) - t.off
	}
	return n
}

// Write encrypts p and writes the records to the socket in one write.
func (t *tlsTransport) Write(p []byte) (int, error) {
	s := t.scratch()
	t.collect = true
	n, err := t.tc.Write(p)
	t.collect = false
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
	s := t.scratch()
	t.collect = true
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
	t.collect = false
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

// AsyncWrite refuses: the embedded socket's would send p in clear. The core writes only
// on the loop, through Write and Writev (Conn.WriteAsync is a loop task).
func (t *tlsTransport) AsyncWrite([]byte, gnet.AsyncCallback) error { return errTLSAsyncWrite }

var errTLSAsyncWrite = errors.New("switchyard: AsyncWrite on a TLS transport (the core writes on the loop)")

// closeNotify tells the peer the stream ends here (RFC 8446 §6.1), so that it can tell
// the end from a truncation.
func (t *tlsTransport) closeNotify() {
	_ = t.tc.CloseWrite()
	t.releasePlain()
}

// tlsScratch is a loop's room for encrypting: the pieces of a writev joined, and the
// records of one write collected for one write to the socket; and its buffers for
// decrypted input (a connection holds one only between Peek and Discard, within a turn).
type tlsScratch struct {
	plain     []byte
	cipher    []byte
	plainFree []*[]byte
	plainMade int // decryption buffers made, for tests
}

// maxFreeTLSPlain bounds the decryption buffers a loop keeps: within a turn one is in use
// at a time, so a few cover the rare connection that holds one longer.
const maxFreeTLSPlain = 4

// getPlain returns a buffer with room for a record at least. A loop's own free list, not
// a sync.Pool: a pool is emptied by every GC, and under a handshake flood its 32 KiB
// buffers were allocated again after each one.
func (s *tlsScratch) getPlain() *[]byte {
	if n := len(s.plainFree); n > 0 {
		p := s.plainFree[n-1]
		s.plainFree = s.plainFree[:n-1]
		return p
	}
	s.plainMade++
	b := make([]byte, 0, 2*tlsPlainChunk)
	return &b
}

func (s *tlsScratch) putPlain(p *[]byte) {
	if cap(*p) <= maxRetainedTLS && len(s.plainFree) < maxFreeTLSPlain {
		*p = (*p)[:0]
		s.plainFree = append(s.plainFree, p)
	}
}

// errTLSWouldBlock is what tlsWire.Read returns on the loop when no byte is buffered: a
// temporary net.Error, after which crypto/tls keeps the partial record it holds.
var errTLSWouldBlock error = wouldBlock{}

type wouldBlock struct{}

func (wouldBlock) Error() string   { return "switchyard: no TLS input buffered yet" }
func (wouldBlock) Timeout() bool   { return true }
func (wouldBlock) Temporary() bool { return true }

// tlsMaxHandshakeInput bounds what the server reads from a client before its handshake
// is done (a ClientHello is at most 64 KiB, a client's certificate chain rarely more);
// past it the connection is held (tlsHandshake.Serve), so what the handshake holds is
// this and one read at most.
const tlsMaxHandshakeInput = 128 << 10

// feed hands the handshake goroutine bytes from the loop; it returns how many it holds
// that crypto/tls has not read yet.
func (w *tlsWire) feed(p []byte) int {
	w.mu.Lock()
	w.in = append(w.in, p...)
	n := len(w.in)
	w.mu.Unlock()
	w.signal()
	return n
}

func (w *tlsWire) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// close ends the handshake's reads: the connection has gone or timed out.
func (w *tlsWire) close() {
	w.wmu.Lock()
	w.mu.Lock()
	w.shut = true
	w.mu.Unlock()
	w.wmu.Unlock()
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
	if len(w.in) == 0 {
		// Shut with a record begun: it will never complete. A (0, nil) here would spin
		// crypto/tls's reader (bytes.Buffer.ReadFrom) forever.
		return 0, net.ErrClosed
	}
	if w.left == 0 {
		if w.left = int32(recordLen(w.in)); w.left == 0 {
			return 0, net.ErrClosed
		}
	}
	n := copy(p, w.in[:min(int(w.left), len(w.in))])
	w.left -= int32(n)
	if w.in = w.in[n:]; len(w.in) == 0 {
		w.in = nil
	}
	return n, nil
}

// source is the ciphertext received and not handed to crypto/tls: what arrived with the
// end of the handshake, joined with the socket's buffer, or the socket's buffer alone.
func (w *tlsWire) source() []byte {
	b, _ := w.Conn.Peek(-1)
	if len(w.in) == 0 {
		return b
	}
	if len(b) > 0 {
		w.in = append(w.in, b...)
		_, _ = w.Conn.Discard(len(b))
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
		w.left = int32(min(recordLen(src), len(src))) // an oversized record: what there is
	}
	n := copy(p, src[:min(int(w.left), len(src))])
	if n == 0 {
		return 0, errTLSWouldBlock // never spin crypto/tls's reader on an empty read
	}
	w.left -= int32(n)
	if len(w.in) > 0 {
		if w.in = w.in[n:]; len(w.in) == 0 {
			w.in = nil
		}
	} else {
		_, _ = w.Conn.Discard(n)
	}
	return n, nil
}

func (w *tlsWire) Write(p []byte) (int, error) {
	if w.onLoop {
		if w.collect {
			s := (*tlsTransport)(w).scratch()
			s.cipher = append(s.cipher, p...)
			return len(p), nil
		}
		return w.Conn.Write(p) // an alert or a key update outside a transport's Write
	}
	// The handshake goroutine writes a flight straight to the socket, which has room for
	// it nearly always (nothing else is written to a connection in its handshake): a round
	// through the loop (a copy, a task, a wakeup) cost more than a tenth of what the
	// server spends per handshake beside the cryptography. What the socket does not take
	// goes through AsyncWrite, which holds a copy (crypto/tls reuses p) until written.
	w.wmu.Lock()
	defer w.wmu.Unlock()
	if w.shut {
		return 0, net.ErrClosed
	}
	rest := p
	if !w.queued && w.fd >= 0 {
		n, err := writeNonBlocking(int(w.fd), rest)
		if err != nil {
			return 0, err
		}
		if rest = rest[n:]; len(rest) == 0 {
			return len(p), nil
		}
	}
	w.queued = true
	if err := w.Conn.AsyncWrite(append([]byte(nil), rest...), nil); err != nil {
		return 0, err
	}
	return len(p), nil
}

// writeNonBlocking writes what a non-blocking socket takes of p now; a full socket is not
// an error.
func writeNonBlocking(fd int, p []byte) (int, error) {
	for {
		n, err := unix.Write(fd, p)
		switch err {
		case nil:
			return n, nil
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return 0, nil
		default:
			return 0, err
		}
	}
}

func (w *tlsWire) Close() error {
	if !w.onLoop {
		w.close()
	}
	return nil
}

func (w *tlsWire) LocalAddr() net.Addr              { return w.Conn.LocalAddr() }
func (w *tlsWire) RemoteAddr() net.Addr             { return w.Conn.RemoteAddr() }
func (w *tlsWire) SetDeadline(time.Time) error      { return nil }
func (w *tlsWire) SetReadDeadline(time.Time) error  { return nil }
func (w *tlsWire) SetWriteDeadline(time.Time) error { return nil }
