package websocket

import (
	"bytes"
	"compress/flate"
	"testing"

	"github.com/switchyard-dev/switchyard/frame/ws"
)

// NewPreparedMessage makes a compressed form from the CompressAbove size on (256 bytes by
// default), at the CompressionLevel asked, and that form inflates back to the message.
func TestPreparedMessageOptions(t *testing.T) {
	data := func(n int) []byte { return bytes.Repeat([]byte("switchyard "), n/11+1)[:n] }
	cases := []struct {
		name       string
		size       int
		opts       []PrepareOption
		compressed bool
	}{
		{"below the default threshold", 255, nil, false},
		{"at the default threshold", 256, nil, true},
		{"CompressAbove lowers it", 64, []PrepareOption{CompressAbove(64)}, true},
		{"CompressAbove raises it", 1000, []PrepareOption{CompressAbove(1001)}, false},
		{"CompressionLevel Huffman-only", 1000, []PrepareOption{CompressionLevel(flate.HuffmanOnly)}, true},
		{"CompressionLevel best", 1000, []PrepareOption{CompressionLevel(flate.BestCompression)}, true},
	}
	sizes := map[string]int{}
	for _, tc := range cases {
		pm := NewPreparedMessage(OpText, data(tc.size), tc.opts...)
		if got := pm.compressed != nil; got != tc.compressed {
			t.Errorf("%s: compressed form made: %v, want %v", tc.name, got, tc.compressed)
			continue
		}
		if !bytes.Equal(pm.plain, ws.AppendFrame(nil, true, ws.OpText, false, data(tc.size))) {
			t.Errorf("%s: the plain form is not the message's frame", tc.name)
		}
		if !tc.compressed {
			continue
		}
		payload := framePayload(t, pm.compressed)
		if pm.compressed[0]&0x40 == 0 {
			t.Errorf("%s: the compressed frame lacks RSV1", tc.name)
		}
		got, werr := ws.NewInflater(15, false).Inflate(nil, payload, 1<<20)
		if werr != nil || !bytes.Equal(got, data(tc.size)) {
			t.Errorf("%s: the compressed form inflates to %q (%v)", tc.name, got, werr)
		}
		sizes[tc.name] = len(payload)
	}
	// Huffman coding alone finds none of the repeats that LZ77 at any level collapses.
	if huffman, best := sizes["CompressionLevel Huffman-only"], sizes["CompressionLevel best"]; huffman <= 4*best {
		t.Errorf("CompressionLevel is not applied: %d bytes Huffman-only, %d at best compression, of 1000", huffman, best)
	}
}

// framePayload is the payload of one unmasked frame of at most 65,535 bytes.
func framePayload(t *testing.T, frame []byte) []byte {
	t.Helper()
	switch n := int(frame[1] & 0x7f); {
	case n < 126:
		return frame[2 : 2+n]
	case n == 126:
		return frame[4 : 4+int(frame[2])<<8|int(frame[3])]
	}
	t.Fatal("frame too large for framePayload")
	return nil
}
