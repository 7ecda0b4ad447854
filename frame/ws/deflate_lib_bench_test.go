package ws

import (
	"bufio"
	"bytes"
	"cmp"
	stdflate "compress/flate"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"testing"

	kpflate "github.com/klauspost/compress/flate"
)

// The benchmarks in this file compare the standard library's compress/flate
// with github.com/klauspost/compress/flate on the paths Deflater and Inflater
// take (issue 15 item 4): a sync-flushed message per Compress, with a writer
// reset per message (no context takeover, the pooled writer) or kept between
// messages (context takeover), and a reader reset per message with the
// connection's dictionary. They drive the libraries directly, so both run
// through the same code; BenchmarkDeflate and BenchmarkInflate measure the
// package's own Deflater and Inflater with the library it uses. The machine
// the project benchmarks on is shared, so TestFlateLibInstructions counts
// instructions under callgrind instead of timing.

// flateLib is one implementation of the flate API the package needs.
type flateLib struct {
	name      string
	newWriter func(w io.Writer, level int) flateWriter
	newReader func() io.ReadCloser // implements resetReader
}

type flateWriter interface {
	io.Writer
	Flush() error
	Reset(io.Writer)
}

// resetReader is flate.Resetter of either library.
type resetReader interface {
	Reset(r io.Reader, dict []byte) error
}

var flateLibs = []flateLib{
	{
		name: "std",
		newWriter: func(w io.Writer, level int) flateWriter {
			fw, _ := stdflate.NewWriter(w, level)
			return fw
		},
		newReader: func() io.ReadCloser { return stdflate.NewReader(bytes.NewReader(nil)) },
	},
	{
		name: "klauspost",
		newWriter: func(w io.Writer, level int) flateWriter {
			fw, _ := kpflate.NewWriter(w, level)
			return fw
		},
		newReader: func() io.ReadCloser { return kpflate.NewReader(bytes.NewReader(nil)) },
	},
}

// libMessages returns count distinct jsonish messages of n bytes each: a
// connection's traffic is similar messages, not one message repeated (with
// context takeover a repeat compresses to a single back-reference).
func libMessages(n, count int) [][]byte {
	long := jsonish(n * count)
	msgs := make([][]byte, count)
	for i := range msgs {
		msgs[i] = long[i*n : (i+1)*n]
	}
	return msgs
}

var libSizes = []int{64, 1 << 10, 16 << 10}

const libRing = 32 // messages per cycle

// flateLibDeflate is the body of Deflater.Compress on one library.
func flateLibDeflate(w flateWriter, sink *appendSink, reset bool, dst, p []byte) []byte {
	if reset {
		w.Reset(sink)
	}
	sink.b = dst
	_, _ = w.Write(p)
	_ = w.Flush()
	out := sink.b
	sink.b = nil
	return out[:len(out)-len(deflateTail)]
}

// byteSource is msgSource with a ReadByte method: an io.ByteReader, which
// either library reads byte by byte through the interface (the package's
// path with compress/flate, before it read through a bufio.Reader).
type byteSource struct{ msgSource }

func (s *byteSource) ReadByte() (byte, error) {
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

// inflateVia is how a compressed message reaches the flate reader.
type inflateVia int

const (
	viaByteReader inflateVia = iota // byteSource, an io.ByteReader
	viaBufio                        // a bufio.Reader over msgSource (the package's path)
	viaBytes                        // a bytes.Reader over a copy of the message and its tail
)

// flateLibInflate is the body of Inflater.Inflate on one library.
func flateLibInflate(r io.ReadCloser, via inflateVia, src *byteSource, scratch *[]byte, br *bytes.Reader, bu *bufio.Reader, dst, comp, dict []byte) []byte {
	switch via {
	case viaBufio:
		src.msgSource = msgSource{p: comp}
		bu.Reset(&src.msgSource)
		_ = r.(resetReader).Reset(bu, dict)
	case viaBytes:
		*scratch = append(append((*scratch)[:0], comp...), inflateTail[:]...)
		br.Reset(*scratch)
		_ = r.(resetReader).Reset(br, dict)
	default:
		src.msgSource = msgSource{p: comp}
		_ = r.(resetReader).Reset(src, dict)
	}
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return dst
		}
		if err != nil {
			panic(err)
		}
	}
}

// clientStream compresses msgs the way a client does (zlib's default level,
// as browsers; compress/flate level 6 here) with or without context
// takeover, and returns each message's payload (tail removed).
func clientStream(msgs [][]byte, takeover bool) [][]byte {
	var buf bytes.Buffer
	w, _ := stdflate.NewWriter(&buf, stdflate.DefaultCompression)
	out := make([][]byte, len(msgs))
	for i, m := range msgs {
		if !takeover {
			w.Reset(&buf)
		}
		buf.Reset()
		_, _ = w.Write(m)
		_ = w.Flush()
		out[i] = bytes.Clone(buf.Bytes()[:buf.Len()-len(deflateTail)])
	}
	return out
}

// libCase is one comparison: the server compressing its messages at level 1
// (deflate), or decompressing a client's (inflate), of one size, without
// context takeover (a writer or reader reset per message) or with it (the
// writer kept; the reader given the connection's recent output as its
// dictionary, as Inflater keeps it), on one library. The inflate variants
// "klauspost-bytes" and "klauspost-bufio" hand klauspost's reader a
// *bytes.Reader or a *bufio.Reader, for which it has specialised decoders;
// "std" and "klauspost" an io.ByteReader.
type libCase struct {
	op       string // deflate | inflate
	size     int
	takeover bool
	variant  string
}

func (c libCase) String() string {
	return fmt.Sprintf("%s/%d/takeover=%v/%s", c.op, c.size, c.takeover, c.variant)
}

func libCases() []libCase {
	var cs []libCase
	for _, op := range []string{"deflate", "inflate"} {
		for _, size := range libSizes {
			for _, takeover := range []bool{false, true} {
				variants := []string{"std", "klauspost"}
				if op == "inflate" {
					variants = append(variants, "klauspost-bytes", "klauspost-bufio")
				}
				for _, v := range variants {
					cs = append(cs, libCase{op, size, takeover, v})
				}
			}
		}
	}
	return cs
}

// setup prepares the case and returns one operation (one message) and the
// compression ratio of the messages compressed so far.
func (c libCase) setup(tb testing.TB) (step func(), ratio func() float64) {
	lib := flateLibs[0]
	if c.variant != "std" {
		lib = flateLibs[1]
	}
	msgs := libMessages(c.size, libRing)
	i, in, out := 0, 0, 0
	ratio = func() float64 { return float64(out) / float64(max(in, 1)) }
	if c.op == "deflate" {
		var sink appendSink
		w := lib.newWriter(&sink, 1)
		dst := make([]byte, 0, 2*c.size+64)
		return func() {
			p := msgs[i%libRing]
			dst = flateLibDeflate(w, &sink, !c.takeover, dst[:0], p)
			in, out = in+len(p), out+len(dst)
			i++
		}, ratio
	}
	comp := clientStream(msgs, c.takeover)
	via := viaByteReader
	switch c.variant {
	case "klauspost-bytes":
		via = viaBytes
	case "klauspost-bufio":
		via = viaBufio
	}
	r := lib.newReader()
	var src byteSource
	var scratch []byte
	br, bu := bytes.NewReader(nil), bufio.NewReaderSize(nil, 4096)
	inf := NewInflater(15, c.takeover)
	dst := make([]byte, 0, 2*c.size)
	return func() {
		k := i % libRing
		if k == 0 {
			inf.dict = inf.dict[:0] // the stream starts again
		}
		var dict []byte
		if c.takeover {
			dict = inf.dict
		}
		dst = flateLibInflate(r, via, &src, &scratch, br, bu, dst[:0], comp[k], dict)
		if len(dst) != c.size {
			tb.Fatalf("inflated %d bytes, want %d", len(dst), c.size)
		}
		if c.takeover {
			inf.remember(dst)
		}
		in, out = in+len(comp[k]), out+len(dst)
		i++
	}, ratio
}

// BenchmarkFlateLib compares the libraries on every libCase. On a busy
// machine prefer instruction counts (TestFlateLibInstructions).
func BenchmarkFlateLib(b *testing.B) {
	for _, c := range libCases() {
		b.Run(c.String(), func(b *testing.B) {
			step, ratio := c.setup(b)
			b.SetBytes(int64(c.size))
			b.ReportAllocs()
			for b.Loop() {
				step()
			}
			b.ReportMetric(ratio(), "ratio")
		})
	}
}

// TestFlateLibInstructions runs one libCase FLATELIB_N times (default 200)
// inside flateLibRun, for an instruction count that a busy machine does not
// disturb:
//
//	go test -c -o ws.test ./frame/ws
//	GOMAXPROCS=1 GOGC=off GODEBUG=asyncpreemptoff=1 FLATELIB_CASE=deflate/1024/takeover=true/klauspost \
//	  valgrind --tool=callgrind --toggle-collect='*flateLibRun' ./ws.test -test.run=TestFlateLibInstructions
//
// Two runs with different FLATELIB_N give the cost of one operation without
// the first one's allocations: (Ir(N2)-Ir(N1))/(N2-N1).
func TestFlateLibInstructions(t *testing.T) {
	name := os.Getenv("FLATELIB_CASE")
	if name == "" {
		t.Skip("FLATELIB_CASE is not set")
	}
	n, err := strconv.Atoi(cmp.Or(os.Getenv("FLATELIB_N"), "200"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range libCases() {
		if c.String() == name {
			step, ratio := c.setup(t)
			flateLibRun(n, step)
			t.Logf("%s: %d operations, ratio %.4f", c, n, ratio())
			return
		}
	}
	t.Fatalf("no case %q", name)
}

//go:noinline
func flateLibRun(n int, step func()) {
	for range n {
		step()
	}
}

// TestFlateLibMemory reports the heap one compressor holds (what a connection
// keeps under server context takeover) per library and level, after it
// compressed a message, and the heap of one decompressor. Run with -v.
func TestFlateLibMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("measurement")
	}
	msg := jsonish(1 << 10)
	const n = 20
	heapOf := func(alloc func() any) float64 {
		keep := make([]any, n)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := range keep {
			keep[i] = alloc()
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(keep)
		return float64(after.HeapAlloc-before.HeapAlloc) / n
	}
	for _, lib := range flateLibs {
		for _, level := range []int{stdflate.HuffmanOnly, 1, 2, 5, 6, 9} {
			per := heapOf(func() any {
				var sink appendSink
				w := lib.newWriter(&sink, level)
				_, _ = w.Write(msg)
				_ = w.Flush()
				return w
			})
			t.Logf("writer %-9s level %2d: %7.0f KiB", lib.name, level, per/1024)
		}
		per := heapOf(func() any {
			r := lib.newReader()
			_ = r.(resetReader).Reset(bytes.NewReader(clientStream([][]byte{msg}, false)[0]), nil)
			return r
		})
		t.Logf("reader %-9s         : %7.0f KiB", lib.name, per/1024)
	}
	for _, bits := range []int{9, 12} {
		per := heapOf(func() any {
			var sink appendSink
			w, _ := kpflate.NewWriterWindow(&sink, 1<<bits)
			_, _ = w.Write(msg)
			_ = w.Flush()
			return w
		})
		t.Logf("writer klauspost window %d bits: %7.0f KiB", bits, per/1024)
	}
}
