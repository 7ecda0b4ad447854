package ws

import (
	"compress/flate"
	"io"
	"slices"
	"sync"
)

// Compression of message payloads for permessage-deflate (RFC 7692 §7.2),
// with the standard library's compress/flate.
//
// Windows. compress/flate always compresses with a 32 KiB window and has no
// window-bits parameter. When the server's window was negotiated below 15
// bits (the client offered server_max_window_bits=N, or DeflateConfig asks
// for it), the Deflater compresses with flate.HuffmanOnly: Huffman coding
// without LZ77 matches emits no back-references at all, so it honours every
// window size, 8 included. The alternatives fall short: resetting the
// compressor per message (no context takeover) still lets one message longer
// than 2^N bytes reference further back than 2^N; declining such offers
// loses compression with the clients that ask; and the zlib practice of
// answering 8 with 9 (zlib cannot build a raw deflate stream with a 256-byte
// window) breaks §7.1.2.1, which allows only the same or a smaller value.
// Browsers do not send server_max_window_bits, so the cost (no LZ77 on those
// connections) falls only on clients that asked for small windows.
//
// Inflation needs no such care: a 32 KiB window decodes a stream made with
// any smaller one.
//
// Context takeover. The compressor keeps its flate.Writer between messages
// (Flush ends each message on a byte boundary and the stream goes on). The
// decompressor cannot simply continue: compress/flate's reader stops for
// good at the end of its input. So the Inflater keeps the last 2^N bytes of
// output (N = the peer's window bits) and hands them to flate's Resetter as
// the preset dictionary of the next message; the reader itself goes back to
// a pool between messages. Without context takeover both sides take their
// flate state from pools only for the duration of one message.

// deflateTail is the end of a sync flush (an empty stored block), which the
// sender removes and the receiver appends again (RFC 7692 §7.2.1, §7.2.2).
var deflateTail = [4]byte{0x00, 0x00, 0xff, 0xff}

// inflateTail is deflateTail followed by an empty final stored block, so that
// compress/flate's reader reports io.EOF instead of waiting for more input.
var inflateTail = [9]byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// Deflater compresses the messages one endpoint sends. It is not safe for
// concurrent use.
type Deflater struct {
	level    int
	takeover bool
	pw       *pooledWriter // held between messages only with context takeover
}

// pooledWriter is a flate.Writer bound to an append sink it owns, so that it
// can be reused without rebinding.
type pooledWriter struct {
	w    *flate.Writer
	sink appendSink
}

type appendSink struct{ b []byte }

func (s *appendSink) Write(p []byte) (int, error) {
	s.b = append(s.b, p...)
	return len(p), nil
}

// writerPools holds idle writers per level (flate.HuffmanOnly=-2 .. 9).
var writerPools [12]sync.Pool

func getWriter(level int) *pooledWriter {
	if pw, ok := writerPools[level+2].Get().(*pooledWriter); ok {
		pw.w.Reset(&pw.sink)
		return pw
	}
	pw := &pooledWriter{}
	pw.w, _ = flate.NewWriter(&pw.sink, level) // level validated by NewDeflater
	return pw
}

func putWriter(level int, pw *pooledWriter) {
	pw.sink.b = nil
	writerPools[level+2].Put(pw)
}

// NewDeflater returns a compressor at the given compress/flate level (1..9
// or flate.HuffmanOnly; anything else means flate.BestSpeed) for a window of
// windowBits (8..15; see the package notes on windows: below 15 it
// compresses Huffman-only) with or without context takeover.
func NewDeflater(level, windowBits int, contextTakeover bool) *Deflater {
	if level != flate.HuffmanOnly && (level < flate.BestSpeed || level > flate.BestCompression) {
		level = flate.BestSpeed
	}
	if windowBitsOr15(windowBits) < 15 {
		level = flate.HuffmanOnly
	}
	return &Deflater{level: level, takeover: contextTakeover}
}

// Compress appends the compressed form of one whole message p to dst, without
// the 0x00 0x00 0xff 0xff tail (RFC 7692 §7.2.1), and returns the extended
// slice. The frame carrying it gets RSV1. An empty message compresses to the
// single byte 0x00.
func (d *Deflater) Compress(dst, p []byte) []byte {
	pw := d.pw
	if pw == nil {
		pw = getWriter(d.level)
	}
	pw.sink.b = dst
	// Writes into an appendSink cannot fail.
	_, _ = pw.w.Write(p)
	_ = pw.w.Flush()
	out := pw.sink.b
	pw.sink.b = nil
	// Flush always ends with the tail of an empty stored block.
	out = out[:len(out)-len(deflateTail)]
	if d.takeover {
		d.pw = pw
	} else {
		putWriter(d.level, pw)
	}
	return out
}

// Release gives up the compressor held for context takeover (when the
// connection closes). The Deflater remains usable.
func (d *Deflater) Release() {
	if d.pw != nil {
		putWriter(d.level, d.pw)
		d.pw = nil
	}
}

// Inflater decompresses the messages one endpoint receives. It is not safe
// for concurrent use.
type Inflater struct {
	window   int    // 1 << the peer's window bits
	takeover bool   // the peer compresses with context takeover
	dict     []byte // last window bytes of output, with context takeover
}

// NewInflater returns a decompressor for a peer that compresses with the
// given window (8..15, other values mean 15) with or without context
// takeover.
func NewInflater(windowBits int, contextTakeover bool) *Inflater {
	return &Inflater{window: 1 << windowBitsOr15(windowBits), takeover: contextTakeover}
}

// flateReader is a compress/flate reader with the source it reads from.
// msgSource implements flate.Reader (io.ByteReader), so the reader adds no
// bufio.Reader of its own.
type flateReader struct {
	src msgSource
	r   io.ReadCloser
}

var readerPool = sync.Pool{New: func() any {
	fr := &flateReader{}
	fr.r = flate.NewReader(&fr.src)
	return fr
}}

// msgSource yields a compressed message followed by inflateTail.
type msgSource struct {
	p    []byte
	tail int
}

func (s *msgSource) ReadByte() (byte, error) {
	if len(s.p) > 0 {
		c := s.p[0]
		s.p = s.p[1:]
		return c, nil
	}
	if s.tail < len(inflateTail) {
		c := inflateTail[s.tail]
		s.tail++
		return c, nil
	}
	return 0, io.EOF
}

func (s *msgSource) Read(b []byte) (int, error) {
	n := copy(b, s.p)
	s.p = s.p[n:]
	if n < len(b) {
		m := copy(b[n:], inflateTail[s.tail:])
		s.tail += m
		n += m
	}
	if n == 0 && len(b) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

// Inflate appends the decompressed form of one whole compressed message (the
// concatenated payloads of its frames, tail removed) to dst. If the output
// would exceed limit bytes it stops and returns ErrInflatedTooBig (1009), so
// a small payload cannot expand into unbounded memory ("deflate bomb"); at
// most limit+1 bytes are written. Corrupt data is ErrDeflateData (1007). On
// error dst is returned with its original length.
func (f *Inflater) Inflate(dst, compressed []byte, limit int) ([]byte, *Error) {
	limit = max(limit, 0)
	fr := readerPool.Get().(*flateReader)
	fr.src = msgSource{p: compressed}
	var dict []byte
	if f.takeover {
		dict = f.dict
	}
	// The reader from flate.NewReader implements flate.Resetter.
	_ = fr.r.(flate.Resetter).Reset(&fr.src, dict)

	start := len(dst)
	var err *Error
	for {
		if len(dst) == cap(dst) {
			// Double, but never past what the limit can use.
			produced := len(dst) - start
			dst = slices.Grow(dst, min(max(512, produced), limit+1-produced))
		}
		room := dst[len(dst):cap(dst)]
		if left := limit + 1 - (len(dst) - start); len(room) > left {
			room = room[:left]
		}
		n, rerr := fr.r.Read(room)
		dst = dst[:len(dst)+n]
		if len(dst)-start > limit {
			err = ErrInflatedTooBig
			break
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			err = ErrDeflateData
			break
		}
	}
	fr.src = msgSource{}
	readerPool.Put(fr)
	if err != nil {
		return dst[:start], err
	}
	if f.takeover {
		f.remember(dst[start:])
	}
	return dst, nil
}

// remember keeps the last window bytes of the output seen so far as the
// dictionary of the next message.
func (f *Inflater) remember(out []byte) {
	if f.dict == nil {
		f.dict = make([]byte, 0, f.window)
	}
	if len(out) >= f.window {
		f.dict = append(f.dict[:0], out[len(out)-f.window:]...)
		return
	}
	keep := min(len(f.dict), f.window-len(out))
	f.dict = append(f.dict[:0], f.dict[len(f.dict)-keep:]...)
	f.dict = append(f.dict, out...)
}

// Release drops the context-takeover dictionary (when the connection closes).
func (f *Inflater) Release() { f.dict = nil }
