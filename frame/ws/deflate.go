package ws

import (
	"bufio"
	"io"
	"slices"
	"sync"

	"github.com/klauspost/compress/flate"
)

// Compression of message payloads for permessage-deflate (RFC 7692 §7.2),
// with github.com/klauspost/compress/flate. Its API is compress/flate's (same
// levels, Writer, Resetter), and on the server's paths it costs fewer
// instructions than the standard library (callgrind, TestFlateLibInstructions
// over the cases of BenchmarkFlateLib, messages of 64 B to 16 KiB with and
// without context takeover): 0.37-0.70x to compress at level 1, 0.65-1.0x to
// decompress. Its compressor is smaller (800 KiB at level 1 against the
// standard library's 1.2 MB, TestFlateLibMemory) and its reader allocates
// nothing per dynamic Huffman block.
//
// Windows. The compressor's levels all use a 32 KiB window. When the
// server's window was negotiated below 15 bits (the client offered
// server_max_window_bits=N, or DeflateConfig asks for it), the Deflater
// compresses with flate.HuffmanOnly: Huffman coding without LZ77 matches
// emits no back-references at all, so it honours every window size, 8
// included, and since its output never refers to earlier messages it needs
// no state between them: its compressor comes from the pool per message even
// with context takeover, so such a connection holds no compressor while idle.
// The alternatives fall short: resetting the compressor per message (no
// context takeover) still lets one message longer than 2^N bytes reference
// further back than 2^N; klauspost's NewWriterWindow keeps matches within a
// custom window but holds 1 MiB per connection whatever the window (more than
// level 1); declining such offers loses compression with the clients that
// ask; and the zlib practice of answering 8 with 9 (zlib cannot build a raw
// deflate stream with a 256-byte window) breaks §7.1.2.1, which allows only
// the same or a smaller value. Browsers do not send server_max_window_bits,
// so the cost (no LZ77 on those connections) falls only on clients that
// asked for small windows.
//
// Inflation needs no such care: a 32 KiB window decodes a stream made with
// any smaller one.
//
// Context takeover. The compressor keeps its flate.Writer between messages
// (Flush ends each message on a byte boundary and the stream goes on). The
// decompressor cannot simply continue: the flate reader stops for good at
// the end of its input. So the Inflater keeps the last 2^N bytes of output
// (N = the peer's window bits) and hands them to flate's Resetter as the
// preset dictionary of the next message; the reader itself goes back to a
// pool between messages. Without context takeover both sides take their
// flate state from pools only for the duration of one message.

// deflateTail is the end of a sync flush (an empty stored block), which the
// sender removes and the receiver appends again (RFC 7692 §7.2.1, §7.2.2).
var deflateTail = [4]byte{0x00, 0x00, 0xff, 0xff}

// inflateTail is deflateTail followed by an empty final stored block, so that
// the flate reader reports io.EOF instead of waiting for more input.
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

// NewDeflater returns a compressor at the given flate level (1..9 or
// flate.HuffmanOnly, the same values as compress/flate's; anything else means
// flate.BestSpeed) for a window of windowBits (8..15; see the package notes
// on windows: below 15 it compresses Huffman-only) with or without context
// takeover.
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
	// Huffman-only output refers to no earlier message: there is no context
	// to keep, so the compressor goes back to the pool even with takeover.
	hold := d.takeover && d.level != flate.HuffmanOnly
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
	if hold {
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

// flateReader is a flate reader with the source it reads from. The source
// reaches the reader through a bufio.Reader because klauspost's reader has a
// decoder specialised for *bufio.Reader (and *bytes.Reader), and decodes any
// other io.ByteReader through an interface call per byte (1.05-1.3x the
// instructions, behind the standard library at 1 KiB: BenchmarkFlateLib,
// inflate "klauspost" against "klauspost-bufio"). The bufio.Reader copies the
// message 4 KiB at a time; a bytes.Reader, 2-12% fewer instructions still,
// would need the whole message and its tail copied into one buffer.
type flateReader struct {
	src msgSource
	buf *bufio.Reader
	r   io.ReadCloser
}

var readerPool = sync.Pool{New: func() any {
	fr := &flateReader{}
	fr.buf = bufio.NewReaderSize(&fr.src, 4096)
	fr.r = flate.NewReader(fr.buf)
	return fr
}}

// msgSource yields a compressed message followed by inflateTail.
type msgSource struct {
	p    []byte
	tail int
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
	fr.buf.Reset(&fr.src)
	var dict []byte
	if f.takeover {
		dict = f.dict
	}
	// The reader from flate.NewReader implements flate.Resetter.
	_ = fr.r.(flate.Resetter).Reset(fr.buf, dict)

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
