package ws

import (
	"testing"
)

// Allocation budgets of the hot paths, asserted (the benchmarks show them).

func assertAllocs(t *testing.T, name string, budget float64, f func()) {
	t.Helper()
	if got := testing.AllocsPerRun(200, f); got > budget {
		t.Errorf("%s: %.1f allocs/op, budget %.0f", name, got, budget)
	}
}

func TestAllocsReceivePath(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	for _, size := range []int{0, 125, 1 << 10, 64 << 10} {
		frame := AppendMaskedFrame(nil, true, OpText, 0, testKey, textPayload(size))
		var a Assembler
		assertAllocs(t, "decode+unmask+assemble single frame", 0, func() {
			h, n, err := DecodeHeader(frame, ServerRules(false))
			if err != nil {
				t.Fatal(err)
			}
			p := frame[n : n+int(h.Length)]
			Unmask(p, h.Mask, 0)
			if _, done, err := a.Frame(h, p); !done || err != nil {
				t.Fatal(err)
			}
			Unmask(p, h.Mask, 0) // mask again for the next run
		})
	}

	p := textPayload(64 << 10)
	var a Assembler
	assertAllocs(t, "fragmented 64 KiB through the pool", 0, func() {
		for i := 0; i < 4; i++ {
			op := OpContinuation
			if i == 0 {
				op = OpText
			}
			if _, _, err := a.Frame(Header{Fin: i == 3, OpCode: op}, p[i*16384:(i+1)*16384]); err != nil {
				t.Fatal(err)
			}
		}
		a.Release()
	})

	var hdr [MaxServerHeaderSize]byte
	assertAllocs(t, "PutHeader", 0, func() { PutHeader(hdr[:], true, OpBinary, false, 70000) })

	buf := make([]byte, 0, 256)
	closeP := closePayload(1000, "bye")
	assertAllocs(t, "ParseClose+AppendCloseFrame", 0, func() {
		if _, _, err := ParseClose(closeP); err != nil {
			t.Fatal(err)
		}
		buf = AppendCloseFrame(buf[:0], 1000, "bye")
	})

	bad := rawHeader(0x83, true, 0)
	assertAllocs(t, "DecodeHeader error return", 0, func() {
		if _, _, err := DecodeHeader(bad, ServerRules(false)); err == nil {
			t.Fatal("accepted")
		}
	})
}

func TestAllocsDeflate(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	msg := jsonish(4096)
	for _, takeover := range []bool{false, true} {
		d := NewDeflater(1, 15, takeover)
		dst := make([]byte, 0, 8192)
		assertAllocs(t, "Compress", 0, func() { dst = d.Compress(dst[:0], msg) })
		d.Release()

		// The flate reader keeps the overflow ("link") tables of dynamic
		// Huffman blocks between blocks (compress/flate's allocates them
		// anew for every block whose codes are longer than 9 bits), so
		// no block type allocates.
		inf := NewInflater(15, takeover)
		out := make([]byte, 0, 8192)
		for _, c := range []struct {
			name   string
			comp   []byte
			budget float64
		}{
			{"Inflate fixed Huffman (RFC 7692 §7.2.3.1)", []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}, 0},
			{"Inflate stored block (RFC 7692 §7.2.3.3)", []byte{0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00}, 0},
			{"Inflate 4 KiB dynamic Huffman", NewDeflater(1, 15, false).Compress(nil, msg), 0},
		} {
			assertAllocs(t, c.name, c.budget, func() {
				var err *Error
				if out, err = inf.Inflate(out[:0], c.comp, 1<<20); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
	h := []byte("permessage-deflate; client_max_window_bits")
	resp := make([]byte, 0, 128)
	assertAllocs(t, "Negotiate+AppendResponse", 0, func() {
		p, _ := DeflateConfig{}.Negotiate(h)
		resp = p.AppendResponse(resp[:0])
	})
}
