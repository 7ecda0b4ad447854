package ws

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	gws "github.com/gobwas/ws"
)

var benchSizes = []int{16, 1 << 10, 64 << 10}

func textPayload(n int) []byte {
	return []byte(strings.Repeat("switchyard ws! ", n/15+1)[:n])
}

func BenchmarkDecodeHeaderUnmask(b *testing.B) {
	// The per-frame receive path: decode the header, unmask in place.
	for _, size := range benchSizes {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			frame := AppendMaskedFrame(nil, true, OpBinary, 0, testKey, make([]byte, size))
			rules := ServerRules(false)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				h, n, err := DecodeHeader(frame, rules)
				if err != nil {
					b.Fatal(err)
				}
				Unmask(frame[n:n+int(h.Length)], h.Mask, 0)
			}
		})
	}
}

func BenchmarkDecodeHeaderVsGobwas(b *testing.B) {
	// Why DecodeHeader exists: gobwas/ws.ReadHeader needs an io.Reader,
	// allocates its scratch buffer and leaves validation to CheckHeader.
	frame := AppendMaskedFrame(nil, true, OpBinary, 0, testKey, make([]byte, 300))
	b.Run("DecodeHeader", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := DecodeHeader(frame, ServerRules(false)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gobwas.ReadHeader+CheckHeader", func(b *testing.B) {
		b.ReportAllocs()
		r := bytes.NewReader(frame)
		for b.Loop() {
			r.Reset(frame)
			h, err := gws.ReadHeader(r)
			if err != nil {
				b.Fatal(err)
			}
			if err := gws.CheckHeader(h, gws.StateServerSide); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkPutHeader(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			var hdr [MaxServerHeaderSize]byte
			b.ReportAllocs()
			for b.Loop() {
				PutHeader(hdr[:], true, OpBinary, false, size)
			}
		})
	}
}

func BenchmarkUTF8(b *testing.B) {
	inputs := map[string][]byte{
		"ascii": textPayload(64 << 10),
		"mixed": []byte(strings.Repeat("añ日😀 text ", 64<<10/18)),
	}
	for _, name := range []string{"ascii", "mixed"} {
		in := inputs[name]
		b.Run(name+"/UTF8State", func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				var s UTF8State
				if !s.Feed(in) || !s.Complete() {
					b.Fatal("invalid")
				}
			}
		})
		b.Run(name+"/UTF8State-fragments-of-1000", func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				var s UTF8State
				for p := in; len(p) > 0; {
					n := min(1000, len(p))
					if !s.Feed(p[:n]) {
						b.Fatal("invalid")
					}
					p = p[n:]
				}
				if !s.Complete() {
					b.Fatal("incomplete")
				}
			}
		})
		b.Run(name+"/utf8.Valid", func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				if !utf8.Valid(in) {
					b.Fatal("invalid")
				}
			}
		})
	}
}

func BenchmarkAssemblerSingleFrame(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("text/%d", size), func(b *testing.B) {
			p := textPayload(size)
			h := Header{Fin: true, OpCode: OpText, Length: int64(size)}
			var a Assembler
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, done, err := a.Frame(h, p); !done || err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAssemblerFragmented(b *testing.B) {
	// 64 KiB text in 16 fragments, through the pooled buffer.
	p := textPayload(64 << 10)
	var a Assembler
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		for i := 0; i < 16; i++ {
			op := OpContinuation
			if i == 0 {
				op = OpText
			}
			part := p[i*4096 : (i+1)*4096]
			if _, _, err := a.Frame(Header{Fin: i == 15, OpCode: op, Length: 4096}, part); err != nil {
				b.Fatal(err)
			}
		}
		a.Release()
	}
}

// jsonish is a compressible message resembling typical WebSocket traffic.
func jsonish(n int) []byte {
	var buf []byte
	for i := 0; len(buf) < n; i++ {
		buf = fmt.Appendf(buf, `{"id":%d,"type":"tick","symbol":"SYD","price":%d.%02d},`, i, 100+i%37, i%100)
	}
	return buf[:n]
}

func BenchmarkDeflate(b *testing.B) {
	for _, size := range []int{1 << 10, 16 << 10} {
		for _, takeover := range []bool{false, true} {
			b.Run(fmt.Sprintf("%d/takeover=%v", size, takeover), func(b *testing.B) {
				msg := jsonish(size)
				d := NewDeflater(1, 15, takeover)
				defer d.Release()
				dst := make([]byte, 0, 2*size)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					dst = d.Compress(dst[:0], msg)
				}
				b.ReportMetric(float64(len(dst))/float64(size), "ratio")
			})
		}
	}
}

func BenchmarkInflate(b *testing.B) {
	for _, size := range []int{1 << 10, 16 << 10} {
		for _, takeover := range []bool{false, true} {
			b.Run(fmt.Sprintf("%d/takeover=%v", size, takeover), func(b *testing.B) {
				msg := jsonish(size)
				// Without takeover every message is the same stream; with
				// it the dictionary is the previous message, which the
				// benchmark primes once (same message every time).
				comp := NewDeflater(1, 15, false).Compress(nil, msg)
				inf := NewInflater(15, takeover)
				dst := make([]byte, 0, 2*size)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					var err *Error
					if dst, err = inf.Inflate(dst[:0], comp, 1<<20); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkDeflaterMemory(b *testing.B) {
	// What a connection holds under server context takeover: B/op is the
	// size of one flate.Writer at that level; below a 15-bit window
	// (Huffman-only) the compressor returns to the pool after each message
	// and B/op is about 0.
	for _, c := range []struct{ level, bits int }{{1, 15}, {6, 15}, {1, 9}} {
		b.Run(fmt.Sprintf("level=%d/window=%d", c.level, c.bits), func(b *testing.B) {
			msg := jsonish(100)
			b.ReportAllocs()
			for b.Loop() {
				d := NewDeflater(c.level, c.bits, true)
				d.Compress(nil, msg)
			}
		})
	}
}

func BenchmarkNegotiate(b *testing.B) {
	h := []byte("permessage-deflate; client_max_window_bits, x-webkit-deflate-frame")
	var cfg DeflateConfig
	dst := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		p, ok := cfg.Negotiate(h)
		if !ok {
			b.Fatal("declined")
		}
		dst = p.AppendResponse(dst[:0])
	}
}

func BenchmarkNegotiateGobwasWsflate(b *testing.B) {
	// For comparison: gobwas/ws/wsflate parses with httphead and allocates.
	h := []byte("permessage-deflate; client_max_window_bits, x-webkit-deflate-frame")
	b.ReportAllocs()
	for b.Loop() {
		opts, ok := httpheadParse(h)
		if !ok {
			b.Fatal("parse")
		}
		e := wsflateExtension()
		for _, o := range opts {
			if _, err := e.Negotiate(o); err != nil {
				b.Fatal(err)
			}
		}
	}
}
